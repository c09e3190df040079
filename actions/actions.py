"""Custom actions. They decide; they never write text to the user.

Everything a person reads is rendered inside the Rasa server by `bot.nlg`, so the safety gate
there covers it and the reply still arrives when this server is down.
"""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.clarify import CLARIFY_ACTION, closest_topics, follows_a_clarification

SUGGESTED_TOPICS_SLOT = "suggested_topics"


class ActionSuggestTopics(Action):
    """Picks the closest topics to offer as buttons when the classifier is unsure.

    On a second misunderstanding in a row it suggests nothing, so the reply becomes the topic
    menu instead of the same question again.
    """

    def name(self) -> Text:
        return CLARIFY_ACTION

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        if follows_a_clarification(tracker.events):
            return [SlotSet(SUGGESTED_TOPICS_SLOT, [])]
        ranking = tracker.latest_message.get("intent_ranking") or []
        return [SlotSet(SUGGESTED_TOPICS_SLOT, closest_topics(ranking))]
