"""Risk detection measured writer by writer on the training data (`make risk-crossval`).

Each writer's file in data/risk/ is held out in turn: the classifier is trained (thresholds
included) on the other writers and the NLU topic questions, then that writer's messages are
scored by the lexicon alone and by lexicon and classifier combined, as the RiskPhraseDetector
decides. Files the lexicon was tuned on (`lexicon_tuned: true`) are trained on but not scored,
because the lexicon's figures there are inflated. This is the figure to develop against; the
held-out sets in tests/heldout/ are measured by `make eval-risk` only.

`--fast` (`make risk-crossval-fast`) scores every message out of fold once and chooses each
held-out writer's thresholds on the other writers' out-of-fold scores, instead of retraining
the whole classifier per writer. Those scores come from models that did see the held-out
writer, so it is a slightly optimistic approximation (within about 0.01 of the full run in
session 7), in minutes instead of most of an hour.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Set

import numpy as np
import spacy
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.evaluation import quiet_rasa_logs
from bot.evaluation.risk_scoring import RiskScore, score
from bot.nlu.risk_classifier import (
    OutOfFold,
    RiskClassifier,
    RiskExamples,
    adds_alone,
    risk_example_files,
    with_matches_beside_a_crisis,
)
from bot.nlu.risk_matcher import DEFAULT_LEXICON_PATH, RiskMatcher
from bot.settings import PROJECT_ROOT

SPACY_PIPELINE = PROJECT_ROOT / "var" / "spacy" / "en_kratom_lookup"


def _row(name: str, result: RiskScore, categories: List[str]) -> str:
    cells = " ".join(f"{result.recall(c):6.2f}" if result.caught[c] else "     -"
                     for c in categories)
    return f"  {name:9} {cells}  {result.false_flag_rate:6.3f}  {result.extra_flag_rate:5.2f}"


Found = Dict[str, Set[str]]


@dataclass
class HeldOutWriter:
    """One writer's messages and what each detector found in them, held out from training."""

    name: str
    statements: List[Mapping]
    ordinary: List[str]
    lexicon: Found
    combined: Found
    timing: str


def _not_present(matcher: RiskMatcher, text: str) -> Callable[[str], bool]:
    return lambda category: matcher.frames_as_not_present(matcher.make_doc(text), category)


def _nested(files: List[Path], topic_questions: List[str],
            matcher: RiskMatcher) -> Iterator[HeldOutWriter]:
    """Per held-out writer: the classifier retrained, thresholds included, without it."""
    for held in files:
        data = yaml.safe_load(held.read_text(encoding="utf-8"))
        if data.get("lexicon_tuned"):
            continue
        examples = RiskExamples.from_files(f for f in files if f != held)
        examples.add_background(topic_questions, matcher.categories_in)
        started = time.perf_counter()
        classifier = RiskClassifier.train(examples, lexicon=matcher.categories_in,
                                          never_general=matcher.never_general_in)
        seconds = time.perf_counter() - started
        statements, ordinary = data["risk_statements"], list(data["ordinary_questions"])
        texts = [s["text"] for s in statements] + ordinary
        lexicon = {t: matcher.categories_in(t) for t in texts}
        combined = {t: set(classifier.decide(t, lexicon[t], _not_present(matcher, t),
                                             matcher.never_general_in(t)))
                    for t in texts}
        yield HeldOutWriter(held.stem, statements, ordinary, lexicon, combined,
                            f"trained in {seconds:.0f} s")


def _single_level(files: List[Path], topic_questions: List[str],
                  matcher: RiskMatcher) -> Iterator[HeldOutWriter]:
    """Per held-out writer: its out-of-fold scores, with thresholds chosen on the others'."""
    examples = RiskExamples.from_files(files)
    examples.add_background(topic_questions, matcher.categories_in)
    started = time.perf_counter()
    held_out = OutOfFold.score(examples, matcher.categories_in,
                               never_general=matcher.never_general_in)
    timing = f"all writers scored out of fold in {time.perf_counter() - started:.0f} s"
    personal = {c: held_out.personal_for(c) for c in held_out.scores}
    for writer, name in enumerate(examples.writer_names):
        if writer in examples.lexicon_tuned_writers:
            continue
        decisions = held_out.decisions(held_out.threshold_rows(excluding_writer=writer))
        statements: List[Mapping] = []
        ordinary: List[str] = []
        lexicon: Found = {}
        combined: Found = {}
        for i in (i for i, w in enumerate(examples.writers) if w == writer):
            text, found = examples.texts[i], held_out.lexicon_found[i]
            if examples.is_ordinary[i]:
                ordinary.append(text)
            else:
                statements.append({"text": text, "categories": sorted(examples.labels[i])})
            flagged = {c for c in found if c not in decisions or np.isnan(held_out.scores[c][i])}
            not_present = _not_present(matcher, text)
            flagged |= {c for c, decision in decisions.items()
                        if decision.flags(held_out.scores[c][i], c in found,
                                          personal[c][i], held_out.english[i])
                        and (c in found or adds_alone(not_present, c))}
            flagged = set(with_matches_beside_a_crisis(dict.fromkeys(flagged, 1.0), found, {}))
            lexicon[text], combined[text] = found, flagged
        yield HeldOutWriter(name, statements, ordinary, lexicon, combined, timing)
        timing = "thresholds from the other writers' scores"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / "data" / "risk")
    parser.add_argument("--nlu", type=Path, default=PROJECT_ROOT / "data" / "nlu")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="list each held-out writer's misses and false flags")
    parser.add_argument("--fast", action="store_true",
                        help="single level: score out of fold once (see the module docstring)")
    args = parser.parse_args(argv)
    quiet_rasa_logs()
    if "heldout" in args.data.resolve().parts:
        print("refusing to develop on the held-out sets; `make eval-risk` measures them")
        return 2

    matcher = RiskMatcher.from_path(DEFAULT_LEXICON_PATH, nlp=spacy.load(SPACY_PIPELINE))
    topic_questions = [m.get("text") for m in load_data(str(args.nlu)).intent_examples]
    files = risk_example_files([args.data])
    categories = sorted(RiskExamples.from_files(files).categories)
    print(f"{'':11}" + " ".join(f"{c[:6]:>6}" for c in categories) + "  ffrate  extra")
    pooled = {"lexicon": [], "combined": []}
    folds = (_single_level if args.fast else _nested)(files, topic_questions, matcher)
    for held in folds:
        print(f"{held.name} held out ({len(held.statements)} statements, "
              f"{len(held.ordinary)} ordinary; {held.timing})")
        for name, found in (("lexicon", held.lexicon), ("combined", held.combined)):
            result = score(held.statements, held.ordinary, found.__getitem__)
            pooled[name].append((held.statements, held.ordinary, found))
            print(_row(name, result, categories))
            if args.verbose and name == "combined":
                for category, text, got in result.misses:
                    print(f"      missed {category}: {text!r} (found {got})")
                for text, got in result.false_flags:
                    print(f"      false flag {got}: {text!r}")
    print("all held-out writers pooled")
    for name, parts in pooled.items():
        statements = [s for part in parts for s in part[0]]
        ordinary = [o for part in parts for o in part[1]]
        found = {t: f for part in parts for t, f in part[2].items()}
        print(_row(name, score(statements, ordinary, found.__getitem__), categories))
    return 0


if __name__ == "__main__":
    sys.exit(main())
