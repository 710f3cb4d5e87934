"""influxd's own ingest ceiling on this machine: pre-generated line protocol, no simulator.

Starts its own influxd 1.6 (stack.services) on a free port, generates the backfill's
points once in memory (default plant, 10 s telemetry, the same lines ``factory-sim
backfill`` writes), then posts them over keep-alive HTTP with ``precision=ms`` into a
fresh database per configuration and prints points/s for each:

- batch size (points per POST), concurrent HTTP writers (threads, one connection each),
- gzip ``Content-Encoding`` on/off (compression is done before the clock starts, so the
  figure is influxd's cost alone: the best case for gzip),
- point order inside a batch: as generated (time-major: every series per tick) or sorted
  by series key (series-major).

Each configuration is run ``--repeat`` times, rounds interleaved, a fresh database each
time. Wall-clock rates on a shared VM swing 2-5x with other load, so besides the median
and best rate it prints the CPU time influxd itself spent per point while the writes
ran (from /proc/<pid>/stat; robust to load) and the writer side's CPU per point: one
core's worth of influxd can ingest at most 1e6 / (influxd us/point) points/s.
Default: one factor at a time around 50k/1 writer/plain/as-generated, 0.25 day of
points (a few minutes); ``--full`` runs the whole grid. Usage:
    .venv/bin/python benchmarks/bench_sim_ingest.py [--days 0.25] [--repeat 3] [--full]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import itertools
import os
import queue
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import load_plant
from stack.services import Influxd, free_port

END = 1_767_571_200_000  # 2026-01-05T00:00:00Z


@dataclass(frozen=True)
class Config:
    batch: int
    writers: int
    gzip: bool
    sorted_keys: bool

    def label(self) -> str:
        return (f"{self.batch:>6,} {self.writers:>7} {'on' if self.gzip else 'off':>4} "
                f"{'series' if self.sorted_keys else 'time':>6}")


def generate(days: float) -> list[str]:
    plant = load_plant()
    iv = Intervals.from_seconds(10.0, 60.0, 300.0)
    ticks = round(days * 8640)
    model = PlantModel(plant, 1, END - ticks * 10_000, iv)
    enc = Encoder(model)
    lines = enc.lines(model.initial_frame())
    for k in range(ticks):
        frame = model.step(force_counts=k == ticks - 1)
        lines.extend(enc.lines(frame))
        model.after_emit(frame)
    return lines


def _series_key(line: str) -> str:
    # measurement+tags end at the first unescaped space; simulator tags hold no spaces.
    return line.split(" ", 1)[0]


def bodies(lines: list[str], cfg: Config) -> list[bytes]:
    out = []
    for i in range(0, len(lines), cfg.batch):
        chunk = lines[i:i + cfg.batch]
        if cfg.sorted_keys:
            chunk = sorted(chunk, key=_series_key)  # stable: time order kept per series
        raw = ("\n".join(chunk) + "\n").encode()
        out.append(gzip.compress(raw, compresslevel=1) if cfg.gzip else raw)
    return out


def cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    rate: float  # points/s, wall clock
    server_us: float  # influxd CPU us per point
    client_us: float  # this process's CPU us per point (HTTP writers)


def post_all(port: int, db: str, payloads: list[bytes], writers: int, gz: bool) -> float:
    """Post every body with ``writers`` threads; return wall seconds."""
    work: queue.Queue[bytes | None] = queue.Queue()
    for b in payloads:
        work.put(b)
    for _ in range(writers):
        work.put(None)
    errors: list[str] = []
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    if gz:
        headers["Content-Encoding"] = "gzip"

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while (body := work.get()) is not None:
            conn.request("POST", f"/write?db={db}&precision=ms", body, headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 204:
                errors.append(f"{resp.status} {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"write failed: {errors[0]}")
    return wall


def configs(full: bool) -> list[Config]:
    if full:
        return [Config(b, w, g, s) for b, w, g, s in itertools.product(
            (5_000, 10_000, 50_000), (1, 2, 3, 4), (False, True), (False, True))]
    base = Config(50_000, 1, False, False)
    out = [base, Config(5_000, 1, False, False), Config(10_000, 1, False, False)]
    out += [Config(50_000, w, False, False) for w in (2, 4)]
    out += [Config(50_000, 1, True, False), Config(50_000, 1, False, True)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=float, default=0.25)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="the whole grid (slow)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    lines = generate(args.days)
    gen_s = time.perf_counter() - t0
    print(f"{len(lines):,} points ({args.days:g} day of the default plant at 10 s) generated "
          f"in {gen_s:.1f} s ({len(lines) / gen_s:,.0f} points/s, one core); "
          f"load avg {os.getloadavg()[0]:.1f}")
    cfgs = configs(args.full)
    print(f" batch writers gzip  order  median pts/s  best pts/s  influxd CPU us/pt  "
          f"writer CPU us/pt  (medians of {args.repeat}; rates of each run)")
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = Influxd(run_dir=Path(tmp), port=free_port(), database="")
        db.start()
        try:
            # Interleave rounds so load drifts hit every configuration alike.
            runs: dict[Config, list[Run]] = {c: [] for c in cfgs}
            assert db.pid is not None
            prepared = {c: bodies(lines, c) for c in cfgs}
            for _ in range(args.repeat):
                for c in cfgs:
                    n += 1
                    name = f"ingest{n}"
                    db.query(f'CREATE DATABASE "{name}"')
                    server0, client0 = cpu_s(db.pid), time.process_time()
                    wall = post_all(db.port, name, prepared[c], c.writers, c.gzip)
                    server = cpu_s(db.pid) - server0
                    client = time.process_time() - client0
                    runs[c].append(Run(len(lines) / wall, server * 1e6 / len(lines),
                                       client * 1e6 / len(lines)))
                    db.query(f'DROP DATABASE "{name}"')
            for c in cfgs:
                rs = runs[c]
                each = " ".join(f"{r.rate:,.0f}" for r in rs)
                print(f"{c.label()}  {statistics.median(r.rate for r in rs):>11,.0f}  "
                      f"{max(r.rate for r in rs):>10,.0f}  "
                      f"{statistics.median(r.server_us for r in rs):>17.1f}  "
                      f"{statistics.median(r.client_us for r in rs):>16.1f}  ({each})")
        finally:
            db.stop()
    print(f"load avg after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
