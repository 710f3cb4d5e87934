"""A big plant in real time: can `factory-sim run` keep a ~2,000-machine plant at 1x?

Starts its own Mosquitto (stack.services) on a free port and runs the pipeline of
``factory-sim run --sink mqtt`` (model, encoder, MQTT sink with the default QoS per kind)
for the default plant grown ``--scale`` times (16 -> 2,016 machines), twice:

1. flat out (``--speed max``) for ``--max-duration`` of simulated time: how many times
   faster than real time the whole pipeline runs (simulated s per wall s), msg/s;
2. at 1x (``--speed 1``) for ``--realtime-s`` wall seconds: ticks skipped because the
   loop fell behind the wall clock (0 = it kept up), messages, and the share of one core
   the process used (CPU time / wall time).

Prints the load average before and after; never asserts timing. Usage:
    .venv/bin/python benchmarks/bench_sim_scale.py [--scale 16] [--realtime-s 120]
        [--max-duration 10m]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from simulator.cli import REPRODUCIBLE_START, parse_time_ms
from simulator.control import parse_duration_s
from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import Plant, load_plant
from simulator.publish import DEFAULT_QOS, MqttSink
from simulator.runner import Runner, RunStats
from stack.services import Mosquitto, free_port
from telemetry.endpoints import MqttEndpoint
from telemetry.topics import control_topic


def run(plant: Plant, url: str, start_ms: int, ticks: int,
        speed: float | None) -> tuple[RunStats, float]:
    """The pipeline ``factory-sim run --sink mqtt`` builds; (stats, CPU seconds)."""
    iv = Intervals.from_seconds(5.0)
    model = PlantModel(plant, 1, start_ms, iv)
    encoder = Encoder(model)
    sink = MqttSink(MqttEndpoint.from_url(url), "bench-scale",
                    status_topic=control_topic(plant.enterprise, plant.site, "status/bench"),
                    qos=dict(DEFAULT_QOS))
    sink.set_birth(encoder.meta(model.start_ms))
    sink.wait_connected(10)
    cpu0 = time.process_time()
    stats = Runner(model, encoder, sink, speed=speed, duration_ticks=ticks).run()
    cpu = time.process_time() - cpu0
    sink.close()
    return stats, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=16, help="plant scale (16 = 2,016 machines)")
    ap.add_argument("--max-duration", default="10m", help="simulated time of the flat-out run")
    ap.add_argument("--realtime-s", type=float, default=120.0,
                    help="wall seconds of the 1x run (0 = skip it)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    plant = load_plant(scale=args.scale)
    n = len(plant.machines)
    print(f"plant: default x{args.scale} = {n:,} machines; load avg before "
          f"{os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        mq = Mosquitto(run_dir=Path(tmp), port=free_port())
        mq.start()
        try:
            sim_s = parse_duration_s(args.max_duration)
            stats, cpu = run(plant, mq.url, parse_time_ms(REPRODUCIBLE_START, "start"),
                             round(sim_s / 5.0), None)
            print(f"flat out: {args.max_duration} simulated in {stats.wall_s:.1f} s wall = "
                  f"{sim_s / stats.wall_s:.1f}x real time; {stats.messages:,} messages, "
                  f"{stats.messages / stats.wall_s:,.0f} msg/s; CPU {cpu:.1f} s")
            if args.realtime_s > 0:
                now_ms = int(time.time() * 1000)
                stats, cpu = run(plant, mq.url, now_ms, round(args.realtime_s / 5.0), 1.0)
                print(f"1x: {stats.ticks} ticks of 5 s in {stats.wall_s:.1f} s wall, "
                      f"{stats.skipped_ticks} skipped (fell behind), {stats.messages:,} "
                      f"messages ({stats.messages / stats.wall_s:,.0f} msg/s); CPU "
                      f"{cpu:.1f} s = {100 * cpu / stats.wall_s:.0f} % of one core")
        finally:
            mq.stop()
    print(f"load avg after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
