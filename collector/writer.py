"""The writer: batches from the spool to InfluxDB, with an answer for every outcome.

- 2xx: delete the rows from the spool.
- 400 / 422: bisect the batch; a single line still rejected is dead-lettered
  (``influx_rejected``) and the rest is written.
- 413: split in halves; a single line still too large is dead-lettered (``too_large``).
- 429 / 503 (and other 5xx): wait ``Retry-After`` (or the backoff), retry.
- 401 / 403: stop writing, keep the spool, log an error and raise
  ``collector_write_blocked``; probe again every ``blocked_retry_s``.
- network error (status 0) and any other status: capped exponential backoff, forever.

Only one writer runs per spool, always oldest rows first.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence

from collector.config import CollectorConfig
from collector.deadletter import DeadLetter, DeadLetterLog
from collector.metrics import Metrics
from collector.spool import Row, Spool
from telemetry.influx import (
    NETWORK_ERROR,
    InfluxClient,
    QueryError,
    WriteResult,
    retention_s,
)

log = logging.getLogger(__name__)

_LAG_SAMPLES = 64
_RETRY_AFTER_MAX_S = 600.0
_RETENTION_DROP = re.compile(r'\{"error":"partial write: points beyond retention policy '
                             r'dropped=(\d+)"\}')


def _line_ts(line: str) -> int:
    try:
        return int(line.rsplit(" ", 1)[1])
    except (ValueError, IndexError):
        return 0


class Writer:
    def __init__(self, cfg: CollectorConfig, spool: Spool, client: InfluxClient,
                 deadletters: DeadLetterLog, metrics: Metrics) -> None:
        self.cfg = cfg
        self.spool = spool
        self.client = client
        self.deadletters = deadletters
        self.metrics = metrics
        self._draining = threading.Event()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="collector-writer",
                                        daemon=True)
        self._next_stats = time.monotonic() + cfg.stats_interval_s
        self._failing_since: float | None = None
        self._failing_logged = (0.0, "")  # (when, cause) of the last failure log line
        self.failing_cause: str | None = None
        self.started_s = time.monotonic()
        self.beat_s = time.monotonic()  # the thread's last sign of life (health)
        self._blocked = False
        self._db_created = False
        self.last_ok_s: float | None = None
        #: The database's retention (set at start, v1): lines older are dropped by influxd.
        self.retention_s: float | None = None
        self.last_status: int | None = None

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        self.started_s = self.beat_s = time.monotonic()
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def drain(self, timeout_s: float) -> bool:
        """Flush the spool for at most `timeout_s`, then stop. True if it emptied."""
        self._draining.set()
        self.spool.wake()
        self._thread.join(timeout=timeout_s)
        if self._thread.is_alive():
            self._halt.set()
            self.spool.wake()
            self._thread.join(timeout=self.cfg.write_timeout_s + 5)
        return self.spool.stats().depth == 0

    def _sleep(self, seconds: float) -> bool:
        """Interruptible sleep (a heartbeat every second); False when the writer must stop
        now."""
        end = time.monotonic() + seconds
        while True:
            self.beat_s = now = time.monotonic()
            if now >= end:
                return True
            if self._halt.wait(min(1.0, end - now)):
                return False

    def _run(self) -> None:
        try:
            while not self._halt.is_set():
                self.beat_s = time.monotonic()
                if self._draining.is_set():
                    if self.spool.stats().depth == 0:
                        break
                else:
                    self.spool.wait(self.cfg.batch_max_points, self.cfg.batch_max_wait_s)
                self._maybe_stats()
                try:
                    rows = self.spool.oldest(self.cfg.batch_max_points)
                    if rows:
                        self._write(rows)
                except Exception:  # e.g. disk trouble: keep going, the spool keeps all
                    log.exception("writer error; retrying in 1 s")
                    self._sleep(1.0)
            self._maybe_stats(force=True)
        finally:
            self.spool.close()

    # -- writing ----------------------------------------------------------------------
    def _post(self, lines: Sequence[str]) -> WriteResult:
        body = "\n".join(lines).encode("utf-8")
        t0 = time.monotonic()
        res = self.client.write(body)
        self.beat_s = time.monotonic()
        self.metrics.write_done(res.status, len(lines), self.beat_s - t0)
        self.last_status = res.status
        return res

    def _write(self, rows: Sequence[Row]) -> bool:
        """Write rows until they are stored or dead-lettered; False if halted first."""
        backoff_s = 0.5
        while not self._halt.is_set():
            res = self._post([r.line for r in rows])
            if res.ok:
                self._written(rows)
                return True
            status = res.status
            if status in (400, 422, 413):
                self._recovered()
                if status == 400 and self._retention_dropped(rows, res):
                    return True
                return self._split(rows, res)
            if status in (401, 403):
                self._set_blocked(res)
                self.metrics.retried()
                if not self._sleep(self.cfg.blocked_retry_s):
                    return False
                continue
            if status == 404 and self._create_database(res):
                continue
            # The server's Retry-After is honoured as given (up to 10 min), not capped at
            # retry_max_s: retrying earlier only earns another 429.
            wait_s = min(res.retry_after_s, _RETRY_AFTER_MAX_S) \
                if status in (429, 503) and res.retry_after_s \
                else min(backoff_s, max(self.cfg.retry_max_s, 0.1))
            self._failing(res, wait_s)
            self.metrics.retried()
            self._maybe_stats()  # collector_stats says so while it happens, if it can
            if not self._sleep(wait_s):
                return False
            backoff_s = min(backoff_s * 2, self.cfg.retry_max_s)
        return False

    def _split(self, rows: Sequence[Row], res: WriteResult) -> bool:
        if len(rows) == 1:
            reason = "too_large" if res.status == 413 else "influx_rejected"
            entry = self.spool.entry(rows[0].id)
            topic, payload = (entry.topic, entry.payload) if entry else ("", b"")
            detail = f"HTTP {res.status}: {res.body.strip()[:500]}"
            self.deadletters.write([DeadLetter(topic, payload, reason, detail,
                                               int(time.time() * 1000))])
            self.metrics.dead_lettered(reason)
            log.warning("InfluxDB rejected a point (%s), dead-lettered: %s", reason,
                        rows[0].line[:200])
            self.spool.delete([rows[0].id])
            return True
        mid = len(rows) // 2
        return self._write(rows[:mid]) and self._write(rows[mid:])

    def _retention_dropped(self, rows: Sequence[Row], res: WriteResult) -> bool:
        """influxd 1.x stores a batch but drops points older than its retention, answering
        400 "partial write: points beyond retention policy dropped=N". If exactly N lines
        are older than the retention, dead-letter those (reason ``retention``) and count
        the rest as written: no bisection, no re-sending. Else False (bisect)."""
        m = _RETENTION_DROP.fullmatch(res.body.strip())
        if m is None:
            return False
        if self.retention_s is None:
            self.retention_s = self._read_retention()
        if self.retention_s is None:
            return False
        cutoff_ms = time.time() * 1000 - self.retention_s * 1000
        stale = [r for r in rows if _line_ts(r.line) < cutoff_ms]
        if len(stale) != int(m.group(1)):
            return False
        now_ms = int(time.time() * 1000)
        letters = []
        for r in stale:
            entry = self.spool.entry(r.id)
            topic, payload = (entry.topic, entry.payload) if entry else ("", b"")
            letters.append(DeadLetter(topic, payload, "retention", "older than the "
                                      f"{self.retention_s:.0f} s retention policy: InfluxDB "
                                      "dropped it", now_ms))
        self.deadletters.write(letters)
        self.metrics.dead_lettered("retention", len(letters))
        log.warning("InfluxDB dropped %d points older than its retention; dead-lettered "
                    "(retention), the other %d are stored", len(stale), len(rows) - len(stale))
        self.spool.delete([r.id for r in stale])
        self._written([r for r in rows if _line_ts(r.line) >= cutoff_ms])
        return True

    def _read_retention(self) -> float | None:
        try:
            return retention_s(self.client)
        except (QueryError, ValueError, IndexError):
            return None

    def _written(self, rows: Sequence[Row]) -> None:
        self.spool.delete([r.id for r in rows])
        now_ms = time.time() * 1000
        step = max(1, len(rows) // _LAG_SAMPLES)
        lags = []
        for r in rows[::step]:
            try:
                lags.append(now_ms - int(r.line.rsplit(" ", 1)[1]))
            except (ValueError, IndexError):
                continue
        self.metrics.written(len(rows), lags)
        self.last_ok_s = time.monotonic()
        self._recovered()

    def _recovered(self) -> None:
        if self._blocked:
            log.warning("InfluxDB accepts our credentials again: writing resumed")
            self._blocked = False
            self.metrics.set_blocked(False)
        if self._failing_since is not None:
            log.warning("InfluxDB writes succeed again after %.0f s of failures; resumed",
                        time.monotonic() - self._failing_since)
            self._failing_since = None
            self.failing_cause = None
            self._failing_logged = (0.0, "")
            self.metrics.set_failing(False)

    def _set_blocked(self, res: WriteResult) -> None:
        if not self._blocked:
            self._blocked = True
            self.metrics.set_blocked(True)
            log.error("InfluxDB %s refused our credentials (HTTP %d: %s): writing STOPPED, "
                      "the spool keeps everything; fix the token/user and it resumes within "
                      "%.0f s", self.cfg.endpoints.influx.display(), res.status,
                      res.body.strip()[:200], self.cfg.blocked_retry_s)

    def _failing(self, res: WriteResult, wait_s: float) -> None:
        """Log the cause when writes start failing, when the cause changes, and once a
        minute while it lasts (a stuck write is never silent)."""
        now = time.monotonic()
        cause = self.client.cause(res)
        self.failing_cause = cause
        if self._failing_since is None:
            self._failing_since = now
            self.metrics.set_failing(True)
        last_when, last_cause = self._failing_logged
        if cause != last_cause or now - last_when >= 60:
            self._failing_logged = (now, cause)
            level = logging.ERROR if res.status not in (NETWORK_ERROR, 429, 503) and \
                not 500 <= res.status < 600 else logging.WARNING
            log.log(level, "InfluxDB %s: writes failing for %.0f s: %s; retrying (next in "
                    "%.1f s), spool depth %d", self.cfg.endpoints.influx.display(),
                    now - self._failing_since, cause, wait_s, self.spool.stats().depth)
        else:
            log.debug("write failed again (%s), next try in %.1f s", cause, wait_s)

    def _create_database(self, res: WriteResult) -> bool:
        """v1: a 404 'database not found' is fixed by creating it, once, if allowed."""
        if (self._db_created or not self.cfg.create_database
                or self.cfg.endpoints.influx.api != "v1" or "database" not in res.body):
            return False
        self._db_created = True
        try:
            self.client.create_database()
        except QueryError as exc:
            log.error("cannot create database %s: %s", self.cfg.endpoints.influx.db, exc)
            return False
        log.warning("created missing database %s", self.cfg.endpoints.influx.db)
        return True

    # -- self-metrics in InfluxDB -----------------------------------------------------
    def _maybe_stats(self, force: bool = False) -> None:
        if self.cfg.stats_interval_s <= 0 or self._blocked:
            return
        now = time.monotonic()
        if not force and now < self._next_stats:
            return
        self._next_stats = now + self.cfg.stats_interval_s
        st = self.spool.stats()
        lines = self.metrics.stats_lines(int(time.time() * 1000),
                                         (st.depth, st.bytes, st.oldest_age_s))
        res = self.client.write("\n".join(lines).encode())
        if not res.ok:
            log.debug("collector_stats not written (HTTP %d)", res.status)
