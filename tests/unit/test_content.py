"""Curated content rules from shared/facts.md, checked on every answer in domain.yml."""

import re
from pathlib import Path

import pytest
import yaml

from bot.content import available_locales, load_directory

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]
INTENTS = DOMAIN["intents"]
# ask_capabilities is small talk; every other ask_ intent is an answer that needs sources.
TOPICS = [intent for intent in INTENTS if intent.startswith("ask_") and intent != "ask_capabilities"]


def rules_by_intent():
    mapping = {}
    for path in (ROOT / "data" / "stories").glob("*.yml"):
        for rule in yaml.safe_load(path.read_text()).get("rules", []):
            steps = rule["steps"]
            if "intent" in steps[0]:
                mapping[steps[0]["intent"]] = [step.get("action") for step in steps[1:]]
    return mapping


@pytest.mark.parametrize("intent", [i for i in INTENTS])
def test_every_intent_has_a_rule_that_answers_it_with_its_response(intent):
    assert rules_by_intent()[intent] == [f"utter_{intent}"]


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_answer_is_sourced_dated_and_titled(topic):
    metadata = RESPONSES[f"utter_{topic}"][0]["metadata"]
    assert metadata["topic"] == topic
    assert metadata["title"]
    assert metadata["sources"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(metadata["last_reviewed"]))


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_no_amounts_vendors_or_stigma_words(name):
    text = " ".join(v.get("text", "") for v in RESPONSES[name])
    assert not re.search(r"\d\s*(mg|g|grams?|drops?|capsules?|ml)\b", text, re.I), "no amounts"
    assert not re.search(r"\b(addicts?|abusers?)\b", text, re.I), "no stigma words"
    assert not re.search(r"\b(buy from|order from|discount|coupon)\b", text, re.I), "no selling"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_buttons_lead_to_known_intents(name):
    for variation in RESPONSES[name]:
        for button in variation.get("buttons", []):
            assert button["payload"].lstrip("/") in INTENTS


@pytest.mark.parametrize("locale", available_locales())
def test_resource_directories_load_and_are_dated(locale):
    directory = load_directory(locale)
    for service in directory.services.values():
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", service.last_reviewed)
        assert service.web is None or service.web.startswith("https://")
