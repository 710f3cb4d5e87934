"""Backfill throughput into a local InfluxDB 1.x: points/s end to end.

Starts its own influxd (stack.services) on a free port, runs ``factory-sim backfill``
of the default plant at 10 s telemetry resolution, and prints points written, wall time
and points/s (generation + line protocol + HTTP writes + influxd ingest, all on this
machine), then counts the telemetry points back with InfluxQL as a sanity check.
Default: 0.5 day (a few minutes at most); the issue's figure is ``--days 7``. Usage:
    .venv/bin/python benchmarks/bench_sim_backfill.py [--days 7] [--scale 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

from simulator.backfill import backfill, window
from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import Plant, load_plant
from stack.services import Influxd, free_port
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient

END = 1_767_571_200_000  # 2026-01-05T00:00:00Z, a fixed window for comparable runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=float, default=0.5)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--interval-s", type=float, default=10.0)
    ap.add_argument("--batch-points", type=int, default=50_000)
    ap.add_argument("--no-decompose", action="store_true",
                    help="skip the generation-only and write-only figures")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    plant = load_plant(scale=args.scale)
    iv = Intervals.from_seconds(args.interval_s, 60.0, 300.0)
    start, _end, ticks = window(END, args.days, round(args.interval_s * 1000))
    with tempfile.TemporaryDirectory() as tmp:
        db = Influxd(run_dir=Path(tmp), port=free_port(), database="factory")
        db.start()
        try:
            client = InfluxClient(InfluxEndpoint(url=db.url, db="factory"), timeout_s=120)
            model = PlantModel(plant, 1, start, iv)
            stats = backfill(model, ticks, client, batch_points=args.batch_points)
            res = json.loads(db.query("SELECT count(temp_c) FROM telemetry", db="factory"))
            counted = res["results"][0]["series"][0]["values"][0][1]
            if not args.no_decompose:
                gen_rate, write_rate = decompose(plant, iv, start, ticks, client,
                                                 args.batch_points)
            client.close()
        finally:
            db.stop()
    print(f"backfill: default plant x{args.scale} ({len(plant.machines)} machines), "
          f"{args.days:g} days at {args.interval_s:g} s, {ticks:,} ticks")
    print(f"wrote {stats.points:,} points in {stats.batches} batches, {stats.wall_s:.1f} s: "
          f"{stats.points_per_s:,.0f} points/s (target >= 150,000); retries {stats.retries}")
    print(f"check: {counted:,} telemetry points read back "
          f"(expected {(ticks + 1) * len(plant.machines):,})")
    if not args.no_decompose:
        print(f"decomposed (same window again): generation + line protocol alone "
              f"{gen_rate:,.0f} points/s; HTTP write + influxd ingest of pre-built bodies "
              f"alone {write_rate:,.0f} points/s")


def decompose(plant: Plant, iv: Intervals, start: int, ticks: int, client: InfluxClient,
              batch: int) -> tuple[float, float]:
    """Time the two halves separately: build every body in memory, then post them all."""
    client.query('CREATE DATABASE "factory2"', db="")
    model = PlantModel(plant, 1, start, iv)
    enc = Encoder(model)
    t0 = time.perf_counter()
    lines = enc.lines(model.initial_frame())
    for k in range(ticks):
        frame = model.step(force_counts=k == ticks - 1)
        lines.extend(enc.lines(frame))
        model.after_emit(frame)
    bodies = [("\n".join(lines[i:i + batch]) + "\n").encode()
              for i in range(0, len(lines), batch)]
    gen_s = time.perf_counter() - t0
    other = InfluxClient(InfluxEndpoint(url=client.endpoint.url, db="factory2"),
                         timeout_s=120)
    t0 = time.perf_counter()
    for body in bodies:
        res = other.write(body)
        if not res.ok:
            raise SystemExit(f"write failed: {res.status} {res.body[:200]}")
    write_s = time.perf_counter() - t0
    other.close()
    return len(lines) / gen_s, len(lines) / write_s


if __name__ == "__main__":
    main()
