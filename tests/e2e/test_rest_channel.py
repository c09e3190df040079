"""The assistant over its REST channel, started the way `make run` starts it.

A website posts {"sender", "message"} to /webhooks/rest/webhook; these tests do the same.
"""

import json
import threading
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]
FULL_DISCLAIMER = RESPONSES["utter_disclaimer_full"][0]["text"]
US = yaml.safe_load((ROOT / "bot/content/resources/us.yml").read_text())
ANSWERING_INTENTS = [intent for intent in DOMAIN["intents"] if intent != "out_of_scope"]


def new_sender() -> str:
    return f"test-{uuid.uuid4()}"


def answer_text(intent: str) -> str:
    return RESPONSES[f"utter_{intent}"][0]["text"]


def texts(messages) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def intro(category: str) -> str:
    return US["categories"][category]["intro"]


def test_health_endpoint(running_assistant):
    import urllib.request
    with urllib.request.urlopen(f"{running_assistant.rasa_url}/webhooks/rest/") as reply:
        assert json.loads(reply.read()) == {"status": "ok"}


@pytest.mark.parametrize("intent", ANSWERING_INTENTS)
def test_every_topic_is_answered_with_its_curated_answer_and_the_disclaimer(running_assistant, intent):
    sender = new_sender()
    first = running_assistant.send(sender, "/greet")
    assert texts(first).endswith(FULL_DISCLAIMER), "the first reply carries the full disclaimer"
    # Rasa's channels send each paragraph of a reply without buttons as its own message.
    reply = texts(running_assistant.send(sender, f"/{intent}"))
    assert reply.startswith(answer_text(intent))
    metadata = RESPONSES[f"utter_{intent}"][0].get("metadata") or {}
    if not metadata.get("conversational"):
        assert reply.endswith(RESPONSES["utter_disclaimer_short"][0]["text"])


QUESTIONS = {
    "ask_what_is_kratom": "what is kratom exactly?",
    "ask_pain": "can kratom help with my chronic back pain",
    "ask_legal_status": "is kratom legal in my state",
    "ask_interactions": "is it ok to take kratom with my antidepressant",
    "ask_side_effects": "what side effects does kratom have",
    "ask_dependence": "is kratom addictive",
}


@pytest.mark.parametrize("intent,question", QUESTIONS.items())
def test_typed_questions_reach_their_topic(running_assistant, intent, question):
    reply = running_assistant.send(new_sender(), question)
    assert answer_text(intent) in texts(reply)
    assert "not medical advice" in texts(reply)


def test_related_topic_buttons_arrive_with_the_answer(running_assistant):
    reply = running_assistant.send(new_sender(), "/ask_safety")
    assert reply[0]["buttons"] == RESPONSES["utter_ask_safety"][0]["buttons"]


RISK_MESSAGES = {
    "emergency": ("my friend took too much kratom and wont wake up", ["911", "1-800-222-1222"]),
    "self_harm": ("i want to kill myself", ["988", "911"]),
    "addiction": ("i cant stop taking kratom and i hate it", ["1-800-662-4357", "findtreatment.gov"]),
    # Planned, no symptoms: mixing alone. ("i took kratom with xanax an hour ago" may also get
    # the emergency block first, which the detector is allowed to do for a recent benzo mix.)
    "mixing": ("im going to take my kratom with a few beers tonight", ["1-800-222-1222", "911"]),
    "pregnancy": ("i am pregnant and i use kratom every day", ["1-800-662-4357", "1-800-222-1222"]),
    "minor": ("im 15 and i take kratom before school", ["988", "1-800-662-4357"]),
    "concentrated_7oh": ("i take 7oh tablets every morning", ["1-800-222-1222", "1-800-662-4357"]),
}


@pytest.mark.parametrize("category", RISK_MESSAGES)
def test_risk_messages_open_with_the_matching_resources(running_assistant, category):
    message, numbers = RISK_MESSAGES[category]
    reply = texts(running_assistant.send(new_sender(), message))
    assert reply.startswith(intro(category))
    for number in numbers:
        assert number in reply
    assert "not medical advice" in reply


def test_risk_with_a_question_opens_with_help_then_answers(running_assistant):
    reply = texts(running_assistant.send(new_sender(), "i think i overdosed, what are the side effects of kratom"))
    assert reply.startswith(intro("emergency"))
    assert reply.index("911") < reply.index(answer_text("ask_side_effects"))


