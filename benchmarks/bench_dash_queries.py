"""How long each screen's queries take against InfluxDB holding a backfilled plant.

Starts a private influxd (stack.services), backfills the default plant for the window
(`factory-sim backfill`), then runs every panel query of each screen the way a dashboard
refresh does (expanded with dashboards.queries.substitute, the dashboard's own time
range and each panel's min interval), several rounds, and prints per-screen timings.
A screen refreshes every 10 s, so its queries together should take well under that.

    .venv/bin/python benchmarks/bench_dash_queries.py [--hours 24] [--rounds 5] [--scale 1]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dashboards import queries as q
from dashboards.build import build_lang
from stack.services import Influxd, free_port
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient

RANGE_MS = {"now-24h": 24 * 3_600_000, "now-8h": 8 * 3_600_000, "now-1h": 3_600_000}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=24, help="history to backfill (default 24)")
    ap.add_argument("--rounds", type=int, default=5, help="refreshes per screen (default 5)")
    ap.add_argument("--scale", type=int, default=1, help="plant scale factor (default 1)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        influxd = Influxd(run_dir=Path(tmp), port=free_port(), database="factory")
        influxd.start(timeout_s=60)
        try:
            t0 = time.monotonic()
            end = "2026-11-26T12:00:00Z"
            proc = subprocess.run(
                [sys.executable, "-m", "simulator", "backfill", "--days", str(args.hours / 24),
                 "--end", end, "--seed", "3", "--scale", str(args.scale), "--no-progress",
                 "--influx-url", influxd.url, "--influx-db", "factory"],
                capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                return 1
            print(f"backfilled {args.hours:g} h of the default plant (scale {args.scale}) in "
                  f"{time.monotonic() - t0:.1f} s")
            client = InfluxClient(InfluxEndpoint(url=influxd.url, db="factory"), timeout_s=120)
            to_ms = int(time.mktime(time.strptime(end, "%Y-%m-%dT%H:%M:%SZ"))
                        - time.timezone) * 1000
            print(f"{'screen':24} {'queries':>7} {'median s':>9} {'max s':>7}")
            for built in build_lang("en"):
                range_ms = RANGE_MS.get(built.model["time"]["from"], 24 * 3_600_000)
                texts = [q.substitute(t["query"], from_ms=to_ms - range_ms, to_ms=to_ms,
                                      min_interval=p.get("interval"))
                         for p in built.model["panels"] for t in p["targets"]]
                times = []
                for _ in range(args.rounds):
                    t1 = time.monotonic()
                    for text in texts:
                        client.query(text)
                    times.append(time.monotonic() - t1)
                print(f"{built.slug:24} {len(texts):7d} {statistics.median(times):9.3f} "
                      f"{max(times):7.3f}")
            client.close()
        finally:
            influxd.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
