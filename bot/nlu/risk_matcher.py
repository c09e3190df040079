"""Risk-phrase matcher: finds crisis-relevant phrases in a spaCy `Doc` (no Rasa imports).

The phrases live in `risk_lexicon.yml` (see its header for the pattern syntax and the policy).
At load time every pattern line is compiled into spaCy `Matcher` token patterns over `LOWER`
(with contraction spellings folded together: "can't" = "cant" = "can not" = "cannot") and
`LEMMA` (for `~word`), with optional tokens (`word?`) and bounded gaps (`...`); a line with a
long gap (`....`, only sentence punctuation stops it) is matched side by side and joined in
Python (`_LongGapMatcher`), which stays cheap on long messages. At match time
a candidate is dropped by its category's guards:

- ``negated``: a negation cue ("not", "never", "n't"...) in the few words before the match;
- ``hypothetical``: a hypothetical cue ("if", "can", "should", "want"...) in those words;
  ``hypothetical_except_plans`` does not count the cues that announce a plan ("gonna",
  "planning", "I'll": "gonna stack it with my gabapentin tonight"), for mixing;

  (those few words stop at a clause break, skip hedges such as "not gonna lie", and are
  empty when the match itself opens a clause: in "I haven't slept since quitting kratom" the
  "n't" belongs to "slept", not to "since quitting kratom");
- ``impersonal_question``: its sentence is a question that names no person
  ("is kratom addictive?"), whereas "am I addicted?" names one; a "they" after "people"
  names no one ("do people get cravings when they stop?", `guards.generic_referents`);
- ``general_framing``: its sentence frames a general question ("can kratom cause...",
  "what happens if you...") and names no person (emergency only);
- ``detached_framing``: its sentence says it is about fiction or study ("writing a novel
  where...", "for my psych class"), not negated, with no contrast word ("but", "now"...)
  between that phrase and the match;
- ``detached_question``: the match is in a question and another sentence of the message is
  so framed ("what is passive ideation? studying for my exam"); a plain statement elsewhere
  in the message still counts;
- ``general_ask``: both of the above for a general ask ("asking in general", "nothing has
  happened", "to be prepared");
- ``resolved_past``: the match's sentence dates it to the past ("years ago", "back in 2016",
  "as a teen") with no "but", "now", "again"... between that and the match, and the message
  says it is over ("fully recovered", "haven't since", "been clean ever since");
- ``non_use_stated`` (minors, pregnancy): the message says the person at risk does not use
  kratom ("my son is 17 and asked what kratom is. He hasn't tried it."), with no word that
  doubts it ("he says", "I found"), no contrast word after it and no other word of use;

and a pattern marked ``needs_person`` only counts in a sentence that names a person; a
pattern that begins with ``^`` only counts where a clause begins (the sentence start, or just
after a clause break such as "," or "and", skipping fillers like "ok", "lol", "honestly"), so
subjectless self-reports ("17 and hooked on it", "hooked on 7oh") count while "people get
hooked on it" does not; a line that ends with ``$`` only counts where its sentence ends
(only punctuation or fillers after it), so an `exclude:` line "^ ... $" can drop a message
that is nothing but a topic ("kratom and alcohol").

`find` returns at most one `RiskFinding` per category (its first occurrence that no guard or
`exclude:` line cancels); each category is judged on its own, so one message can carry
several ("17 and hooked on kratom": minor and addiction).

Docs from Rasa's `SpacyNLP` are lower-cased (its default); offsets are character offsets in
`doc.text`, which equal offsets in the original message whenever lower-casing kept the length
(`RiskMatcher.find_text` handles the rare case where it does not).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import (
    AbstractSet,
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
)

import yaml
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

DEFAULT_LEXICON_PATH = Path(__file__).resolve().parent / "risk_lexicon.yml"

TOP_LEVEL_KEYS = {"version", "settings", "equivalents", "guards", "words", "categories"}
GUARD_KEYS = {"clause_breaks", "clause_openers", "hedges", "negation", "hypothetical",
              "question_starts", "statement_if_next", "personal_anchors", "general_framing",
              "detached_framing", "general_ask", "resolved_past", "non_use", "small_talk",
              "generic_referents"}
GENERIC_REFERENT_KEYS = {"nouns", "pronouns", "not_if_next"}
GUARDS = ("negated", "hypothetical", "hypothetical_except_plans", "impersonal_question",
          "general_framing", "detached_framing", "detached_question", "general_ask",
          "resolved_past", "non_use_stated")
RESOLVED_PAST_KEYS = {"past", "resolution", "contrast"}
# words spaCy's English tokenizer splits in two ("gonna" -> "gon", "na")
_SPLIT_WORDS = frozenset({("gon", "na"), ("wan", "na"), ("got", "ta")})
# pseudo-categories of the message-level context lines (see `_DocContext.spans`)
DETACHED = "__detached__"
GENERAL_ASK = "__general_ask__"
PAST = "__past__"
RESOLUTION = "__resolution__"
NON_USE = "__non_use__"  # + a category name: the lines of `guards.non_use.<category>`
NON_USE_SETTINGS = ("doubt", "use_words")
CATEGORY_KEYS = {"description", "guards", "patterns", "exclude", "examples"}
EXAMPLE_KEYS = {"flag", "no_flag"}
PATTERN_KEYS = {"pattern", "needs_person", "never_general"}
MAX_VARIANTS_PER_LINE = 512
GAP = "..."
LONG_GAP = "...."  # up to `gap.long_max_words` words; only sentence punctuation blocks it
CLAUSE_START = "^"
SENTENCE_END = "$"

TokenPattern = List[Dict[str, Any]]
_Requirement = Tuple[FrozenSet[str], FrozenSet[str]]  # (LOWER forms, LEMMAs)
_Reach = Tuple[int, int, int]  # most tokens (before, in, after) one element of a line
_Phrase = List[Tuple[str, ...]]  # a multi-word entry: the spellings of each of its words
# a merged phrase slot in one token pattern: (first pattern token, length, the word sequences
# it may match)
_PhraseCheck = Tuple[int, int, FrozenSet[Tuple[str, ...]]]
# the same, with where the slot lies in a match: how many tokens precede it, how many follow
# it (None where optional tokens make that vary)
_PlacedCheck = Tuple[int, int, FrozenSet[Tuple[str, ...]], Optional[int], Optional[int]]


def _all_examples(lexicon: Mapping[str, Any]) -> List[str]:
    """Every flag and no_flag example of every category (unchecked: validated later)."""
    examples: List[str] = []
    categories = lexicon.get("categories")
    for spec in categories.values() if isinstance(categories, dict) else ():
        given = spec.get("examples") if isinstance(spec, dict) else None
        for kind in EXAMPLE_KEYS:
            listed = given.get(kind) if isinstance(given, dict) else None
            examples.extend(e for e in listed or () if isinstance(e, str))
    return examples


def _index_cost(
    requirement: _Requirement, example_lowers: Counter, example_lemmas: Counter
) -> int:
    """How often a line indexed under this mandatory word would be tried: each spelling
    counts once plus the number of the lexicon's examples it occurs in, so a line is indexed
    under "overdose" rather than "my" or "kratom", which are in most messages and would make
    it a candidate nearly every time. Only speed depends on it: a line is run only where all
    its mandatory words occur, whichever one indexes it."""
    lowers, lemmas = requirement
    return sum(1 + example_lowers[w] for w in lowers) + sum(1 + example_lemmas[w] for w in lemmas)


class _MergedPhrases(list):  # type: ignore[type-arg]
    """Token sequence for multi-word phrases of one length merged word by word (see
    `_PatternCompiler._positional`). `phrases` holds the word sequences listed when the merge
    accepts more than them ("sleeping pills" + "pain killers" also fits "pain pills"), so
    that a match through it can be checked; None when the merge is exact."""

    def __init__(self, tokens: TokenPattern, phrases: Optional[FrozenSet[Tuple[str, ...]]]):
        super().__init__(tokens)
        self.phrases = phrases


class LexiconError(ValueError):
    """The lexicon file is malformed; the message says where."""


@dataclass(frozen=True)
class RiskFinding:
    """One detected risk: its category and where the phrase is (character offsets)."""

    category: str
    start_char: int
    end_char: int
    text: str
    confidence: float = 1.0
    # matched by a line marked `never_general` ("the most peaceful way to go"): a wording that
    # is never a general question, so the classifier's impersonal veto does not apply to it
    never_general: bool = False


@dataclass(frozen=True)
class _Rule:
    """One lexicon line, compiled into its own small Matcher."""

    category: str
    kind: str  # "pattern", "exclude", "general" or "context"
    line: str
    needs_person: bool
    never_general: bool
    at_clause_start: bool
    at_sentence_end: bool
    matcher: Any  # a _CheckedMatcher, or a _LongGapMatcher for a line with `....`
    # ids of its mandatory words (one id per word, shared by every line needing that word)
    requirement_ids: FrozenSet[int]
    # the most selective mandatory word and how far a match can reach around it: a match
    # lies within `reach` tokens of one of its occurrences, so only that window is searched
    key: Optional[_Requirement]
    reach: _Reach

    def possible(self, present: AbstractSet[int]) -> bool:
        """False if the text lacks every spelling of some mandatory word of this line
        (`present`: the ids of the mandatory words it has, from `RiskMatcher._present`)."""
        return self.requirement_ids <= present

    def windows(
        self, context: "_DocContext", s_start: int, s_end: int
    ) -> List[Tuple[int, int]]:
        """Disjoint token ranges of the sentence [s_start, s_end) that hold every possible
        match: one around each cluster of occurrences of the key word (a long message with
        the key word at its start and end is not searched in between)."""
        if self.key is None:
            return [(s_start, s_end)]
        key_lowers, key_lemmas = self.key
        lowers, lemmas = context.lowers, context.lemmas
        before, length, after = self.reach
        ranges: List[Tuple[int, int]] = []
        for i in range(s_start, s_end):
            if lowers[i] in key_lowers or lemmas[i] in key_lemmas:
                lo, hi = max(s_start, i - before), min(s_end, i + length + after)
                if ranges and lo <= ranges[-1][1]:
                    ranges[-1] = (ranges[-1][0], max(ranges[-1][1], hi))
                else:
                    ranges.append((lo, hi))
        return ranges


@dataclass(frozen=True)
class _Category:
    name: str
    description: str
    guards: Tuple[str, ...]
    flag_examples: Tuple[str, ...]
    no_flag_examples: Tuple[str, ...]


def load_lexicon(path: Optional[Path] = None) -> Dict[str, Any]:
    """Reads the YAML lexicon (default: the one next to this module)."""
    path = Path(path) if path is not None else DEFAULT_LEXICON_PATH
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise LexiconError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise LexiconError(f"{path}: expected a mapping at the top level")
    return data


def _str_list(value: Any, where: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise LexiconError(f"{where}: expected a list of strings")
    for item in value:
        if isinstance(item, bool) or item is None:
            # YAML reads unquoted no/yes/on/off/true/false as booleans and null/~ as None
            raise LexiconError(
                f"{where}: {item!r} is not a word; quote it in the YAML (e.g. \"no\", \"off\")"
            )
        if not isinstance(item, (str, int, float)):
            raise LexiconError(f"{where}: expected a list of strings, got {item!r}")
    return [str(item) for item in value]


def _lower(forms: Iterable[str]) -> Dict[str, Any]:
    """Token spec for one of `forms`: a plain comparison (checked in C by spaCy, about twice
    as fast) when there is only one, else a set."""
    ordered = sorted(forms)
    return {"LOWER": ordered[0]} if len(ordered) == 1 else {"LOWER": {"IN": ordered}}


class _PatternCompiler:
    """Turns lexicon pattern lines into spaCy Matcher token patterns."""

    def __init__(self, lexicon: Mapping[str, Any], nlp: Language) -> None:
        self._nlp = nlp
        self._equivalents: Dict[str, Tuple[str, ...]] = {}
        for name, forms in (lexicon.get("equivalents") or {}).items():
            group = tuple(dict.fromkeys(f.lower() for f in _str_list(forms, f"equivalents.{name}")))
            for form in group:
                self._equivalents[form] = group
        self._words: Dict[str, List[str]] = {}
        for name, entries in (lexicon.get("words") or {}).items():
            listed = _str_list(entries, f"words.{name}")
            repeated = sorted(entry for entry, count in Counter(listed).items() if count > 1)
            if repeated:
                # harmless to matching, but a sign two editors added the same word unseen
                raise LexiconError(f"words.{name}: listed twice: {repeated}")
            self._words[str(name)] = listed
        gap = ((lexicon.get("settings") or {}).get("gap")) or {}
        self._max_gap = int(gap.get("max_words", 4))
        self._gap_blockers = sorted({b.lower() for b in _str_list(gap.get("blockers"), "gap")})
        self._max_long_gap = int(gap.get("long_max_words", 10))
        self._long_gap_blockers = sorted(
            {b.lower() for b in _str_list(gap.get("long_blockers"), "gap")}
        )
        self.long_gap_words = self._max_long_gap
        self.long_gap_blockers = frozenset(self._long_gap_blockers)
        self._set_cache: Dict[str, Tuple[Set[str], List[str], List[_Phrase]]] = {}

    # -- words and sets ---------------------------------------------------------------------
    def tokens(self, text: str) -> List[str]:
        return [t.lower_ for t in self._nlp.make_doc(text) if not t.is_space]

    def forms(self, token: str) -> Tuple[str, ...]:
        return self._equivalents.get(token, (token,))

    def _literal(self, text: str) -> List[Tuple[str, ...]]:
        toks = self.tokens(text)
        if not toks:
            raise LexiconError(f"empty word {text!r}")
        return [self.forms(tok) for tok in toks]

    def word_set(
        self, name: str, stack: Tuple[str, ...] = ()
    ) -> Tuple[Set[str], List[str], List[_Phrase]]:
        """(single-token forms, regexes, multi-token phrases) of `words.<name>`."""
        if name in self._set_cache:
            return self._set_cache[name]
        if name not in self._words:
            raise LexiconError(f"unknown word list {{{name}}} (define it under `words:`)")
        if name in stack:
            raise LexiconError(f"word list {{{name}}} refers to itself")
        singles: Set[str] = set()
        regexes: List[str] = []
        multi: List[_Phrase] = []
        for entry in self._words[name]:
            if entry.startswith("{") and entry.endswith("}"):
                s, r, m = self.word_set(entry[1:-1], stack + (name,))
                singles |= s
                regexes += r
                multi += m
            elif entry.startswith("re:"):
                regex = entry[3:]
                try:
                    re.compile(regex)
                except re.error as error:
                    raise LexiconError(f"words.{name}: bad regex {regex!r}: {error}") from error
                regexes.append(regex)
            else:
                seq = self._literal(entry)
                if len(seq) == 1:
                    singles.update(seq[0])
                else:
                    multi.append(seq)
        self._set_cache[name] = (singles, regexes, multi)
        return self._set_cache[name]

    def single_token_forms(self, entries: Iterable[str], where: str) -> FrozenSet[str]:
        """Forms of a cue list: plain tokens, or `{name}` for a word list's single tokens."""
        out: Set[str] = set()
        for entry in entries:
            if entry.startswith("{") and entry.endswith("}"):
                out |= self.word_set(entry[1:-1])[0]
            else:
                out.add(entry.lower())
        if not out:
            raise LexiconError(f"{where}: empty list")
        return frozenset(out)

    # -- pattern lines ------------------------------------------------------------------------
    def _element(self, chunk: str) -> List[TokenPattern]:
        """Alternatives (token sequences) for one whitespace-separated chunk."""
        optional = len(chunk) > 1 and chunk.endswith("?")
        body = chunk[:-1] if optional else chunk
        singles: Set[str] = set()
        lemmas: Set[str] = set()
        regexes: List[str] = []
        multi: List[_Phrase] = []
        for alt in body.split("|"):
            if not alt:
                raise LexiconError(f"empty alternative in {chunk!r}")
            if alt.startswith("{") and alt.endswith("}"):
                s, r, m = self.word_set(alt[1:-1])
                singles |= s
                regexes += r
                multi += m
            elif alt.startswith("~") and len(alt) > 1:
                toks = self.tokens(alt[1:])
                if len(toks) != 1:
                    raise LexiconError(f"~ takes one word, got {alt!r}")
                lemmas.add(toks[0])
            else:
                seq = self._literal(alt)
                if len(seq) == 1:
                    singles.update(seq[0])
                else:
                    multi.append(seq)
        alternatives: List[TokenPattern] = []
        if regexes:
            parts = [re.escape(s) for s in sorted(singles)] + [
                f"(?:{r.lstrip('^').rstrip('$')})" for r in regexes
            ]
            alternatives.append([{"LOWER": {"REGEX": "^(?:" + "|".join(parts) + ")$"}}])
        elif singles:
            alternatives.append([_lower(singles)])
        if lemmas:
            alternatives.append([{"LEMMA": {"IN": sorted(lemmas)}}])
        alternatives.extend(self._positional(multi))
        if optional:
            if len(alternatives) == 1 and len(alternatives[0]) == 1:
                return [[dict(alternatives[0][0], OP="?")]]
            alternatives.append([])
        return alternatives

    @staticmethod
    def _positional(phrases: List[_Phrase]) -> List[TokenPattern]:
        """Multi-word phrases of equal length merged word by word into one token sequence.

        Keeps the number of Matcher patterns (and so the matching time) small. The merged
        sequence accepts more than was listed ("sleeping pills" + "pain killers" also fits
        "pain pills" and "sleeping killers"); it then carries the listed word sequences, and
        `_CheckedMatcher` drops a match whose words there are not one of them.
        """
        by_length: Dict[int, List[Set[str]]] = {}
        spellings: Dict[int, Set[Tuple[str, ...]]] = {}
        for phrase in phrases:
            slots = by_length.setdefault(len(phrase), [set() for _ in phrase])
            for slot, forms in zip(slots, phrase):
                slot.update(forms)
            spellings.setdefault(len(phrase), set()).update(itertools.product(*phrase))
        merged: List[TokenPattern] = []
        for length in sorted(by_length):
            slots = by_length[length]
            accepted = 1
            for slot in slots:
                accepted *= len(slot)
            listed = frozenset(spellings[length])
            merged.append(
                _MergedPhrases(
                    [_lower(slot) for slot in slots], listed if accepted > len(listed) else None
                )
            )
        return merged

    def _gap(self) -> List[TokenPattern]:
        token = {"LOWER": {"NOT_IN": self._gap_blockers}, "IS_SPACE": False, "OP": "?"}
        return [[dict(token) for _ in range(self._max_gap)]]

    def _long_gap(self) -> List[TokenPattern]:
        """`....`: a wider gap for co-occurrence lines (a symptom and a stop in one sentence);
        only `gap.long_blockers` (sentence punctuation) stop it, not negations or "to"."""
        token = {"LOWER": {"NOT_IN": self._long_gap_blockers}, "IS_SPACE": False, "OP": "?"}
        return [[dict(token) for _ in range(self._max_long_gap)]]

    def compile(
        self, line: str
    ) -> Tuple[
        List[TokenPattern], List[List[_PhraseCheck]], List[Tuple[_Requirement, _Reach]], bool,
        bool,
    ]:
        """Token patterns for one lexicon line, the merged phrase slots to check in each of
        them (see `_positional`), what a doc must contain to match the line, whether it starts
        with `^` (match only where a clause begins) and whether it ends with `$` (match only
        where the sentence ends).

        Each requirement is a pair (LOWER forms, LEMMAs) from one mandatory word of the line:
        a doc without any of them cannot match, so the line's Matcher is not even run. It
        comes with its reach: at most how many tokens of a match lie before it, in it, after.
        """
        chunks = line.split()
        at_clause_start = bool(chunks) and chunks[0] == CLAUSE_START
        if at_clause_start:
            chunks = chunks[1:]
        at_sentence_end = bool(chunks) and chunks[-1] == SENTENCE_END
        if at_sentence_end:
            chunks = chunks[:-1]
        if not chunks:
            raise LexiconError("empty pattern")
        if CLAUSE_START in chunks:
            raise LexiconError("'^' may only open a pattern")
        if SENTENCE_END in chunks:
            raise LexiconError("'$' may only close a pattern")
        if chunks[0] in (GAP, LONG_GAP) or chunks[-1] in (GAP, LONG_GAP):
            raise LexiconError("a pattern may not start or end with '...' or '....'")
        elements = [
            self._gap()
            if chunk == GAP
            else self._long_gap()
            if chunk == LONG_GAP
            else self._element(chunk)
            for chunk in chunks
        ]
        variants = 1
        for alternatives in elements:
            variants *= len(alternatives)
        if variants > MAX_VARIANTS_PER_LINE:
            raise LexiconError(f"expands to {variants} variants; split it into several lines")
        patterns: List[TokenPattern] = []
        checks: List[List[_PhraseCheck]] = []
        for combo in itertools.product(*elements):
            pattern = [dict(token) for seq in combo for token in seq]
            if not any(token.get("OP") != "?" for token in pattern):
                raise LexiconError("every word is optional, so it would match anything")
            patterns.append(pattern)
            pattern_checks: List[_PhraseCheck] = []
            offset = 0
            for seq in combo:
                if isinstance(seq, _MergedPhrases) and seq.phrases is not None:
                    pattern_checks.append((offset, len(seq), seq.phrases))
                offset += len(seq)
            checks.append(pattern_checks)
        lengths = [max(len(seq) for seq in alternatives) for alternatives in elements]
        requirements = []
        for index, alternatives in enumerate(elements):
            requirement = self._requirement(alternatives)
            if requirement is not None:
                reach = (sum(lengths[:index]), lengths[index], sum(lengths[index + 1 :]))
                requirements.append((requirement, reach))
        return patterns, checks, requirements, at_clause_start, at_sentence_end

    @staticmethod
    def _requirement(alternatives: List[TokenPattern]) -> Optional[_Requirement]:
        lowers: Set[str] = set()
        lemmas: Set[str] = set()
        for seq in alternatives:
            if not seq or seq[0].get("OP") == "?":
                return None  # optional element or gap: not required
            first = seq[0]
            if set(first) == {"LOWER"} and isinstance(first["LOWER"], str):
                lowers.add(first["LOWER"])
            elif set(first) == {"LOWER"} and "IN" in first["LOWER"]:
                lowers.update(first["LOWER"]["IN"])
            elif set(first) == {"LEMMA"} and "IN" in first["LEMMA"]:
                lemmas.update(first["LEMMA"]["IN"])
            else:
                return None  # e.g. a regex: cannot be looked up
        return frozenset(lowers), frozenset(lemmas)


