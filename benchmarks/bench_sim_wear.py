"""Wear-driven failures of a plant: how many, how much downtime, and how well vibration
announces them (docs/simulator.md, "Failure modes").

Runs the model alone (no messages) for N simulated days and prints, by fault source,
the faults and their hours from fault to back in service, then for every wear and
random fault the median running vibration RMS and crest factor in its last day over the
machine's own running median outside the last days before its wear faults, and the
temperature difference. Usage:
    .venv/bin/python benchmarks/bench_sim_wear.py [--plant FILE] [--days 30] [--step-s 60]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

from simulator.cli import REPRODUCIBLE_START, parse_time_ms
from simulator.model import RUNNING, Intervals, PlantModel
from simulator.plant import load_plant

DAY_MS = 86_400_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plant", help="plant file (default: the demo plant)")
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--step-s", type=float, default=60.0, help="model tick (default 60 s)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    plant = load_plant(args.plant)
    m = PlantModel(plant, args.seed, parse_time_ms(REPRODUCIBLE_START, "start"),
                   Intervals.from_seconds(args.step_s))
    ticks = round(args.days * DAY_MS / m.dt_ms)
    sig = np.zeros((3, ticks, m.n), np.float32)
    run = np.zeros((ticks, m.n), bool)
    ts = np.zeros(ticks, np.int64)
    t0 = time.perf_counter()
    for t in range(ticks):
        frame = m.step()
        m.after_emit(frame)
        sig[:, t] = m.vibration, m.vibration_crest, m.temp_out
        run[t], ts[t] = m.state == RUNNING, frame.ts_ms
        if t % max(1, ticks // 20) == 0:
            print(f"\r{100 * t / ticks:3.0f} %", end="", flush=True)
    print(f"\r{args.days:g} days of {m.n} machines at {args.step_s:g} s: "
          f"{time.perf_counter() - t0:.1f} s")
    count = Counter(e.source for e in m.episodes)
    hours = Counter()
    for e in m.episodes:
        hours[e.source] += ((e.end_ms or m.now_ms) - e.start_ms) / 3.6e6
    for src in sorted(count):
        print(f"{src:>8}: {count[src]:5d} faults ({100 * count[src] / sum(count.values()):.0f} %)"
              f", {hours[src]:7.0f} h fault to back "
              f"({100 * hours[src] / sum(hours.values()):.0f} %)")
    last_day = np.zeros_like(run)
    for e in m.episodes:
        if e.source == "wear":
            last_day[(ts < e.start_ms) & (ts >= e.start_ms - DAY_MS), m.index[e.machine]] = True
    rows: dict[str, list[np.ndarray]] = {"wear": [], "random": []}
    for e in m.episodes:
        i = m.index[e.machine]
        window = run[:, i] & (ts < e.start_ms) & (ts >= e.start_ms - DAY_MS)
        base = run[:, i] & ~last_day[:, i]
        if e.source in rows and window.sum() >= 10 and base.sum() >= 100:
            now, then = np.median(sig[:, window, i], axis=1), np.median(sig[:, base, i], axis=1)
            rows[e.source].append(np.array([now[0] / then[0], now[1] / then[1],
                                            now[2] - then[2]]))
    print("last day before the fault vs the machine's own running median:")
    for src, r in rows.items():
        if not r:
            continue
        a = np.array(r)
        p10, p50, p90 = np.percentile(a[:, 0], [10, 50, 90])
        print(f"{src:>8}: {len(a)} faults; vibration RMS x{p50:.2f} (p10 {p10:.2f}, p90 "
              f"{p90:.2f}), crest factor x{np.median(a[:, 1]):.2f}, temperature "
              f"{np.median(a[:, 2]):+.1f} degC")


if __name__ == "__main__":
    main()
