"""Where messages go: stdout (one JSON line each), nowhere (null), or MQTT (publish.py)."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Protocol, TextIO


class Sink(Protocol):
    #: False: the runner does not even encode messages (the null sink).
    wants_messages: bool

    def send(self, kind: str, topic: str, payload: bytes) -> None:
        """One message: its kind, topic and compact JSON payload."""

    def flush(self) -> None: ...

    def close(self) -> None: ...


class NullSink:
    """Discards everything; the runner skips encoding, so this measures the model alone."""

    wants_messages = False

    def __init__(self) -> None:
        self.sent = 0

    def send(self, kind: str, topic: str, payload: bytes) -> None:
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
        self._topics: dict[str, str] = {}

    def send(self, kind: str, topic: str, payload: bytes) -> None:
        head = self._topics.get(topic)
        if head is None:
            head = self._topics[topic] = '{"topic":' + json.dumps(topic, ensure_ascii=False)
        self.out.write(f'{head},"payload":{payload.decode()}}}\n')
        self.sent += 1

    def flush(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.out.flush()

    def close(self) -> None:
        self.flush()
