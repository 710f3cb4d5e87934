"""CPU per message at plant rates: this collector against the batched tutorial collector
(benchmarks/tutorial_collector.py), same driver, same run, same local stack.

For each rate (paced, and 0 = flat out) and each consumer: start it live and subscribed,
publish N telemetry messages at that rate (a paho publisher process, QoS 1, 1,000
machines), wait until InfluxDB holds all N (count read back: zero loss is checked), then
read the consumer's CPU time (utime + stime from /proc, from after its start to the end)
and its peak RSS (VmHWM). Medians over --rounds; the ratio per round is printed.

    .venv/bin/python benchmarks/bench_collector_paced.py [--rates 1000,5000,0]
        [--seconds 6] [--full-messages 20000] [--rounds 3]

Needs `pip install influxdb` (the tutorial's client; a dev dependency).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _collector_bench import (
    REPO,
    collector_cmd,
    cpu_seconds,
    env,
    finish,
    influx_count,
    metric,
    publisher,
    rss_mb,
    start_stack,
)

from stack.services import Influxd, Mosquitto, free_port

TUTORIAL = REPO / "benchmarks" / "tutorial_collector.py"


def start_consumer(kind: str, mqtt: Mosquitto, influx: Influxd, run: Path,
                   prefix: str) -> subprocess.Popen[str]:
    if kind == "collector":
        port = free_port()
        proc = subprocess.Popen(collector_cmd(mqtt, influx, run / prefix, prefix, port),
                                env=env(), text=True)
        while metric(port, "collector_mqtt_connected") < 1:
            time.sleep(0.1)
        time.sleep(0.5)  # its SUBACK (the metric says connected, the log says more)
        return proc
    proc = subprocess.Popen([sys.executable, str(TUTORIAL), str(mqtt.port), f"{prefix}/#",
                             str(influx.port), "bench", f"{prefix}-tutorial"],
                            env=env(), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "subscribed"
    return proc


def one(kind: str, mqtt: Mosquitto, influx: Influxd, run: Path, n: int,
        rate: float) -> tuple[float, float, float]:
    """(CPU us/msg, msg/s publish -> all stored, peak RSS MB) of one consumer."""
    prefix = f"{kind[0]}{uuid.uuid4().hex[:8]}"
    proc = start_consumer(kind, mqtt, influx, run, prefix)
    try:
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.monotonic()
        finish(publisher(mqtt, prefix, n, rate))
        where = f"WHERE enterprise = '{prefix}'"
        while influx_count(influx, where=where) < n:
            time.sleep(0.2)
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(proc.pid) - cpu0
        peak = rss_mb(proc.pid, "VmHWM")
        stored = influx_count(influx, where=where)
        assert stored == n, f"{kind}: {stored} of {n} stored"
    finally:
        proc.terminate()
        proc.wait(60)
    return cpu / n * 1e6, n / elapsed, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default="1000,5000,0",
                    help="msg/s, comma-separated; 0 = flat out (full rate)")
    ap.add_argument("--seconds", type=float, default=6.0,
                    help="length of each paced run (N = rate x seconds)")
    ap.add_argument("--full-messages", type=int, default=20_000,
                    help="messages of the flat-out run")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-paced-") as tmp:
        run = Path(tmp)
        mqtt, influx = start_stack(run)
        results: dict[tuple[float, str], list[tuple[float, float, float]]] = {}
        try:
            for r in range(1, args.rounds + 1):
                print(f"round {r} (load avg {os.getloadavg()[0]:.1f})", flush=True)
                for rate in rates:
                    n = int(rate * args.seconds) if rate else args.full_messages
                    got = {}
                    for kind in ("collector", "tutorial"):
                        got[kind] = one(kind, mqtt, influx, run, n, rate)
                        results.setdefault((rate, kind), []).append(got[kind])
                    c, t = got["collector"], got["tutorial"]
                    label = f"{rate:.0f} msg/s" if rate else "flat out"
                    print(f"  {label}, {n} msgs: collector {c[0]:.0f} us/msg CPU, "
                          f"{c[1]:.0f} msg/s, peak RSS {c[2]:.0f} MB | tutorial {t[0]:.0f} "
                          f"us/msg, {t[1]:.0f} msg/s, {t[2]:.0f} MB | CPU ratio "
                          f"{c[0] / t[0]:.2f}, throughput ratio {c[1] / t[1]:.2f}",
                          flush=True)
        finally:
            mqtt.stop()
            influx.stop()
        print(f"medians of {args.rounds} rounds (load avg now {os.getloadavg()[0]:.1f}):")
        for rate in rates:
            label = f"{rate:.0f} msg/s" if rate else "flat out"
            med = {k: [statistics.median(x[i] for x in results[(rate, k)]) for i in range(3)]
                   for k in ("collector", "tutorial")}
            c, t = med["collector"], med["tutorial"]
            print(f"  {label}: collector {c[0]:.0f} us/msg, {c[1]:.0f} msg/s, {c[2]:.0f} MB; "
                  f"tutorial {t[0]:.0f} us/msg, {t[1]:.0f} msg/s, {t[2]:.0f} MB")


if __name__ == "__main__":
    main()
