"""Container health checks: ``python -m stack.health tcp HOST:PORT | http URL``.

Used by docker-compose.yml's ``healthcheck`` for the simulator (its broker answers) and
the collector (its ``/healthz`` says ready). Exit 0 when healthy, 1 with one line on
stderr when not; no third-party imports, so a check costs a few milliseconds.
"""

from __future__ import annotations

import socket
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def check_tcp(target: str, timeout_s: float = 3.0) -> str | None:
    """None when ``host:port`` accepts a connection, else why not."""
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return f"tcp target {target!r}: use HOST:PORT"
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            return None
    except OSError as exc:
        return f"{target}: {exc.strerror or exc}"


def check_http(url: str, timeout_s: float = 3.0) -> str | None:
    """None when ``url`` answers 2xx, else why not."""
    if urlsplit(url).scheme not in ("http", "https"):
        return f"http target {url!r}: use http(s)://..."
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            status = int(resp.status)
    except urllib.error.HTTPError as exc:
        return f"{url}: HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url}: {getattr(exc, 'reason', exc)}"
    return None if 200 <= status < 300 else f"{url}: HTTP {status}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("tcp", "http"):
        print("usage: python -m stack.health tcp HOST:PORT | http URL", file=sys.stderr)
        return 2
    problem = check_tcp(args[1]) if args[0] == "tcp" else check_http(args[1])
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
