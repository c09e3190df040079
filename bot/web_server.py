"""Static web server for the chat widget and its demo page (standard library only).

    python -m bot.web_server --host 127.0.0.1 --port 8080 --rasa-url http://127.0.0.1:5005

Serves, from web/:

- ``/`` and ``/demo/`` (``/demo/index.html``): the demo page, with the Rasa server URL and the
  locale injected into the widget's script tag (placeholders ``__KRATOM_RASA_URL__`` and
  ``__KRATOM_LOCALE__``; ``?locale=uk`` picks another locale that has an emergency-numbers file);
- ``/demo/*`` and ``/widget/*``: the demo's and the widget's files;
- ``/vendor/socket.io.min.js`` (and its source map): socket.io-client's own build from
  ``web/node_modules`` (``npm ci --prefix web``).

Anything else is a 404: no directory listings, no dot-files, no path outside those folders.
Every response carries a Content-Security-Policy that allows scripts, styles and connections
only from this server and the Rasa server, plus ``X-Content-Type-Options: nosniff``.
SIGTERM and SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import html
import logging
import re
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

from bot.settings import PROJECT_ROOT, configured_locale

logger = logging.getLogger("bot.web_server")

DEFAULT_WEB_ROOT = PROJECT_ROOT / "web"
RASA_URL_PLACEHOLDER = "__KRATOM_RASA_URL__"
LOCALE_PLACEHOLDER = "__KRATOM_LOCALE__"
DEMO_INDEX_PATHS = {"/", "/index.html", "/demo", "/demo/", "/demo/index.html"}
VENDOR_FILES = {
    "/vendor/socket.io.min.js": "node_modules/socket.io-client/dist/socket.io.min.js",
    "/vendor/socket.io.min.js.map": "node_modules/socket.io-client/dist/socket.io.min.js.map",
}
STATIC_DIRS = {"/demo/": "demo", "/widget/": "widget"}
MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
LOCALE_RE = re.compile(r"^[a-z]{2}$")


def normalise_rasa_url(value: str) -> str:
    """An http(s) origin, optionally with a path prefix, without a trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--rasa-url must be an http:// or https:// URL, got {value!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"--rasa-url must not have credentials, a query or a fragment: {value!r}")
    parts.port  # raises ValueError for a bad port
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def content_security_policy(rasa_url: str) -> str:
    """Same-origin everything, plus http(s) and ws(s) connections to the Rasa server."""
    parts = urlsplit(rasa_url)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    connect = f"'self' {parts.scheme}://{parts.netloc} {ws_scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


class WidgetServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: Tuple[str, int], web_root: Path, rasa_url: str, default_locale: str
    ) -> None:
        super().__init__(address, WidgetRequestHandler)
        self.web_root = web_root.resolve()
        self.rasa_url = normalise_rasa_url(rasa_url)
        self.csp = content_security_policy(self.rasa_url)
        self.locales = available_locales(self.web_root)
        if default_locale not in self.locales:
            raise ValueError(
                f"locale {default_locale!r} has no web/widget/locales/{default_locale}.js "
                f"(have: {', '.join(sorted(self.locales)) or 'none'})"
            )
        self.default_locale = default_locale
        template = (self.web_root / "demo" / "index.html").read_text(encoding="utf-8")
        for placeholder in (RASA_URL_PLACEHOLDER, LOCALE_PLACEHOLDER):
            if template.count(placeholder) != 1:
                raise ValueError(f"web/demo/index.html must contain {placeholder} exactly once")


def available_locales(web_root: Path) -> List[str]:
    folder = web_root / "widget" / "locales"
    return sorted(p.stem for p in folder.glob("*.js") if LOCALE_RE.match(p.stem))