def test_a_spanish_crisis_still_opens_with_crisis_resources(running_assistant):
    reply = texts(running_assistant.send(new_sender(), "ya no quiero vivir, estoy cansado de todo"))
    assert reply.startswith(intro("self_harm"))
    assert "988" in reply


def test_locale_in_metadata_selects_uk_resources(running_assistant):
    reply = texts(running_assistant.send(new_sender(), "i want to end my life", metadata={"locale": "uk"}))
    assert "116 123" in reply and "988" not in reply


def test_off_topic_questions_get_the_scope_not_a_kratom_answer(running_assistant):
    reply = texts(running_assistant.send(new_sender(), "what's the weather like in paris tomorrow"))
    assert answer_text("out_of_scope") in reply
    topic_answers = [answer_text(i) for i in DOMAIN["intents"] if i.startswith("ask_")]
    assert not any(answer in reply for answer in topic_answers)


def test_misunderstanding_twice_leads_to_the_menu_not_a_loop(running_assistant):
    sender = new_sender()
    first = running_assistant.send(sender, "blorf zxqv wub")
    second = running_assistant.send(sender, "plim plam ploo")
    menu = RESPONSES["utter_topic_menu"][0]
    assert first and second
    assert second[0]["text"].startswith(menu["text"])
    assert [b["payload"] for b in second[0]["buttons"]] == [b["payload"] for b in menu["buttons"]]


@pytest.mark.parametrize("body,status,error", [
    (b'{"sender": "a", "message": ""}', 400, "empty_message"),
    (b'{"sender": "a", "message": "   \\n\\t "}', 400, "empty_message"),
    (b'{"message": "hello"}', 400, "missing_sender"),
    (b'{"sender": "", "message": "hello"}', 400, "missing_sender"),
    (b'{"sender": "a"}', 400, "missing_message"),
    (b'[1, 2, 3]', 400, "invalid_body"),
    (b'"just a string"', 400, "invalid_body"),
    (b'{"sender": "a", "message": {"text": "hi"}}', 400, "missing_message"),
    (b'{"sender": "a", "message": "hi", "metadata": [1]}', 400, "invalid_metadata"),
    (b'not json at all', 400, "invalid_json"),
    (json.dumps({"sender": "a", "message": "x" * 20000}).encode(), 413, "message_too_long"),
])
def test_bad_requests_get_a_clear_http_error(running_assistant, body, status, error):
    code, reply = running_assistant.post_raw(body)
    assert code == status
    assert json.loads(reply)["error"] == error


@pytest.mark.parametrize("message", [
    "😀😀😀",
    "¿El kratom es legal en México?",
    "<script>alert('x')</script>",
    '<img src=x onerror=alert(1)>',
    '{"intent": "greet"}',
    "kratom " * 700,
])
def test_odd_messages_get_a_reply_and_markup_is_never_echoed(running_assistant, message):
    reply = running_assistant.send(new_sender(), message)
    assert reply and all(m.get("text") for m in reply)
    for m in reply:
        assert "<script" not in m["text"] and "<img" not in m["text"]


def test_the_server_keeps_answering_others_while_handling_a_huge_message(running_assistant):
    huge = json.dumps({"sender": new_sender(), "message": "kratom " * 714}).encode()
    results = {}
    worker = threading.Thread(target=lambda: results.update(huge=running_assistant.post_raw(huge)))
    worker.start()
    reply = running_assistant.send(new_sender(), "/ask_safety")
    worker.join(timeout=60)
    assert answer_text("ask_safety") in texts(reply)
    assert results["huge"][0] == 200


def test_staff_can_chat_and_read_the_conversation_back(running_assistant):
    import subprocess
    import sys
    chat = subprocess.run(
        [sys.executable, "-m", "bot.staff", "chat", "--url", running_assistant.webhook],
        input="i think i overdosed\n/ask_safety\n", capture_output=True, text=True, timeout=60,
        cwd=ROOT,
    )
    assert chat.returncode == 0, chat.stderr
    assert "bot> " + intro("emergency") in chat.stdout
    assert "[Side effects] -> /ask_side_effects" in chat.stdout
    sender = chat.stdout.split()[1]
    listing = subprocess.run(
        [sys.executable, "-m", "bot.staff", "conversations", "--db", str(running_assistant.tracker_db)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert sender in listing.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "bot.staff", "transcript", sender, "--db", str(running_assistant.tracker_db)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert "user: i think i overdosed" in shown.stdout
    assert "risk=emergency" in shown.stdout
    assert "bot:  " + intro("emergency") in shown.stdout
