"""Reply latency over the REST channel, measured on a whole assistant started like `make run`.

`make bench`. Prints figures; it asserts nothing (timing belongs in a benchmark, not a test).
Reference: a stock `rasa init` bot answers in about 30 ms per message on this kind of machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bot.assistant_process import start_assistant

MESSAGES = [
    "what is kratom",
    "is kratom legal in texas",
    "can kratom help my back pain",
    "what are the side effects",
    "is it addictive",
    "i took kratom with alcohol last night",
    "hello",
    "blorf zxqv",
    "/ask_safety",
    "where does kratom come from",
]
REFERENCE_MS = 30.0


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None, help="ignored; the launcher uses models/kratom.tar.gz")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work_dir:
        assistant = start_assistant(Path(work_dir))
        try:
            for message in MESSAGES:  # warm-up: first calls load lazily initialised parts
                assistant.send(f"warmup-{uuid.uuid4()}", message)
            timings = []
            for round_number in range(args.rounds):
                sender = f"bench-{round_number}"
                for message in MESSAGES:
                    started = time.perf_counter()
                    assistant.send(sender, message)
                    timings.append((time.perf_counter() - started) * 1000)
        finally:
            assistant.stop()
    print(f"REST round trip over {len(timings)} messages ({args.rounds} conversations):")
    print(f"  median {statistics.median(timings):.1f} ms   p95 {percentile(timings, 0.95):.1f} ms   "
          f"max {max(timings):.1f} ms   (stock rasa init reference: about {REFERENCE_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
