"""Config resolution, and the writer's outcome policy driven by a scripted transport.

The writer's decisions (bisect, split, wait, stop) are pure policy over WriteResult;
the real-server behaviour is covered by tests/integration/collector."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest

from collector.cli import _parser
from collector.config import CollectorConfig, load
from collector.deadletter import DeadLetterLog
from collector.metrics import Metrics
from collector.spool import Entry, Spool
from collector.writer import Writer
from telemetry.endpoints import ConfigError
from telemetry.influx import InfluxClient, WriteResult


def _cfg(tmp_path: Path, yaml_text: str = "", *argv: str) -> CollectorConfig:
    args = ["run", "--spool-dir", str(tmp_path / "spool"), *argv]
    if yaml_text:
        (tmp_path / "c.yaml").write_text(yaml_text)
        args += ["--config", str(tmp_path / "c.yaml")]
    return load(_parser().parse_args(args), env={})


def test_defaults_and_stable_client_id(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    assert cfg.topics == ("hearth/#",) and cfg.qos == 1 and cfg.metrics_bind == "127.0.0.1"
    assert cfg.deadletter_file == tmp_path / "spool" / "deadletters.jsonl"
    assert cfg.client_id == _cfg(tmp_path).client_id  # stable across restarts
    assert cfg.client_id != _cfg(tmp_path / "other").client_id  # distinct per spool
    assert cfg.endpoints.influx.api == "v1"


def test_flags_beat_yaml_and_share_group(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "collector:\n  batch_max_points: 100\n  topics: [a/#]\n"
               "  share_group: g1\n", "--topic", "b/#", "--topic", "c/#")
    assert cfg.batch_max_points == 100
    assert cfg.subscriptions == ("$share/g1/b/#", "$share/g1/c/#")


@pytest.mark.parametrize(("text", "needle"), [
    ("collector:\n  batch_max_pointz: 1\n", "unknown key collector.batch_max_pointz"),
    ("collector:\n  qos: 0\n", "collector.qos"),
    ("colector: {}\n", "unknown section 'colector'"),
    ("mapping:\n  timestamp: {unit: weeks}\n", "mapping.timestamp.unit"),
    ("collector:\n  share_group: a/b\n", "share_group"),
])
def test_config_errors_are_one_line_and_name_the_key(tmp_path: Path, text: str,
                                                     needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        _cfg(tmp_path, text)
    assert needle in str(err.value) and "\n" not in str(err.value)


class ScriptedInflux:
    """Answers writes from a rule; records every body it was sent."""

    def __init__(self, rule: Any) -> None:
        self.rule = rule
        self.bodies: list[list[str]] = []
        self.stored: set[str] = set()

    def write(self, body: bytes, precision: str = "ms") -> WriteResult:
        lines = body.decode().split("\n")
        self.bodies.append(lines)
        res = cast(WriteResult, self.rule(lines, len(self.bodies)))
        if res.ok:
            self.stored.update(lines)
        return res

    @staticmethod
    def cause(res: WriteResult) -> str:
        return f"HTTP {res.status}: {res.body}"


def _run_writer(tmp_path: Path, rule: Any, n: int, yaml_text: str = "",
                until: Any = None) -> tuple[ScriptedInflux, Writer, Spool, Path]:
    cfg = _cfg(tmp_path, yaml_text or "collector:\n  stats_interval_s: 0\n"
               "  retry_max_s: 0.05\n  blocked_retry_s: 0.05\n  batch_max_wait_s: 0.01\n")
    spool = Spool(cfg.spool_dir, cfg.spool_max_bytes)
    spool.append([Entry(f"m v={i} {i}", f"t/{i}", str(i).encode()) for i in range(n)])
    dl = DeadLetterLog(cfg.deadletter_file, "c")
    fake = ScriptedInflux(rule)
    w = Writer(cfg, spool, cast(InfluxClient, fake), dl, Metrics("c"))
    w.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (until() if until else spool.stats().depth == 0):
        time.sleep(0.01)
    w.drain(0)
    dl.close()
    return fake, w, spool, cfg.deadletter_file


def test_400_bisects_and_dead_letters_only_the_bad_lines(tmp_path: Path) -> None:
    bad = {"m v=7 7", "m v=30 30"}

    def rule(lines: list[str], _n: int) -> WriteResult:
        return WriteResult(400, "unable to parse") if bad & set(lines) else WriteResult(204)

    fake, _w, spool, dl_file = _run_writer(tmp_path, rule, 64)
    assert fake.stored == {f"m v={i} {i}" for i in range(64)} - bad
    recs = [json.loads(x) for x in dl_file.read_text().splitlines()]
    assert sorted(r["topic"] for r in recs) == ["t/30", "t/7"]
    assert {r["reason"] for r in recs} == {"influx_rejected"}
    assert spool.stats().depth == 0


def test_413_splits_until_it_fits(tmp_path: Path) -> None:
    def rule(lines: list[str], _n: int) -> WriteResult:
        return WriteResult(413, "too large") if len(lines) > 10 else WriteResult(204)

    fake, *_ = _run_writer(tmp_path, rule, 100)
    assert len(fake.stored) == 100 and max(len(b) for b in fake.bodies[1:]) <= 50


def test_429_503_and_network_errors_are_retried_until_they_pass(tmp_path: Path) -> None:
    answers = [WriteResult(429, "", 0.05), WriteResult(503, "", None), WriteResult(0, "refused"),
               WriteResult(500, "boom")]

    def rule(_lines: list[str], n: int) -> WriteResult:
        return answers[n - 1] if n <= len(answers) else WriteResult(204)

    fake, w, *_ = _run_writer(tmp_path, rule, 10)
    assert len(fake.stored) == 10 and len(fake.bodies) == 5
    assert w.metrics.total_retries == 4


def test_401_stops_writing_keeps_the_spool_and_resumes(tmp_path: Path) -> None:
    fixed = threading.Event()

    def rule(_lines: list[str], n: int) -> WriteResult:
        if n >= 3:
            fixed.set()
        return WriteResult(204) if n > 3 else WriteResult(401, "unauthorized")

    fake, w, spool, _ = _run_writer(tmp_path, rule, 10)
    assert fixed.is_set() and len(fake.stored) == 10
    assert not w.metrics.is_blocked and spool.stats().depth == 0


def test_401_blocked_state_is_visible_and_nothing_is_lost(tmp_path: Path) -> None:
    calls: list[int] = []

    def rule(_lines: list[str], n: int) -> WriteResult:
        calls.append(n)
        return WriteResult(403, "forbidden")

    fake, w, spool, dl_file = _run_writer(tmp_path, rule, 10, until=lambda: len(calls) >= 3)
    assert w.metrics.is_blocked
    assert spool.stats().depth == 10 and not dl_file.read_text()
    assert not fake.stored
