"""Tiny benchmark of the risk matcher: mean microseconds per message.

    python -m bot.nlu.bench_risk [--rounds 20] [--model models/kratom.tar.gz]

Uses a few hundred messages written for this benchmark (everyday questions, risk statements,
misspellings), not any evaluation set. Prints the time to match a ready spaCy doc (what the
Rasa component does with SpacyNLP's doc) and to tokenize + match a raw string.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, List, Optional

from bot.nlu.risk_detector import RiskPhraseDetector
from bot.nlu.risk_matcher import RiskMatcher, benchmark

_BASE = [
    # everyday questions (most traffic)
    "what is kratom?",
    "is kratom legal in texas",
    "how long does kratom stay in your system",
    "is kratom addictive?",
    "can you overdose on kratom?",
    "is it safe to mix kratom and alcohol?",
    "what are withdrawal symptoms",
    "does kratom show up on a drug test",
    "what's the difference between red and green kratom",
    "is kratom an opioid",
    "can kratom cause liver damage",
    "where is kratom banned",
    "what does the FDA say about kratom",
    "how is kratom usually taken",
    "are kratom extracts stronger than leaf",
    "what is 7-OH and why is it in the news",
    "can kratom help with opioid withdrawal",
    "tell me about kratom and pregnancy",
    "is kratom safe for teenagers",
    "thanks, that was helpful",
    "hi there",
    "who made this bot?",
    "can kratom cause seizures?",
    "what happens if you take too much kratom?",
    "how do I find treatment near me",
    # risk statements
    "my friend took too much kratom and won't wake up",
    "I think I OD'd on kratum",
    "he's not breathing, what do I do",
    "her lips are turning blue",
    "I've had chest pain since this morning after kratom",
    "my heart is racing really badly",
    "I just want to die",
    "i feel suicidle lately",
    "some days I don't want to be here anymore",
    "I can't stop taking it",
    "im adicted to kratim",
    "I'm in withdrawal and it's unbearable",
    "I need more and more just to feel normal",
    "I can not function without kratom",
    "I took kratom with 4 beers last night",
    "my boyfriend is taking kratom and xanax",
    "I take ketum with my gabapentin every day",
    "I'm pregnant and still taking kratom",
    "im breastfeeding and use kratom for pain",
    "I'm 15 and take kratom",
    "im in high school and i use kratom",
    "I've been taking 7-OH tablets every day",
    "my son vapes 7oh",
    # negated / hypothetical
    "I'm not addicted, I just like the energy",
    "I never mix it with alcohol",
    "can I take kratom with gabapentin?",
    "I used kratom to get off oxy and it worked",
    "what if I get addicted",
    "I'm 15 days clean from kratom",
    # longer messages
    "I have been using kratom for about two years for back pain and I was wondering whether "
    "the red strains are better than the green ones for sleep, and also whether I should "
    "take breaks to keep my tolerance down.",
    "Hi, my brother has been drinking a lot lately and last night he took kratom with a few "
    "beers and now he seems really out of it; he is breathing but I can't wake him up. "
    "What should I do?",
]

_WRAPPERS: List[Callable[[str], str]] = [
    lambda text: text,
    lambda text: text.upper(),
    lambda text: f"Hey, {text}",
    lambda text: f"{text} thanks",
    lambda text: f"ok so {text}!!",
    lambda text: f"{text}?",
]


def benchmark_messages() -> List[str]:
    """About three hundred messages: the base set in several casings and wrappings."""
    return [wrap(text) for wrap in _WRAPPERS for text in _BASE]


def run(rounds: int = 20, matcher: Optional[RiskMatcher] = None,
        model: Optional[Path] = None) -> dict:
    """Times the lexicon, and with `model` also the classifier trained into that model."""
    matcher = matcher or RiskMatcher.from_path()
    classifier = RiskPhraseDetector.classifier_in_model(model) if model else None
    result = benchmark(matcher, benchmark_messages(), rounds=rounds,
                       second_opinion=classifier.decide if classifier else None)
    return {
        "messages": int(result["messages"]),
        "match_mean_us": result["match_us"],
        "match_p95_us": result["match_p95_us"],
        "match_max_us": result["match_max_us"],
        "tokenize_and_match_mean_us": result["tokenize_and_match_us"],
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--model", type=Path, help="a trained model: time its classifier too")
    args = parser.parse_args(argv)
    result = run(rounds=args.rounds, model=args.model)
    print(
        f"{result['messages']} messages: match {result['match_mean_us']:.1f} us mean "
        f"(p95 {result['match_p95_us']:.1f}, max {result['match_max_us']:.1f}); "
        f"tokenize + match {result['tokenize_and_match_mean_us']:.1f} us mean"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
