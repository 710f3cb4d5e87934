"""Container health checks: ``python -m stack.health tcp HOST:PORT | http URL |
fresh FILE MAX_AGE_S``.

Used by docker-compose.yml's ``healthcheck`` for the simulator (``fresh``: its heartbeat
file, rewritten while the broker acknowledges what it publishes, is recent) and the
collector (``http``: its ``/healthz`` says ready). Exit 0 when healthy, 1 with one line on
stderr when not; no third-party imports, so a check costs a few milliseconds.
"""

from __future__ import annotations

import os
import socket
import sys
import time
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


def check_fresh(path: str, max_age_s: float) -> str | None:
    """None when ``path`` was modified within the last ``max_age_s`` seconds."""
    try:
        age_s = time.time() - os.stat(path).st_mtime
    except OSError as exc:
        return f"{path}: {exc.strerror} (nothing published and acknowledged yet)"
    if age_s > max_age_s:
        return f"{path}: {age_s:.0f} s old (nothing acknowledged for more than {max_age_s:g} s)"
    return None


USAGE = "usage: python -m stack.health tcp HOST:PORT | http URL | fresh FILE MAX_AGE_S"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["fresh"] and len(args) == 3:
        try:
            max_age_s = float(args[2])
        except ValueError:
            print(USAGE, file=sys.stderr)
            return 2
        problem = check_fresh(args[1], max_age_s)
    elif len(args) == 2 and args[0] in ("tcp", "http"):
        problem = check_tcp(args[1]) if args[0] == "tcp" else check_http(args[1])
    else:
        print(USAGE, file=sys.stderr)
        return 2
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