class _CheckedMatcher:
    """A spaCy `Matcher` whose patterns may hold merged phrase slots (`_MergedPhrases`): a
    match through such a slot counts only if the words it took there are one of the phrases
    listed. Patterns without such a slot are matched as usual; each one with a slot gets its
    own match key, to know which pattern matched. Where a slot lies in the match is known
    from the pattern when only fixed words precede it (or only fixed words follow it);
    otherwise spaCy's token alignment tells, asked for only then, as it is costly. Called
    like a `Matcher`: returns (match_id, start, end)."""

    def __init__(self, vocab: Any, validate: bool) -> None:
        self._matcher = Matcher(vocab, validate=validate)
        self._strings = vocab.strings
        self._checks: Dict[int, Tuple[int, List[_PlacedCheck]]] = {}  # own key -> (key, slots)
        self._needs_alignment: Set[int] = set()

    def add(self, key: str, patterns: List[TokenPattern], checks: List[List[_PhraseCheck]]):
        plain = [pattern for pattern, slots in zip(patterns, checks) if not slots]
        if plain:
            self._matcher.add(key, plain)
        key_id = self._strings.add(key)
        for number, (pattern, slots) in enumerate(zip(patterns, checks)):
            if not slots:
                continue
            own_key = f"{key}~{number}"
            self._matcher.add(own_key, [pattern])
            own_id = self._strings.add(own_key)
            placed: List[_PlacedCheck] = []
            for first, length, phrases in slots:
                fixed_before = all("OP" not in token for token in pattern[:first])
                fixed_after = all("OP" not in token for token in pattern[first + length :])
                placed.append(
                    (
                        first, length, phrases,
                        first if fixed_before else None,
                        len(pattern) - first - length if fixed_after else None,
                    )
                )
                if not (fixed_before or fixed_after):
                    self._needs_alignment.add(own_id)
            self._checks[own_id] = (key_id, placed)

    def __call__(self, span: Any) -> List[Tuple[int, int, int]]:
        matches = self._matcher(span)
        checked = [m for m in matches if m[0] in self._checks]
        if not checked:
            return matches
        alignments: Dict[Tuple[int, int, int], List[int]] = {}
        if any(m[0] in self._needs_alignment for m in checked):
            alignments = {
                (match_id, start, end): alignment
                for match_id, start, end, alignment in self._matcher(span, with_alignments=True)
            }
        found: Dict[Tuple[int, int, int], None] = {}
        for match in matches:
            match_id, start, end = match
            if match_id in self._checks:
                key_id, slots = self._checks[match_id]
                if not all(
                    self._words(span, match, slot, alignments) in slot[2] for slot in slots
                ):
                    continue
                match_id = key_id
            found[(match_id, start, end)] = None
        return list(found)

    @staticmethod
    def _words(
        span: Any,
        match: Tuple[int, int, int],
        slot: _PlacedCheck,
        alignments: Dict[Tuple[int, int, int], List[int]],
    ) -> Tuple[str, ...]:
        """The words a match took in one slot."""
        _, start, end = match
        first, length, _, before, after = slot
        if before is not None:
            return tuple(t.lower_ for t in span[start + before : start + before + length])
        if after is not None:
            return tuple(t.lower_ for t in span[end - after - length : end - after])
        alignment = alignments[match]
        return tuple(
            span[start + k].lower_
            for k, token in enumerate(alignment)
            if first <= token < first + length
        )


