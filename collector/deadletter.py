"""Dead letters: what could not be stored, with the reason, in a JSONL file.

One JSON object per line::

    {"time": "2026-11-27T05:00:00.123Z", "reason": "bad_json", "detail": "...",
     "topic": "acme/...", "payload": "...", "payload_encoding": "utf-8",
     "collector": "factory-collector-host-1a2b3c4d"}

`payload_encoding` is ``utf-8`` when the raw payload is valid UTF-8 (stored as is) and
``base64`` otherwise. Records are flushed and fsynced before the messages they describe
are acknowledged. Optionally each record is also published (QoS 1) to an MQTT topic.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    payload: bytes
    reason: str
    detail: str
    time_ms: int

    def record(self, collector: str) -> dict[str, str]:
        try:
            text, encoding = self.payload.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(self.payload).decode("ascii"), "base64"
        when = datetime.fromtimestamp(self.time_ms / 1000, UTC)
        return {
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "reason": self.reason,
            "detail": self.detail,
            "topic": self.topic,
            "payload": text,
            "payload_encoding": encoding,
            "collector": collector,
        }


def decode_payload(record: dict[str, str]) -> bytes:
    """The raw payload of a dead-letter record (for replay tools and tests)."""
    if record["payload_encoding"] == "base64":
        return base64.b64decode(record["payload"])
    return record["payload"].encode("utf-8")


Publisher = Callable[[str, bytes], None]


class DeadLetterLog:
    """Appends dead letters to a JSONL file; counts them per reason."""

    def __init__(self, path: Path, collector: str, topic: str | None = None,
                 publish: Publisher | None = None) -> None:
        self.path = path
        self.collector = collector
        self.topic = topic
        self._publish = publish
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8", errors="backslashreplace")

    def write(self, letters: Sequence[DeadLetter]) -> None:
        """Append, flush and fsync; then publish to the MQTT topic if configured."""
        if not letters:
            return
        records = [dl.record(self.collector) for dl in letters]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        with self._lock:
            self._file.write(text)
            self._file.flush()
            os.fsync(self._file.fileno())
            for dl in letters:
                self.counts[dl.reason] += 1
        for dl in letters:
            log.debug("dead letter %s: %s (%s)", dl.reason, dl.topic, dl.detail)
        if self.topic and self._publish is not None:
            for r in records:
                try:
                    self._publish(self.topic, json.dumps(r, ensure_ascii=False).encode())
                except Exception as exc:  # the file is the record; MQTT is a courtesy
                    log.warning("could not publish dead letter to %s: %s", self.topic, exc)

    def close(self) -> None:
        with self._lock:
            self._file.close()
