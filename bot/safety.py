"""The one place where every reply is made safe before it reaches a person.

Every bot message rendered from a response passes through `guard_text` (called by
`bot.nlg.GuardedResponseGenerator`, and by the REST channel's safety net when the pipeline
produced nothing). It:

1. opens the reply with the crisis resources for each risk category flagged on the user's
   latest message, most urgent first, whatever the intent or its confidence;
2. keeps the response's own text;
3. lists the resources a response offers by design (help, dependence, withdrawal answers);
4. closes with the full disclaimer on the first reply of a conversation, else the short one
   on every response that is not pure conversation.

Pure Python: no Rasa imports, so it is tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping, Optional, Set, Tuple

from bot.content import (
    DISCLAIMER_FULL_RESPONSE, DISCLAIMER_SHORT_RESPONSE, RISK_PRIORITY, ResourceDirectory,
    Service, response_text,
)

BULLET = "•"


@dataclass(frozen=True)
class ReplyContext:
    """What the guard needs to know about the conversation at the moment a message is sent."""

    locale: str
    risk_categories: Tuple[str, ...] = ()
    opens_reply: bool = True
    opens_conversation: bool = False


@dataclass(frozen=True)
class ResponseTraits:
    """Safety-relevant traits a response declares in its `metadata` in domain.yml."""

    conversational: bool = False
    offer_resources: Tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_metadata(cls, metadata: Optional[Mapping[str, Any]]) -> "ResponseTraits":
        metadata = metadata or {}
        return cls(
            conversational=bool(metadata.get("conversational", False)),
            offer_resources=tuple(metadata.get("offer_resources") or ()),
        )


@dataclass(frozen=True)
class Disclaimers:
    full: str
    short: str

    @classmethod
    def from_responses(cls, responses: Mapping[str, Any]) -> "Disclaimers":
        """Both disclaimer texts, which reviewers edit in domain.yml like any response."""
        return cls(full=response_text(responses, DISCLAIMER_FULL_RESPONSE),
                   short=response_text(responses, DISCLAIMER_SHORT_RESPONSE))


def order_by_urgency(categories: Iterable[str]) -> Tuple[str, ...]:
    """Known categories in priority order, each once; unknown ones are dropped."""
    present = set(categories)
    return tuple(category for category in RISK_PRIORITY if category in present)


def render_service(service: Service) -> str:
    ways = []
    if service.phone:
        ways.append(f"call {service.phone}")
    if service.text:
        ways.append(service.text[0].lower() + service.text[1:])
    if service.web:
        ways.append(service.web)
    line = f"{BULLET} {service.name}: {', '.join(ways)}"
    if service.hours:
        line += f" ({service.hours})"
    return line


def _service_lines(
    directory: ResourceDirectory, categories: Iterable[str], already_listed: Set[str]
) -> List[str]:
    lines = []
    for category in order_by_urgency(categories):
        for key in directory.categories[category].services:
            if key not in already_listed:
                already_listed.add(key)
                lines.append(render_service(directory.services[key]))
    return lines


def render_risk_block(
    directory: ResourceDirectory, categories: Iterable[str], already_listed: Set[str]
) -> str:
    """Each flagged category's intro with its services, most urgent first, no service twice."""
    paragraphs = []
    for category in order_by_urgency(categories):
        lines = [directory.categories[category].intro]
        lines += _service_lines(directory, [category], already_listed)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def guard_text(
    text: Optional[str],
    traits: ResponseTraits,
    context: ReplyContext,
    directory: ResourceDirectory,
    disclaimers: Disclaimers,
) -> str:
    """The text a person receives for one bot message."""
    listed: Set[str] = set()
    parts: List[str] = []
    if context.opens_reply and context.risk_categories:
        parts.append(render_risk_block(directory, context.risk_categories, listed))
    if text:
        parts.append(text.strip())
    offered = _service_lines(directory, traits.offer_resources, listed)
    if offered:
        parts.append("\n".join(offered))
    if context.opens_conversation:
        parts.append(disclaimers.full.strip())
    elif not traits.conversational:
        parts.append(disclaimers.short.strip())
    return "\n\n".join(part for part in parts if part)
