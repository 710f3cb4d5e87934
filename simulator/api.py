"""The director's control API: a small HTTP server in a thread of the running simulator.

Off unless a port is given. Every ``/api/`` call needs ``Authorization: Bearer TOKEN``
(compared in constant time); with visitor mode on, ``GET /api/status``, ``fault`` and
``clear`` also work without it, the commands at most one every ``visitor_gap_s``.
``GET /presenter`` serves the presenter page (no secret in it: it asks for the token once
and keeps it in the browser).

- ``POST /api/fault`` ``{"machine", "code"?, "duration_min"?}`` -> 202
- ``POST /api/clear`` ``{"machine"}``, ``/api/speed`` ``{"speed": 1-60}``,
  ``/api/story`` ``{"name"}``, ``/api/reset`` -> 202
- ``GET /api/status`` -> 200 JSON; ``GET /api/labels`` -> every played story's label

Errors are one line of JSON, ``{"error": "..."}``: 401 (no or wrong token), 400 (bad
body, unknown machine, code or story, speed out of range), 404, 429 (visitors too fast),
503 (broker did not take a sharded command). A failing handler answers 500 and is logged;
it never takes the simulator down.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from simulator.director import Director

log = logging.getLogger(__name__)

MIN_TOKEN_LEN = 12
MAX_BODY = 4096
POSTS = ("fault", "clear", "speed", "story", "reset")
VISITOR_POSTS = ("fault", "clear")


class ControlApiError(Exception):
    """The API cannot start (no token, port taken): one line for the user."""


def check_token(token: str | None) -> str:
    if not token or len(token) < MIN_TOKEN_LEN or any(c.isspace() for c in token):
        raise ControlApiError(
            "the control API needs a token of at least 12 characters without spaces: "
            "--control-token or FACTORY_CONTROL_TOKEN (scripts/init-env generates one)")
    return token


def presenter_html() -> bytes:
    return resources.files("simulator").joinpath("presenter/index.html").read_bytes()


class ControlServer:
    def __init__(self, director: Director, token: str | None, *, port: int,
                 bind: str = "127.0.0.1", visitors: bool = False,
                 visitor_gap_s: float = 30.0) -> None:
        self.director = director
        self._token = check_token(token).encode()
        self.visitors = visitors
        self.visitor_gap_s = visitor_gap_s
        self._last_visitor = -1e9
        self._lock = threading.Lock()
        self._page = presenter_html()
        handler = type("Handler", (_Handler,), {"server_ref": self})
        try:
            self.httpd = ThreadingHTTPServer((bind, port), handler)
        except OSError as exc:
            raise ControlApiError(f"control API cannot listen on {bind}:{port} "
                                  f"({exc.strerror or exc})") from exc
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.bind = bind
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        name="control-api", daemon=True)

    @property
    def url(self) -> str:
        host = self.bind if self.bind not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def start(self) -> ControlServer:
        self._thread.start()
        log.info("control API on %s (presenter page: %s/presenter)", self.url, self.url)
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), self._token)

    def visitor_ok(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._last_visitor < self.visitor_gap_s:
                return False
            self._last_visitor = now
            return True


class _Handler(BaseHTTPRequestHandler):
    server_ref: ControlServer
    server_version = "factory-director"
    protocol_version = "HTTP/1.1"
    timeout = 15  # seconds a silent client may hold its connection (and thread)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, ctype: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode())

    def _error(self, status: int, reason: str) -> None:
        extra = {"WWW-Authenticate": 'Bearer realm="factory-director"'} \
            if status == HTTPStatus.UNAUTHORIZED else None
        self._send(status, json.dumps({"error": reason}).encode() + b"\n", extra=extra)

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def _guarded(self, fn: Any) -> None:
        try:
            fn()
        except Exception:
            log.exception("control API: %s %s failed", self.command, self.path)
            with contextlib.suppress(OSError):
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error (logged)")

    def _get(self) -> None:
        path = self.path.split("?", 1)[0]
        srv = self.server_ref
        if path in ("/", "/presenter", "/presenter/"):
            self._send(HTTPStatus.OK, srv._page, "text/html; charset=utf-8",
                       {"Content-Security-Policy": "default-src 'self'; "
                        "script-src 'unsafe-inline'; style-src 'unsafe-inline'",
                        "X-Frame-Options": "DENY"})
        elif path in ("/api/status", "/api/labels"):
            # Visitor mode lets the page show the machines to visitors (nothing secret).
            open_status = srv.visitors and path == "/api/status"
            if not open_status and not srv.authorised(self.headers.get("Authorization")):
                self._error(HTTPStatus.UNAUTHORIZED, "missing or wrong bearer token")
            elif path == "/api/status":
                self._json(HTTPStatus.OK, {
                    **srv.director.status(), "visitors": srv.visitors,
                    "presenter": srv.authorised(self.headers.get("Authorization"))})
            else:
                self._json(HTTPStatus.OK, srv.director.runner.stories.labels_now())
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such page {path[:80]!r}")

    def _post(self) -> None:
        path = self.path.split("?", 1)[0]
        srv = self.server_ref
        name = path.removeprefix("/api/")
        if not path.startswith("/api/") or name not in POSTS:
            self._error(HTTPStatus.NOT_FOUND, f"no such command {path[:80]!r} (POST /api/"
                        f"{'|'.join(POSTS)})")
            return
        length = self.headers.get("Content-Length", "0")
        n = int(length) if length.isdigit() else -1
        if not 0 <= n <= MAX_BODY:
            self.close_connection = True
            self._error(HTTPStatus.BAD_REQUEST, f"body must be JSON of at most {MAX_BODY} bytes")
            return
        raw = self.rfile.read(n)
        visitor = not srv.authorised(self.headers.get("Authorization"))
        if visitor and not (srv.visitors and name in VISITOR_POSTS):
            self._error(HTTPStatus.UNAUTHORIZED, "missing or wrong bearer token")
            return
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._error(HTTPStatus.BAD_REQUEST, "body is not JSON")
            return
        if not isinstance(body, dict):
            self._error(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
            return
        director = srv.director
        try:
            if visitor:
                director.check_machine(body)  # before spending the visitor's turn
                if not srv.visitor_ok():
                    self._error(HTTPStatus.TOO_MANY_REQUESTS,
                                f"visitors may act once every {srv.visitor_gap_s:g} s")
                    return
            message = getattr(director, name)(body)
        except ValueError as exc:
            self._error(HTTPStatus.BAD_REQUEST, (str(exc).splitlines() or ["bad request"])[0])
            return
        except ConnectionError as exc:
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
            return
        log.info("director: %s %s%s", name, json.dumps(body)[:200],
                 " (visitor)" if visitor else "")
        self._json(HTTPStatus.ACCEPTED, {"ok": True, "command": name, "message": message})
