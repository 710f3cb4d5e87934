"""Where messages go: stdout (one JSON line each), nowhere (null), or MQTT (publish.py)."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any, Protocol, TextIO


class Sink(Protocol):
    #: False: the runner does not even encode messages (the null sink).
    wants_messages: bool

    def send(self, kind: str, topic: str, payload: dict[str, Any]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class NullSink:
    """Discards everything; the runner skips encoding, so this measures the model alone."""

    wants_messages = False

    def __init__(self) -> None:
        self.sent = 0

    def send(self, kind: str, topic: str, payload: dict[str, Any]) -> None:
        self.sent += 1

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class StdoutSink:
    """``{"topic": ..., "payload": {...}}`` per line; byte-identical for the same run."""

    wants_messages = True

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.sent = 0
        self._dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def send(self, kind: str, topic: str, payload: dict[str, Any]) -> None:
        self.out.write(self._dumps({"topic": topic, "payload": payload}))
        self.out.write("\n")
        self.sent += 1

    def flush(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.out.flush()

    def close(self) -> None:
        self.flush()
