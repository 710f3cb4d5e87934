"""collector_stats carries exactly the fields listed in telemetry/contract.py next to
COLLECTOR_STATS (the pipeline-health dashboard queries them)."""

from __future__ import annotations

from collector.metrics import Metrics

CONTRACT_FIELDS = {
    "msgs_in", "points_written", "dead_letters", "retries", "reconnects", "collisions",
    "spool_depth",
    "spool_bytes", "spool_oldest_age_s", "msgs_per_s", "points_per_s",
    "write_latency_p50_ms", "write_latency_p99_ms", "lag_p50_ms", "lag_p99_ms", "paused",
    "write_blocked", "write_failing", "write_errors",
}


def test_stats_fields_are_the_contracts() -> None:
    m = Metrics("c1")
    m.received({"telemetry": 3})
    m.dead_lettered("bad_json", 2)
    lines = m.stats_lines(1_764_201_600_000, (5, 500, 1.5))
    head, fields, ts = lines[0].split(" ")
    assert head == "collector_stats,collector=c1" and ts == "1764201600000"
    assert {f.split("=")[0] for f in fields.split(",")} == CONTRACT_FIELDS
    assert "msgs_in=3i" in fields and "dead_letters=2i" in fields and "spool_depth=5i" in fields
    assert "paused=0i" in fields and "spool_oldest_age_s=1.5" in fields
    assert "write_failing=0i" in fields and "write_errors=0i" in fields
    m.write_done(503, 10, 0.1)
    m.set_failing(True)
    fields = m.stats_lines(1, (5, 500, 1.5))[0].split(" ")[1]
    assert "write_failing=1i" in fields and "write_errors=1i" in fields
    assert lines[1] == ("collector_deadletters,collector=c1,reason=bad_json count=2i "
                        "1764201600000")
