"""The results table (Markdown) and the raw results (JSON)."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from reliability.cases import CASES, CaseResult

HEADER = ("| case | rate msg/s (achieved) | published | acked | no sub | stored | lost | dup "
          "| dead letters | recovery s | notes |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|")


def _recovery(r: CaseResult) -> str:
    if r.case in ("soak", "timestamps"):
        return "n/a"
    if r.recovery_s is None:
        return "n/a (loss)" if r.lost else "never"
    return f"{r.recovery_s:.1f}"


def _notes(r: CaseResult) -> str:
    x = r.extra
    notes: list[str] = []
    if r.error:
        notes.append(f"ERROR: {r.error}")
    if "spool_depth_in_outage" in x:
        notes.append(f"spool {x['spool_depth_in_outage']} in outage")
    if "spool_depth_in_freeze" in x:
        notes.append(f"spool {x['spool_depth_in_freeze']} in freeze")
    if "paused_seen" in x:
        notes.append(f"intake paused: {'yes' if x['paused_seen'] else 'NO'}")
    if "kills" in x:
        notes.append(f"{x['kills']} kills")
    if "exit_code" in x:
        notes.append(f"exit {x['exit_code']}, "
                     f"{'full flush' if x.get('full_flush') else 'left spooled'}")
    if r.case == "soak" and "rss_first_quarter_mb" in x:
        notes.append(f"RSS {x['rss_first_quarter_mb']} -> {x['rss_last_quarter_mb']} MB "
                     f"(max {x['rss_max_mb']}), spool max {x.get('spool_depth_max', 0)}")
    if r.lost_ranges:
        shown = ", ".join(f"{a}-{b}" for a, b in r.lost_ranges[:3])
        notes.append(f"lost seq {shown}")
    notes.extend(r.notes)
    return "; ".join(notes)


def row(r: CaseResult) -> str:
    dl = f"{r.dead_lettered}" + (f" ({r.expected_dead_letters} expected)"
                                  if r.expected_dead_letters else "")
    return (f"| {r.case} | {r.rate_per_s:,.0f} ({r.achieved_rate:,.0f}) | {r.published:,} | "
            f"{r.acked:,} | {r.acked_no_subscriber:,} | {r.stored:,} | {r.lost:,} | "
            f"{r.duplicates:,} | {dl} | {_recovery(r)} | {_notes(r)} |")


def table(results: Sequence[CaseResult]) -> str:
    return "\n".join([HEADER, *(row(r) for r in results)])


def legend() -> str:
    return "\n".join(f"- `{name}`: {c.title}" for name, c in CASES.items())


def machine() -> str:
    cpus = len([ln for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("processor")]) if Path("/proc/cpuinfo").exists() else 0
    return f"{platform.node()}: {platform.system()} {platform.release()}, {cpus} CPUs, " \
           f"Python {platform.python_version()}"


def write_json(results: Sequence[CaseResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
