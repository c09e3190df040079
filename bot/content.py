"""Loads the reviewed content that lives in YAML: the per-locale crisis resource directory."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

import yaml

from bot.settings import RESOURCES_DIR

# Order in which risk categories open a reply: the most urgent help comes first.
RISK_PRIORITY: Tuple[str, ...] = (
    "emergency",
    "self_harm",
    "mixing",
    "concentrated_7oh",
    "pregnancy",
    "minor",
    "addiction",
)

ALLOWED_URL_PREFIX = "https://"
DISCLAIMER_FULL_RESPONSE = "utter_disclaimer_full"
DISCLAIMER_SHORT_RESPONSE = "utter_disclaimer_short"


@dataclass(frozen=True)
class Service:
    key: str
    name: str
    phone: Optional[str]
    text: Optional[str]
    web: Optional[str]
    hours: Optional[str]
    purpose: str
    source: str
    last_reviewed: str


@dataclass(frozen=True)
class RiskCategory:
    key: str
    intro: str
    services: Tuple[str, ...]


@dataclass(frozen=True)
class ResourceDirectory:
    locale: str
    name: str
    services: Dict[str, Service]
    categories: Dict[str, RiskCategory]

    def category(self, key: str) -> Optional[RiskCategory]:
        return self.categories.get(key)


class ContentError(ValueError):
    """A content file is malformed; raised at load time so a bad edit never reaches users."""


def _service(key: str, raw: dict) -> Service:
    for field in ("name", "purpose", "source", "last_reviewed"):
        if not raw.get(field):
            raise ContentError(f"service {key!r} lacks {field!r}")
    if not (raw.get("phone") or raw.get("text") or raw.get("web")):
        raise ContentError(f"service {key!r} has no phone, text or web address")
    web = raw.get("web")
    if web and not str(web).startswith(ALLOWED_URL_PREFIX):
        raise ContentError(f"service {key!r} web address must use https: {web!r}")
    return Service(
        key=key,
        name=str(raw["name"]),
        phone=str(raw["phone"]) if raw.get("phone") else None,
        text=str(raw["text"]) if raw.get("text") else None,
        web=str(web) if web else None,
        hours=str(raw["hours"]) if raw.get("hours") else None,
        purpose=str(raw["purpose"]),
        source=str(raw["source"]),
        last_reviewed=str(raw["last_reviewed"]),
    )


def parse_directory(raw: dict) -> ResourceDirectory:
    services = {key: _service(key, value) for key, value in (raw.get("services") or {}).items()}
    categories = {}
    for key, value in (raw.get("categories") or {}).items():
        listed = tuple(value.get("services") or ())
        unknown = [name for name in listed if name not in services]
        if unknown or not listed:
            raise ContentError(f"category {key!r} names unknown or no services: {unknown}")
        if not value.get("intro"):
            raise ContentError(f"category {key!r} lacks an intro")
        categories[key] = RiskCategory(key=key, intro=str(value["intro"]).strip(), services=listed)
    missing = [key for key in RISK_PRIORITY if key not in categories]
    if missing:
        raise ContentError(f"locale {raw.get('locale')!r} has no resources for {missing}")
    return ResourceDirectory(
        locale=str(raw["locale"]), name=str(raw.get("name", raw["locale"])),
        services=services, categories=categories,
    )


def response_text(responses: Mapping[str, Any], name: str) -> str:
    """The text of a domain response's first variation; a missing one is a content error."""
    variations = responses.get(name) or []
    if not variations or not variations[0].get("text"):
        raise ContentError(f"domain.yml must define {name} with a text")
    return str(variations[0]["text"])


def available_locales(directory: Path = RESOURCES_DIR) -> Tuple[str, ...]:
    return tuple(sorted(path.stem for path in directory.glob("*.yml")))


@lru_cache(maxsize=None)
def load_directory(locale: str, directory: Path = RESOURCES_DIR) -> ResourceDirectory:
    path = directory / f"{locale}.yml"
    if not path.is_file():
        raise ContentError(f"no resource directory for locale {locale!r} at {path}")
    with path.open(encoding="utf-8") as handle:
        return parse_directory(yaml.safe_load(handle))
