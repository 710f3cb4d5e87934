"""Loss calibration of a plant file: OEE per line and plant, and where the time goes.

Runs the model alone (no messages) for N simulated days at a coarse tick and prints
OEE (availability x performance x quality) of the plant and every line, the loss shares
of planned time, downtime by reason, fault counts, repair-duration percentiles and how
many repairs waited for a technician. ``--json`` prints the same as JSON. Usage:
    .venv/bin/python benchmarks/calibrate_losses.py [--plant FILE] [--days 7] [--seed 1]
        [--step-s 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from simulator.calibration import loss_report, run_model
from simulator.cli import REPRODUCIBLE_START, parse_time_ms
from simulator.plant import PlantError, load_plant


def _pct(v: float | None) -> str:
    return "   -  " if v is None else f"{100 * v:5.1f}%"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plant", default=None, help="plant file (default: the demo plant)")
    ap.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--step-s", type=float, default=30.0, help="tick, s (default 30)")
    ap.add_argument("--start", default=REPRODUCIBLE_START, help="UTC start (ISO 8601)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args()
    try:
        plant = load_plant(args.plant)
        start = parse_time_ms(args.start, "--start")
    except (PlantError, ValueError) as exc:
        print(f"calibrate_losses: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    ticks = round(args.days * 86400 / args.step_s)
    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                  disable=not sys.stderr.isatty(), transient=True) as bar:
        task = bar.add_task("", total=ticks)
        model = run_model(plant, days=args.days, seed=args.seed, start_ms=start,
                          step_s=args.step_s, progress=lambda k: bar.advance(task, k))
    report = loss_report(model)
    wall = time.perf_counter() - t0
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(f"{plant.source}: {len(plant.machines)} machines, {report['days']} days from "
          f"{args.start}, seed {args.seed}, tick {args.step_s:g} s ({wall:.1f} s wall)")
    print(f"{'':28} {'avail':>6} {'perf':>6} {'qual':>6} {'OEE':>6}")
    rows = [("PLANT", report["plant"]), *report["lines"].items()]
    for name, r in rows:
        print(f"{name:28} {_pct(r.get('availability'))} {_pct(r.get('performance'))} "
              f"{_pct(r.get('quality'))} {_pct(r.get('oee'))}")
    print(f"line OEE spread (max - min): {_pct(report['line_oee_spread'])}")
    lo = report["losses"]
    print(f"losses, share of planned time: availability {_pct(lo['availability'])}, "
          f"performance {_pct(lo['performance'])} (micro-stops {_pct(lo['micro_stops'])}), "
          f"quality {_pct(lo['quality'])}")
    print("downtime by reason (share of downtime):")
    for reason, share in report["downtime_share"].items():
        print(f"  {reason:26} {_pct(share)}")
    print(f"breakdowns (fault wait + repair + waiting-parts): "
          f"{_pct(report['breakdown_share_of_downtime'])} of downtime, "
          f"{_pct(report['breakdown_share_of_own_downtime'])} of the machines' own stops "
          f"(knock-on starved/blocked: {_pct(report['knock_on_share_of_downtime'])})")
    f = report["faults"]
    print(f"faults: {f['count']}, {f['queued_for_technician']} waited for a technician; "
          f"duration h: {f['duration_h']}")
    print(f"micro-stops: {report['micro_stops']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
