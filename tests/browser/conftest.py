"""Fixtures for the widget's browser tests: Chromium, the web server, and an assistant.

The assistant is either a fake socket.io server (tests/browser/fake_rasa.py, the default) or
the real one from the `running_assistant` fixture in tests/conftest.py, which starts
`python -m bot.serve`. Switch with the environment variable

    WIDGET_TEST_ASSISTANT=real pytest tests/browser

Both expose `.rasa_url`, `.web_url` and `.stop_service("rasa")`; `.is_fake` tells the tests
which assertions depend on the fake's canned answers.

Chromium is the caller's job (`apt-get install -y chromium`): without it these tests fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ASSISTANT_MODE = os.environ.get("WIDGET_TEST_ASSISTANT", "fake").strip().lower()

if str(REPO_ROOT) not in sys.path:  # `import bot...` also under a bare `pytest`
    sys.path.insert(0, str(REPO_ROOT))

from bot.assistant_process import free_port  # noqa: E402


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stop_process(process: Optional[subprocess.Popen]) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class WebServer:
    """`python -m bot.web_server` on a free port, as bot.serve starts it."""

    def __init__(self, rasa_url: str, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = (log_dir / f"web_server_{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.web_server", "--host", "127.0.0.1",
             "--port", str(self.port), "--rasa-url", rasa_url],
            cwd=REPO_ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_for_http(self.url, self.process)

    def close(self) -> None:
        stop_process(self.process)
        self.log.close()


class FakeAssistant:
    """fake_rasa.py plus the real web server, shaped like `running_assistant`."""

    is_fake = True

    def __init__(self, log_dir: Path) -> None:
        self.rasa_port = free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.rasa_log = (log_dir / f"fake_rasa_{self.rasa_port}.log").open("w")
        self.rasa: Optional[subprocess.Popen] = None
        try:
            self.start_rasa()
            self.web = WebServer(self.rasa_url, log_dir)
        except Exception:
            self.close()
            raise
        self.web_url = self.web.url

    def start_rasa(self) -> None:
        """(Re)starts the fake on the same port; it forgets what it had received."""
        self.rasa = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("fake_rasa.py")), "--port", str(self.rasa_port)],
            cwd=REPO_ROOT, stdout=self.rasa_log, stderr=subprocess.STDOUT,
        )
        wait_for_http(self.rasa_url + "/", self.rasa)

    def stop_service(self, name: str) -> None:
        assert name == "rasa", f"the fake assistant has no service {name!r}"
        stop_process(self.rasa)

    def received(self) -> List[Dict[str, Any]]:
        with urllib.request.urlopen(self.rasa_url + "/_received", timeout=5) as response:
            return json.loads(response.read())

    def close(self) -> None:
        stop_process(self.rasa)
        self.rasa_log.close()
        if hasattr(self, "web"):
            self.web.close()


class RealAssistant:
    """`running_assistant` (tests/conftest.py: `python -m bot.serve`), seen through the same shape."""

    is_fake = False

    def __init__(self, running: Any) -> None:
        self.running = running
        self.rasa_url = running.rasa_url
        self.web_url = running.web_url

    def stop_service(self, name: str) -> None:
        self.running.stop_service(name)


@pytest.fixture
def assistant(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The assistant the widget talks to: fake by default, real with WIDGET_TEST_ASSISTANT=real."""
    if ASSISTANT_MODE == "real":
        yield RealAssistant(request.getfixturevalue("running_assistant"))
        return
    if ASSISTANT_MODE != "fake":
        pytest.fail(f"WIDGET_TEST_ASSISTANT must be 'fake' or 'real', not {ASSISTANT_MODE!r}", pytrace=False)
    fake = FakeAssistant(tmp_path)
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def unreachable_site(tmp_path: Path) -> Iterator[WebServer]:
    """The web server pointing the widget at a Rasa URL where nothing listens."""
    server = WebServer(f"http://127.0.0.1:{free_port()}", tmp_path)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests need Debian's chromium: "
            "run `apt-get update && apt-get install -y chromium` (or set CHROMIUM_PATH).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Opens pages in fresh browser contexts (empty sessionStorage); closes them afterwards.

    Each page records uncaught script errors in `page.script_errors` and dialogs (which must
    never happen: an XSS payload would open one) in `page.dialogs`.
    """
    contexts = []

    def open_page(width: int = 1280, height: int = 800) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.script_errors = []
        page.dialogs = []
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))

        def on_dialog(dialog: Any) -> None:
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
