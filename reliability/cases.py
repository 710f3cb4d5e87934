"""The fault matrix: each case applies one fault to a loaded pipeline and counts.

A case runs in its own :class:`~reliability.harness.Stack`: start everything, publish at
the stated rate, warm up, apply the fault, keep publishing, stop the publisher (waiting
for every broker ack), wait for the collector to drain, then count from InfluxDB.

- *published*: messages handed to the MQTT client (it retries them until acked);
- *acked*: PUBACKs received from the broker (*no_sub*: acked with "no matching
  subscribers", i.e. accepted but delivered to nobody);
- *stored*: distinct sequence numbers in InfluxDB; *dup*: points beyond one per message;
- *lost*: published - stored - dead-lettered (dead letters only where the case expects
  them: the out-of-range timestamps);
- *recovery_s*: from the end of the fault until every message published before that moment
  is queryable in InfluxDB.
"""

from __future__ import annotations

import logging
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reliability import count
from reliability.harness import HarnessError, Stack, rss_mb, wait_for
from reliability.load import LoadSpec, SeqPublisher, TsMode
from telemetry.influx import QueryError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    """Durations of one matrix run (seconds unless named otherwise)."""

    name: str
    warmup_s: float
    after_s: float  # load kept up after the fault ends
    influxd_outage_s: float
    influxd_freeze_s: float
    influxd_kill_down_s: float
    broker_backlog_s: float  # collector away before the broker crash
    collector_kills: int
    collector_kill_gap_s: tuple[float, float]  # random gap between kills
    spool_outage_s: float
    spool_max_mb: float
    soak_s: float
    sample_s: float
    write_timeout_s: float  # collector write timeout (a freeze must exceed it)
    retry_max_s: float
    drain_timeout_s: float
    series: int = 200
    settle_s: float = 30.0  # no change in InfluxDB for this long: nothing more will come

    def __post_init__(self) -> None:
        if self.influxd_freeze_s <= self.write_timeout_s:
            raise ValueError("influxd_freeze_s must exceed write_timeout_s so writes time out")


FULL = Profile("full", warmup_s=15, after_s=30, influxd_outage_s=60, influxd_freeze_s=30,
               influxd_kill_down_s=5, broker_backlog_s=20,
               collector_kills=5, collector_kill_gap_s=(3, 15),
               spool_outage_s=90, spool_max_mb=2, soak_s=3600, sample_s=10,
               write_timeout_s=10, retry_max_s=5, drain_timeout_s=600)
CI = Profile("ci", warmup_s=4, after_s=6, influxd_outage_s=10, influxd_freeze_s=8,
             influxd_kill_down_s=2, broker_backlog_s=5,
             collector_kills=3, collector_kill_gap_s=(1.5, 4),
             spool_outage_s=12, spool_max_mb=0.5, soak_s=100, sample_s=5,
             write_timeout_s=3, retry_max_s=2, drain_timeout_s=180, series=100,
             settle_s=10)
PROFILES = {p.name: p for p in (FULL, CI)}


