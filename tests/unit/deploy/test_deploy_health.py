"""stack.health: the container health checks, against throwaway local sockets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stack.health import check_http, check_tcp, main
from stack.services import free_port


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_tcp_open_and_closed() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert check_tcp(f"127.0.0.1:{s.getsockname()[1]}") is None
    problem = check_tcp(f"127.0.0.1:{free_port()}")
    assert problem is not None and "refused" in problem.lower()
    assert "HOST:PORT" in (check_tcp("nohostport") or "")


def test_http_healthy_unhealthy_and_down(http_port: int) -> None:
    assert check_http(f"http://127.0.0.1:{http_port}/healthz") is None
    assert "HTTP 503" in (check_http(f"http://127.0.0.1:{http_port}/other") or "")
    assert check_http(f"http://127.0.0.1:{free_port()}/healthz") is not None
    assert main(["http", f"http://127.0.0.1:{http_port}/healthz"]) == 0
    assert main(["http", f"http://127.0.0.1:{http_port}/other"]) == 1
    assert main(["bogus"]) == 2


def test_fresh_file(tmp_path: pytest.TempPathFactory) -> None:
    import os
    import time
    from pathlib import Path

    from stack.health import check_fresh

    beat = Path(str(tmp_path)) / "beat"
    assert "nothing published" in (check_fresh(str(beat), 60) or "")
    beat.write_text("{}")
    assert check_fresh(str(beat), 60) is None
    old = time.time() - 120
    os.utime(beat, (old, old))
    assert "120 s old" in (check_fresh(str(beat), 60) or "")
    assert main(["fresh", str(beat), "60"]) == 1
    assert main(["fresh", str(beat), "soon"]) == 2