class _LongGapMatcher:
    """Matcher for a line with one `....`: its two sides are matched on their own and joined
    when the right side starts at most `max_gap` tokens after the left side ends, with no
    `long_blockers` token in between. Much cheaper than a chain of optional tokens on long
    messages. Called like a spaCy `Matcher` on a span: returns (match_id, start, end)."""

    def __init__(
        self,
        key: int,
        left: _CheckedMatcher,
        right: _CheckedMatcher,
        max_gap: int,
        blockers: FrozenSet[str],
    ) -> None:
        self.key = key
        self.left = left
        self.right = right
        self.max_gap = max_gap
        self.blockers = blockers

    def __call__(self, span: Any) -> List[Tuple[int, int, int]]:
        lefts = self.left(span)
        if not lefts:
            return []
        rights = self.right(span)
        if not rights:
            return []
        lowers = [t.lower_ for t in span]
        stops = [i for i, w in enumerate(lowers) if w in self.blockers]
        found = set()
        for _, s1, e1 in lefts:
            for _, s2, e2 in rights:
                if e1 <= s2 <= e1 + self.max_gap and not any(e1 <= i < s2 for i in stops):
                    found.add((s1, e2))
        return [(self.key, s, e) for s, e in sorted(found)]


class RiskMatcher:
    """Compiled risk lexicon. Build once (at load time), then call `find` per message."""

    # Run a category's shared Matcher instead of its lines one by one when at least this
    # share of its lines can match the sentence (same findings either way; only speed differs).
    group_share = 0.4

    def __init__(
        self,
        lexicon: Mapping[str, Any],
        nlp: Optional[Language] = None,
        source: str = "<lexicon>",
        validate: bool = False,
    ) -> None:
        """Compiles `lexicon` (a parsed risk_lexicon.yml).

        nlp: pipeline used to tokenize patterns and, when a doc is unusable, messages;
            default: `bot.nlu.spacy_pipeline.build_nlp()` (blank English + lookup lemmas).
        validate: let spaCy schema-check every compiled pattern (slow: ~1.5 s; for tests).
        """
        if nlp is None:
            from bot.nlu.spacy_pipeline import build_nlp

            nlp = build_nlp()
        self._nlp = nlp
        self.source = source
        unknown = set(lexicon) - TOP_LEVEL_KEYS
        if unknown:
            raise LexiconError(f"{source}: unknown top-level keys {sorted(unknown)}")
        self.version = str(lexicon.get("version") or "")
        if not self.version:
            raise LexiconError(f"{source}: missing top-level `version`")
        compiler = _PatternCompiler(lexicon, nlp)

        settings = lexicon.get("settings") or {}
        self._pre_window = int(settings.get("pre_window", 3))
        guards = lexicon.get("guards") or {}
        negation = guards.get("negation") or {}
        hypothetical = guards.get("hypothetical") or {}
        if not isinstance(negation, dict) or not isinstance(hypothetical, dict):
            raise LexiconError(f"{source}: guards.negation and guards.hypothetical are mappings")
        unknown_guards = set(guards) - GUARD_KEYS
        if unknown_guards:
            raise LexiconError(f"{source}: unknown keys under guards: {sorted(unknown_guards)}")

        def cues(value: Any, where: str) -> FrozenSet[str]:
            return compiler.single_token_forms(_str_list(value, f"guards.{where}"), f"guards.{where}")

        def plain(value: Any, where: str) -> FrozenSet[str]:
            return frozenset(_str_list(value, f"guards.{where}"))

        try:
            self._clause_breaks = cues(guards.get("clause_breaks"), "clause_breaks")
            openers = _str_list(guards.get("clause_openers"), "guards.clause_openers")
            self._clause_openers = self._clause_breaks | frozenset(o.lower() for o in openers)
            hedges: Set[Tuple[str, ...]] = set()
            for hedge in _str_list(guards.get("hedges"), "guards.hedges"):
                # every spelling: "can't lie" also covers "cant lie", "can not lie"...
                spellings = [compiler.forms(tok) for tok in compiler.tokens(hedge)]
                hedges.update(itertools.product(*spellings))
            hedges.discard(())
            self._hedges: Tuple[Tuple[str, ...], ...] = tuple(sorted(hedges))
            self._hedge_words = frozenset(h[0] for h in self._hedges)
            self._neg_cues = cues(negation.get("cues"), "negation.cues")
            self._neg_ignore_next = plain(negation.get("ignore_if_next"), "negation.ignore_if_next")
            self._hyp_cues = cues(hypothetical.get("cues"), "hypothetical.cues")
            # "gonna mix it with my gabapentin tonight" is a plan, not a what-if
            plan_cues = (cues(hypothetical["plans"], "hypothetical.plans")
                         if "plans" in hypothetical else frozenset())
            if not plan_cues <= self._hyp_cues:
                raise LexiconError(f"{source}: guards.hypothetical.plans must also be cues")
            self._hyp_cues_except_plans = self._hyp_cues - plan_cues
            self._hyp_ignore_prev = plain(
                hypothetical.get("ignore_if_previous"), "hypothetical.ignore_if_previous"
            )
            self._hyp_ignore_next = plain(
                hypothetical.get("ignore_if_next"), "hypothetical.ignore_if_next"
            )
            self._start_fillers = frozenset(
                w.lower() for w in _str_list(settings.get("clause_start_fillers"), "settings")
            )
            self._end_fillers = frozenset(
                w.lower() for w in _str_list(settings.get("sentence_end_fillers"), "settings")
            )
            self._question_starts = cues(guards.get("question_starts"), "question_starts")
            self._statement_if_next = frozenset(
                w.lower() for w in _str_list(guards.get("statement_if_next"), "guards")
            )
            self._anchors = cues(guards.get("personal_anchors"), "personal_anchors")
            generic = guards.get("generic_referents") or {}
            if not isinstance(generic, dict) or set(generic) - GENERIC_REFERENT_KEYS:
                raise LexiconError(
                    f"guards.generic_referents is a mapping of {sorted(GENERIC_REFERENT_KEYS)}")
            # optional: without it every pronoun names a person
            self._generic_nouns, self._generic_pronouns, self._generic_not_if_next = (
                cues(generic[key], f"generic_referents.{key}") if key in generic else frozenset()
                for key in ("nouns", "pronouns", "not_if_next")
            )
            if self._generic_nouns & self._anchors:
                raise LexiconError("guards.generic_referents.nouns may not be personal_anchors: "
                                   f"{sorted(self._generic_nouns & self._anchors)}")
            if not self._generic_pronouns <= self._anchors:
                raise LexiconError("guards.generic_referents.pronouns must be personal_anchors: "
                                   f"{sorted(self._generic_pronouns - self._anchors)}")
        except LexiconError as error:
            raise LexiconError(f"{source}: {error}") from error

        # how many of the lexicon's examples each word occurs in: a sample of real messages,
        # to index each line under its rarest mandatory word
        example_lowers: Counter[str] = Counter()
        example_lemmas: Counter[str] = Counter()
        for example in _all_examples(lexicon):
            doc = self.make_doc(example)
            example_lowers.update({token.lower_ for token in doc})
            example_lemmas.update({token.lemma_ for token in doc})

        # One small Matcher per lexicon line, plus an index from words to lines: a message only
        # runs the lines whose mandatory words it contains (most messages run none).
        self._rules: List[_Rule] = []
        self._by_lower: Dict[str, List[int]] = {}
        self._by_lemma: Dict[str, List[int]] = {}
        self._unindexed: List[int] = []
        # Every distinct mandatory word gets an id, found from any of its spellings: a text
        # holds a line's mandatory words when their ids are a subset of those it has.
        self._requirement_ids: Dict[_Requirement, int] = {}
        self._requirements_by_lower: Dict[str, List[int]] = {}
        self._requirements_by_lemma: Dict[str, List[int]] = {}
        # The lines of one category and kind also share one Matcher: when most of them can
        # match a sentence, one pass of it is ~3x cheaper than running them one by one.
        self._group_rules: Dict[Tuple[str, str], List[int]] = {}
        self._group_matchers: Dict[Tuple[str, str], Matcher] = {}
        self._group_sets: Dict[Tuple[str, str], FrozenSet[int]] = {}
        self._match_rule: Dict[int, int] = {}  # Matcher match_id -> rule id
        self._categories: Dict[str, _Category] = {}

        def add(
            key: str, category: str, kind: str, line: str, needs_person: bool = False,
            never_general: bool = False,
        ) -> None:
            long_gap = False
            try:
                patterns, checks, required, at_clause_start, at_sentence_end = (
                    compiler.compile(line)
                )
                if (at_clause_start or at_sentence_end) and kind in ("general", "context"):
                    raise LexiconError("'^' and '$' are only for category patterns and excludes")
                chunks = line.split()
                if chunks.count(LONG_GAP) > 1:
                    raise LexiconError("at most one '....' per line")
                if LONG_GAP in chunks:
                    # match both sides on their own and join them (see _LongGapMatcher)
                    long_gap = True
                    cut = chunks.index(LONG_GAP)
                    sides = []
                    for part in (" ".join(chunks[:cut]), " ".join(chunks[cut + 1 :])):
                        side = _CheckedMatcher(nlp.vocab, validate=validate)
                        side.add(key, *compiler.compile(part)[:2])
                        sides.append(side)
                    matcher = _LongGapMatcher(
                        nlp.vocab.strings.add(key), sides[0], sides[1],
                        compiler.long_gap_words, compiler.long_gap_blockers,
                    )
                else:
                    matcher = _CheckedMatcher(nlp.vocab, validate=validate)
                    matcher.add(key, patterns, checks)
            except LexiconError as error:
                raise LexiconError(f"{source}: {key.split('#')[0]}: {line!r}: {error}") from error
            except ValueError as error:  # spaCy rejected the compiled pattern
                raise LexiconError(f"{source}: {line!r}: spaCy: {error}") from error
            rule_id = len(self._rules)
            if kind in ("pattern", "exclude") and not long_gap:
                group = (category, kind)
                self._group_rules.setdefault(group, []).append(rule_id)
                if group not in self._group_matchers:
                    self._group_matchers[group] = _CheckedMatcher(nlp.vocab, validate=validate)
                rule_key = f"{key}@{rule_id}"
                self._group_matchers[group].add(rule_key, patterns, checks)
                self._match_rule[nlp.vocab.strings.add(rule_key)] = rule_id
            requirement_ids = frozenset(self._requirement_id(r) for r, _ in required)
            index_word, reach = min(
                required, key=lambda r: _index_cost(r[0], example_lowers, example_lemmas),
                default=(None, (0, 0, 0)),
            )
            self._rules.append(
                _Rule(
                    category, kind, line, needs_person, never_general, at_clause_start,
                    at_sentence_end,
                    matcher, requirement_ids, index_word, reach,
                )
            )
            if index_word is None:
                self._unindexed.append(rule_id)
                return
            # index the line under its most selective mandatory word
            lowers, lemmas = index_word
            for form in lowers:
                self._by_lower.setdefault(form, []).append(rule_id)
            for lemma in lemmas:
                self._by_lemma.setdefault(lemma, []).append(rule_id)

        framing = _str_list(guards.get("general_framing"), "guards.general_framing")
        for index, line in enumerate(framing):
            add(f"__general__#{index}", "__general__", "general", line)

        self._context_rules: Dict[str, List[int]] = {}

        def add_context(pseudo: str, lines: List[str]) -> None:
            for index, line in enumerate(lines):
                self._context_rules.setdefault(pseudo, []).append(len(self._rules))
                add(f"{pseudo}#{index}", pseudo, "context", line)

        add_context(DETACHED, _str_list(guards.get("detached_framing"), "guards.detached_framing"))
        add_context(GENERAL_ASK, _str_list(guards.get("general_ask"), "guards.general_ask"))
        resolved = guards.get("resolved_past") or {}
        if not isinstance(resolved, dict) or set(resolved) - RESOLVED_PAST_KEYS:
            raise LexiconError(
                f"{source}: guards.resolved_past is a mapping of {sorted(RESOLVED_PAST_KEYS)}"
            )
        add_context(PAST, _str_list(resolved.get("past"), "guards.resolved_past.past"))
        add_context(
            RESOLUTION, _str_list(resolved.get("resolution"), "guards.resolved_past.resolution")
        )
        self._contrast = (
            cues(resolved.get("contrast"), "resolved_past.contrast") if resolved else frozenset()
        )
        self._small_talk = cues(guards.get("small_talk"), "small_talk")
        non_use = guards.get("non_use") or {}
        if not isinstance(non_use, dict):
            raise LexiconError(f"{source}: guards.non_use is a mapping")
        self._non_use_doubts = (
            cues(non_use.get("doubt"), "non_use.doubt") if non_use else frozenset()
        )
        self._use_words = (
            cues(non_use.get("use_words"), "non_use.use_words") if non_use else frozenset()
        )
        non_use_categories = set()
        for key, lines in non_use.items():
            if key not in NON_USE_SETTINGS:
                non_use_categories.add(str(key))
                add_context(NON_USE + str(key), _str_list(lines, f"guards.non_use.{key}"))

        categories = lexicon.get("categories")
        if not isinstance(categories, dict) or not categories:
            raise LexiconError(f"{source}: `categories` must be a non-empty mapping")
        for name, spec in categories.items():
            name = str(name)
            where = f"{source}: categories.{name}"
            if not isinstance(spec, dict):
                raise LexiconError(f"{where}: expected a mapping")
            unknown = set(spec) - CATEGORY_KEYS
            if unknown:
                raise LexiconError(f"{where}: unknown keys {sorted(unknown)}")
            guard_names = tuple(_str_list(spec.get("guards"), f"{where}.guards"))
            bad = [g for g in guard_names if g not in GUARDS]
            if bad:
                raise LexiconError(f"{where}.guards: unknown {bad}; known: {list(GUARDS)}")
            if "non_use_stated" in guard_names and name not in non_use_categories:
                raise LexiconError(f"{where}.guards: non_use_stated needs guards.non_use.{name}")
            examples = spec.get("examples") or {}
            if set(examples) - EXAMPLE_KEYS:
                raise LexiconError(f"{where}.examples: use only {sorted(EXAMPLE_KEYS)}")
            lines = spec.get("patterns")
            if not isinstance(lines, list) or not lines:
                raise LexiconError(f"{where}: `patterns` must be a non-empty list")
            for index, item in enumerate(lines):
                key = f"{name}#{index}"
                if isinstance(item, str):
                    add(key, name, "pattern", item)
                elif isinstance(item, dict) and isinstance(item.get("pattern"), str) and set(
                    item
                ) <= PATTERN_KEYS:
                    add(
                        key, name, "pattern", item["pattern"],
                        item.get("needs_person") is True, item.get("never_general") is True,
                    )
                else:
                    raise LexiconError(
                        f"{where}.patterns[{index}]: expected a string or a mapping of "
                        f"{sorted(PATTERN_KEYS)}"
                    )
            for index, line in enumerate(_str_list(spec.get("exclude"), f"{where}.exclude")):
                add(f"{name}#exclude{index}", name, "exclude", line)
            self._categories[name] = _Category(
                name=name,
                description=str(spec.get("description") or "").strip(),
                guards=guard_names,
                flag_examples=tuple(_str_list(examples.get("flag"), f"{where}.examples")),
                no_flag_examples=tuple(_str_list(examples.get("no_flag"), f"{where}.examples")),
            )

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_path(
        cls, path: Optional[Path] = None, nlp: Optional[Language] = None, validate: bool = False
    ) -> "RiskMatcher":
        """Loads and compiles the lexicon at `path` (default: the one next to this module)."""
        path = Path(path) if path is not None else DEFAULT_LEXICON_PATH
        return cls(load_lexicon(path), nlp=nlp, source=str(path), validate=validate)

    def _requirement_id(self, requirement: _Requirement) -> int:
        if requirement not in self._requirement_ids:
            number = self._requirement_ids[requirement] = len(self._requirement_ids)
            lowers, lemmas = requirement
            for form in lowers:
                self._requirements_by_lower.setdefault(form, []).append(number)
            for lemma in lemmas:
                self._requirements_by_lemma.setdefault(lemma, []).append(number)
        return self._requirement_ids[requirement]

    def _present(self, lowers: Iterable[str], lemmas: Iterable[str]) -> Set[int]:
        """Ids of the mandatory words (any spelling) among these lower-case words and lemmas."""
        present: Set[int] = set()
        for word in lowers:
            present.update(self._requirements_by_lower.get(word, ()))
        for lemma in lemmas:
            present.update(self._requirements_by_lemma.get(lemma, ()))
        return present

    @property
    def categories(self) -> Tuple[str, ...]:
        return tuple(self._categories)

    def examples(self, category: str) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
        """(should flag, should not flag) examples the lexicon gives for `category`."""
        spec = self._categories[category]
        return spec.flag_examples, spec.no_flag_examples

    def lines_never_matched(self, texts: Iterable[str]) -> List[Tuple[str, str, str]]:
        """(category, kind, line) of every pattern and exclude line that matches none of
        `texts`, before any guard. Such a line is either speculative or broken: a multi-word
        alternative split across slots ("mensaje de despedida|carta de despedida" reads as
        five slots) matches nothing it was written for. The unit tests ask a witness of every
        line among the lexicon's examples and the labelled messages."""
        docs = [self.make_doc(text) for text in texts]
        present = [self._present((t.lower_ for t in doc), (t.lemma_ for t in doc)) for doc in docs]
        return [
            (rule.category, rule.kind, rule.line)
            for rule in self._rules
            if rule.kind in ("pattern", "exclude")
            and not any(
                rule.possible(words) and rule.matcher(doc[:]) for doc, words in zip(docs, present)
            )
        ]

    @property
    def nlp(self) -> Language:
        return self._nlp

    # -- matching -----------------------------------------------------------------------------
    def make_doc(self, text: str) -> Doc:
        """Doc for `text` with this matcher's own pipeline, lower-cased if that keeps offsets."""
        lowered = text.lower()
        return self._nlp(lowered if len(lowered) == len(text) else text)

    def find_text(self, text: str, doc: Optional[Doc] = None) -> List[RiskFinding]:
        """`find` on a raw string; `RiskFinding.text` is taken from the original `text`.
        `doc`: `make_doc(text)`, when the caller has already made it."""
        return self._find(doc if doc is not None else self.make_doc(text), original=text)

    def categories_in(self, text: str) -> Set[str]:
        """The categories found in `text` (tokenized with this matcher's pipeline)."""
        return {finding.category for finding in self.find_text(text)}

    def never_general_in(self, text: str) -> Set[str]:
        """The categories found in `text` by a line marked `never_general`."""
        return {finding.category for finding in self.find_text(text) if finding.never_general}

    def find(self, doc: Doc) -> List[RiskFinding]:
        """Risk findings in `doc`, at most one per category (its first occurrence), by offset."""
        return self._find(doc, original=None)

    def frames_as_not_present(self, doc: Doc, category: Optional[str] = None) -> bool:
        """True if the message says it is fiction, study or a general ask, or tells of a past
        event it says is over (the context lines of `guards`, message-wide, not negated), and
        nothing after that phrase turns to the present ("for a school report, but honestly I
        use it", "clean for years. relapsed last month"); or, for a `category` guarded by
        `non_use_stated`, says the person at risk does not use kratom. For detectors without a
        match span, such as the classifier's own flags. A message that is only a greeting,
        thanks or farewell (`guards.small_talk`: "thank you, goodbye") is never a present risk
        either: the classifier, trained on goodbye notes, otherwise read a bare "goodbye" as
        self-harm."""
        doc = self._usable(doc)
        words = [token.lower_ for token in doc if not (token.is_punct or token.is_space)]
        if words and all(word in self._small_talk for word in words):
            return True
        context = _DocContext(doc, self)
        if (
            category in self._categories
            and "non_use_stated" in self._categories[category].guards
            and self._non_use_stated(category, context)
        ):
            return True
        lowers = context.lowers

        def holds(a: int, b: int) -> bool:
            return not self._negated(a, context) and not any(
                word in self._contrast for word in lowers[b:]
            )

        for pseudo in (DETACHED, GENERAL_ASK):
            if any(holds(a, b) for a, b in context.spans(pseudo)):
                return True
        return bool(context.spans(PAST)) and any(
            holds(a, b) for a, b in context.spans(RESOLUTION)
        )

    def _usable(self, doc: Doc) -> Doc:
        text = doc.text  # joined from the tokens on every access: read once
        if doc.has_annotation("LEMMA") and text == text.lower():
            return doc
        # Not lemmatized, or not lower-cased (lookup lemmas are keyed on lower-case words):
        # re-tokenize with our own pipeline. make_doc keeps character offsets.
        return self.make_doc(text)

    def _find(self, doc: Doc, original: Optional[str]) -> List[RiskFinding]:
        if not len(doc):
            return []
        doc = self._usable(doc)
        context = _DocContext(doc, self)
        found: Dict[str, RiskFinding] = {}
        # Sentence by sentence (no pattern crosses . ? ! or a line break), running only the
        # lines whose mandatory words occur in the sentence.
        for number, (s_start, s_end) in enumerate(context.sentences):
            lowers, lemmas = context.words(number)
            possible: Set[int] = set(self._unindexed)
            for word in lowers:
                possible.update(self._by_lower.get(word, ()))
            for lemma in lemmas:
                possible.update(self._by_lemma.get(lemma, ()))
            if not possible:
                continue
            present = context.present(number)
            groups: Dict[Tuple[str, str], List[int]] = {}
            for rule_id in sorted(possible):
                rule = self._rules[rule_id]
                if rule.category not in found and rule.possible(present):
                    groups.setdefault((rule.category, rule.kind), []).append(rule_id)
            sentence = doc[s_start:s_end]
            candidates: Dict[str, List[Tuple[int, int, _Rule]]] = {}
            for (category, kind), rule_ids in groups.items():
                if kind != "pattern":
                    continue
                for rule_id, start, end in self._run(category, kind, rule_ids, sentence, context):
                    candidates.setdefault(category, []).append((start, end, self._rules[rule_id]))
            if not candidates:
                continue
            general: List[bool] = []  # computed once, only if a guard needs it

            def general_framing() -> bool:
                if not general:
                    general.append(
                        any(
                            self._rules[i].matcher(sentence)
                            for i in groups.get(("__general__", "general"), ())
                        )
                    )
                return general[0]

            for category, spans in candidates.items():
                guards = self._categories[category].guards
                excluded: Optional[List[Tuple[int, int]]] = None

                def survives(start: int, end: int, rule: _Rule) -> bool:
                    nonlocal excluded
                    if rule.needs_person and not context.sentence_has_anchor(start):
                        return False
                    if self._guarded(category, guards, start, end, context, general_framing):
                        return False
                    if excluded is None:  # the category's exclude lines, run once if needed
                        rule_ids = groups.get((category, "exclude"), [])
                        excluded = [
                            (s, e)
                            for _, s, e in self._run(category, "exclude", rule_ids, sentence, context)
                        ]
                    return not any(s < end and start < e for s, e in excluded)

                ordered = sorted(spans, key=lambda s: (s[0], -s[1]))
                first = next(((a, b, r) for a, b, r in ordered if survives(a, b, r)), None)
                if first is None:
                    continue
                start, end, rule = first
                # the first span locates the finding; any never_general line that also
                # survives in this sentence marks it
                never_general = rule.never_general or any(
                    r.never_general and survives(a, b, r) for a, b, r in ordered
                )
                span = doc[start:end]
                text = (original or doc.text)[span.start_char : span.end_char]
                found[category] = RiskFinding(
                    category, span.start_char, span.end_char, text, never_general=never_general
                )
        return sorted(found.values(), key=lambda f: (f.start_char, f.end_char, f.category))

    def _run(
        self,
        category: str,
        kind: str,
        rule_ids: List[int],
        sentence: Span,
        context: "_DocContext",
    ) -> List[Tuple[int, int, int]]:
        """(rule id, start, end) of every anchored match of `rule_ids` (lines of one category
        and kind) in `sentence`; token offsets in the doc."""
        if not rule_ids:
            return []
        doc = sentence.doc
        s_start, s_end = sentence.start, sentence.end
        windows = {i: self._rules[i].windows(context, s_start, s_end) for i in rule_ids}
        raw: List[Tuple[int, int, int]] = []  # (rule id, start, end) in the doc
        group = (category, kind)
        grouped = self._group_sets.get(group)
        if grouped is None:
            grouped = self._group_sets[group] = frozenset(self._group_rules.get(group, ()))
        solo = [i for i in rule_ids if i not in grouped]  # `....` lines run on their own
        shared = [i for i in rule_ids if i in grouped]
        if shared and len(shared) >= self.group_share * len(grouped):
            merged: List[Tuple[int, int]] = []
            for lo, hi in sorted(w for i in shared for w in windows[i]):
                if merged and lo <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
                else:
                    merged.append((lo, hi))
            for lo, hi in merged:
                if lo < hi:
                    for match_id, start, end in self._group_matchers[group](doc[lo:hi]):
                        rule_id = self._match_rule[match_id]
                        if rule_id in windows:
                            raw.append((rule_id, lo + start, lo + end))
        else:
            solo = rule_ids
        for rule_id in solo:
            for lo, hi in windows[rule_id]:
                if lo < hi:
                    for _, start, end in self._rules[rule_id].matcher(doc[lo:hi]):
                        raw.append((rule_id, lo + start, lo + end))
        raw = sorted(set(raw), key=lambda m: (m[1], m[2], m[0]))
        return [m for m in raw if context.anchored(self._rules[m[0]], m[1], m[2])]

    def _guarded(
        self,
        category: str,
        guards: Sequence[str],
        start: int,
        end: int,
        context: "_DocContext",
        general_framing: Callable[[], bool],
    ) -> bool:
        """True if one of the category's guards cancels the candidate [start, end)."""
        lowers = context.lowers
        for guard in guards:
            if guard == "negated":
                if self._negated(start, context):
                    return True
            elif guard in ("hypothetical", "hypothetical_except_plans"):
                hyp_cues = (self._hyp_cues if guard == "hypothetical"
                            else self._hyp_cues_except_plans)
                for i in context.pre_window(start):
                    if (
                        lowers[i] in hyp_cues
                        and not (i > 0 and lowers[i - 1] in self._hyp_ignore_prev)
                        and not (i + 1 < len(lowers) and lowers[i + 1] in self._hyp_ignore_next)
                    ):
                        return True
            elif guard == "impersonal_question":
                if context.sentence_is_question(start) and not context.question_names_person(
                    start
                ):
                    return True
            elif guard == "general_framing":
                if not context.sentence_has_anchor(start) and general_framing():
                    return True
            elif guard == "detached_framing":
                if self._detached(DETACHED, start, end, context, same_sentence=True):
                    return True
            elif guard == "detached_question":
                if context.sentence_is_question(start) and self._detached(
                    DETACHED, start, end, context, same_sentence=False
                ):
                    return True
            elif guard == "general_ask":
                if self._detached(GENERAL_ASK, start, end, context, same_sentence=True) or (
                    context.sentence_is_question(start)
                    and self._detached(GENERAL_ASK, start, end, context, same_sentence=False)
                ):
                    return True
            elif guard == "resolved_past":
                if self._resolved_past(start, end, context):
                    return True
            elif guard == "non_use_stated":
                if self._non_use_stated(category, context):
                    return True
        return False

    def _non_use_stated(self, category: str, context: "_DocContext") -> bool:
        """The message says the person at risk does not use kratom ("my son is 17 and asked
        what kratom is. He hasn't tried it."), with no word that doubts it ("says", "found"),
        no contrast word from there on ("but", "now") and no other word of use ("takes")."""
        spans = context.spans(NON_USE + category)
        if not spans:
            return False
        lowers = context.lowers
        if any(word in self._non_use_doubts for word in lowers):
            return False
        inside = {i for a, b in spans for i in range(a, b)}
        if any(word in self._use_words for i, word in enumerate(lowers) if i not in inside):
            return False
        first = min(a for a, _ in spans)
        return not any(word in self._contrast for word in lowers[first:])

    def _negated(self, start: int, context: "_DocContext") -> bool:
        """A negation cue in the few words before `start` (see `_DocContext.pre_window`)."""
        lowers = context.lowers
        return any(
            lowers[i] in self._neg_cues
            and not (i + 1 < len(lowers) and lowers[i + 1] in self._neg_ignore_next)
            for i in context.pre_window(start)
        )

    def _detached(
        self, pseudo: str, start: int, end: int, context: "_DocContext", same_sentence: bool
    ) -> bool:
        """A framing of `pseudo` (DETACHED, GENERAL_ASK) that is not negated ("not for a
        story"), in the match's sentence with no contrast word between ("doing a school
        project on it but honestly I use it myself") if `same_sentence`, else in another
        sentence."""
        sentence = context.sentence(start)
        for a, b in context.spans(pseudo):
            if (context.sentence(a) == sentence) != same_sentence or self._negated(a, context):
                continue
            if not same_sentence or not self._contrast_between(start, end, a, b, context):
                return True
        return False

    def _contrast_between(
        self, start: int, end: int, a: int, b: int, context: "_DocContext"
    ) -> bool:
        """A contrast word ("but", "now", "again"...) between the match [start, end) and the
        context phrase [a, b) of the same sentence."""
        between = range(b, start) if b <= start else range(end, a)
        return any(context.lowers[i] in self._contrast for i in between)

    def _resolved_past(self, start: int, end: int, context: "_DocContext") -> bool:
        """The match [start, end) tells of something over: a past-time phrase in its sentence
        with no contrast word ("but", "now", "again"...) in between, and a resolution phrase
        ("fully recovered", "been fine since") somewhere in the message that is not negated."""
        if not any(not self._negated(a, context) for a, _ in context.spans(RESOLUTION)):
            return False
        sentence = context.sentence(start)
        return any(
            context.sentence(a) == sentence and not self._contrast_between(start, end, a, b, context)
            for a, b in context.spans(PAST)
        )

    def _context_spans(self, pseudo: str, context: "_DocContext") -> List[Tuple[int, int]]:
        """Token spans of the doc matched by the context lines of `pseudo` (DETACHED,
        GENERAL_ASK, PAST, RESOLUTION, NON_USE + a category), sentence by sentence."""
        doc = context.doc
        spans: List[Tuple[int, int]] = []
        for number, (s_start, s_end) in enumerate(context.sentences):
            present = context.present(number)
            sentence = doc[s_start:s_end]
            for rule_id in self._context_rules.get(pseudo, ()):
                rule = self._rules[rule_id]
                if rule.possible(present):
                    spans.extend((s_start + a, s_start + b) for _, a, b in rule.matcher(sentence))
        return sorted(set(spans))


