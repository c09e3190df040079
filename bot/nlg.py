"""Rasa's natural-language generator for this assistant: renders responses, then guards them.

Configured in endpoints.yml (`nlg: type: bot.nlg.GuardedResponseGenerator`), so it runs inside
the Rasa server for every response, whether a rule or the action server asked for it. That is
why the crisis resources still reach a person when the action server is down.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.content import ContentError, available_locales, load_directory
from bot.safety import Disclaimers, ReplyContext, ResponseTraits, guard_text, order_by_urgency
from bot.settings import configured_locale

logger = logging.getLogger(__name__)

RISK_ENTITY = "risk"
SUGGESTED_TOPICS_SLOT = "suggested_topics"
TOPIC_MENU_RESPONSE = "utter_topic_menu"


def _events_since_latest_user_message(tracker: DialogueStateTracker) -> List[Any]:
    since: List[Any] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        since.append(event)
    return since


def reply_context(
    tracker: DialogueStateTracker, default_locale: str, known_locales: Sequence[str]
) -> ReplyContext:
    """Reads risk, locale and position in the conversation off the tracker."""
    latest = tracker.latest_message
    entities = latest.entities if latest else []
    risks = order_by_urgency(
        entity.get("value") for entity in entities if entity.get("entity") == RISK_ENTITY
    )
    requested_locale = str(((latest.metadata if latest else None) or {}).get("locale", ""))
    locale = requested_locale.lower() if requested_locale.lower() in known_locales else default_locale

    opens_reply = not any(
        isinstance(event, BotUttered) for event in _events_since_latest_user_message(tracker)
    )
    opens_conversation = True
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            opens_conversation = False
            break
        if isinstance(event, SessionStarted):
            break
    return ReplyContext(
        locale=locale,
        risk_categories=risks,
        opens_reply=opens_reply,
        opens_conversation=opens_conversation,
    )


def suggested_topics_this_turn(tracker: DialogueStateTracker) -> List[str]:
    """Topics the action server suggested for the latest message; none if it did not answer."""
    for event in _events_since_latest_user_message(tracker):
        if isinstance(event, SlotSet) and event.key == SUGGESTED_TOPICS_SLOT:
            return list(event.value or [])
    return []


class GuardedResponseGenerator(TemplatedNaturalLanguageGenerator):
    """Templated responses passed through `bot.safety.guard_text`, the one safety gate."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None,
                 domain: Optional[Domain] = None) -> None:
        self.default_locale = configured_locale()
        self.locales = available_locales()
        if self.default_locale not in self.locales:
            raise ContentError(
                f"KRATOM_LOCALE={self.default_locale!r} has no resource directory; "
                f"known locales: {', '.join(self.locales)}"
            )
        for locale in self.locales:  # fail at start-up, not in front of a person
            load_directory(locale)
        super().__init__((domain or Domain.empty()).responses)

    @property
    def responses(self) -> Dict[Text, List[Dict[Text, Any]]]:
        return self._responses

    @responses.setter
    def responses(self, responses: Dict[Text, List[Dict[Text, Any]]]) -> None:
        # Rasa's Agent creates the generator before the model is loaded and assigns the
        # model's responses later, so everything derived from them is derived here.
        self._responses = responses
        self.topic_titles = self._topic_titles(responses)
        self.disclaimers = Disclaimers.from_responses(responses) if responses else None

    @staticmethod
    def _topic_titles(responses: Dict[Text, List[Dict[Text, Any]]]) -> Dict[str, str]:
        titles = {}
        for variations in responses.values():
            metadata = (variations[0].get("metadata") or {}) if variations else {}
            if metadata.get("topic") and metadata.get("title"):
                titles[str(metadata["topic"])] = str(metadata["title"])
        return titles

    def suggestion_buttons(self, topics: Sequence[str]) -> List[Dict[str, str]]:
        return [
            {"title": self.topic_titles[topic], "payload": f"/{topic}"}
            for topic in topics
            if topic in self.topic_titles
        ]

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        """Renders `utter_action` and guards its text for the person reading it."""
        message = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if message is None or self.disclaimers is None:
            return None
        metadata = message.pop("metadata", None) or {}
        if metadata.get("suggest_topics"):
            buttons = self.suggestion_buttons(suggested_topics_this_turn(tracker))
            if buttons:
                message["buttons"] = buttons
            else:
                # No suggestions (a repeated misunderstanding, or the action server did not
                # answer): show the whole menu rather than asking the same question again.
                menu = await super().generate(TOPIC_MENU_RESPONSE, tracker, output_channel)
                if menu is not None:
                    metadata = menu.pop("metadata", None) or {}
                    message = menu
        context = reply_context(tracker, self.default_locale, self.locales)
        message["text"] = guard_text(
            message.get("text"),
            ResponseTraits.from_metadata(metadata),
            context,
            load_directory(context.locale),
            self.disclaimers,
        )
        return message