@dataclass
class CaseResult:
    case: str
    rate_per_s: float
    profile: str
    published: int = 0
    acked: int = 0
    acked_no_subscriber: int = 0
    refused: int = 0
    stored: int = 0
    points: int = 0
    dead_lettered: int = 0
    expected_dead_letters: int = 0
    unexpected_dead_letters: int = 0
    lost: int = 0
    duplicates: int = 0
    recovery_s: float | None = None
    load_s: float = 0.0
    fault_at_seq: int = 0
    lost_ranges: list[tuple[int, int]] = field(default_factory=list)
    samples: list[dict[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def achieved_rate(self) -> float:
        return self.published / self.load_s if self.load_s else 0.0

    @property
    def ok(self) -> bool:
        return (self.error is None and self.lost == 0 and self.duplicates == 0
                and self.unexpected_dead_letters == 0)

    def describe(self) -> str:
        """One line with every count, for a failed assertion or a log."""
        return (f"{self.case}: published {self.published} acked {self.acked} (no subscriber "
                f"{self.acked_no_subscriber}) stored {self.stored} points {self.points} "
                f"lost {self.lost} {self.lost_ranges} dead letters {self.dead_lettered} "
                f"error {self.error} {self.extra}")

    def shortfalls(self, min_published: int) -> list[str]:
        """What keeps this run from 'under load, all acked, nothing lost, doubled or
        dead-lettered, recovered'; empty when it is clean."""
        checks = {
            "error": self.error is None,
            "not under load": self.published > min_published,
            "not all acked": self.acked == self.published,
            "acked with no subscriber": self.acked_no_subscriber == 0,
            "lost": self.lost == 0,
            "duplicated": self.duplicates == 0,
            "dead-lettered": self.dead_lettered == 0,
            "never recovered": self.recovery_s is not None,
        }
        return [name for name, passed in checks.items() if not passed]


@dataclass
class Context:
    """What a fault function gets: the running stack, the publisher, the profile."""

    stack: Stack
    pub: SeqPublisher
    profile: Profile
    result: CaseResult
    rng: random.Random
    fault_end: float = 0.0  # monotonic time the fault ended (set by the fault)

    def end_fault(self) -> None:
        self.fault_end = time.monotonic()
        self.result.fault_at_seq = self.pub.snapshot().published


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    fault: Callable[[Context], None]
    #: collector config lines added under `collector:` (given the profile)
    collector_extra: Callable[[Profile], str] | None = None
    mosquitto_conf: str = ""
    ts_mode: TsMode = "steady"
    #: minimum seconds of load before the fault (e.g. until Mosquitto has autosaved)
    min_warmup_s: float = 0.0


def _collector_yaml(p: Profile, extra: str = "") -> str:
    return ("collector:\n"
            f"  write_timeout_s: {p.write_timeout_s}\n"
            f"  retry_max_s: {p.retry_max_s}\n"
            "  shutdown_timeout_s: 20\n"
            "  stats_interval_s: 5\n" + extra)


def _spool_limit(p: Profile) -> str:
    return f"  spool_max_mb: {p.spool_max_mb}\n"


def _no_window(p: Profile) -> str:
    """The timestamps case stores 1971 and 2200 on purpose (InfluxDB can): open the
    collector's timestamp window (by default not more than 1 h ahead of arrival), so only
    what InfluxDB cannot store (beyond 2262) is dead-lettered."""
    return "mapping:\n  timestamp_window: {max_age_s: none, max_future_s: none}\n"


# -- faults -----------------------------------------------------------------------------
def _no_fault(ctx: Context) -> None:
    ctx.end_fault()


def _mosquitto_restart(ctx: Context) -> None:
    ctx.stack.mosquitto.restart(timeout_s=60)
    ctx.end_fault()


def _mosquitto_kill(ctx: Context) -> None:
    ctx.result.extra["acked_before_kill"] = ctx.pub.snapshot().acked
    ctx.stack.mosquitto.kill()
    # PUBACKs already in flight still arrive: count them as acked before the crash.
    time.sleep(0.5)
    ctx.result.extra["acked_at_kill"] = ctx.pub.snapshot().acked
    ctx.stack.mosquitto.restart(timeout_s=60)
    ctx.end_fault()


def _mosquitto_kill_backlog(ctx: Context) -> None:
    """Crash the broker while it holds a backlog for the (stopped) collector."""
    ctx.result.extra["collector_exit_code"] = ctx.stack.collector.terminate()
    time.sleep(ctx.profile.broker_backlog_s)
    _mosquitto_kill(ctx)
    ctx.stack.collector.start()
    ctx.end_fault()


def _influxd_stop(ctx: Context) -> None:
    ctx.stack.influxd.stop()
    time.sleep(ctx.profile.influxd_outage_s)
    ctx.result.extra["spool_depth_in_outage"] = _spool_depth(ctx.stack)
    ctx.stack.influxd.restart(timeout_s=60)
    ctx.end_fault()


def _influxd_kill(ctx: Context) -> None:
    ctx.stack.influxd.kill()
    time.sleep(ctx.profile.influxd_kill_down_s)
    ctx.stack.influxd.restart(timeout_s=60)
    ctx.end_fault()


def _influxd_freeze(ctx: Context) -> None:
    ctx.stack.influxd.freeze()
    time.sleep(ctx.profile.influxd_freeze_s)
    ctx.result.extra["spool_depth_in_freeze"] = _spool_depth(ctx.stack)
    ctx.stack.influxd.thaw()
    ctx.end_fault()
    text = ctx.stack.collector.log_text()
    ctx.result.extra["write_timeouts"] = text.count("timed out") + text.count("TimeoutError")


def _collector_kill(ctx: Context) -> None:
    lo, hi = ctx.profile.collector_kill_gap_s
    for _ in range(ctx.profile.collector_kills):
        time.sleep(ctx.rng.uniform(lo, hi))
        ctx.stack.collector.kill()
        time.sleep(ctx.rng.uniform(0, 1.0))
        ctx.stack.collector.start()
    ctx.result.extra["kills"] = ctx.profile.collector_kills
    ctx.end_fault()


def _collector_term(ctx: Context) -> None:
    code = ctx.stack.collector.terminate()
    text = ctx.stack.collector.log_text()
    ctx.result.extra["exit_code"] = code
    ctx.result.extra["full_flush"] = "full flush" in text
    ctx.stack.collector.start()
    ctx.end_fault()


def _spool_full(ctx: Context) -> None:
    ctx.stack.influxd.stop()
    paused = wait_for(lambda: (ctx.stack.collector.health() or {}).get("intake_paused"),
                      ctx.profile.spool_outage_s + 60, "intake paused (spool full)",
                      interval_s=0.5)
    ctx.result.extra["paused_seen"] = bool(paused)
    time.sleep(ctx.profile.spool_outage_s)
    h = ctx.stack.collector.health() or {}
    ctx.result.extra["paused_at_end_of_outage"] = bool(h.get("intake_paused"))
    ctx.result.extra["spool_depth_in_outage"] = h.get("spool_depth")
    ctx.result.extra["published_in_outage"] = ctx.pub.snapshot().published
    ctx.stack.influxd.restart(timeout_s=60)
    ctx.end_fault()


def _soak(ctx: Context) -> None:
    time.sleep(ctx.profile.soak_s)
    ctx.end_fault()


#: The recommended Mosquitto persistence for this pipeline (see docs/reliability.md).
MOSQUITTO_AUTOSAVE_S = 1
MOSQUITTO_RECOMMENDED = f"autosave_interval {MOSQUITTO_AUTOSAVE_S}\n"

CASES: dict[str, Case] = {c.name: c for c in (
    Case("mosquitto_restart", "Mosquitto restarted cleanly (SIGTERM, start)",
         _mosquitto_restart),
    Case("mosquitto_kill", "Mosquitto SIGKILL, stack/services.py persistence "
         "(autosave_interval 30)", _mosquitto_kill,
         min_warmup_s=32),
    Case("mosquitto_kill_autosave1", "Mosquitto SIGKILL, autosave_interval 1",
         _mosquitto_kill, mosquitto_conf=MOSQUITTO_RECOMMENDED,
         min_warmup_s=3),
    Case("mosquitto_kill_backlog", "Mosquitto SIGKILL while it queues for a stopped "
         "collector, autosave_interval 30", _mosquitto_kill_backlog, min_warmup_s=32),
    Case("mosquitto_kill_backlog_autosave1", "Mosquitto SIGKILL while it queues for a "
         "stopped collector, autosave_interval 1", _mosquitto_kill_backlog,
         mosquitto_conf=MOSQUITTO_RECOMMENDED, min_warmup_s=3),
    Case("influxd_stop", "influxd stopped (SIGTERM), started again after the outage",
         _influxd_stop),
    Case("influxd_kill", "influxd SIGKILL, started again", _influxd_kill),
    Case("influxd_freeze", "influxd frozen (SIGSTOP) so writes time out, then SIGCONT",
         _influxd_freeze),
    Case("collector_kill", "collector SIGKILL at random moments, restarted each time",
         _collector_kill),
    Case("collector_term", "collector SIGTERM (graceful), restarted", _collector_term),
    Case("spool_full", "spool limit reached during a long influxd outage", _spool_full,
         collector_extra=_spool_limit),
    Case("timestamps", "timestamps far past/future, out of order, 1 in 97 beyond 2262",
         _no_fault, ts_mode="skewed", collector_extra=_no_window),
    Case("soak", "steady load, RSS and spool depth sampled", _soak),
)}


# -- running ----------------------------------------------------------------------------
def _spool_depth(stack: Stack) -> int | None:
    h = stack.collector.health()
    return None if h is None else int(h.get("spool_depth", 0))


class _Sampler:
    """Samples collector RSS and spool depth every `interval_s` in a thread."""

    def __init__(self, stack: Stack, interval_s: float) -> None:
        self.stack = stack
        self.interval_s = interval_s
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            pid = self.stack.collector.pid
            rss = rss_mb(pid) if pid else None
            h = self.stack.collector.health() or {}
            if rss is None:
                continue
            self.samples.append({"t_s": round(time.monotonic() - self._t0, 1),
                                 "rss_mb": round(rss, 1),
                                 "spool_depth": float(h.get("spool_depth", -1)),
                                 "paused": float(bool(h.get("intake_paused")))})

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class _RecoveryWatch:
    """After the fault: when is every message published before its end stored?"""

    def __init__(self, ctx: Context, spec: LoadSpec, timeout_s: float) -> None:
        self.ctx = ctx
        self.spec = spec
        self.timeout_s = timeout_s
        self.recovery_s: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recovery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        n = self.ctx.result.fault_at_seq
        if n == 0:
            self.recovery_s = 0.0
            return
        k = (n - 1) // self.spec.series
        until_ms = self.spec.t0_ms + k
        target = (k + 1) * self.spec.series
        deadline = self.ctx.fault_end + self.timeout_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            if count.stored_until(self.ctx.stack.influx, until_ms) >= target:
                self.recovery_s = time.monotonic() - self.ctx.fault_end
                return
            self._stop.wait(0.5)

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout=timeout_s)
        self._stop.set()
        self._thread.join(timeout=30)


def run_case(name: str, rate_per_s: float, profile: Profile, work_dir: Path,
             seed: int = 7) -> CaseResult:
    """Run one case at one rate; never raises for a pipeline failure (see `error`)."""
    case = CASES[name]
    result = CaseResult(name, rate_per_s, profile.name)
    prefix = f"rel{int(rate_per_s)}"
    stack = Stack(work_dir / f"{name}-{int(rate_per_s)}",
                  collector_yaml=_collector_yaml(
                      profile, case.collector_extra(profile) if case.collector_extra else ""),
                  mosquitto_conf=case.mosquitto_conf, prefix=prefix)
    pub: SeqPublisher | None = None
    sampler: _Sampler | None = None
    try:
        stack.start()
        spec = LoadSpec(prefix, t0_ms=int(time.time() * 1000), series=profile.series,
                        ts_mode=case.ts_mode)
        pub = SeqPublisher(stack.mosquitto.url, spec, rate_per_s, f"{prefix}-publisher")
        ctx = Context(stack, pub, profile, result, random.Random(seed))
        sampler = _Sampler(stack, profile.sample_s)
        t_load = time.monotonic()
        pub.start()
        sampler.start()
        time.sleep(max(profile.warmup_s, case.min_warmup_s))
        log.info("%s @ %d msg/s: fault", name, rate_per_s)
        case.fault(ctx)
        watch = _RecoveryWatch(ctx, spec, profile.drain_timeout_s)
        if case.ts_mode == "steady" and name != "soak":
            watch.start()
        time.sleep(profile.after_s)
        all_acked = pub.stop(ack_timeout_s=profile.drain_timeout_s)
        result.load_s = time.monotonic() - t_load
        st = pub.snapshot()
        result.published, result.acked = st.published, st.acked
        result.acked_no_subscriber, result.refused = st.acked_no_subscriber, st.refused
        if not all_acked:
            result.notes.append(f"{st.published - st.acked} messages never acked by the "
                                "broker")
        _drain(stack, spec, st.published, profile)
        if case.ts_mode == "steady" and name != "soak":
            # Everything that will arrive has arrived: a watch still waiting waits for
            # messages that were lost.
            watch.join(5.0)
            result.recovery_s = watch.recovery_s
        _count(stack, spec, result)
    except HarnessError as exc:
        result.error = str(exc)
        log.error("%s @ %d msg/s: %s", name, rate_per_s, exc)
    finally:
        if pub is not None and result.load_s == 0.0:
            pub.stop(ack_timeout_s=1)
        if sampler is not None:
            sampler.stop()
            result.samples = sampler.samples
        stack.close()
    _summarise_samples(result)
    return result


def _drain(stack: Stack, spec: LoadSpec, published: int, profile: Profile) -> None:
    """Wait until everything storable is in InfluxDB, or nothing has changed for a while."""
    expected = sum(1 for s in range(published) if spec.storable(s))
    deadline = time.monotonic() + profile.drain_timeout_s
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        h = stack.collector.health() or {}
        try:
            n = count.stored(stack.influx, spec.prefix).points
        except QueryError:
            n = -1
        if n >= expected and h.get("spool_depth") == 0:
            return
        if n != last:
            last, last_change = n, time.monotonic()
        elif time.monotonic() - last_change > profile.settle_s and h.get("spool_depth") == 0:
            return  # settled short: the count will show what is missing
        time.sleep(1.0)


def _count(stack: Stack, spec: LoadSpec, result: CaseResult) -> None:
    s = count.stored(stack.influx, spec.prefix)
    result.points, result.stored, result.duplicates = s.points, s.distinct, s.duplicates
    letters = stack.deadletters()
    result.dead_lettered = len(letters)
    expected_dl = 0
    for rec in letters:
        seq = _seq_of(rec.get("payload", ""))
        if seq is not None and not spec.storable(seq) and rec.get("reason") == "bad_timestamp":
            expected_dl += 1
    result.expected_dead_letters = expected_dl
    result.unexpected_dead_letters = len(letters) - expected_dl
    result.lost = result.published - result.stored - expected_dl
    if result.lost > 0:
        result.lost_ranges = count.missing_ranges(stack.influx, result.published)
    if spec.ts_mode == "skewed":
        checked, wrong = count.check_timestamps(stack.influx, spec.ts_ms)
        result.extra["timestamps_checked"] = checked
        result.extra["timestamps_wrong"] = wrong


def _seq_of(payload: str) -> int | None:
    import json  # noqa: PLC0415

    try:
        value = json.loads(payload).get("seq")
    except (ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, int | float) else None


def _summarise_samples(result: CaseResult) -> None:
    rss = [s["rss_mb"] for s in result.samples]
    depth = [s["spool_depth"] for s in result.samples if s["spool_depth"] >= 0]
    if rss:
        q = max(1, len(rss) // 4)
        result.extra["rss_first_quarter_mb"] = round(statistics.median(rss[:q]), 1)
        result.extra["rss_last_quarter_mb"] = round(statistics.median(rss[-q:]), 1)
        result.extra["rss_max_mb"] = max(rss)
    if depth:
        result.extra["spool_depth_max"] = int(max(depth))


def with_profile(profile: Profile, **changes: Any) -> Profile:
    return replace(profile, **changes)
