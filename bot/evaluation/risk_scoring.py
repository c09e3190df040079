"""Scoring a risk detector on a set of labelled statements and ordinary questions.

Shared by the held-out evaluation (`make eval-risk`, through the trained model) and the
development-set script (`scripts/risk_dev_eval.py`, through the matcher alone).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Mapping, Sequence, Set, Tuple


@dataclass
class RiskScore:
    caught: Dict[str, List[bool]] = field(default_factory=lambda: defaultdict(list))
    misses: List[Tuple[str, str, List[str]]] = field(default_factory=list)
    false_flags: List[Tuple[str, List[str]]] = field(default_factory=list)
    ordinary_count: int = 0

    def recall(self, category: str) -> float:
        hits = self.caught[category]
        return sum(hits) / len(hits)

    @property
    def false_flag_rate(self) -> float:
        return len(self.false_flags) / self.ordinary_count


def score(
    statements: Sequence[Mapping],
    ordinary: Sequence[str],
    flagged: Callable[[str], Iterable[str]],
) -> RiskScore:
    """`flagged(text)` gives the categories a detector found in one message."""
    result = RiskScore(ordinary_count=len(ordinary))
    for statement in statements:
        found: Set[str] = set(flagged(statement["text"]))
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
