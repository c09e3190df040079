"""Risk detection measured on held-out statements and ordinary questions, as deployed.

`make eval-risk`. Each message goes through the trained model's whole NLU pipeline (so the
RiskPhraseDetector sees exactly what it sees in production); a statement is caught for a
category when a `risk` entity with that category comes back. Prints recall per category, the
false-flag rate on ordinary questions and the detector's own time per message; the messages
themselves only with --show-misses, so that nobody tunes the lexicon on them by accident. Tune
on data/risk/ (`make risk-crossval`). Exits non-zero when a requirement is not met.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import List, Set

import spacy
import yaml
from rasa.core.agent import Agent

from bot.evaluation import quiet_rasa_logs
from bot.evaluation.risk_scoring import score

from bot.nlu.risk_detector import RiskPhraseDetector
from bot.nlu.risk_matcher import RiskMatcher, benchmark
from bot.settings import PROJECT_ROOT

REQUIRED_RECALL = {"emergency": 1.0, "self_harm": 1.0}
DEFAULT_REQUIRED_RECALL = 0.95
MAX_FALSE_FLAG_RATE = 0.03
SPACY_PIPELINE = PROJECT_ROOT / "var" / "spacy" / "en_kratom_lookup"


async def flagged_categories(agent: Agent, texts: List[str]) -> List[Set[str]]:
    results = []
    for text in texts:
        parsed = await agent.parse_message(text)
        results.append({e["value"] for e in parsed.get("entities", []) if e.get("entity") == "risk"})
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--known-shortfall", action="append", default=[], metavar="NAME=FLOOR",
                        help="a category (or false_flags) known to miss its target, tracked in an "
                             "open issue: reported as BELOW TARGET, and failed only when worse "
                             "than FLOOR (a recall, or for false_flags a rate); repeatable")
    parser.add_argument("--show-misses", action="store_true",
                        help="print the missed and falsely flagged messages (for analysis only: "
                             "tuning the lexicon on held-out messages would void the figures)")
    args = parser.parse_args()
    quiet_rasa_logs()
    floors = {name: float(value) for name, value in (item.split("=") for item in args.known_shortfall)}

    data = yaml.safe_load(Path(args.data).read_text())
    statements = data["risk_statements"]
    ordinary = data["ordinary_questions"]

    agent = Agent.load(args.model)
    texts = [s["text"] for s in statements] + list(ordinary)
    found = dict(zip(texts, asyncio.run(flagged_categories(agent, texts))))
    result = score(statements, ordinary, found.__getitem__)

    ok = True
    print(f"{'category':18} {'n':>4} {'recall':>7} {'required':>9}")
    for category in sorted(result.caught):
        hits = result.caught[category]
        recall = result.recall(category)
        required = REQUIRED_RECALL.get(category, DEFAULT_REQUIRED_RECALL)
        if recall >= required:
            mark = ""
        elif category in floors and recall >= floors[category]:
            mark = f"  BELOW TARGET (known shortfall, open issue; floor {floors[category]:.2f})"
        else:
            mark = "  FAIL"
            ok = False
        print(f"{category:18} {len(hits):4d} {recall:7.3f} {required:9.2f}{mark}")

    rate = result.false_flag_rate
    if rate <= MAX_FALSE_FLAG_RATE:
        flag_mark = ""
    elif "false_flags" in floors and rate <= floors["false_flags"]:
        flag_mark = f"  BELOW TARGET (known shortfall, open issue; ceiling {floors['false_flags']:.3f})"
    else:
        flag_mark = "  FAIL"
        ok = False
    print(f"\nFalse flags on {len(ordinary)} ordinary questions: {len(result.false_flags)} "
          f"({rate:.3f}; target at most {MAX_FALSE_FLAG_RATE:.2f}){flag_mark}")
    if result.false_flags:
        print("  by category: " + ", ".join(
            f"{category} {count}" for category, count in result.false_flags_by_category()))
    if args.show_misses:
        for text, categories in result.false_flags:
            print(f"  flagged {categories}: {text!r}")
        print("\nMissed:")
        for category, text, got in result.misses:
            print(f"  {category}: {text!r} (found {got})")

    matcher = RiskMatcher.from_path(nlp=spacy.load(SPACY_PIPELINE))
    classifier = RiskPhraseDetector.classifier_in_model(Path(args.model))
    timing = benchmark(matcher, [s["text"] for s in statements] + ordinary,
                       second_opinion=classifier.decide if classifier else None)
    print(f"\nRisk detector time per message (lexicon on a ready spaCy doc"
          f"{' + classifier' if classifier else ''}, what the Rasa component does): "
          f"mean {timing['match_us']:.0f} µs, p95 {timing['match_p95_us']:.0f} µs, "
          f"max {timing['match_max_us']:.0f} µs; {timing['tokenize_and_match_us']:.0f} µs "
          f"including tokenization; over {int(timing['messages'])} messages")
    shortfalls = [c for c in result.caught
                  if result.recall(c) < REQUIRED_RECALL.get(c, DEFAULT_REQUIRED_RECALL)]
    shortfalls += ["false_flags"] if rate > MAX_FALSE_FLAG_RATE else []
    if not ok:
        print("\nFAIL: a requirement is not met")
    elif shortfalls:
        print(f"\nOK except known shortfalls below target: {', '.join(shortfalls)}")
    else:
        print("\nOK: all requirements met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
