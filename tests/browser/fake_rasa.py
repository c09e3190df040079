"""A stand-in for the Rasa server's socket.io channel, for the widget's browser tests.

    python tests/browser/fake_rasa.py --port 5005

It speaks the protocol of Rasa 3.6's `SocketIOInput` with `session_persistence: true`
(rasa/core/channels/socketio.py): `session_request` -> `session_confirm` (the session id as a
string) and the socket joins that session's room; `user_uttered` {message, session_id, metadata}
-> one `bot_uttered` per paragraph (text split on blank lines), with the buttons as
`quick_replies` on the last paragraph only. Like Rasa it sets `cors_allowed_origins=[]`, so only
the websocket transport works from another origin.

The canned answers mirror domain.yml and bot/content/resources/us.yml. A few messages exist
only to test the widget: "__silent__" gets no reply, "__linkify_probe__" gets text full of
phone-number and URL look-alikes, and any message containing "<" is echoed back inside a reply
with more HTML in it.

GET /_received lists what the server received (message, session_id, metadata) as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any, Dict, List, Set

import socketio
from aiohttp import web

FULL_DISCLAIMER = (
    "Please note: I'm an automated assistant that gives general information about kratom. "
    "This is not medical advice, and I can't diagnose or treat any condition."
)
SHORT_DISCLAIMER = "General information only, not medical advice."

WHAT_IS = (
    "Kratom (Mitragyna speciosa) is a tropical tree related to coffee that grows in Southeast "
    "Asia. In the US it has no FDA-approved medical use. Products are unregulated, so their "
    "strength and purity vary."
)
WHAT_IS_BUTTONS = [
    {"title": "Effects", "payload": "/ask_effects"},
    {"title": "Is it safe?", "payload": "/ask_safety"},
    {"title": "Legal status", "payload": "/ask_legal_status"},
]
EFFECTS = (
    "People report that kratom can feel stimulating or, with larger amounts, sedating. Effects "
    "differ a lot between people and products.\n\nUnwanted effects are also reported:\n"
    "• nausea and constipation\n• sweating and itching\n• trouble sleeping"
)
SAFETY = (
    "Kratom is not proven safe. Liver injury, seizures and dependence have been reported. "
    "If you have questions about what you took, Poison Help is free and confidential: "
    "1-800-222-1222."
)
EMERGENCY = (
    "This could be a medical emergency. Call 911 now, and stay with the person if you can.\n\n"
    "• Emergency services: call 911 (24/7)\n"
    "• Poison Help: call 1-800-222-1222, https://poisonhelp.hrsa.gov (24/7)"
)
LINKIFY_PROBE = (
    "Call 911, 988 or 1-800-222-1222. UK: 999, 111, 116 123 or 0300 123 6600.\n"
    "Not numbers: 2016-07-16, 27,338 deaths, 152 of them, 988lifeline.org, 1-800-662-HELP, 1911, v9.11.\n"
    "Links: https://findtreatment.gov. and (see https://example.org/a_(b)) and "
    "http://example.org/path?q=1&r=2, but not javascript:alert(1), "
    "data:text/html,<b>x</b>, ftp://example.org/x, www.example.org or file:///etc/passwd."
)
FALLBACK = (
    "Sorry, I'm not sure I understood. You can ask what kratom is, about its effects and risks, "
    "or where to find help."
)


def answer(message: str) -> Dict[str, Any]:
    """The canned reply for a message: {"text": ..., "buttons": [...]} or {} for silence."""
    text = message.strip()
    lowered = text.lower()
    if text == "__silent__":
        return {}
    if text == "__linkify_probe__":
        return {"text": LINKIFY_PROBE}
    if "<" in text:
        return {"text": f"You wrote: {text}\n\n<b>bold?</b> <a href=\"javascript:alert(2)\">link</a>"}
    if "breathe" in lowered or "too much" in lowered:
        return {"text": EMERGENCY}
    if lowered == "/ask_what_is_kratom" or "what is kratom" in lowered:
        return {"text": WHAT_IS, "buttons": WHAT_IS_BUTTONS}
    if lowered == "/ask_effects" or "effect" in lowered:
        return {"text": EFFECTS}
    if lowered == "/ask_safety" or "safe" in lowered:
        return {"text": SAFETY}
    return {"text": FALLBACK}


def build_app() -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[])
    app = web.Application()
    sio.attach(app, socketio_path="/socket.io")
    received: List[Dict[str, Any]] = []
    greeted: Set[str] = set()

    @sio.on("session_request")
    async def session_request(sid: str, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        session_id = data.get("session_id") or sid
        sio.enter_room(sid, session_id)  # a plain call in the pinned python-socketio 5.9, as in Rasa
        await sio.emit("session_confirm", session_id, room=sid)

    @sio.on("user_uttered")
    async def user_uttered(sid: str, data: Any) -> None:
        if not isinstance(data, dict) or not data.get("session_id"):
            return  # Rasa ignores these too (with a warning)
        session_id = data["session_id"]
        received.append(
            {"message": data.get("message"), "session_id": session_id, "metadata": data.get("metadata")}
        )
        reply = answer(str(data.get("message", "")))
        if not reply:
            return
        first_reply = session_id not in greeted
        greeted.add(session_id)
        text = reply["text"] + "\n\n" + (FULL_DISCLAIMER if first_reply else SHORT_DISCLAIMER)
        parts = [{"text": part, "quick_replies": []} for part in text.strip().split("\n\n")]
        parts[-1]["quick_replies"] = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]}
            for b in reply.get("buttons", [])
        ]
        await asyncio.sleep(0.3)  # long enough for the typing indicator to show
        for part in parts:
            await sio.emit("bot_uttered", part, room=session_id)

    async def list_received(_: web.Request) -> web.Response:
        return web.json_response(received)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/_received", list_received)
    app.router.add_get("/", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5005)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(build_app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
