from __future__ import annotations

import hashlib
import json
import stat
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
                       "payload_encoding": "utf-8", "payload_size": 5,
                       "payload_sha256": hashlib.sha256(b"{oops").hexdigest(),
                       "payload_truncated": False, "collector": "c1"}
    assert dl.counts == {"bad_encoding": 1, "bad_json": 1}
    assert [t for t, _ in published] == ["dead/letters", "dead/letters"]
    assert stat.S_IMODE((tmp_path / "dl.jsonl").stat().st_mode) == 0o600


def test_deadletters_keep_a_head_of_the_payload_and_rotate(tmp_path: Path) -> None:
    path = tmp_path / "dl.jsonl"
    path.write_text("")
    path.chmod(0o644)  # an older file: tightened on open
    dl = DeadLetterLog(path, "c1", payload_bytes=100, max_bytes=20_000, keep=2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    big = ("温" * 400).encode()  # 1,200 bytes; 100 cuts a 3-byte character
    for i in range(200):
        dl.write([DeadLetter(f"t/{i}", big, "oversize", "too big", i)])
    dl.close()
    files = sorted(tmp_path.glob("dl.jsonl*"))
    assert [f.name for f in files] == ["dl.jsonl", "dl.jsonl.1", "dl.jsonl.2"]
    assert all(f.stat().st_size <= 20_000 for f in files)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    rec = json.loads(path.read_text().splitlines()[-1])
    assert rec["topic"] == "t/199" and rec["payload"] == "温" * 33  # 99 bytes, valid text
    assert rec["payload_size"] == 1200 and rec["payload_truncated"] is True
    assert rec["payload_sha256"] == hashlib.sha256(big).hexdigest()
    # given only the head of a payload (oversize, before queueing): size/digest as given
    head = DeadLetter("t/x", b"abc", "oversize", "d", 0, size=10_000_000, sha256="f" * 64)
    assert head.record("c1")["payload_size"] == 10_000_000
