"""bot.clarify and the action that uses it: closest topics first, never the same question twice."""

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionSuggestTopics
from bot.clarify import closest_topics, follows_a_clarification

RANKING = [
    {"name": "nlu_fallback", "confidence": 0.45},
    {"name": "ask_dependence", "confidence": 0.30},
    {"name": "greet", "confidence": 0.20},
    {"name": "ask_opioid_withdrawal", "confidence": 0.25},
    {"name": "ask_side_effects", "confidence": 0.10},
    {"name": "ask_safety", "confidence": 0.08},
    {"name": "ask_pain", "confidence": 0.01},
]


def user(text="hmm", ranking=RANKING):
    return {"event": "user", "text": text, "parse_data": {"intent_ranking": ranking}}


def action(name):
    return {"event": "action", "name": name}


def tracker(events, ranking=RANKING):
    latest = {"text": "hmm", "intent": {"name": "nlu_fallback"}, "intent_ranking": ranking}
    return Tracker("someone", {}, latest, events, False, None, {}, "action_listen")


def test_closest_topics_are_topic_intents_in_rank_order_above_the_floor():
    assert closest_topics(RANKING) == ["ask_dependence", "ask_opioid_withdrawal", "ask_side_effects"]
    assert closest_topics(RANKING, limit=5) == [
        "ask_dependence", "ask_opioid_withdrawal", "ask_side_effects", "ask_safety"]


def test_a_clarification_is_noticed_only_in_the_turn_just_before():
    first = [action("action_listen"), user()]
    assert not follows_a_clarification(first)
    repeat = first + [action("action_suggest_topics"), action("utter_clarify"), action("action_listen"), user()]
    assert follows_a_clarification(repeat)
    later = repeat + [action("utter_ask_pain"), action("action_listen"), user()]
    assert not follows_a_clarification(later)


async def test_action_suggests_the_closest_topics_and_says_nothing_itself():
    dispatcher = CollectingDispatcher()
    events = await ActionSuggestTopics().run(dispatcher, tracker([action("action_listen"), user()]), {})
    assert events == [SlotSet("suggested_topics", ["ask_dependence", "ask_opioid_withdrawal", "ask_side_effects"])]
    assert dispatcher.messages == []


async def test_action_suggests_nothing_after_a_clarification_so_the_menu_is_shown():
    history = [action("action_listen"), user(), action("action_suggest_topics"),
               action("utter_clarify"), action("action_listen"), user()]
    dispatcher = CollectingDispatcher()
    events = await ActionSuggestTopics().run(dispatcher, tracker(history), {})
    assert events == [SlotSet("suggested_topics", [])]
    assert dispatcher.messages == []
