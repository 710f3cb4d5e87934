"""Backfill throughput into a local InfluxDB 1.x: points/s end to end.

Starts its own influxd (stack.services) on a free port, runs ``factory-sim backfill``
of the default plant at 10 s telemetry resolution, and prints points written, wall time
and points/s (generation + line protocol + HTTP writes + influxd ingest, all on this
machine) with the CPU time influxd and the backfill process each spent per point (robust
to other load), then counts the telemetry points back with InfluxQL as a sanity check.
Each configuration of ``--configs`` (writers x batch points) runs ``--repeat`` times,
interleaved, each into a fresh database; the median is printed beside every run.
Default: 0.5 day, writers 1 and 2 (a few minutes); the issue's figure is ``--days 7``.
influxd's ingest alone is ``bench_sim_ingest.py``. Usage:
    .venv/bin/python benchmarks/bench_sim_backfill.py [--days 7] [--repeat 3]
        [--configs 1x50000,2x50000,2x10000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

from simulator.backfill import (
    DEFAULT_BATCH_POINTS,
    DEFAULT_WRITERS,
    BackfillStats,
    backfill,
    window,
)
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
    ap.add_argument("--batch-points", type=int, default=DEFAULT_BATCH_POINTS,
                    help="batch size of the decomposed figures")
    ap.add_argument("--configs", default=f"{DEFAULT_WRITERS}x{DEFAULT_BATCH_POINTS},"
                                         f"{DEFAULT_WRITERS + 1}x{DEFAULT_BATCH_POINTS}",
                    help="comma-separated WRITERSxBATCH_POINTS to compare")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-decompose", action="store_true",
                    help="skip the generation-only and write-only figures")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    plant = load_plant(scale=args.scale)
    iv = Intervals.from_seconds(args.interval_s, 60.0, 300.0)
    start, _end, ticks = window(END, args.days, round(args.interval_s * 1000))
    configs = [tuple(int(x) for x in c.split("x")) for c in args.configs.split(",")]
    runs: dict[tuple[int, ...], list[BackfillStats]] = {c: [] for c in configs}
    counted: list[int] = []
    cpu_us: dict[tuple[int, ...], list[tuple[float, float]]] = {c: [] for c in configs}
    load_before = os.getloadavg()[0]
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = Influxd(run_dir=Path(tmp), port=free_port(), database="")
        db.start()
        try:
            for _ in range(args.repeat):
                for writers, batch in configs:
                    n += 1
                    name = f"factory{n}"
                    db.query(f'CREATE DATABASE "{name}"')
                    client = InfluxClient(InfluxEndpoint(url=db.url, db=name), timeout_s=120)
                    model = PlantModel(plant, 1, start, iv)
                    server0, own0 = cpu_s(db.pid or 0), time.process_time()
                    stats = backfill(model, ticks, client, batch_points=batch, writers=writers)
                    runs[writers, batch].append(stats)
                    cpu_us[writers, batch].append(
                        ((cpu_s(db.pid or 0) - server0) * 1e6 / stats.points,
                         (time.process_time() - own0) * 1e6 / stats.points))
                    res = json.loads(db.query("SELECT count(temp_c) FROM telemetry", db=name))
                    counted.append(res["results"][0]["series"][0]["values"][0][1])
                    client.close()
                    db.query(f'DROP DATABASE "{name}"')
            if not args.no_decompose:
                client = InfluxClient(InfluxEndpoint(url=db.url, db="factory"), timeout_s=120)
                gen_rate, write_rate = decompose(plant, iv, start, ticks, client,
                                                 args.batch_points)
                client.close()
        finally:
            db.stop()
    load_after = os.getloadavg()[0]
    print(f"backfill: default plant x{args.scale} ({len(plant.machines)} machines), "
          f"{args.days:g} days at {args.interval_s:g} s, {ticks:,} ticks; "
          f"load avg {load_before:.1f} before, {load_after:.1f} after")
    for (writers, batch), done in runs.items():
        rates = [s.points_per_s for s in done]
        each = " ".join(f"{r:,.0f}" for r in rates)
        print(f"writers {writers}, batch {batch:,}: {done[0].points:,} points, "
              f"median {statistics.median(rates):,.0f} points/s (runs: {each}; "
              f"wall {statistics.median(s.wall_s for s in done):.1f} s; "
              f"retries {sum(s.retries for s in done)}) (target >= 150,000); CPU per point: "
              f"influxd {statistics.median(c[0] for c in cpu_us[writers, batch]):.1f} us, "
              f"backfill process {statistics.median(c[1] for c in cpu_us[writers, batch]):.1f} us")
    want = (ticks + 1) * len(plant.machines)
    print(f"check: telemetry points read back per run {sorted(set(counted))} "
          f"(expected {want:,})")
    if not args.no_decompose:
        print(f"decomposed (same window again, batch {args.batch_points:,}): generation + "
              f"line protocol alone {gen_rate:,.0f} points/s; HTTP write (1 connection) + "
              f"influxd ingest of pre-built bodies alone {write_rate:,.0f} points/s")


def cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def decompose(plant: Plant, iv: Intervals, start: int, ticks: int, client: InfluxClient,
              batch: int) -> tuple[float, float]:
    """Time the two halves separately: build every body in memory, then post them all."""
    client.query('CREATE DATABASE "factory_decomposed"', db="")
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
    other = InfluxClient(InfluxEndpoint(url=client.endpoint.url, db="factory_decomposed"),
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
