"""Shared fixtures. `running_assistant` starts the assistant exactly as `make run` does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "models" / "kratom.tar.gz"
START_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningAssistant:
    process: subprocess.Popen
    rasa_url: str
    web_url: str
    run_dir: Path
    tracker_db: Path
    log_path: Path
    stopped_services: List[str] = field(default_factory=list)

    @property
    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def send(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None,
             timeout: float = 30) -> List[Dict[str, Any]]:
        """Posts one message the way a website would; returns the bot messages."""
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        status, reply = self.post_raw(json.dumps(body).encode(), timeout=timeout)
        assert status == 200, (status, reply)
        return json.loads(reply)

    def post_raw(self, data: bytes, timeout: float = 30,
                 content_type: str = "application/json") -> "tuple[int, str]":
        request = urllib.request.Request(
            self.webhook, data=data, headers={"Content-Type": content_type}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def service_pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def stop_service(self, name: str) -> None:
        """Stops one service (actions, rasa or web) to see what users would see."""
        pid = self.service_pid(name)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        self.stopped_services.append(name)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_ready(process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if "Assistant ready." in log_path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(f"bot.serve exited early:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    raise RuntimeError(f"bot.serve not ready in time:\n{log_path.read_text()[-4000:]}")


def start_assistant(tmp_dir: Path, extra_env: Optional[Dict[str, str]] = None) -> RunningAssistant:
    if not MODEL.is_file():
        pytest.fail(f"No trained model at {MODEL}: run `make train` first.")
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
    env = dict(os.environ)
    env.update({key: str(value) for key, value in ports.items()})
    env.update({
        "TRACKER_DB": str(tmp_dir / "conversations.db"),
        "KRATOM_RUN_DIR": str(tmp_dir / "run"),
        "PYTHONPATH": str(PROJECT_ROOT),
    })
    env.update(extra_env or {})
    log_path = tmp_dir / "serve.log"
    with log_path.open("w") as log:
        # Its own process group, like `make run` in a terminal: SIGTERM to it stops everything.
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.serve"], cwd=PROJECT_ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    _wait_ready(process, log_path)
    return RunningAssistant(
        process=process,
        rasa_url=f"http://127.0.0.1:{ports['RASA_PORT']}",
        web_url=f"http://127.0.0.1:{ports['WEB_PORT']}",
        run_dir=tmp_dir / "run",
        tracker_db=tmp_dir / "conversations.db",
        log_path=log_path,
    )


def stop_assistant(assistant: RunningAssistant) -> int:
    """SIGTERM to the supervisor; returns its exit code once every child is gone."""
    assistant.process.send_signal(signal.SIGTERM)
    return assistant.process.wait(timeout=STOP_TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def running_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAssistant]:
    """A whole assistant per test module, so a module may stop services without harming others."""
    assistant = start_assistant(tmp_path_factory.mktemp("assistant"))
    try:
        yield assistant
    finally:
        if assistant.process.poll() is None:
            stop_assistant(assistant)
