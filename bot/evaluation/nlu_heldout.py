"""Accuracy of the trained model on held-out examples it never saw in training.

`make eval-nlu`. A prediction counts as right when it names the expected intent; for an
out-of-scope example, falling back (`nlu_fallback`) is right too, since both lead to the same
"here is what I cover" behaviour. Exits non-zero below --min-accuracy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter, defaultdict
from typing import Dict, List, Tuple

from rasa.core.agent import Agent

from bot.evaluation import quiet_rasa_logs
from rasa.shared.nlu.training_data.loading import load_data

FALLBACK_INTENT = "nlu_fallback"
ACCEPTED_ALTERNATIVES = {"out_of_scope": {FALLBACK_INTENT}}


def is_correct(expected: str, predicted: str) -> bool:
    return predicted == expected or predicted in ACCEPTED_ALTERNATIVES.get(expected, set())


async def predict_all(agent: Agent, examples: List[Tuple[str, str]]) -> Tuple[List[str], List[float]]:
    predictions, seconds = [], []
    for text, _ in examples:
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        seconds.append(time.perf_counter() - started)
        predictions.append(parsed["intent"]["name"])
    return predictions, seconds


def report(examples: List[Tuple[str, str]], predictions: List[str], seconds: List[float]) -> float:
    per_intent: Dict[str, List[bool]] = defaultdict(list)
    confusions: Counter = Counter()
    for (text, expected), predicted in zip(examples, predictions):
        right = is_correct(expected, predicted)
        per_intent[expected].append(right)
        if not right:
            confusions[(expected, predicted)] += 1
    accuracy = sum(map(sum, per_intent.values())) / len(examples)
    print(f"{'intent':28} {'n':>4} {'accuracy':>9}")
    for intent in sorted(per_intent):
        results = per_intent[intent]
        print(f"{intent:28} {len(results):4d} {sum(results) / len(results):9.3f}")
    print("\nMost frequent confusions (expected -> predicted):")
    for (expected, predicted), count in confusions.most_common(12):
        print(f"  {count:3d}  {expected} -> {predicted}")
    ms = sorted(s * 1000 for s in seconds)
    print(f"\nNLU parse time per message: median {statistics.median(ms):.1f} ms, "
          f"p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms")
    print(f"\nHeld-out intent accuracy: {accuracy:.3f} on {len(examples)} examples "
          f"({len(per_intent)} intents)")
    return accuracy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    args = parser.parse_args()
    quiet_rasa_logs()

    examples = [(m.get("text"), m.get("intent")) for m in load_data(args.data).intent_examples]
    agent = Agent.load(args.model)
    predictions, seconds = asyncio.run(predict_all(agent, examples))
    accuracy = report(examples, predictions, seconds)
    if accuracy < args.min_accuracy:
        print(f"FAIL: accuracy {accuracy:.3f} is below the required {args.min_accuracy:.2f}")
        return 1
    print(f"OK: at least {args.min_accuracy:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
