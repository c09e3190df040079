"""bot/web_server.py: routes, MIME types, security headers, 404s, path traversal, shutdown.

No browser: the server runs in-process on a free port (and as `python -m bot.web_server` for
the command-line and signal tests), and requests go through http.client so that paths reach
the server exactly as written (no client-side normalisation of "..").
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import pytest

from bot.web_server import WidgetServer, content_security_policy, normalise_rasa_url

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_ROOT = REPO_ROOT / "web"
RASA_URL = "http://127.0.0.1:5999"
VENDOR = WEB_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

Response = Tuple[int, Dict[str, str], bytes]


def serve(web_root: Path, rasa_url: str = RASA_URL, locale: str = "us") -> Tuple[WidgetServer, threading.Thread]:
    server = WidgetServer(("127.0.0.1", 0), web_root, rasa_url, locale)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def stop(server: WidgetServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def request(port: int, path: str, method: str = "GET") -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server, thread = serve(WEB_ROOT)
    yield server.server_address[1]
    stop(server, thread)


# ---------------------------------------------------------------------- routes and MIME types


@pytest.mark.parametrize("path", ["/", "/index.html", "/demo/", "/demo/index.html", "/?locale=us"])
def test_demo_page_with_injected_rasa_url(port: int, path: str) -> None:
    status, headers, body = request(port, path)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert '<script src="/widget/kratom-chat.js"' in page
    assert f'data-server-url="{RASA_URL}"' in page
    assert 'data-locale="us"' in page
    assert "__KRATOM_" not in page
    assert len(re.findall(r"<script\b", page)) == 1, "the demo embeds the widget with one script tag"


@pytest.mark.parametrize(
    "query, locale",
    [("?locale=uk", "uk"), ("?locale=xx", "us"), ("?locale=%22%3E%3Cscript%3E", "us"), ("?locale=", "us")],
)
def test_demo_page_locale(port: int, query: str, locale: str) -> None:
    status, _, body = request(port, "/" + query)
    assert status == 200
    assert f'data-locale="{locale}"' in body.decode()
    assert b"<script>" not in body


def test_rasa_url_is_escaped_and_validated(tmp_path: Path) -> None:
    server, thread = serve(WEB_ROOT, rasa_url='http://example.org/rasa/"><script>x</script>/')
    try:
        status, headers, body = request(server.server_address[1], "/")
    finally:
        stop(server, thread)
    page = body.decode()
    assert status == 200
    assert "<script>x</script>" not in page
    assert 'data-server-url="http://example.org/rasa/&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page
    assert "connect-src 'self' http://example.org ws://example.org" in headers["content-security-policy"]
    for bad in ("javascript:alert(1)", "ftp://example.org", "example.org:5005", "http://user:pw@example.org",
                "http://example.org:99999"):
        with pytest.raises(ValueError):
            normalise_rasa_url(bad)
    assert normalise_rasa_url("https://rasa.example.org/") == "https://rasa.example.org"


@pytest.mark.parametrize(
    "path, mime",
    [
        ("/widget/kratom-chat.js", "text/javascript; charset=utf-8"),
        ("/widget/kratom-chat.css", "text/css; charset=utf-8"),
        ("/widget/locales/us.js", "text/javascript; charset=utf-8"),
        ("/widget/locales/uk.js", "text/javascript; charset=utf-8"),
        ("/demo/demo.css", "text/css; charset=utf-8"),
    ],
)
def test_static_files(port: int, path: str, mime: str) -> None:
    status, headers, body = request(port, path)
    assert status == 200
    assert headers["content-type"] == mime
    assert int(headers["content-length"]) == len(body) > 0
    relative = path.split("/", 2)[2]
    folder = "widget" if path.startswith("/widget/") else "demo"
    assert body == (WEB_ROOT / folder / relative).read_bytes()


def test_vendor_socket_io(port: int) -> None:
    if not VENDOR.exists():
        pytest.fail(f"{VENDOR} is missing: run `npm ci --prefix web`", pytrace=False)
    status, headers, body = request(port, "/vendor/socket.io.min.js")
    assert status == 200
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert body == VENDOR.read_bytes()
    assert request(port, "/vendor/socket.io.min.js.map")[1]["content-type"] == "application/json"


def test_head_has_headers_but_no_body(port: int) -> None:
    status, headers, body = request(port, "/widget/kratom-chat.js", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == (WEB_ROOT / "widget" / "kratom-chat.js").stat().st_size


# ---------------------------------------------------------------------- headers


@pytest.mark.parametrize("path", ["/", "/widget/kratom-chat.js", "/vendor/socket.io.min.js", "/nope"])
def test_security_headers_on_every_response(port: int, path: str) -> None:
    _, headers, _ = request(port, path)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == content_security_policy(RASA_URL)
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert f"connect-src 'self' {RASA_URL} ws://127.0.0.1:5999" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["server"] == "KratomWidget"  # no Python version


def test_https_rasa_gets_wss() -> None:
    assert "connect-src 'self' https://rasa.example.org wss://rasa.example.org;" in content_security_policy(
        "https://rasa.example.org"
    )


# ---------------------------------------------------------------------- what is never served


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/widget",
        "/widget/",
        "/widget/locales/",
        "/demo/missing.html",
        "/vendor/",
        "/vendor/socket.io.js",
        "/node_modules/socket.io-client/package.json",
        "/package.json",
        "/web_server.py",
        "/favicon.ico",
    ],
)
def test_not_found(port: int, path: str) -> None:
    status, headers, body = request(port, path)
    assert status == 404
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert b"Index of" not in body and b"<a href" not in body


TRAVERSALS = [
    "/widget/../../bot/web_server.py",
    "/widget/../package.json",
    "/demo/../package.json",
    "/vendor/../package.json",
    "/widget/%2e%2e/%2e%2e/bot/web_server.py",
    "/widget/%2E%2E/package.json",
    "/widget/..%2f..%2fbot%2fweb_server.py",
    "/widget/%2e%2e%2f%2e%2e%2fbot%2fweb_server.py",
    "/widget/%252e%252e/package.json",
    "/widget/..%5c..%5cpackage.json",
    "/widget/..\\..\\package.json",
    "/widget/./kratom-chat.js",
    "/widget//etc/passwd",
    "//etc/passwd",
    "/widget/%2fetc%2fpasswd",
    "/widget/kratom-chat.js%00.png",
    "/widget/%c0%ae%c0%ae/package.json",
    "/widget/%ff",
    "/widget/locales/../../package.json",
    "/demo/.hidden",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused(port: int, path: str) -> None:
    status, _, body = request(port, path)
    assert status in (400, 404), f"{path} -> {status}"
    assert b"def main" not in body and b'"name"' not in body and b"root:" not in body


def test_symlink_out_of_the_web_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "web"
    shutil.copytree(WEB_ROOT / "demo", root / "demo")
    shutil.copytree(WEB_ROOT / "widget", root / "widget")
    secret = tmp_path / "secret.js"
    secret.write_text("top secret")
    os.symlink(secret, root / "widget" / "escape.js")
    (root / "widget" / "notes.exe").write_text("x")
    (root / "widget" / "inside.js").write_text("ok")
    server, thread = serve(root)
    try:
        port = server.server_address[1]
        assert request(port, "/widget/escape.js")[0] == 404
        assert request(port, "/widget/notes.exe")[0] == 404  # unknown types are not served
        assert request(port, "/widget/inside.js")[0] == 200
        assert request(port, "/vendor/socket.io.min.js")[0] == 404  # no node_modules here
    finally:
        stop(server, thread)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_are_refused(port: int, method: str) -> None:
    status, headers, _ = request(port, "/", method=method)
    assert status == 405
    assert headers["allow"] == "GET, HEAD"
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GARBAGE\r\n\r\n", 400),
    ],
    ids=["uri-too-long", "bad-version", "garbage"],
)
def test_malformed_requests_get_errors_with_headers(port: int, raw: bytes, status: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        reply = sock.recv(4096).decode("latin-1")
    assert re.match(rf"HTTP/1\.[01] {status} ", reply), reply[:80]
    assert "X-Content-Type-Options: nosniff" in reply
    assert "Content-Security-Policy: default-src 'none'" in reply


def test_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="locale 'fr'"):
        WidgetServer(("127.0.0.1", 0), WEB_ROOT, RASA_URL, "fr")
    root = tmp_path / "web"
    shutil.copytree(WEB_ROOT / "widget", root / "widget")
    (root / "demo").mkdir()
    (root / "demo" / "index.html").write_text("<p>no placeholders</p>")
    with pytest.raises(ValueError, match="__KRATOM_RASA_URL__"):
        WidgetServer(("127.0.0.1", 0), root, RASA_URL, "us")


# ---------------------------------------------------------------------- the command


def start_cli(*args: str) -> Tuple[subprocess.Popen, Optional[int]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.web_server", "--host", "127.0.0.1", *args],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    return process, int(match.group(1)) if match else None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_serves_and_stops_cleanly(sig: signal.Signals) -> None:
    process, port = start_cli("--port", "0", "--rasa-url", "http://127.0.0.1:6001")
    try:
        assert port, process.stderr.read() if process.stderr else ""
        status, _, body = request(port, "/")
        assert status == 200 and b'data-server-url="http://127.0.0.1:6001"' in body
        started = time.monotonic()
        process.send_signal(sig)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        with pytest.raises(OSError):
            request(port, "/")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cli_rejects_a_bad_rasa_url() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.web_server", "--port", "0", "--rasa-url", "javascript:alert(1)"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "--rasa-url must be an http:// or https:// URL" in result.stderr
