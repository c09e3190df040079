"""What people see when part of the assistant is down, and how it stops and restarts."""

import os
import uuid

import yaml

from bot.assistant_process import restart, start_assistant

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
US = yaml.safe_load((ROOT / "bot/content/resources/us.yml").read_text())
RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
FULL_DISCLAIMER = RESPONSES["utter_disclaimer_full"][0]["text"]


def texts(messages):
    return "\n".join(m.get("text") or "" for m in messages)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


CRISIS_MESSAGES = [
    ("i think i overdosed on kratom", "emergency", ["911", "1-800-222-1222"]),
    ("my boyfriend is not breathing after taking kratom", "emergency", ["911"]),
    ("i want to kill myself", "self_harm", ["988", "911"]),
    ("i dont want to be here anymore", "self_harm", ["988"]),
]


def test_crisis_replies_arrive_while_the_action_server_is_down(running_assistant):
    running_assistant.stop_service("actions")
    assert not pid_alive(running_assistant.service_pid("actions"))
    for message, category, numbers in CRISIS_MESSAGES:
        reply = texts(running_assistant.send(f"outage-{uuid.uuid4()}", message))
        assert reply.startswith(US["categories"][category]["intro"]), (message, reply)
        for number in numbers:
            assert number in reply


def test_a_misunderstanding_still_gets_the_menu_while_the_action_server_is_down(running_assistant):
    assert "actions" in running_assistant.stopped_services
    reply = running_assistant.send(f"outage-{uuid.uuid4()}", "blorf zxqv wub")
    assert reply and reply[0]["text"].startswith(RESPONSES["utter_topic_menu"][0]["text"])


def test_conversations_survive_a_restart_and_stopping_ends_every_service(tmp_path):
    assistant = start_assistant(tmp_path / "restart")
    sender = f"persist-{uuid.uuid4()}"
    assert texts(assistant.send(sender, "/greet")).endswith(FULL_DISCLAIMER)
    children = [assistant.service_pid(name) for name in ("actions", "rasa", "web")]
    again = restart(assistant)
    try:
        assert all(not pid_alive(pid) for pid in children), "a service outlived the launcher"
        assert assistant.process.returncode == 0
        # The same conversation continues: no second "first reply" disclaimer.
        assert not texts(again.send(sender, "/ask_safety")).endswith(FULL_DISCLAIMER)
        assert assistant.tracker_db.is_file()
    finally:
        assert again.stop() == 0
