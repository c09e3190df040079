"""`make run`: starts the action server, the Rasa server and the demo web server, in the foreground.

Ctrl-C or SIGTERM stops everything it started. Each service's PID is written under the run
directory so support staff (and the tests) can stop one service to see what users would see.
Settings come from the environment; see README "Configuration".
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import PROJECT_ROOT

READY_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Settings:
    host: str
    rasa_port: int
    action_port: int
    web_port: int
    model: Path
    tracker_db: Path
    run_dir: Path

    @classmethod
    def from_env(cls, env: Dict[str, str]) -> "Settings":
        return cls(
            host=env.get("KRATOM_HOST", "127.0.0.1"),
            rasa_port=int(env.get("RASA_PORT", "5005")),
            action_port=int(env.get("ACTION_PORT", "5055")),
            web_port=int(env.get("WEB_PORT", "8080")),
            model=Path(env.get("KRATOM_MODEL", PROJECT_ROOT / "models" / "kratom.tar.gz")),
            tracker_db=Path(env.get("TRACKER_DB", PROJECT_ROOT / "var" / "conversations.db")),
            run_dir=Path(env.get("KRATOM_RUN_DIR", PROJECT_ROOT / "var" / "run")),
        )

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"


@dataclass(frozen=True)
class Service:
    name: str
    command: List[str]
    ready_url: str


def services(settings: Settings) -> List[Service]:
    python = sys.executable
    return [
        Service(
            "actions",
            [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.action_port)],
            f"{settings.action_url}/health",
        ),
        Service(
            "rasa",
            [
                python, "-m", "rasa", "run",
                "--model", str(settings.model),
                "--endpoints", "endpoints.yml",
                "--credentials", "credentials.yml",
                "--interface", settings.host,
                "--port", str(settings.rasa_port),
                "--cors", os.environ.get("RASA_CORS", settings.web_url),
            ],
            f"{settings.rasa_url}/webhooks/rest/",
        ),
        Service(
            "web",
            [
                python, "-m", "bot.web_server",
                "--host", settings.host, "--port", str(settings.web_port),
                "--rasa-url", os.environ.get("RASA_PUBLIC_URL", settings.rasa_url),
            ],
            f"{settings.web_url}/",
        ),
    ]


def child_environment(settings: Settings) -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ACTION_SERVER_URL", f"{settings.action_url}/webhook")
    env["TRACKER_DB"] = str(settings.tracker_db)
    env["SANIC_HOST"] = settings.host  # the action server binds here instead of 0.0.0.0
    # No telemetry or error reports leave the machine: conversations may be about crises.
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: Dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self) -> None:
        if not self.settings.model.is_file():
            sys.exit(f"No trained model at {self.settings.model}: run `make run` (it trains first).")
        self.settings.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        env = child_environment(self.settings)
        for service in services(self.settings):
            process = subprocess.Popen(service.command, cwd=PROJECT_ROOT, env=env)
            self.processes[service.name] = process
            (self.settings.run_dir / f"{service.name}.pid").write_text(str(process.pid))
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        pending = {service.name: service.ready_url for service in services(self.settings)}
        while pending:
            for name, url in list(pending.items()):
                if self.processes[name].poll() is not None:
                    self.stop()
                    sys.exit(f"The {name} service exited during start-up; see its log above.")
                if is_ready(url):
                    del pending[name]
            if time.monotonic() > deadline:
                self.stop()
                sys.exit(f"Timed out waiting for: {', '.join(pending)}")
            time.sleep(0.5)
        s = self.settings
        print(
            f"\nAssistant ready.\n"
            f"  REST channel: POST {s.rasa_url}/webhooks/rest/webhook\n"
            f"  socket.io:    {s.rasa_url}/socket.io\n"
            f"  demo page:    {s.web_url}/\n"
            f"  conversations: {s.tracker_db}\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )

    def supervise(self) -> int:
        """Waits; the assistant is down when the Rasa server is, so that ends the run."""
        while not self.stopping:
            for name, process in self.processes.items():
                code = process.poll()
                if code is not None and name == "rasa":
                    print(f"The Rasa server exited with code {code}; stopping.", flush=True)
                    self.stop()
                    return 1
            time.sleep(0.5)
        return 0

    def stop(self, *_: object) -> None:
        self.stopping = True
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for name in self.processes:
            (self.settings.run_dir / f"{name}.pid").unlink(missing_ok=True)


def main(argv: Optional[List[str]] = None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    supervisor = Supervisor(Settings.from_env(dict(os.environ)))
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    supervisor.start()
    code = supervisor.supervise()
    supervisor.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
