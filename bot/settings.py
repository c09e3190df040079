"""Run-time settings read from the environment, with the embedded defaults `make run` uses."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = Path(__file__).resolve().parent / "content"
RESOURCES_DIR = CONTENT_DIR / "resources"

DEFAULT_LOCALE = "us"
# A message longer than this is refused by the REST channel with a clear error instead of
# being pushed through the classifier (the widget caps input well below it).
MAX_MESSAGE_CHARS = 5000


def configured_locale() -> str:
    """The locale whose crisis resources the assistant shows unless a message asks for another."""
    return os.environ.get("KRATOM_LOCALE", DEFAULT_LOCALE).strip().lower() or DEFAULT_LOCALE
