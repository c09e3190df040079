"""Tools for support staff: talk to the running assistant, and read conversations back.

    python -m bot.staff chat [--locale uk]          # a new conversation in the terminal
    python -m bot.staff conversations [--limit 20]  # latest conversations in the tracker store
    python -m bot.staff transcript SENDER_ID        # one conversation, turn by turn

`make chat` and `make conversations` call these with the `make run` defaults.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import urllib.error
import urllib.request

from bot.settings import PROJECT_ROOT

DEFAULT_DB = PROJECT_ROOT / "var" / "conversations.db"


def post_message(webhook: str, sender: str, text: str, locale: Optional[str]) -> List[dict]:
    body = {"sender": sender, "message": text}
    if locale:
        body["metadata"] = {"locale": locale}
    request = urllib.request.Request(webhook, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return [{"text": f"[HTTP {error.code}] {error.read().decode()}"}]


def chat(webhook: str, locale: Optional[str]) -> int:
    sender = f"staff-{uuid.uuid4()}"
    print(f"Conversation {sender} with {webhook}. Empty line or Ctrl-D to stop; "
          "send /intent to press a button.")
    for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: input("you> "), ""):
        text = line.strip()
        if not text:
            break
        try:
            messages = post_message(webhook, sender, text, locale)
        except urllib.error.URLError as error:
            print(f"The assistant is not reachable ({error.reason}); is `make run` running?")
            return 1
        for message in messages:
            print(f"bot> {message.get('text') or ''}")
            for button in message.get("buttons") or []:
                print(f"     [{button['title']}] -> {button['payload']}")
    return 0


def conversations(db: Path, limit: int) -> Iterator[Tuple[str, int, float]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        yield from connection.execute(
            "SELECT sender_id, COUNT(*) FILTER (WHERE type_name = 'user'), MAX(timestamp) "
            "FROM events GROUP BY sender_id ORDER BY MAX(timestamp) DESC LIMIT ?", (limit,))


def transcript(db: Path, sender_id: str) -> Iterator[str]:
    """The user's words, what NLU made of them (intent, risk flags) and the bot's replies."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT type_name, timestamp, data FROM events WHERE sender_id = ? ORDER BY id",
            (sender_id,))
        for kind, timestamp, data in rows:
            event = json.loads(data)
            when = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
            if kind == "user":
                parse = event.get("parse_data") or {}
                intent = parse.get("intent") or {}
                risks = [e["value"] for e in parse.get("entities", []) if e.get("entity") == "risk"]
                flags = f" risk={','.join(risks)}" if risks else ""
                yield (f"{when} user: {event.get('text')}\n"
                       f"{'':20}[{intent.get('name')} {intent.get('confidence', 0):.2f}{flags}]")
            elif kind == "bot":
                yield f"{when} bot:  {event.get('text')}"
            elif kind == "session_started":
                yield f"{when} --- new session ---"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    chat_parser = commands.add_parser("chat", help="talk to the running assistant")
    chat_parser.add_argument("--url", default="http://127.0.0.1:5005/webhooks/rest/webhook")
    chat_parser.add_argument("--locale", default=None)
    list_parser = commands.add_parser("conversations", help="latest conversations")
    list_parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    list_parser.add_argument("--limit", type=int, default=20)
    show_parser = commands.add_parser("transcript", help="one conversation")
    show_parser.add_argument("sender_id")
    show_parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    args = parser.parse_args(argv)

    if args.command == "chat":
        return chat(args.url, args.locale)
    if not args.db.is_file():
        print(f"No conversations yet at {args.db}.")
        return 1
    if args.command == "conversations":
        for sender, turns, last in conversations(args.db, args.limit):
            when = datetime.fromtimestamp(last, timezone.utc).strftime("%Y-%m-%d %H:%M")
            print(f"{when}  {turns:3d} messages  {sender}")
        return 0
    for line in transcript(args.db, args.sender_id):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
