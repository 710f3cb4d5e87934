"""Publish -> queryable latency at a fixed rate, then peak RSS during an InfluxDB outage
at that rate, for one collector process on a local stack.

Latency: while a paced publisher (its own process) sends telemetry at --rate msg/s, this
script publishes a probe every 50 ms and polls InfluxDB every 50 ms; a probe's latency is
the time from its publish to the first poll that sees it (so figures include up to ~50 ms
of polling granularity). Outage: at the same rate, influxd is stopped for --outage-s, the
collector's RSS is sampled every 0.5 s, influxd is restarted, and the run reports how long
the spool took to drain back to about one batch (the load keeps coming) and checks that
every message published is in InfluxDB (zero loss).

    .venv/bin/python benchmarks/bench_collector_latency.py [--rate 5000] [--seconds 30]
        [--outage-s 60]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
from _collector_bench import (
    T0_MS,
    collector_cmd,
    env,
    influx_count,
    load_publisher,
    metric,
    rss_mb,
    start_stack,
)
from paho.mqtt.enums import CallbackAPIVersion

from stack.services import Influxd, free_port
from telemetry.topics import machine_topic


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def probe_latencies(influx: Influxd, mqtt_port: int, prefix: str,
                    stop: threading.Event) -> list[float]:
    topic = machine_topic(prefix, "sz", "probe", "probe", "probe", "telemetry")
    c = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    c.connect("127.0.0.1", mqtt_port)
    c.loop_start()
    sent: dict[int, float] = {}
    seen: dict[int, float] = {}

    def poll() -> None:
        while not stop.is_set() or len(seen) < len(sent):
            body = json.loads(influx.query(
                f"SELECT seq FROM telemetry WHERE machine = 'probe' AND enterprise = "
                f"'{prefix}'", db="bench"))
            now = time.monotonic()
            for s in body["results"][0].get("series") or []:
                for _, seq in s["values"]:
                    seen.setdefault(int(seq), now)
            if stop.is_set() and time.monotonic() > stop_time[0] + 30:
                break
            time.sleep(0.05)

    stop_time = [float("inf")]
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    seq = 0
    while not stop.is_set():
        sent[seq] = time.monotonic()
        c.publish(topic, json.dumps({"ts": int(time.time() * 1000), "temp_c": 1.0,
                                     "seq": seq}), qos=1)
        seq += 1
        time.sleep(0.05)
    stop_time[0] = time.monotonic()
    poller.join(60)
    c.disconnect()
    c.loop_stop()
    return [seen[k] - sent[k] for k in sent if k in seen] + \
        [float("inf")] * sum(1 for k in sent if k not in seen)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=5000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--outage-s", type=float, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-collector-") as tmp:
        run = Path(tmp)
        mqtt, influx = start_stack(run)
        proc = None
        try:
            prefix = f"l{uuid.uuid4().hex[:8]}"
            port = free_port()
            proc = subprocess.Popen(collector_cmd(mqtt, influx, run / "spool", prefix, port),
                                    env=env())
            while metric(port, "collector_mqtt_connected") < 1:
                time.sleep(0.2)
            n = int(args.rate * args.seconds)
            topics = [machine_topic(prefix, "sz", "hardware", "cut", f"m{k}", "telemetry")
                      for k in range(4)]
            load = load_publisher(mqtt, prefix, topics, n, args.rate, T0_MS)
            stop = threading.Event()
            result: list[list[float]] = []
            t = threading.Thread(target=lambda: result.append(
                probe_latencies(influx, mqtt.port, prefix, stop)))
            t.start()
            elapsed = load.wait()
            stop.set()
            t.join()
            lat = result[0]
            achieved = n / elapsed
            finite = [x for x in lat if x != float("inf")]
            print(f"latency at {args.rate:.0f} msg/s requested ({achieved:.0f} msg/s achieved "
                  f"by the publisher, {n} messages, {len(lat)} probes): "
                  f"p50 {percentile(lat, 0.5) * 1000:.0f} ms, p99 "
                  f"{percentile(lat, 0.99) * 1000:.0f} ms, max {max(finite) * 1000:.0f} ms, "
                  f"mean {statistics.mean(finite) * 1000:.0f} ms; unseen probes "
                  f"{len(lat) - len(finite)}")
            print(f"collector RSS after the latency run: {rss_mb(proc.pid):.0f} MB")
            # Outage at the same rate.
            total_s = args.outage_s + 20
            n2 = int(args.rate * total_s)
            load = load_publisher(mqtt, prefix, topics, n2, args.rate, T0_MS + n)
            time.sleep(5)
            influx.stop()
            t_stop = time.monotonic()
            peak, depth = 0.0, 0.0
            while time.monotonic() - t_stop < args.outage_s:
                peak = max(peak, rss_mb(proc.pid))
                depth = max(depth, metric(port, "collector_spool_depth"))
                time.sleep(0.5)
            influx.restart()
            t_back = time.monotonic()
            # Backlog drained: the spool is back to about one batch while the load goes on.
            while metric(port, "collector_spool_depth") > max(1000.0, args.rate / 2):
                peak = max(peak, rss_mb(proc.pid))
                time.sleep(0.5)
            drained_s = time.monotonic() - t_back
            elapsed2 = load.wait()
            expected = n + n2 + len(lat)
            while True:
                peak = max(peak, rss_mb(proc.pid))
                if metric(port, "collector_spool_depth") == 0 and \
                        metric(port, "collector_points_written_total") >= expected:
                    break
                time.sleep(0.5)
            stored = influx_count(influx, where=f"WHERE enterprise = '{prefix}'")
            print(f"outage: influxd stopped {args.outage_s:.0f} s at {args.rate:.0f} msg/s "
                  f"requested ({n2 / elapsed2:.0f} achieved); peak spool depth "
                  f"{depth:.0f} messages; peak collector RSS {peak:.0f} MB (VmHWM "
                  f"{rss_mb(proc.pid, 'VmHWM'):.0f} MB); backlog drained {drained_s:.0f} s "
                  f"after influxd returned (while the load went on); InfluxDB holds {stored} "
                  f"of {expected} ({'zero loss' if stored == expected else 'LOSS'})")
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(60)
            mqtt.stop()
            influx.stop()


if __name__ == "__main__":
    main()
