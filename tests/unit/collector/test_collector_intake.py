"""Intake bounds before the spool: oversize payloads are cut on paho's thread, and the
queue to the spooler is bounded in bytes (on_message waits, paho stops reading)."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from collector.cli import _parser
from collector.config import load
from collector.deadletter import DeadLetterLog
from collector.intake import Intake
from collector.mapping import Mapper
from collector.metrics import Metrics
from collector.spool import Spool


def _intake(tmp_path: Path, yaml_text: str) -> Intake:
    (tmp_path / "c.yaml").write_text(yaml_text)
    cfg = load(_parser().parse_args(["run", "--spool-dir", str(tmp_path / "spool"),
                                     "--config", str(tmp_path / "c.yaml")]), env={})
    return Intake(cfg, Mapper(cfg.mapping), Spool(cfg.spool_dir, cfg.spool_max_bytes),
                  DeadLetterLog(cfg.deadletter_file, "c"), Metrics("c"))


def _msg(topic: str, payload: bytes, mid: int) -> SimpleNamespace:
    return SimpleNamespace(topic=topic, payload=payload, mid=mid, qos=1)


def test_oversize_payload_is_cut_before_it_is_queued(tmp_path: Path) -> None:
    intake = _intake(tmp_path, "collector:\n  deadletter_payload_bytes: 100\n")
    big = b"x" * 1_000_000
    intake._on_message(None, None, _msg("a/b", big, 1))  # type: ignore[arg-type]
    (item,) = intake._drain(10)
    assert len(item.payload) == 100 and item.size == 1_000_000 and len(item.sha256) == 64


def test_the_queue_is_bounded_in_bytes(tmp_path: Path) -> None:
    intake = _intake(tmp_path, "collector:\n  intake_queue_mb: 0.001\n"  # 1,048 bytes
                     "  commit_window_s: 0\n")
    done: list[int] = []

    def receive() -> None:
        for mid in (1, 2, 3):
            intake._on_message(None, None, _msg("t", b"p" * 1000, mid))  # type: ignore[arg-type]
            done.append(mid)

    t = threading.Thread(target=receive, daemon=True)
    t.start()
    t.join(timeout=1.0)
    # 1,001 bytes queued are under the bound, 2,002 are over it: the third waits.
    assert t.is_alive() and done == [1, 2] and intake._queue.qsize() == 2
    assert [m.mid for m in intake._drain(10)] == [1, 2]  # the spooler takes them...
    t.join(timeout=30)
    assert not t.is_alive() and done == [1, 2, 3]  # ...and the third gets in
    assert [m.mid for m in intake._drain(10)] == [3]