class WidgetRequestHandler(BaseHTTPRequestHandler):
    server: WidgetServer
    server_version = "KratomWidget"
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return self.server_version

    # ------------------------------------------------------------------ routing

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _method_not_allowed(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"Method not allowed\n", "text/plain; charset=utf-8",
                   send_body=True, extra={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    def _serve(self, send_body: bool) -> None:
        split = urlsplit(self.path)
        path = split.path
        if path in DEMO_INDEX_PATHS:
            body = self._demo_page(parse_qs(split.query).get("locale", [""])[0])
            self._send(HTTPStatus.OK, body, MIME_TYPES[".html"], send_body)
            return
        target = self._resolve(path)
        if target is None:
            self._send(HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8", send_body)
            return
        try:
            body = target.read_bytes()
        except OSError:
            self._send(HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8", send_body)
            return
        self._send(HTTPStatus.OK, body, MIME_TYPES[target.suffix], send_body)

    def _resolve(self, url_path: str) -> Optional[Path]:
        """The file a URL path names, or None when it is not one we serve."""
        try:
            path = unquote(url_path, errors="strict")
        except UnicodeDecodeError:
            return None
        if "\x00" in path or "\\" in path or "//" in path:
            return None
        if path in VENDOR_FILES:
            candidate = self.server.web_root / VENDOR_FILES[path]
            return candidate if candidate.is_file() else None
        for prefix, folder in STATIC_DIRS.items():
            if not path.startswith(prefix):
                continue
            relative = path[len(prefix):]
            segments = relative.split("/")
            if not relative or any(not s or s.startswith(".") for s in segments):
                return None  # directories, "..", dot-files
            base = (self.server.web_root / folder).resolve()
            candidate = (base / relative).resolve()
            if not candidate.is_relative_to(base) or not candidate.is_file():
                return None
            if candidate.suffix not in MIME_TYPES:
                return None
            return candidate
        return None

    def _demo_page(self, requested_locale: str) -> bytes:
        locale = requested_locale if requested_locale in self.server.locales else self.server.default_locale
        template = (self.server.web_root / "demo" / "index.html").read_text(encoding="utf-8")
        page = template.replace(RASA_URL_PLACEHOLDER, html.escape(self.server.rasa_url, quote=True))
        page = page.replace(LOCALE_PLACEHOLDER, html.escape(locale, quote=True))
        return page.encode("utf-8")

    # ------------------------------------------------------------------ responses

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        send_body: bool,
        extra: Optional[Dict[str, str]] = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", self.server.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", "no-cache")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Malformed requests (bad request line, too-long URL) get the same headers as the rest."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # not parsed yet: answer as HTTP/1.0, with headers
            self.request_version = "HTTP/1.0"
        try:
            text = f"{code} {message or HTTPStatus(code).phrase}\n".encode("utf-8", "replace")
            self._send(HTTPStatus(code), text, "text/plain; charset=utf-8", send_body=self.command != "HEAD")
        except Exception:  # the socket may already be gone; nothing more to do
            logger.debug("could not send error %s", code, exc_info=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        logger.info("%s %s", self.address_string(), format % args)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005",
                        help="Rasa server URL the widget connects to (put into the demo page)")
    parser.add_argument("--locale", default=None,
                        help="demo page locale (default: KRATOM_LOCALE or us)")
    parser.add_argument("--web-root", type=Path, default=DEFAULT_WEB_ROOT, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    try:
        server = WidgetServer((args.host, args.port), args.web_root, args.rasa_url,
                              args.locale or configured_locale())
    except (OSError, ValueError) as error:
        print(f"web_server: {error}", file=sys.stderr)
        return 2
    vendor = server.web_root / VENDOR_FILES["/vendor/socket.io.min.js"]
    if not vendor.is_file():
        logger.warning("%s is missing: run `npm ci --prefix web`; the widget cannot connect without it", vendor)

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        logger.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    thread = threading.Thread(target=server.serve_forever, name="web-server", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    print(f"Widget demo on http://{host}:{port}/ (Rasa at {server.rasa_url})", flush=True)
    while not stop.wait(0.5):
        if not thread.is_alive():
            logger.error("server thread stopped unexpectedly")
            return 1
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
