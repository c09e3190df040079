"""Scoring a risk detector on a set of labelled statements and ordinary questions.

Shared by the held-out evaluation (`make eval-risk`, through the trained model) and the
writer-by-writer cross-validation (`make risk-crossval`, lexicon alone and combined).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Mapping, Sequence, Set, Tuple


@dataclass
class RiskScore:
    caught: Dict[str, List[bool]] = field(default_factory=lambda: defaultdict(list))
    misses: List[Tuple[str, str, List[str]]] = field(default_factory=list)
    false_flags: List[Tuple[str, List[str]]] = field(default_factory=list)
    ordinary_count: int = 0
    # Statements also flagged with a category they were not labelled with (wrong help first).
    extra_flags: List[Tuple[str, List[str]]] = field(default_factory=list)
    statement_count: int = 0

    def recall(self, category: str) -> float:
        hits = self.caught[category]
        return sum(hits) / len(hits)

    @property
    def false_flag_rate(self) -> float:
        return len(self.false_flags) / self.ordinary_count

    def false_flags_by_category(self) -> List[Tuple[str, int]]:
        """How many ordinary questions each category flagged, most first (a question flagged
        with two categories counts for both): where the false flags come from, without
        showing the messages."""
        counts = Counter(category for _, categories in self.false_flags for category in categories)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    @property
    def extra_flag_rate(self) -> float:
        return len(self.extra_flags) / max(1, self.statement_count)


def score(
    statements: Sequence[Mapping],
    ordinary: Sequence[str],
    flagged: Callable[[str], Iterable[str]],
) -> RiskScore:
    """`flagged(text)` gives the categories a detector found in one message."""
    result = RiskScore(ordinary_count=len(ordinary), statement_count=len(statements))
    for statement in statements:
        found: Set[str] = set(flagged(statement["text"]))
        extra = found - set(statement["categories"])
        if extra:
            result.extra_flags.append((statement["text"], sorted(extra)))
        for category in statement["categories"]:
            hit = category in found
            result.caught[category].append(hit)
            if not hit:
                result.misses.append((category, statement["text"], sorted(found)))
    for text in ordinary:
        found = set(flagged(text))
        if found:
            result.false_flags.append((text, sorted(found)))
    return result
