"""Choosing what to offer when the assistant is unsure what a person asked. Pure Python."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Sequence

TOPIC_INTENT_PREFIX = "ask_"
CLARIFY_ACTION = "action_suggest_topics"
MAX_SUGGESTIONS = 3
# Below this the classifier is guessing; a button for it would mislead more than help.
MIN_SUGGESTION_CONFIDENCE = 0.05


def closest_topics(
    intent_ranking: Iterable[Mapping[str, Any]],
    limit: int = MAX_SUGGESTIONS,
    floor: float = MIN_SUGGESTION_CONFIDENCE,
) -> List[str]:
    """The most likely topic intents, best first."""
    topics = [
        str(entry.get("name"))
        for entry in intent_ranking
        if str(entry.get("name", "")).startswith(TOPIC_INTENT_PREFIX)
        and float(entry.get("confidence") or 0.0) >= floor
    ]
    return topics[:limit]


def follows_a_clarification(events: Sequence[Dict[str, Any]]) -> bool:
    """True when the turn before the latest user message was already a clarifying question."""
    user_turns_seen = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            user_turns_seen += 1
            continue
        if user_turns_seen == 1 and kind == "action" and event.get("name") == CLARIFY_ACTION:
            return True
        if user_turns_seen > 1:
            return False
    return False