_SENTENCE_END = re.compile(r"^[.!?…]+$")


class _DocContext:
    """Per-doc lazily computed sentence and clause information for the guards."""

    def __init__(self, doc: Doc, matcher: RiskMatcher) -> None:
        self._matcher = matcher
        self.doc = doc
        self.lowers = [t.lower_ for t in doc]
        self.lemmas = [t.lemma_ for t in doc]
        self._sent_of: List[int] = []
        self._sents: List[Tuple[int, int]] = []
        start = 0
        for i, token in enumerate(doc):
            self._sent_of.append(len(self._sents))
            if _SENTENCE_END.match(token.text) or (token.is_space and "\n" in token.text):
                self._sents.append((start, i + 1))
                start = i + 1
        if start < len(doc):
            self._sents.append((start, len(doc)))
        self._anchor_cache: Dict[int, bool] = {}
        self._hedge_cache: Optional[Set[int]] = None
        self._span_cache: Dict[str, List[Tuple[int, int]]] = {}
        self._words_cache: Dict[int, Tuple[FrozenSet[str], FrozenSet[str]]] = {}
        self._present_cache: Dict[int, FrozenSet[int]] = {}

    @property
    def sentences(self) -> List[Tuple[int, int]]:
        return self._sents

    def words(self, number: int) -> Tuple[FrozenSet[str], FrozenSet[str]]:
        """The distinct lower-case words and lemmas of sentence `number`."""
        if number not in self._words_cache:
            start, end = self._sents[number]
            self._words_cache[number] = (
                frozenset(self.lowers[start:end]), frozenset(self.lemmas[start:end])
            )
        return self._words_cache[number]

    def present(self, number: int) -> FrozenSet[int]:
        """Ids of the lexicon's mandatory words in sentence `number` (see RiskMatcher._present)."""
        if number not in self._present_cache:
            self._present_cache[number] = frozenset(self._matcher._present(*self.words(number)))
        return self._present_cache[number]

    def sentence(self, token_index: int) -> Tuple[int, int]:
        return self._sents[self._sent_of[token_index]]

    def spans(self, pseudo: str) -> List[Tuple[int, int]]:
        """Spans of the message-level context lines `pseudo` (computed once, when needed)."""
        if pseudo not in self._span_cache:
            self._span_cache[pseudo] = self._matcher._context_spans(pseudo, self)
        return self._span_cache[pseudo]

    def pre_window(self, start: int) -> List[int]:
        """The few words before `start` that the negation / hypothetical guards look at:
        none if the match opens its own clause ("since", "and", "after"...); otherwise back to
        the previous clause break or opener ("he won't respond after kratom and xanax": the
        "n't" is about responding), skipping hedges ("not gonna lie", "no joke")."""
        matcher = self._matcher
        if self.lowers[start] in matcher._clause_openers:
            return []
        s_start, _ = self.sentence(start)
        hedged = self._hedged()
        out: List[int] = []
        i = start - 1
        breaks = matcher._clause_openers  # clause breaks and openers ("after", "since"...)
        while i >= s_start and len(out) < matcher._pre_window:
            if self.lowers[i] in breaks:
                break
            if self.lowers[i].strip() and i not in hedged and not self._split_tail(i):
                out.append(i)
            i -= 1
        return out

    def _split_tail(self, i: int) -> bool:
        """The "na" of "gon na" or "wan na", "ta" of "got ta": spaCy splits one word in two,
        and the window counts words ("not gonna mix it with beer" keeps its "not")."""
        return i > 0 and (self.lowers[i - 1], self.lowers[i]) in _SPLIT_WORDS

    def _hedged(self) -> Set[int]:
        """Indices of tokens inside a hedge phrase (computed once per doc, when needed)."""
        if self._hedge_cache is None:
            hedged: Set[int] = set()
            matcher = self._matcher
            lowers = self.lowers
            for i, word in enumerate(lowers):
                if word not in matcher._hedge_words:
                    continue
                for hedge in matcher._hedges:
                    if tuple(lowers[i : i + len(hedge)]) == hedge:
                        hedged.update(range(i, i + len(hedge)))
            self._hedge_cache = hedged
        return self._hedge_cache

    def anchored(self, rule: "_Rule", start: int, end: int) -> bool:
        """False if the rule's `^` / `$` anchors are not met by the match [start, end)."""
        if rule.at_clause_start and not self.at_clause_start(start):
            return False
        if rule.at_sentence_end and not self.at_sentence_end(end):
            return False
        return True

    def at_sentence_end(self, end: int) -> bool:
        """True if only punctuation, spaces and fillers follow token `end - 1` in its
        sentence ("kratom and alcohol?", "kratom and alcohol lol")."""
        _, s_end = self.sentence(end - 1)
        fillers = self._matcher._end_fillers
        for word in self.lowers[end:s_end]:
            if word.strip() and word not in fillers and any(ch.isalnum() for ch in word):
                return False
        return True

    def at_clause_start(self, token_index: int) -> bool:
        """True if only fillers and punctuation stand between `token_index` and the start of
        its sentence or the clause break before it ("17 and hooked", "ok so, hooked on it")."""
        s_start, _ = self.sentence(token_index)
        matcher = self._matcher
        i = token_index - 1
        while i >= s_start:
            word = self.lowers[i]
            if word in matcher._clause_breaks:
                return True
            if word.strip() and word not in matcher._start_fillers and any(
                ch.isalnum() for ch in word
            ):
                return False
            i -= 1
        return True

    def sentence_has_anchor(self, token_index: int) -> bool:
        sid = self._sent_of[token_index]
        if sid not in self._anchor_cache:
            s_start, s_end = self._sents[sid]
            anchors = self._matcher._anchors
            self._anchor_cache[sid] = any(w in anchors for w in self.lowers[s_start:s_end])
        return self._anchor_cache[sid]

    def question_names_person(self, token_index: int) -> bool:
        """`sentence_has_anchor`, except that a pronoun pointing back to people in general
        names no one ("do people get cravings when they stop?": `guards.generic_referents`,
        a pronoun after one of its nouns in the sentence)."""
        if not self.sentence_has_anchor(token_index):
            return False
        s_start, s_end = self.sentence(token_index)
        matcher = self._matcher
        generic_seen = False
        lowers = self.lowers
        for i in range(s_start, s_end):
            word = lowers[i]
            if word in matcher._generic_nouns:
                # "does anyone know...", "can someone help": the one asked, not a referent
                if not (i + 1 < s_end and lowers[i + 1] in matcher._generic_not_if_next):
                    generic_seen = True
            elif word in matcher._anchors and not (
                generic_seen and word in matcher._generic_pronouns
            ):
                return True
        return False

    def sentence_is_question(self, token_index: int) -> bool:
        s_start, s_end = self.sentence(token_index)
        words = [w for w in self.lowers[s_start:s_end] if w.strip()]
        if not words:
            return False
        if any("?" in w for w in words):
            return True
        # "is kratom addictive" is a question; "haven't slept since quitting", "don't know
        # how to stop", "have been hooked for years" (no "?") are subjectless statements
        return words[0] in self._matcher._question_starts and not (
            len(words) > 1 and words[1] in self._matcher._statement_if_next
        )


