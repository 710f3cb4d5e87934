"""Simulator generation speed: machine-samples/s of the model alone (null sink).

One machine-sample = one machine stepped one tick (state machine, production, heat,
wear, signals, energy, sales). The null sink makes the runner skip encoding, so this is
the model's own rate; a second figure shows messages/s when every message is also
encoded to JSON (stdout sink writing to /dev/null), for comparison. Single process,
one core. Usage:
    .venv/bin/python benchmarks/bench_sim_generate.py [--scale 100] [--ticks 720]
"""

from __future__ import annotations

import argparse
import time

from simulator.cli import REPRODUCIBLE_START, parse_time_ms
from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import load_plant
from simulator.runner import Runner
from simulator.sinks import NullSink, StdoutSink


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=100, help="plant scale (default 100)")
    ap.add_argument("--ticks", type=int, default=720, help="ticks to run (default 720 = 1 h)")
    ap.add_argument("--encode-ticks", type=int, default=60,
                    help="ticks for the JSON-encoding comparison (default 60)")
    args = ap.parse_args()
    start = parse_time_ms(REPRODUCIBLE_START, "start")
    plant = load_plant(scale=args.scale)
    n = len(plant.machines)
    iv = Intervals.from_seconds(5.0)
    t0 = time.perf_counter()
    model = PlantModel(plant, 1, start, iv)
    setup_s = time.perf_counter() - t0
    stats = Runner(model, Encoder(model), NullSink(), duration_ticks=args.ticks).run()
    rate = n * stats.ticks / stats.wall_s
    print(f"plant: default x{args.scale} = {n:,} machines; model set-up {setup_s:.2f} s")
    print(f"null sink: {stats.ticks} ticks in {stats.wall_s:.2f} s = {rate:,.0f} "
          f"machine-samples/s (target >= 1,000,000)")
    with open("/dev/null", "w") as devnull:
        model = PlantModel(plant, 1, start, iv)
        sink = StdoutSink(devnull)
        stats = Runner(model, Encoder(model), sink, duration_ticks=args.encode_ticks).run()
    print(f"stdout sink to /dev/null (JSON per message): {stats.ticks} ticks, "
          f"{stats.messages:,} messages in {stats.wall_s:.2f} s = "
          f"{stats.messages / stats.wall_s:,.0f} msg/s, "
          f"{n * stats.ticks / stats.wall_s:,.0f} machine-samples/s")


if __name__ == "__main__":
    main()
