"""Learned second opinion for the risk detector (no Rasa imports).

The lexicon (`risk_matcher.py`) catches the phrasings staff wrote down; people in crisis also
describe things nobody wrote down ("everything is going dark", "I've written letters to my
kids"), and the lexicon also fires on harmless uses of its words ("the suspense is killing
me"). This module learns from labelled messages in `data/risk/*.yml`: one logistic regression
per category over word and character n-grams of the lower-cased text (apostrophes dropped, so
"can't" and "cant" look the same).

Per category the final decision combines both detectors::

    flagged = score >= threshold  or  (lexicon matched  and  not in English)
              or  (lexicon matched  and  score >= lexicon_floor
                   and  (speaks personally  or  matched by a never_general line
                         or  score >= impersonal_floor))

`threshold` lets the classifier add what the lexicon misses; `lexicon_floor` lets it overrule a
lexicon match it is nearly sure is harmless, but only in English (`reads_as_english`), the
language nearly all its training messages are in. The classifier adds nothing of its own to a
message that frames itself as fiction, study, a general ask or a past event that is over (the
lexicon's context guards, `adds_alone`); and beside a flagged
emergency or self-harm every lexicon match stands (`with_matches_beside_a_crisis`). Both are chosen on out-of-fold scores (each
writer's file scored by models trained on the other writers), measured only on writers the
lexicon was not tuned on: the highest recall whose false-flag rate on the ordinary messages
stays within the category's budget. Emergency and self-harm get larger budgets: a missed
crisis costs far more than crisis numbers shown to someone who only asked a question.

For emergency and self-harm `lexicon_floor` is 0: a crisis the lexicon names is overruled only
in a message that does not speak personally (`speaks_personally`: no I/we/he/she, no "help" or
"now", at least five words), such as "what are the warning signs someone is suicidal?", and
only when the classifier scores it below every real crisis of that kind it was shown out of
fold and below IMPERSONAL_VETO_CAP. A lexicon line marked `never_general` ("the most peaceful
way to go") is never such a question: its match is not overruled, and does not set that floor.

File format (one file per writer, see data/risk/README.md)::

    lexicon_tuned: true     # optional: the lexicon was tuned on this file
    risk_statements:
    - text: "..."
      categories: [emergency, mixing]
    ordinary_questions:
    - "..."
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
)

import numpy as np
import yaml
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

# Share of the ordinary messages each category may flag (out of fold, lexicon included).
# Doubling the crisis budgets from 1% to 2% raised self-harm recall from 0.75 to 0.94 with
# each training writer held out, for 0.5 points more false flags (make risk-crossval).
# Session 8 (24 writers, single-level cross-validation): mixing 0.4% -> 0.8% raised mixing
# recall from 0.94 to 0.97, pregnancy 0.2% -> 0.4% from 0.91 to 0.95, addiction 0.4% -> 0.6%
# from 0.86 to 0.90, for 0.6 points more false flags in all (5.8% -> 6.4%).
DEFAULT_FALSE_FLAG_BUDGET: Dict[str, float] = {
    "emergency": 0.020,
    "self_harm": 0.020,
    "addiction": 0.006,
    "mixing": 0.008,
    "pregnancy": 0.004,
    "minor": 0.002,
    "concentrated_7oh": 0.002,
}
DEFAULT_BUDGET = 0.002
# Share of the other categories' statements a category may flag (out of fold).
CROSS_CATEGORY_BUDGET = 0.05
# Categories where the classifier never overrules a lexicon match in a message that speaks
# personally. Allowing it to overrule 1% of real crises out of fold cut pooled false flags from
# 6.3% to 5.1% in cross-validation (jokes such as "OD'd on popcorn"), but with more training
# data it overruled "i think i overdosed, what are the side effects of kratom" (tests/e2e).
RECALL_FIRST = frozenset({"emergency", "self_harm"})
# Most of the lexicon's crisis false flags are general questions ("what should a bystander do
# if someone collapses?"). Overruling those, and only below every real impersonal crisis out of
# fold, brought pooled false flags to 6.0% (lexicon alone 8.3%) with no crisis lost to the veto
# (make risk-crossval, 20 fresh writers held out in turn, session 7).
# The cap keeps a thin sample of real impersonal crises from setting a bold floor.
IMPERSONAL_VETO_CAP = 0.2
MIN_WORDS_TO_OVERRULE = 5
# Words that tie a message to a real person or to the present: never a general question.
# A day or an "already" anchors it in time ("puked ten times already", "asking for tonight");
# Spanish, Portuguese and French words for people and for now keep messages in those
# languages personal, since the English word list cannot tell their general questions from
# their crises ("il est tout gris et il ronfle bizarre").
_PERSONAL = re.compile(
    r"\b(i|im|ive|id|ill|me|my|mine|myself|we|were|weve|us|our|ours|he|hes|him|his|she|shes"
    r"|her|hers|help|now|rn|please|pls|plz|hurry|911|999|112|ambulance"
    r"|today|tonight|tonite|tomorrow|already|yesterday|this morning|last night|last week"
    r"|this week"
    r"|yo|mi|mis|él|ella|estoy|quiero|tengo|tomé|ayuda|ayudame|ayúdame|ahora|hoy|novio|novia"
    r"|hijo|hija|mamá|papá|hermano|hermana|esposo|esposa|amigo|amiga"
    r"|eu|meu|minha|mim|ele|ela|estou|quero|tenho|tomei|socorro|agora|hoje|namorado|namorada"
    r"|filho|filha|mãe|pai|irmão|irmã|marido"
    r"|je|jai|moi|mon|ma|mes|il|elle|aide|aidez|secours|maintenant|copain|copine|coloc|fils"
    r"|fille|frère|sœur|mère|père)\b")
_WORD = re.compile(r"\w+")
# Function words that tell English from the other languages users write in. Words shared with
# English or its chat slang ("a", "no", "me", "die", "was", "per", "bin", "um", "y", "hat",
# "come", "solo", "ha", "ho", "wat", "hoe", "van", "met", "door", "also") are left out.
_ENGLISH_WORDS = frozenset("""
    the is and to of it for with that this you have has been what how can does did do after
    about just but my i im ive she we they are if or at from took not dont cant him his will
    would should could any some when why there its your really like get got am be too because