def check_examples(matcher: RiskMatcher) -> List[str]:
    """Every lexicon example that the matcher gets wrong, as readable lines (empty = all good)."""
    problems: List[str] = []
    for category in matcher.categories:
        should, should_not = matcher.examples(category)
        for text in should:
            if category not in {f.category for f in matcher.find_text(text)}:
                problems.append(f"{category}: should flag: {text!r}")
        for text in should_not:
            if category in {f.category for f in matcher.find_text(text)}:
                problems.append(f"{category}: should NOT flag: {text!r}")
    return problems


def benchmark(
    matcher: RiskMatcher,
    messages: Sequence[str],
    rounds: int = 5,
    second_opinion: Optional[Callable[[str, Set[str]], Any]] = None,
) -> Dict[str, float]:
    """Microseconds per message: what the Rasa component does with a ready doc (mean, p95,
    max), and the same with tokenization. `second_opinion(text, categories)` is the
    classifier's decision, timed with the matching when given."""

    def detect(doc: Doc, text: str) -> None:
        found = {f.category for f in matcher.find(doc)}
        if second_opinion is not None:
            second_opinion(text, found)

    docs = [matcher.make_doc(m) for m in messages]
    for doc, text in zip(docs, messages):  # warm-up
        detect(doc, text)
    per_message: List[float] = []
    for doc, text in zip(docs, messages):
        t0 = time.perf_counter()
        for _ in range(rounds):
            detect(doc, text)
        per_message.append((time.perf_counter() - t0) / rounds * 1e6)
    t0 = time.perf_counter()
    for _ in range(rounds):
        for text in messages:
            detect(matcher.make_doc(text), text)
    full_us = (time.perf_counter() - t0) / (rounds * len(messages)) * 1e6
    per_message.sort()
    return {
        "messages": float(len(messages)),
        "match_us": sum(per_message) / len(per_message),
        "match_p95_us": per_message[int(0.95 * (len(per_message) - 1))],
        "match_max_us": per_message[-1],
        "tokenize_and_match_us": full_us,
    }


