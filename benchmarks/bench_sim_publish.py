"""Simulator publishing to a local Mosquitto at QoS 0 vs a bare paho-mqtt loop.

Starts its own Mosquitto (stack.services) on a free port, then in the same run:

1. bare: one paho client (telemetry.mqtt.make_client, network thread) publishing a
   pre-encoded telemetry payload N times at QoS 0, with the same back-pressure bound;
2. simulator: ``factory-sim run --speed max`` of the default plant with every kind at
   QoS 0, counting the messages it published.

Prints both rates and the ratio (target >= 70 %). Usage:
    .venv/bin/python benchmarks/bench_sim_publish.py [--messages 50000] [--duration 30m]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from pathlib import Path

from simulator.cli import main as sim_main
from stack.services import Mosquitto, free_port
from telemetry.endpoints import MqttEndpoint
from telemetry.mqtt import connect_kwargs, make_client

PAYLOAD = (b'{"ts":1767571200000,"temp_c":34.8,"vibration_mm_s":0.734,"power_kw":94.178,'
           b'"current_a":159.92,"load_pct":61.5}')
TOPIC = "hearth/shengzhou/hardware/cutting/laser-01/telemetry"


def bare(url: str, n: int, max_pending: int = 20_000) -> float:
    ep = MqttEndpoint.from_url(url)
    client = make_client(ep, "bench-bare")
    done = [0]
    cond = threading.Condition()

    def on_publish(*_: object) -> None:
        with cond:
            done[0] += 1
            cond.notify_all()

    client.on_publish = on_publish
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set()
    client.connect(**connect_kwargs(client, ep))
    client.loop_start()
    connected.wait(10)
    t0 = time.perf_counter()
    for i in range(n):
        if i - done[0] >= max_pending:
            with cond:
                while i - done[0] >= max_pending:
                    cond.wait(0.5)
        client.publish(TOPIC, PAYLOAD, 0)
    with cond:
        while done[0] < n:
            cond.wait(0.5)
    elapsed = time.perf_counter() - t0
    client.disconnect()
    client.loop_stop()
    return n / elapsed


def simulator(url: str, duration: str) -> tuple[float, int]:
    import simulator.runner as runner_mod

    stats: list[runner_mod.RunStats] = []
    original = runner_mod.Runner.run

    def run(self: runner_mod.Runner) -> runner_mod.RunStats:
        s = original(self)
        stats.append(s)
        return s

    runner_mod.Runner.run = run  # type: ignore[method-assign]
    try:
        rc = sim_main(["run", "--seed", "1", "--duration", duration, "--speed", "max",
                       "--mqtt-url", url, "--log-level", "WARNING", "--qos",
                       "state=0,counts=0,alarm=0,workorder=0,energy=0,sales=0,meta=0"])
    finally:
        runner_mod.Runner.run = original  # type: ignore[method-assign]
    if rc != 0 or not stats:
        raise SystemExit(f"simulator run failed with {rc}")
    s = stats[0]
    return s.messages / s.wall_s, s.messages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=50_000, help="bare-loop messages")
    ap.add_argument("--duration", default="30m", help="simulated time for the simulator run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        mq = Mosquitto(run_dir=Path(tmp), port=free_port())
        mq.start()
        try:
            bare_rate = bare(mq.url, args.messages)
            sim_rate, n = simulator(mq.url, args.duration)
        finally:
            mq.stop()
    print(f"bare paho loop, pre-encoded payload, QoS 0: {bare_rate:,.0f} msg/s "
          f"({args.messages:,} messages)")
    print(f"factory-sim run --speed max, all kinds QoS 0: {sim_rate:,.0f} msg/s "
          f"({n:,} messages, default plant, {args.duration} simulated)")
    print(f"ratio: {100 * sim_rate / bare_rate:.0f} % (target >= 70 %)")


if __name__ == "__main__":
    main()