""".split())
_OTHER_LANGUAGE_WORDS = frozenset("""
    el los las del que en por para mi mis es está esta estoy pero muy tomo tengo le su una un
    como cuando qué porque hace también se te nos más nada algo ahora hoy ayer sin hasta desde
    después antes tiene estaba fue soy hay puedo puede quiero voy vez donde todo
    o e eu meu minha não nao é tô tá uma mas muito ele ela pra ao já estou você vc das dos
    isso isto esse essa aqui agora hoje ontem depois sem até tudo onde sou tem tava só
    le les du des et je jai cest est pas mes une avec dans sur qui il elle ce ça suis au aux
    mais très ne de tu nous vous ils elles sont ai avons ont quoi où donc car sous chez cette
    ces mon ton tes sa ses leur bien tout tous rien jamais toujours depuis hier maintenant
    encore déjà peux peut veux veut fait faire être avoir jen quil
    ich und der das nicht mit mein meine meinen ist habe hab ein eine einen auf für seit wegen
    zu von sie wir noch schon auch aber mehr nach wenn kann mich mir du dich kein keine keinen
    wie warum weil dass sich sind haben wird werden soll muss nur immer heute jetzt bei aus
    über ohne gegen viel sehr ganz alles etwas nichts hier wo ja
    che di sono mio mia miei gli della hai anche più molto tutto tutti perché cosa questo
    questa sto sta stasera oggi ieri dopo senza ancora già niente nulla ti ci lei lui suo sua
    ogni poi si
    ik het een niet mijn maar ook iedereen zonder mij hij zij jij wij jullie nog geen iets
    niets heb heeft hebben zijn wordt worden kan kun moet voor naar bij uit aan meer veel echt
    gewoon weer nu dit ze
