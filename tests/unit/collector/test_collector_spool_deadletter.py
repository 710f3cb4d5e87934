from __future__ import annotations

import json
from pathlib import Path

from collector.deadletter import DeadLetter, DeadLetterLog, decode_payload
from collector.spool import Entry, Spool


def test_spool_append_read_delete_and_survive_reopen(tmp_path: Path) -> None:
    s = Spool(tmp_path, max_bytes=10_000)
    s.append([Entry(f"m v={i} {i}", "t/x", b"{}") for i in range(10)])
    assert s.stats().depth == 10
    rows = s.oldest(4)
    assert [r.line for r in rows] == [f"m v={i} {i}" for i in range(4)]
    s.delete([r.id for r in rows])
    s.close()
    again = Spool(tmp_path, max_bytes=10_000)
    assert again.stats().depth == 6
    assert again.oldest(1)[0].line == "m v=4 4"
    entry = again.entry(again.oldest(1)[0].id)
    assert entry == Entry("m v=4 4", "t/x", b"{}")
    again.delete([r.id for r in again.oldest(100)[::2]])  # non-contiguous ids
    assert again.stats().depth == 3


def test_spool_reports_full_at_its_byte_limit(tmp_path: Path) -> None:
    s = Spool(tmp_path, max_bytes=100)
    s.append([Entry("m v=1 1", "t", b"x" * 50)])
    assert not s.full()
    s.append([Entry("m v=1 2", "t", b"x" * 50)])
    assert s.full()
    s.delete([r.id for r in s.oldest(10)])
    assert not s.full() and s.stats().bytes == 0


def test_deadletter_jsonl_base64_and_counts(tmp_path: Path) -> None:
    published: list[tuple[str, bytes]] = []
    dl = DeadLetterLog(tmp_path / "dl.jsonl", "c1", "dead/letters",
                       lambda t, p: published.append((t, p)))
    dl.write([DeadLetter("a/b", b"\xff\x00", "bad_encoding", "not utf-8", 0),
              DeadLetter("a/c", b"{oops", "bad_json", "x", 1764201600123)])
    dl.close()
    recs = [json.loads(x) for x in (tmp_path / "dl.jsonl").read_text().splitlines()]
    assert recs[0]["payload_encoding"] == "base64" and decode_payload(recs[0]) == b"\xff\x00"
    assert recs[1] == {"time": "2025-11-27T00:00:00.123Z", "reason": "bad_json",
                       "detail": "x", "topic": "a/c", "payload": "{oops",
                       "payload_encoding": "utf-8", "collector": "c1"}
    assert dl.counts == {"bad_encoding": 1, "bad_json": 1}
    assert [t for t, _ in published] == ["dead/letters", "dead/letters"]
