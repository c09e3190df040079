"""The REST channel websites and test tools talk to, hardened against bad input.

It replaces Rasa's `rest` channel at the same address (`/webhooks/rest/webhook`): malformed
requests get a clear HTTP error instead of a crash or a shared "default" conversation, and a
message that produced no reply (an exception, a timeout) still gets a designed answer with
the emergency numbers, never an empty list.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

import yaml
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage

from bot.content import load_directory, response_text
from bot.safety import Disclaimers, ReplyContext, ResponseTraits, guard_text
from bot.settings import MAX_MESSAGE_CHARS, PROJECT_ROOT, configured_locale

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
# Longer than any normal turn; past it the person gets the safety-net reply, not silence.
REPLY_TIMEOUT_SECONDS = 20.0
SAFETY_NET_RESOURCES = ("emergency", "self_harm")


class RequestError(ValueError):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def parse_request(body: Any) -> Tuple[str, str, Optional[Dict[str, Any]]]:
    """Validates a decoded JSON body; returns sender, message text and metadata."""
    if not isinstance(body, dict):
        raise RequestError(400, "invalid_body", 'Send a JSON object: {"sender": "...", "message": "..."}.')
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip():
        raise RequestError(400, "missing_sender", "A non-empty string 'sender' is required.")
    if len(sender) > MAX_SENDER_CHARS:
        raise RequestError(400, "invalid_sender", f"'sender' must be at most {MAX_SENDER_CHARS} characters.")
    if not isinstance(message, str):
        raise RequestError(400, "missing_message", "A string 'message' is required.")
    if not message.strip():
        raise RequestError(400, "empty_message", "The message is empty; type a question.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise RequestError(
            413, "message_too_long",
            f"The message has {len(message)} characters; send at most {MAX_MESSAGE_CHARS}.",
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise RequestError(400, "invalid_metadata", "'metadata' must be a JSON object.")
    return sender.strip(), message, metadata


class SafetyNet:
    """The reply sent when the assistant produced nothing for a message."""

    def __init__(self) -> None:
        with (PROJECT_ROOT / "domain.yml").open(encoding="utf-8") as handle:
            responses = yaml.safe_load(handle)["responses"]
        self.trouble = response_text(responses, "utter_technical_trouble")
        self.disclaimers = Disclaimers.from_responses(responses)
        self.locale = configured_locale()
        load_directory(self.locale)

    def reply(self, recipient_id: str) -> List[Dict[str, Any]]:
        text = guard_text(
            self.trouble,
            ResponseTraits(offer_resources=SAFETY_NET_RESOURCES),
            ReplyContext(locale=self.locale),
            load_directory(self.locale),
            self.disclaimers,
        )
        return [{"recipient_id": recipient_id, "text": text}]


def error_response(error: RequestError) -> HTTPResponse:
    return response.json({"error": error.code, "detail": error.detail}, status=error.status)


class GuardedRestInput(InputChannel):
    """`POST /webhooks/rest/webhook` with `{"sender", "message", "metadata"?}`."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(self) -> None:
        self.safety_net = SafetyNet()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("guarded_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # Sanic raises its own InvalidUsage for undecodable JSON
                return error_response(RequestError(400, "invalid_json", "The body is not valid JSON."))
            try:
                sender, text, metadata = parse_request(body)
            except RequestError as error:
                return error_response(error)

            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            try:
                await asyncio.wait_for(on_new_message(message), timeout=REPLY_TIMEOUT_SECONDS)
            except Exception:
                logger.error("Handling a REST message failed; sending the safety net.", exc_info=True)
            messages = collector.messages or self.safety_net.reply(sender)
            return response.json(messages)

        return webhook
