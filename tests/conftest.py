"""Shared fixtures. `running_assistant` starts the assistant exactly as `make run` does."""

from typing import Iterator

import pytest

from bot.assistant_process import RunningAssistant, start_assistant


@pytest.fixture(scope="module")
def running_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAssistant]:
    """A whole assistant per test module, so a module may stop services without harming others."""
    try:
        assistant = start_assistant(tmp_path_factory.mktemp("assistant"))
    except (FileNotFoundError, RuntimeError) as error:
        pytest.fail(str(error))
    try:
        yield assistant
    finally:
        assistant.stop()
