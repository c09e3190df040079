"""Starts and talks to a whole assistant (`python -m bot.serve`) from another process.

Used by the end-to-end and browser tests and by the latency benchmark, so they all exercise
the assistant exactly as `make run` starts it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "kratom.tar.gz"
START_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 30
READY_LINE = "Assistant ready."


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
    env: Dict[str, str]
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
        if status != 200:
            raise AssertionError(f"HTTP {status}: {reply}")
        return json.loads(reply)

    def post_raw(self, data: bytes, timeout: float = 30) -> Tuple[int, str]:
        request = urllib.request.Request(
            self.webhook, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def service_pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def stop_service(self, name: str) -> None:
        """Stops one service (actions, rasa or web) to see what users would then see."""
        pid = self.service_pid(name)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        self.stopped_services.append(name)

    def stop(self) -> int:
        """SIGTERM to the launcher, as Ctrl-C would; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start_assistant(work_dir: Path, extra_env: Optional[Dict[str, str]] = None) -> RunningAssistant:
    """Starts `python -m bot.serve` on free ports with its state under work_dir."""
    if not MODEL.is_file():
        raise FileNotFoundError(f"No trained model at {MODEL}: run `make train` first.")
    work_dir.mkdir(parents=True, exist_ok=True)
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
    env = dict(os.environ)
    env.update({key: str(value) for key, value in ports.items()})
    env.update({
        "TRACKER_DB": str(work_dir / "conversations.db"),
        "KRATOM_RUN_DIR": str(work_dir / "run"),
        "PYTHONPATH": str(PROJECT_ROOT),
    })
    env.pop("ACTION_SERVER_URL", None)
    env.update(extra_env or {})
    log_path = work_dir / "serve.log"
    with log_path.open("a") as log:
        # Its own process group, like `make run` in a terminal.
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.serve"], cwd=PROJECT_ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    assistant = RunningAssistant(
        process=process,
        rasa_url=f"http://127.0.0.1:{ports['RASA_PORT']}",
        web_url=f"http://127.0.0.1:{ports['WEB_PORT']}",
        run_dir=work_dir / "run",
        tracker_db=work_dir / "conversations.db",
        log_path=log_path,
        env=env,
    )
    _wait_ready(assistant)
    return assistant


def restart(assistant: RunningAssistant) -> RunningAssistant:
    """Stops the assistant and starts it again with the same settings and state."""
    assistant.stop()
    with assistant.log_path.open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.serve"], cwd=PROJECT_ROOT, env=assistant.env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    again = RunningAssistant(process, assistant.rasa_url, assistant.web_url, assistant.run_dir,
                             assistant.tracker_db, assistant.log_path, assistant.env)
    _wait_ready(again, after=assistant.log().count(READY_LINE))
    return again


def _wait_ready(assistant: RunningAssistant, after: int = 0) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if assistant.log().count(READY_LINE) > after:
            return
        if assistant.process.poll() is not None:
            raise RuntimeError(f"bot.serve exited early:\n{assistant.log()[-4000:]}")
        time.sleep(0.5)
    assistant.stop()
    raise RuntimeError(f"bot.serve was not ready in time:\n{assistant.log()[-4000:]}")
