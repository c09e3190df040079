"""The widget's offline emergency numbers (web/widget/locales/*.js) and the assistant's agree.

The widget shows these numbers when it cannot reach the assistant, so they are a copy kept
next to the widget on purpose. This test keeps the copy honest: every number must also be a
phone number of the same locale in bot/content/resources/<locale>.yml, each file carries a
review date, and the numbers the brief requires are there.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCALES_DIR = REPO_ROOT / "web" / "widget" / "locales"
RESOURCES_DIR = REPO_ROOT / "bot" / "content" / "resources"
ASSIGNMENT_RE = re.compile(
    r'^\(window\.KratomChatLocales = window\.KratomChatLocales \|\| \{\}\)\["(?P<key>[a-z]{2})"\] = '
    r"(?P<body>\{.*\});\s*$",
    re.S | re.M,
)
REQUIRED = {"us": ["911", "1-800-222-1222", "988"], "uk": ["999", "111", "116 123"]}


def load_widget_locale(path: Path) -> Dict[str, Any]:
    match = ASSIGNMENT_RE.search(path.read_text(encoding="utf-8"))
    assert match, f"{path.name}: expected `(window.KratomChatLocales = ...)[\"xx\"] = {{...}};`"
    assert match.group("key") == path.stem
    return json.loads(match.group("body"))


LOCALE_FILES = sorted(LOCALES_DIR.glob("*.js"))


def test_required_locales_exist() -> None:
    assert {p.stem for p in LOCALE_FILES} >= set(REQUIRED)


@pytest.mark.parametrize("path", LOCALE_FILES, ids=lambda p: p.stem)
def test_locale_file(path: Path) -> None:
    data = load_widget_locale(path)
    assert data["locale"] == path.stem
    reviewed = dt.date.fromisoformat(data["last_reviewed"])
    assert reviewed <= dt.date.today()
    assert data["source"]
    phones = [n["phone"] for n in data["numbers"]]
    assert phones[: len(REQUIRED.get(path.stem, []))] == REQUIRED.get(path.stem, [])
    for number in data["numbers"]:
        assert set(number) == {"name", "phone", "when"}
        assert re.fullmatch(r"[0-9][0-9 -]*[0-9]", number["phone"]), number
        assert number["name"].strip() and number["when"].strip()


@pytest.mark.parametrize("path", LOCALE_FILES, ids=lambda p: p.stem)
def test_numbers_match_the_assistants_directory(path: Path) -> None:
    directory_file = RESOURCES_DIR / f"{path.stem}.yml"
    if not directory_file.exists():
        pytest.fail(f"{directory_file} is missing: the widget's numbers cannot be checked", pytrace=False)
    directory = yaml.safe_load(directory_file.read_text(encoding="utf-8"))
    assistant_phones = {s.get("phone") for s in directory["services"].values() if s.get("phone")}
    for number in load_widget_locale(path)["numbers"]:
        assert number["phone"] in assistant_phones, (
            f"{path.name}: {number['phone']} ({number['name']}) is not in {directory_file.name}"
        )
