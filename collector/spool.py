"""The durable on-disk spool: SQLite in WAL mode, one row per mapped message.

Intake appends (and only then acks the broker); the writer reads the oldest rows,
writes them to InfluxDB and deletes them. A row holds the line protocol (mapped once, with
its timestamp resolved, so a replay writes the identical point) plus the original topic
and payload for dead-lettering a line InfluxDB rejects.

The spool is bounded by bytes: :meth:`Spool.full` tells intake to stop taking messages.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    added_ms INTEGER NOT NULL,
    size INTEGER NOT NULL
)
"""

SyncMode = Literal["full", "normal"]


class SpoolError(RuntimeError):
    """The spool file cannot be opened or written."""


class Entry(NamedTuple):  # one per message on the hot path: a NamedTuple is cheapest
    line: str
    topic: str
    payload: bytes


class Row(NamedTuple):  # thousands per batch: a NamedTuple is cheapest
    id: int
    line: str


@dataclass(frozen=True)
class SpoolStats:
    depth: int
    bytes: int
    oldest_age_s: float


class Spool:
    """Thread-safe: intake and writer each use their own SQLite connection."""

    FILENAME = "spool.sqlite3"

    def __init__(self, directory: Path, max_bytes: int, sync: SyncMode = "full") -> None:
        self.path = directory / self.FILENAME
        self.max_bytes = max_bytes
        self._sync = sync
        try:
            directory.mkdir(parents=True, exist_ok=True)
            init = self._connect()
            init.execute(_SCHEMA)
            row = init.execute(
                "SELECT count(*), coalesce(sum(size), 0), min(added_ms) FROM spool").fetchone()
            init.close()
        except (OSError, sqlite3.Error) as exc:
            raise SpoolError(f"spool {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._depth = int(row[0])
        self._bytes = int(row[1])
        self._oldest_ms: int | None = row[2]
        self._local = threading.local()
        self._has_data = threading.Condition(self._lock)
        self._wanted = 1  # depth the writer waits for: append wakes it only then

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._sync.upper()}")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    # -- intake side ----------------------------------------------------------------
    def full(self) -> bool:
        with self._lock:
            return self._bytes >= self.max_bytes

    def append(self, entries: Sequence[Entry]) -> None:
        """Durably append entries (one transaction); returns once committed."""
        if not entries:
            return
        now_ms = int(time.time() * 1000)
        rows = [(e.line, e.topic, e.payload, now_ms, len(e.line) + len(e.payload) +
                 len(e.topic)) for e in entries]
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO spool (line, topic, payload, added_ms, size) VALUES (?,?,?,?,?)",
                rows)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise SpoolError(f"spool {self.path}: append failed: {exc}") from exc
        with self._has_data:
            self._depth += len(rows)
            self._bytes += sum(r[4] for r in rows)
            if self._oldest_ms is None:
                self._oldest_ms = now_ms
            if self._depth >= self._wanted:
                self._has_data.notify_all()

    # -- writer side ----------------------------------------------------------------
    def wait(self, min_rows: int, timeout_s: float) -> int:
        """Wait until at least `min_rows` rows are spooled or the timeout; return depth."""
        with self._has_data:
            self._wanted = min_rows
            self._has_data.wait_for(lambda: self._depth >= min_rows, timeout=timeout_s)
            self._wanted = 1
            return self._depth

    def wake(self) -> None:
        with self._has_data:
            self._has_data.notify_all()

    def oldest(self, limit: int) -> list[Row]:
        cur = self._conn().execute("SELECT id, line FROM spool ORDER BY id LIMIT ?", (limit,))
        return [Row._make(r) for r in cur.fetchall()]

    def entry(self, row_id: int) -> Entry | None:
        r = self._conn().execute("SELECT line, topic, payload FROM spool WHERE id = ?",
                                 (row_id,)).fetchone()
        return Entry(r[0], r[1], bytes(r[2])) if r else None

    def delete(self, ids: Sequence[int]) -> None:
        """Remove written (or dead-lettered) rows; ids are a contiguous oldest-first run or
        any set."""
        if not ids:
            return
        conn = self._conn()
        try:
            freed, oldest = self._delete(conn, ids)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise SpoolError(f"spool {self.path}: delete failed: {exc}") from exc
        with self._lock:
            self._depth -= int(freed[0])
            self._bytes -= int(freed[1])
            self._oldest_ms = int(oldest[0]) if oldest else None

    @staticmethod
    def _delete(conn: sqlite3.Connection, ids: Sequence[int]) -> tuple[Any, Any]:
        lo, hi = min(ids), max(ids)
        conn.execute("BEGIN IMMEDIATE")
        if hi - lo + 1 == len(ids):
            freed = conn.execute("SELECT count(*), coalesce(sum(size), 0) FROM spool "
                                 "WHERE id BETWEEN ? AND ?", (lo, hi)).fetchone()
            conn.execute("DELETE FROM spool WHERE id BETWEEN ? AND ?", (lo, hi))
        else:
            marks = ",".join("?" * len(ids))
            freed = conn.execute(f"SELECT count(*), coalesce(sum(size), 0) FROM spool "
                                 f"WHERE id IN ({marks})", list(ids)).fetchone()
            conn.execute(f"DELETE FROM spool WHERE id IN ({marks})", list(ids))
        oldest = conn.execute("SELECT added_ms FROM spool ORDER BY id LIMIT 1").fetchone()
        conn.execute("COMMIT")
        return freed, oldest

    def stats(self) -> SpoolStats:
        with self._lock:
            age = (time.time() * 1000 - self._oldest_ms) / 1000 if self._oldest_ms else 0.0
            return SpoolStats(self._depth, self._bytes, max(0.0, age))

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