def spell_line(line: str, limit: int = 64) -> List[str]:
    """The wordings a pattern line reads as, one per choice of alternatives in each slot
    (optional words in brackets, word lists as {name}), at most `limit`. Spaces separate
    slots and "|" separates alternatives inside one slot, so "that gets|keeping me" reads as
    "that gets me" and "that keeping me", not "that gets me" and "keeping me": read a new line
    back with `--spell` before adding it."""
    slots: List[List[str]] = []
    for chunk in line.split():
        if chunk in (CLAUSE_START, SENTENCE_END, GAP, LONG_GAP):
            slots.append([chunk])
            continue
        optional = len(chunk) > 1 and chunk.endswith("?")
        body = chunk[:-1] if optional else chunk
        alternatives = body.split("|")
        slots.append([f"[{'|'.join(alternatives)}]"] if optional else alternatives)
    return [" ".join(combo) for combo in itertools.islice(itertools.product(*slots), limit)]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Try the risk lexicon on messages.")
    parser.add_argument("messages", nargs="*", help="messages to check")
    parser.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON_PATH)
    parser.add_argument("--check", action="store_true", help="verify the lexicon's own examples")
    parser.add_argument("--spell", metavar="LINE", action="append", default=[],
                        help="print the wordings a pattern line reads as (no lexicon needed)")
    args = parser.parse_args(argv)
    for line in args.spell:
        print(f"{line!r} reads as:")
        for wording in spell_line(line):
            print(f"  {wording}")
    if args.spell and not (args.messages or args.check):
        return 0
    try:
        matcher = RiskMatcher.from_path(args.lexicon)
    except LexiconError as error:
        print(f"lexicon error: {error}", file=sys.stderr)
        return 2
    status = 0
    if args.check:
        problems = check_examples(matcher)
        for line in problems:
            print(line)
        print(f"lexicon {matcher.version}: {len(problems)} example(s) wrong")
        status = 1 if problems else 0
    for text in args.messages:
        found = matcher.find_text(text)
        shown = ", ".join(f"{f.category}[{f.start_char}:{f.end_char}]={f.text!r}" for f in found)
        print(f"{text!r} -> {shown or 'no risk'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
