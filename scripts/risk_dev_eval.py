"""Risk lexicon on the DEVELOPMENT set: recall per category, false flags, time per message.

    .venv/bin/python scripts/risk_dev_eval.py [--data tests/dev/risk_dev.yml] [--verbose]

Runs the same `RiskMatcher.find_text` logic as the Rasa component, with the project's spaCy
pipeline, and needs no trained model. For tuning the lexicon. It refuses the held-out set
(tests/heldout/): the final figures are measured there by `make eval-risk`, and looking at its
misses while editing the lexicon would make those figures worthless.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import spacy  # noqa: E402
import yaml  # noqa: E402

from bot.evaluation.risk_scoring import score  # noqa: E402
from bot.nlu.risk_matcher import DEFAULT_LEXICON_PATH, RiskMatcher, benchmark  # noqa: E402

SPACY_PIPELINE = ROOT / "var" / "spacy" / "en_kratom_lookup"


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "dev" / "risk_dev.yml")
    parser.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON_PATH)
    parser.add_argument("--verbose", "-v", action="store_true", help="list misses and false flags")
    args = parser.parse_args(argv)
    if "heldout" in args.data.resolve().parts:
        print("refusing to tune on the held-out set; use `make eval-risk` for final figures")
        return 2

    data = yaml.safe_load(args.data.read_text(encoding="utf-8"))
    matcher = RiskMatcher.from_path(args.lexicon, nlp=spacy.load(SPACY_PIPELINE))
    ordinary = data["ordinary_questions"]
    result = score(data["risk_statements"], ordinary,
                   lambda text: {f.category for f in matcher.find_text(text)})

    print(f"lexicon {matcher.version} on {args.data}")
    print(f"{'category':18} {'n':>4} {'recall':>7}")
    for category in sorted(result.caught):
        print(f"{category:18} {len(result.caught[category]):4d} {result.recall(category):7.3f}")
    print(f"false flags: {len(result.false_flags)}/{len(ordinary)} = {result.false_flag_rate:.3f}")
    if args.verbose:
        for category, text, got in result.misses:
            print(f"  missed {category}: {text!r} (found {got})")
        for text, got in result.false_flags:
            print(f"  false flag {got}: {text!r}")
    timing = benchmark(matcher, [s["text"] for s in data["risk_statements"]] + ordinary)
    print(
        f"time per message: {timing['match_us']:.0f} us matching a ready doc, "
        f"{timing['tokenize_and_match_us']:.0f} us with tokenization"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
