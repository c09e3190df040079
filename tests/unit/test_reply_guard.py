"""No path around the safety gate: every response, every action, every channel.

The gate is bot.safety.guard_text, applied by bot.nlg.GuardedResponseGenerator to every
response the Rasa server renders. These tests render every response in domain.yml through the
generator Rasa is configured to load, and check that nothing else can put text in front of a
person: actions only set slots, and the REST channel's safety net goes through the same gate.
"""

import asyncio
import re
from pathlib import Path

import pytest
import yaml
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from bot.content import load_directory
from bot.nlg import GuardedResponseGenerator

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
SHORT = "not medical advice"
FULL = DOMAIN.responses["utter_disclaimer_full"][0]["text"]
EMERGENCY_INTRO = load_directory("us").categories["emergency"].intro


@pytest.fixture(scope="module")
def nlg():
    with pytest.MonkeyPatch.context() as env:  # endpoints.yml names these; their values don't matter
        env.setenv("ACTION_SERVER_URL", "http://127.0.0.1:1/webhook")
        env.setenv("TRACKER_DB", "unused.db")
        endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "nlg")
    generator = NaturalLanguageGenerator.create(endpoint, DOMAIN)
    assert isinstance(generator, GuardedResponseGenerator), "endpoints.yml must load the guarded NLG"
    return generator


def user_turn(text="hello", intent="greet", risks=(), metadata=None):
    entities = [{"entity": "risk", "value": risk, "start": 0, "end": 1} for risk in risks]
    return [ActionExecuted("action_listen"),
            UserUttered(text, {"name": intent, "confidence": 0.99}, entities, metadata=metadata)]


def tracker_with(*turns, earlier_reply=True):
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    if earlier_reply:
        events += user_turn() + [ActionExecuted("utter_greet"), BotUttered("Hi.")]
    for turn in turns:
        events += turn
    return DialogueStateTracker.from_events("someone", events, slots=DOMAIN.slots)


def informational(name):
    metadata = DOMAIN.responses[name][0].get("metadata") or {}
    return not metadata.get("conversational")


ALL_RESPONSES = sorted(DOMAIN.responses)


@pytest.mark.parametrize("response", ALL_RESPONSES)
async def test_every_informational_response_carries_the_disclaimer(nlg, response):
    message = await nlg.generate(response, tracker_with(user_turn()), "rest")
    if informational(response):
        assert SHORT in message["text"]
    assert "metadata" not in message, "review metadata (sources, dates) must not reach users"


@pytest.mark.parametrize("response", ALL_RESPONSES)
async def test_the_first_reply_of_every_conversation_carries_the_full_disclaimer(nlg, response):
    message = await nlg.generate(response, tracker_with(user_turn(), earlier_reply=False), "rest")
    assert message["text"].endswith(FULL)


@pytest.mark.parametrize("response", ALL_RESPONSES)
async def test_risk_resources_open_any_response_whatever_the_intent(nlg, response):
    turn = user_turn("i took too much and cant breathe", intent="nlu_fallback", risks=("emergency",))
    message = await nlg.generate(response, tracker_with(turn), "rest")
    assert message["text"].startswith(EMERGENCY_INTRO)
    assert "911" in message["text"] and "1-800-222-1222" in message["text"]


async def test_message_metadata_locale_switches_the_resource_directory(nlg):
    turn = user_turn("i want to die", intent="nlu_fallback", risks=("self_harm",), metadata={"locale": "uk"})
    text = (await nlg.generate("utter_clarify", tracker_with(turn), "socketio"))["text"]
    assert "116 123" in text and "988" not in text


async def test_unknown_locale_falls_back_to_the_configured_one(nlg):
    turn = user_turn("i want to die", intent="nlu_fallback", risks=("self_harm",), metadata={"locale": "xx"})
    assert "988" in (await nlg.generate("utter_clarify", tracker_with(turn), "rest"))["text"]


async def test_only_the_first_message_of_a_reply_repeats_the_resources(nlg):
    turn = user_turn("i od'd", intent="ask_safety", risks=("emergency",))
    tracker = tracker_with(turn + [ActionExecuted("utter_ask_safety"), BotUttered("first")])
    assert "911" not in (await nlg.generate("utter_ask_forms", tracker, "rest"))["text"]


async def test_clarify_shows_the_suggested_topics_as_buttons(nlg):
    turn = user_turn("hmm", intent="nlu_fallback") + [
        ActionExecuted("action_suggest_topics"), SlotSet("suggested_topics", ["ask_pain", "ask_safety"])]
    message = await nlg.generate("utter_clarify", tracker_with(turn), "rest")
    assert [b["payload"] for b in message["buttons"]] == ["/ask_pain", "/ask_safety"]


async def test_clarify_becomes_the_topic_menu_when_there_is_nothing_to_suggest(nlg):
    # Also what a person sees when the action server is down: its SlotSet never arrives.
    stale = user_turn("hmm", intent="nlu_fallback") + [SlotSet("suggested_topics", ["ask_pain"])]
    tracker = tracker_with(stale + [BotUttered("earlier")] + user_turn("?", intent="nlu_fallback"))
    message = await nlg.generate("utter_clarify", tracker, "rest")
    menu = DOMAIN.responses["utter_topic_menu"][0]
    assert message["text"].startswith(menu["text"])
    assert message["buttons"] == menu["buttons"]


def test_every_action_only_decides_and_never_writes_text():
    executor = ActionExecutor()
    executor.register_package("actions")
    assert executor.actions, "no actions registered"
    for name, action in executor.actions.items():
        dispatcher = CollectingDispatcher()
        tracker = Tracker("someone", {}, {"text": "x", "intent_ranking": []},
                          [{"event": "user", "text": "x"}], False, None, {}, "action_listen")
        asyncio.run(action(dispatcher, tracker, {}))
        assert dispatcher.messages == [], f"{name} sent text past the safety gate"


def test_channels_cannot_skip_validation_or_the_safety_net():
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert "rest" not in credentials, "Rasa's plain rest channel would bypass bot.channels"
    assert "bot.channels.GuardedRestInput" in credentials


def test_no_response_pastes_the_disclaimer_or_a_hotline():
    for name, variations in DOMAIN.responses.items():
        if name.startswith("utter_disclaimer"):
            continue
        for variation in variations:
            text = variation.get("text", "")
            assert SHORT not in text.lower(), f"{name}: the disclaimer is added in code"
            assert not re.search(r"\b(911|988|999|1-800)\b", text), f"{name}: numbers live in resources"


def test_the_rest_channels_safety_net_goes_through_the_same_gate():
    from bot.channels import SafetyNet

    [message] = SafetyNet().reply("someone")
    trouble = DOMAIN.responses["utter_technical_trouble"][0]["text"]
    assert message["text"].startswith(trouble)
    for number in ("911", "988"):
        assert number in message["text"]
    assert message["text"].endswith(DOMAIN.responses["utter_disclaimer_short"][0]["text"])