""".split())
# Share of the real lexicon matches of the other categories the classifier may overrule, out
# of fold. Unbounded, it overruled nearly every lexicon match for minors once more
# teen-related ordinary questions arrived (pooled minor recall 0.88 in cross-validation); at 5%
# minor recall was 0.94 for 0.1 points more false flags.
VETO_LOSS = 0.05
MIN_POSITIVES = 5
MIN_WRITERS = 3
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`]")

Lexicon = Callable[[str], Set[str]]


def normalise(text: str) -> str:
    """Lower case without apostrophes, so contractions typed either way share features."""
    return _APOSTROPHES.sub("", text.lower())


def speaks_personally(text: str) -> bool:
    """True unless the message reads as a general question: it names no one present (I, we,
    he, she...), asks for no help now, and has at least MIN_WORDS_TO_OVERRULE words. Meant to
    err towards True: a short cry such as "help" or "od" always counts as personal."""
    lowered = normalise(text)
    return bool(_PERSONAL.search(lowered)) or len(_WORD.findall(lowered)) < MIN_WORDS_TO_OVERRULE


def reads_as_english(text: str) -> bool:
    """True unless the message has more Spanish, Portuguese, French, German, Italian or Dutch
    function words than English ones. The classifier learnt from messages nearly all in
    English; the lexicon has its own lines for the other languages, so in those the classifier
    does not overrule a lexicon match (`Decision.flags`)."""
    words = _WORD.findall(normalise(text))
    english = sum(word in _ENGLISH_WORDS for word in words)
    return english >= sum(word in _OTHER_LANGUAGE_WORDS for word in words)


@dataclass
class RiskExamples:
    """Labelled messages: risk statements with their categories, and ordinary messages, each
    with the writer (file) it came from."""

    texts: List[str] = field(default_factory=list)
    labels: List[FrozenSet[str]] = field(default_factory=list)
    writers: List[int] = field(default_factory=list)
    is_ordinary: List[bool] = field(default_factory=list)
    lexicon_tuned_writers: Set[int] = field(default_factory=set)
    writer_names: List[str] = field(default_factory=list)
    # Extra negatives (e.g. the NLU topic questions): trained on, never used to set thresholds.
    background: List[str] = field(default_factory=list)

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> "RiskExamples":
        examples = cls()
        for path in paths:
            examples.add_file(Path(path))
        return examples

    def add_file(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        writer = len(self.writer_names)
        self.writer_names.append(path.stem)
        if data.get("lexicon_tuned"):
            self.lexicon_tuned_writers.add(writer)
        for item in data.get("risk_statements") or []:
            categories = frozenset(item["categories"])
            if not categories:
                raise ValueError(f"{path}: statement without categories: {item['text']!r}")
            self._add(item["text"], categories, writer, ordinary=False)
        for text in data.get("ordinary_questions") or []:
            self._add(text, frozenset(), writer, ordinary=True)

    def add_background(self, texts: Iterable[str], lexicon: Optional[Lexicon] = None) -> None:
        """Adds ordinary messages from elsewhere (the NLU topic questions) as extra negatives.
        Any the lexicon flags are left out, so that a personal statement hiding among them
        never teaches the classifier that it is harmless."""
        known = set(self.texts) | set(self.background)
        for text in texts:
            if text and text not in known and not (lexicon and lexicon(text)):
                known.add(text)
                self.background.append(text)

    def _add(self, text: str, labels: FrozenSet[str], writer: int, ordinary: bool) -> None:
        self.texts.append(text)
        self.labels.append(labels)
        self.writers.append(writer)
        self.is_ordinary.append(ordinary)

    @property
    def categories(self) -> Tuple[str, ...]:
        return tuple(sorted({c for labels in self.labels for c in labels}))


def risk_example_files(paths: Sequence[Path]) -> List[Path]:
    """The YAML files under each path (a file, or a folder searched recursively), sorted."""
    files: List[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.yml") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"risk training data not found: {path}")
    return files


class _Features:
    """Word 1-3-grams and character 2-5-grams (within word boundaries), tf-idf weighted."""

    def __init__(self) -> None:
        common = dict(preprocessor=normalise, sublinear_tf=True, min_df=2, dtype=np.float32)
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 3),
                                     token_pattern=r"[a-z0-9]+", **common)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common)

    def fit(self, texts: Sequence[str]) -> "_Features":
        self.words.fit(texts)
        self.chars.fit(texts)
        return self

    def transform(self, texts: Sequence[str]):
        return hstack([self.words.transform(texts), self.chars.transform(texts)]).tocsr()


def _model(seed: int) -> LogisticRegression:
    return LogisticRegression(C=8.0, class_weight="balanced", solver="liblinear",
                              max_iter=1000, random_state=seed)


def adds_alone(not_present: Callable[[str], bool], category: str) -> bool:
    """Whether the classifier may flag a category the lexicon did not find: unless the
    message frames itself as not a present risk ("I'm 16 and doing a school report on it",
    "went through withdrawal back in 2016, off it ever since"), which the lexicon's guards
    already skip. Emergency and self-harm too since session 13: on the development writers
    this dropped 10 crisis flags on ordinary messages ("writing a short story where the main
    character gives away her things", "he had a seizure years ago, he's fine now") and no
    real crisis; a crisis the lexicon names in such a message still stands. Since session 15
    also for a minor or a pregnancy when the message says that person does not use kratom
    (`not_present(category)`, the lexicon's guard `non_use_stated`)."""
    return not not_present(category)


def with_matches_beside_a_crisis(
    flagged: Dict[str, float], lexicon_found: Iterable[str], scores: Mapping[str, float]
) -> Dict[str, float]:
    """`flagged` plus every category the lexicon found, when an emergency or self-harm is
    flagged: the classifier learnt "hooked on it and she says she wants to hurt herself" as a
    self-harm message and would overrule its addiction match. Beside a crisis that costs no
    false flag, and the reply should carry both resources."""
    if RECALL_FIRST.isdisjoint(flagged):
        return flagged
    return {**{c: scores.get(c, 1.0) for c in lexicon_found}, **flagged}


@dataclass(frozen=True)
class Decision:
    """A category's thresholds (see the module docstring)."""

    threshold: float
    lexicon_floor: float
    # A lexicon match in a message that does not speak personally also needs this score.
    impersonal_floor: float = 0.0

    def flags(self, score: float, lexicon_matched: bool, personal: bool = True,
              english: bool = True) -> bool:
        if score >= self.threshold:
            return True
        if lexicon_matched and not english:
            # The classifier hardly learnt these languages, and `speaks_personally` knows only a
            # few of their person words: a lexicon match stands, as for a crisis in English
            # that speaks personally (a general crisis question then gets a crisis line too).
            return True
        return (lexicon_matched and score >= self.lexicon_floor
                and (personal or score >= self.impersonal_floor))


class RiskClassifier:
    """Per-category linear models and the decisions that combine them with the lexicon."""

    def __init__(
        self,
        features: _Features,
        models: Mapping[str, LogisticRegression],
        decisions: Mapping[str, Decision],
    ) -> None:
        self._features = features
        self._models = dict(models)
        self.decisions = dict(decisions)
        self._scorer = _LinearScorer(features, self._models)

    def __getstate__(self) -> Dict[str, Any]:
        # the scorer is derived from features and models (and holds a runtime cache):
        # rebuilt on load rather than stored in the model
        state = dict(self.__dict__)
        state.pop("_scorer", None)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._scorer = _LinearScorer(self._features, self._models)

    @property
    def categories(self) -> Tuple[str, ...]:
        return tuple(self._models)

    @classmethod
    def train(
        cls,
        examples: RiskExamples,
        lexicon: Optional[Lexicon] = None,
        false_flag_budget: Optional[Mapping[str, float]] = None,
        seed: int = 2604,
        never_general: Optional[Lexicon] = None,
    ) -> "RiskClassifier":
        held_out = OutOfFold.score(examples, lexicon, seed, never_general)
        decisions = held_out.decisions(held_out.threshold_rows(), false_flag_budget)
        texts = examples.texts + examples.background
        features = _Features().fit(texts)
        matrix = features.transform(texts)
        models = {c: _model(seed).fit(matrix, held_out.targets[c]) for c in decisions}
        return cls(features, models, decisions)

    def scores(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        """Each text's probability per category."""
        return [self._scorer.score(text) for text in texts]

    def sklearn_scores(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        """The same probabilities through scikit-learn (slower; the reference for tests)."""
        if not texts:
            return []
        matrix = self._features.transform(texts)
        per_category = {c: m.predict_proba(matrix)[:, 1] for c, m in self._models.items()}
        return [{c: float(p[i]) for c, p in per_category.items()} for i in range(len(texts))]

    def decide(
        self,
        text: str,
        lexicon_found: Iterable[str],
        not_present: Callable[[str], bool] = lambda category: False,
        never_general: Iterable[str] = (),
    ) -> Dict[str, float]:
        """The categories flagged for `text`, given what the lexicon found, with the scores.

        A lexicon category this classifier has no model for is kept as the lexicon found it.
        `not_present(category)` (asked only when needed) tells whether the message frames
        itself as fiction, study, a general ask or a past event that is over, or says the
        person at risk in `category` does not use kratom (the lexicon's context guards): then
        the classifier does not add that category on its own (`adds_alone`).
        `never_general`: the lexicon categories matched by a wording that is never a general
        question ("the most peaceful way to go"), which the impersonal veto leaves alone.
        """
        lexicon_found, never_general = set(lexicon_found), set(never_general)
        (scored,) = self.scores([text])
        personal, english = speaks_personally(text), reads_as_english(text)
        flagged = {c: 1.0 for c in lexicon_found if c not in self.decisions}
        for category, decision in self.decisions.items():
            matched = category in lexicon_found
            if decision.flags(
                scored[category], matched, personal or category in never_general, english
            ) and (
                matched or adds_alone(not_present, category)
            ):
                flagged[category] = scored[category]
        return with_matches_beside_a_crisis(flagged, lexicon_found, scored)


class _LinearScorer:
    """All categories' models applied to one message in plain Python and numpy.

    scikit-learn spends about 0.8 ms per single message on input validation across two
    vectorizers and seven models; the arithmetic is a few hundred dictionary lookups and one
    small matrix product. Same tf-idf (sublinear tf, idf, l2 norm per vectorizer) and
    logistic function, so the scores equal `sklearn_scores` (checked by a unit test).
    A word's character n-grams depend on that word alone (char_wb pads each word on its
    own), so their vocabulary indices are looked up once per distinct word and remembered:
    most words of a message have been seen before."""

    WORD_CACHE_SIZE = 50_000
    LONGEST_CACHED_WORD = 30

    def __init__(self, features: _Features, models: Mapping[str, LogisticRegression]) -> None:
        self.categories = list(models)
        self._word_grams = features.words.build_analyzer()
        self._word_vocabulary = features.words.vocabulary_
        self._char_grams = features.chars.build_analyzer()
        self._char_vocabulary = features.chars.vocabulary_
        self._char_offset = len(self._word_vocabulary)
        self._idf = (features.words.idf_.astype(np.float64), features.chars.idf_.astype(np.float64))
        self._char_ids_of_word: Dict[str, Tuple[int, ...]] = {}
        self.weights = np.column_stack([m.coef_.ravel() for m in models.values()])
        self.intercepts = np.array([m.intercept_[0] for m in models.values()])

    def _char_ids(self, word: str) -> Tuple[int, ...]:
        ids = self._char_ids_of_word.get(word)
        if ids is None:
            vocabulary = self._char_vocabulary
            ids = tuple(vocabulary[g] for g in self._char_grams(word) if g in vocabulary)
            if len(word) <= self.LONGEST_CACHED_WORD:  # a pasted blob is not worth keeping
                if len(self._char_ids_of_word) >= self.WORD_CACHE_SIZE:
                    self._char_ids_of_word.clear()
                self._char_ids_of_word[word] = ids
        return ids

    def score(self, text: str) -> Dict[str, float]:
        word_counts: Dict[int, int] = {}
        vocabulary = self._word_vocabulary
        for gram in self._word_grams(text):
            index = vocabulary.get(gram)
            if index is not None:
                word_counts[index] = word_counts.get(index, 0) + 1
        char_counts: Dict[int, int] = {}
        for word in normalise(text).split():
            for index in self._char_ids(word):
                char_counts[index] = char_counts.get(index, 0) + 1
        ids_parts, value_parts = [], []
        for counts, idf, offset in ((word_counts, self._idf[0], 0),
                                    (char_counts, self._idf[1], self._char_offset)):
            if not counts:
                continue
            ids = np.fromiter(counts, dtype=np.intp, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64,
                                               count=len(counts)))) * idf[ids]
            values /= math.sqrt(values @ values)
            ids_parts.append(ids + offset)
            value_parts.append(values)
        logits = self.intercepts.copy()
        if ids_parts:
            logits += np.concatenate(value_parts) @ self.weights[np.concatenate(ids_parts)]
        probabilities = 1.0 / (1.0 + np.exp(-logits))
        return dict(zip(self.categories, probabilities.tolist()))


def _writer_folds(examples: RiskExamples) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Leave one writer out (training rows include the background; test rows never do).
    Only the writers thresholds are chosen on (`OutOfFold.threshold_rows`) are left out: the
    lexicon-tuned writers' out-of-fold scores would never be read, and skipping them halves
    the training time (21 of 43 folds in session 16)."""
    writers = np.array(examples.writers + [-1] * len(examples.background))
    names = sorted(set(examples.writers))
    if len(names) < MIN_WRITERS:
        raise ValueError(f"risk classifier needs labelled files from at least {MIN_WRITERS} "
                         f"writers to choose its thresholds; got {len(names)}")
    scored = [w for w in names if w not in examples.lexicon_tuned_writers] or names
    for writer in scored:
        yield np.flatnonzero(writers != writer), np.flatnonzero(writers == writer)


@dataclass
class OutOfFold:
    """Every labelled message's score per category from models that never saw its writer, with
    what the lexicon found in it: what the decisions are chosen from, at training time and in
    the single-level cross-validation (`make risk-crossval-fast`)."""

    examples: RiskExamples
    targets: Dict[str, np.ndarray]      # per category, over texts + background
    scores: Dict[str, np.ndarray]       # per category, over texts (NaN: not scored)
    lexicon_found: List[Set[str]]
    personal: np.ndarray
    english: np.ndarray
    # per message, the lexicon categories matched by a `never_general` line (never vetoed)
    never_general: List[Set[str]] = field(default_factory=list)

    @classmethod
    def score(cls, examples: RiskExamples, lexicon: Optional[Lexicon] = None,
              seed: int = 2604, never_general: Optional[Lexicon] = None) -> "OutOfFold":
        if not any(examples.is_ordinary) or all(examples.is_ordinary):
            raise ValueError("risk classifier needs risk statements and ordinary messages")
        labels = examples.labels + [frozenset()] * len(examples.background)
        categories = [c for c in examples.categories
                      if sum(c in labels_ for labels_ in labels) >= MIN_POSITIVES]
        targets = {c: np.array([c in labels_ for labels_ in labels]) for c in categories}
        return cls(
            examples=examples,
            targets=targets,
            scores=_out_of_fold_scores(examples, targets, seed),
            lexicon_found=[set(lexicon(t)) if lexicon else set() for t in examples.texts],
            personal=np.array([speaks_personally(t) for t in examples.texts]),
            english=np.array([reads_as_english(t) for t in examples.texts]),
            never_general=[set(never_general(t)) if never_general else set()
                           for t in examples.texts],
        )

    def personal_for(self, category: str) -> np.ndarray:
        """Per message: speaks personally, or its `category` match is never a general question."""
        marked = np.array([category in found for found in self.never_general], dtype=bool)
        return self.personal | marked if len(marked) else self.personal

    def threshold_rows(self, excluding_writer: Optional[int] = None) -> np.ndarray:
        """The messages thresholds are chosen on: every writer the lexicon was not tuned on
        (its figures there are inflated), less `excluding_writer`."""
        writers = np.array(self.examples.writers)
        rows = ~np.isin(writers, sorted(self.examples.lexicon_tuned_writers))
        if excluding_writer is not None:
            rows &= writers != excluding_writer
        return rows if rows.any() else np.ones(len(writers), dtype=bool)

    def decisions(self, rows: np.ndarray,
                  false_flag_budget: Optional[Mapping[str, float]] = None) -> Dict[str, Decision]:
        """Each category's Decision, chosen on the out-of-fold scores of `rows`."""
        budget = {**DEFAULT_FALSE_FLAG_BUDGET, **(false_flag_budget or {})}
        count = len(self.examples.texts)
        ordinary = np.array(self.examples.is_ordinary)
        decisions: Dict[str, Decision] = {}
        for category, scores in self.scores.items():
            usable = rows & ~np.isnan(scores)
            positive = self.targets[category][:count][usable]
            matched = np.array([category in found for found in self.lexicon_found])[usable]
            decision = _choose_decision(
                scores[usable], positive, matched, ordinary[usable],
                budget.get(category, DEFAULT_BUDGET),
                recall_first=category in RECALL_FIRST,
                cross_budget=CROSS_CATEGORY_BUDGET,
                overrulable=self.english[usable],
            )
            if category in RECALL_FIRST:
                # Only English matches can be vetoed as impersonal, so only they set the floor.
                vetoable = ~self.personal_for(category)[usable] & self.english[usable]
                decision = replace(decision, impersonal_floor=_impersonal_floor(
                    scores[usable][positive & matched & vetoable]))
            decisions[category] = decision
        return decisions


def _out_of_fold_scores(
    examples: RiskExamples, targets: Mapping[str, np.ndarray], seed: int
) -> Dict[str, np.ndarray]:
    """Per category, every example's score from models that never saw its writer
    (NaN where a fold had no positives to learn from, and for lexicon-tuned writers:
    see `_writer_folds`)."""
    texts = np.asarray(examples.texts + examples.background, dtype=object)
    scores = {c: np.full(len(examples.texts), np.nan) for c in targets}
    for train_idx, test_idx in _writer_folds(examples):
        features = _Features().fit(texts[train_idx])
        train_matrix = features.transform(texts[train_idx])
        test_matrix = features.transform(texts[test_idx])
        for category, target in targets.items():
            if target[train_idx].any():
                model = _model(seed).fit(train_matrix, target[train_idx])
                scores[category][test_idx] = model.predict_proba(test_matrix)[:, 1]
    return scores


def _impersonal_floor(real_impersonal_scores: np.ndarray) -> float:
    """Just below the lowest out-of-fold score of a real crisis, matched by the lexicon, that
    did not speak personally, and at most IMPERSONAL_VETO_CAP; 0 (never overrule) without
    such examples to learn from."""
    if not len(real_impersonal_scores):
        return 0.0
    return float(min(IMPERSONAL_VETO_CAP, np.nextafter(real_impersonal_scores.min(), -1.0)))


def _choose_decision(
    scores: np.ndarray,
    positive: np.ndarray,
    lexicon_matched: np.ndarray,
    ordinary: np.ndarray,
    budget: float,
    recall_first: bool = False,
    cross_budget: float = 1.0,
    overrulable: Optional[np.ndarray] = None,
) -> Decision:
    """The thresholds with the highest recall on `positive` rows whose false-flag rate on
    `ordinary` rows stays within `budget`, and whose rate on the other categories' statements
    stays within `cross_budget` (an addiction message should not open with "call 911 now");
    ties go to fewer false flags. When even the strictest pair is over budget, the pair
    closest to it. With `recall_first` no lexicon match is overruled and both budgets come on
    top of the lexicon's own flags. Only `overrulable` rows' lexicon matches may be overruled
    (all, when not given): the others stand whatever the score, as `Decision.flags` does for a
    message not in English."""
    other = ~positive & ~ordinary
    if overrulable is None:
        overrulable = np.ones(len(scores), dtype=bool)
    lexicon_stands = lexicon_matched & ~overrulable
    overrulable_match = lexicon_matched & overrulable
    candidates = np.unique(np.concatenate([scores, [0.0, 1.0 + 1e-9]]))
    # Vetoing a lexicon match only helps just above the score of a falsely matched message.
    vetoable = np.unique(scores[ordinary & overrulable_match])
    floors = np.concatenate([[0.0], np.nextafter(vetoable, 2.0)])
    if recall_first:
        floors = np.array([0.0])
        # The budget is for what the classifier adds: the lexicon's own matches are not its
        # to spend (otherwise a lexicon already over budget would switch the classifier off).
        budget += lexicon_matched[ordinary].mean() if ordinary.any() else 0.0
        cross_budget += lexicon_matched[other].mean() if other.any() else 0.0
    elif (positive & overrulable_match).any():
        # Overrule the lexicon only below (nearly) every real risk message it matched.
        lowest = np.quantile(scores[positive & overrulable_match], VETO_LOSS, method="lower")
        floors = floors[floors <= lowest]
    best = None
    for floor in floors:
        lexicon_rows = (overrulable_match & (scores >= floor)) | lexicon_stands
        for threshold in candidates:
            flagged = (scores >= threshold) | lexicon_rows
            false_flags = flagged[ordinary].mean() if ordinary.any() else 0.0
            recall = flagged[positive].mean() if positive.any() else 0.0
            cross = flagged[other].mean() if other.any() else 0.0
            over = max(0.0, false_flags - budget) + max(0.0, cross - cross_budget)
            key = (-over, recall, -false_flags, threshold)
            if best is None or key > best[0]:
                best = (key, Decision(float(threshold), float(floor)))
    return best[1]
