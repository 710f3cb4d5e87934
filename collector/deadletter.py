"""Dead letters: what could not be stored, with the reason, in a JSONL file.

One JSON object per line::

    {"time": "2026-11-27T05:00:00.123Z", "reason": "bad_json", "detail": "...",
     "topic": "acme/...", "payload": "...", "payload_encoding": "utf-8",
     "payload_size": 8, "payload_sha256": "...", "payload_truncated": false,
     "collector": "factory-collector-host-1a2b3c4d"}

`payload` holds at most the first `payload_bytes` (default 4 KiB) of the payload:
``utf-8`` text when that is valid UTF-8 (a character cut at the end is dropped), else
``base64``; `payload_size` and `payload_sha256` describe the whole payload. Records are
flushed and fsynced before the messages they describe are acknowledged. The file is
created 0600 and rotated at `max_bytes` (``file.1`` .. ``file.<keep>``, oldest dropped),
so dead letters take at most (keep + 1) x max_bytes of disk. Optionally each record is
also published (QoS 1) to an MQTT topic.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_PAYLOAD_BYTES = 4096


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    payload: bytes  # the payload, or its first bytes when `size` is given
    reason: str
    detail: str
    time_ms: int
    size: int | None = None  # size of the whole payload when `payload` is only its head
    sha256: str | None = None  # of the whole payload, when `payload` is only its head

    def record(self, collector: str,
               payload_bytes: int = DEFAULT_PAYLOAD_BYTES) -> dict[str, object]:
        head = self.payload[:payload_bytes]
        size = len(self.payload) if self.size is None else self.size
        digest = self.sha256 or hashlib.sha256(self.payload).hexdigest()
        text, encoding = _text(head, cut=len(head) < size)
        when = datetime.fromtimestamp(self.time_ms / 1000, UTC)
        return {
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "reason": self.reason,
            "detail": self.detail[:2000],
            "topic": self.topic[:1024],
            "payload": text,
            "payload_encoding": encoding,
            "payload_size": size,
            "payload_sha256": digest,
            "payload_truncated": len(head) < size,
            "collector": collector,
        }


def _text(head: bytes, cut: bool) -> tuple[str, str]:
    """(text, "utf-8") if `head` is UTF-8 (up to 3 bytes of a character cut off at the end
    of a truncated head are dropped), else (base64, "base64")."""
    for drop in range(4 if cut else 1):
        try:
            return head[:len(head) - drop].decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            continue
    return base64.b64encode(head).decode("ascii"), "base64"


def decode_payload(record: Mapping[str, Any]) -> bytes:
    """The payload bytes a dead-letter record holds (all of it unless
    `payload_truncated`), for replay tools and tests."""
    if record["payload_encoding"] == "base64":
        return base64.b64decode(str(record["payload"]))
    return str(record["payload"]).encode("utf-8")


Publisher = Callable[[str, bytes], None]


class DeadLetterLog:
    """Appends dead letters to a JSONL file (0600, rotated); counts them per reason."""

    def __init__(self, path: Path, collector: str, topic: str | None = None,
                 publish: Publisher | None = None, *,
                 payload_bytes: int = DEFAULT_PAYLOAD_BYTES, max_bytes: int = 64 << 20,
                 keep: int = 3) -> None:
        self.path = path
        self.collector = collector
        self.topic = topic
        self.payload_bytes = payload_bytes
        self.max_bytes = max_bytes
        self.keep = keep
        self._publish = publish
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = self._open()

    def _open(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # also an older file created 0644
        self._size = os.fstat(fd).st_size
        return fd

    def _rotate(self) -> None:
        os.close(self._fd)
        for n in range(self.keep, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if n == self.keep:
                older.unlink(missing_ok=True)
            else:
                newer = self.path.with_name(f"{self.path.name}.{n + 1}")
                if older.exists():
                    older.rename(newer)
        if self.keep:
            self.path.rename(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink(missing_ok=True)
        self._fd = self._open()

    def write(self, letters: Sequence[DeadLetter]) -> None:
        """Append, flush and fsync; then publish to the MQTT topic if configured."""
        if not letters:
            return
        records = [dl.record(self.collector, self.payload_bytes) for dl in letters]
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode(
            "utf-8", "backslashreplace")
        with self._lock:
            if self._size and self._size + len(data) > self.max_bytes:
                self._rotate()
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
            self._size += len(data)
            for dl in letters:
                self.counts[dl.reason] += 1
        for dl in letters:
            log.debug("dead letter %s: %s (%s)", dl.reason, dl.topic[:200], dl.detail[:200])
        if self.topic and self._publish is not None:
            for r in records:
                try:
                    self._publish(self.topic, json.dumps(r, ensure_ascii=False).encode(
                        "utf-8", "backslashreplace"))
                except Exception as exc:  # the file is the record; MQTT is a courtesy
                    log.warning("could not publish dead letter to %s: %s", self.topic, exc)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
