"""Simulator publishing to a local Mosquitto at QoS 0 vs a bare paho-mqtt loop.

Starts its own Mosquitto (stack.services) on a free port, then in the same run:

1. bare: one paho client (telemetry.mqtt.make_client, network thread) publishing a
   pre-encoded telemetry payload N times at QoS 0, with the same back-pressure bound;
2. simulator: the pipeline of ``factory-sim run --speed max`` (model, encoder, MQTT
   sink, runner) for the default plant with every kind at QoS 0; the runner's clock
   covers generation, encoding and publishing; the sink waits for paho to send all.

Prints both rates and the ratio (target >= 70 %). Usage:
    .venv/bin/python benchmarks/bench_sim_publish.py [--messages 50000] [--duration 30m]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
from pathlib import Path

from simulator.cli import REPRODUCIBLE_START, parse_time_ms
from simulator.control import parse_duration_s
from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import load_plant
from simulator.publish import DEFAULT_QOS, MqttSink
from simulator.runner import Runner
from stack.services import Mosquitto, free_port
from telemetry.endpoints import MqttEndpoint
from telemetry.mqtt import connect_kwargs, make_client
from telemetry.topics import control_topic

PAYLOAD = (b'{"ts":1767571200000,"temp_c":34.8,"vibration_mm_s":0.734,"vibration_crest":3.02,'
           b'"power_kw":94.178,"current_a":159.92,"load_pct":61.5}')
TOPIC = "hearth/shengzhou/hardware/cutting/laser-01/telemetry"


def bare(url: str, n: int, max_pending: int = 20_000) -> float:
    ep = MqttEndpoint.from_url(url)
    client = make_client(ep, "bench-bare")
    done = [0]  # written only by paho's network thread

    def on_publish(*_: object) -> None:
        done[0] += 1

    client.on_publish = on_publish
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set()
    client.connect(**connect_kwargs(client, ep))
    client.loop_start()
    connected.wait(10)
    t0 = time.perf_counter()
    for i in range(n):
        while i - done[0] >= max_pending:
            time.sleep(0.001)
        client.publish(TOPIC, PAYLOAD, 0)
    while done[0] < n:
        time.sleep(0.001)
    elapsed = time.perf_counter() - t0
    client.disconnect()
    client.loop_stop()
    return n / elapsed


def simulator(url: str, duration: str) -> tuple[float, int]:
    """The same pipeline `factory-sim run --sink mqtt --speed max` builds."""
    plant = load_plant()
    iv = Intervals.from_seconds(5.0)
    model = PlantModel(plant, 1, parse_time_ms(REPRODUCIBLE_START, "start"), iv)
    encoder = Encoder(model)
    sink = MqttSink(MqttEndpoint.from_url(url), "bench-sim",
                    status_topic=control_topic(plant.enterprise, plant.site, "status/bench"),
                    qos=dict.fromkeys(DEFAULT_QOS, 0))
    sink.set_birth(encoder.meta(model.start_ms))
    sink.wait_connected(10)
    ticks = round(parse_duration_s(duration) / iv.step_s)
    stats = Runner(model, encoder, sink, duration_ticks=ticks).run()
    sink.close()
    return stats.messages / stats.wall_s, stats.messages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=50_000, help="bare-loop messages")
    ap.add_argument("--duration", default="30m", help="simulated time for the simulator run")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate bare/simulator this many times; report medians")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bare_rates: list[float] = []
    sim_rates: list[float] = []
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        mq = Mosquitto(run_dir=Path(tmp), port=free_port())
        mq.start()
        try:
            for _ in range(args.rounds):
                bare_rates.append(bare(mq.url, args.messages))
                rate, n = simulator(mq.url, args.duration)
                sim_rates.append(rate)
        finally:
            mq.stop()
    b, s = statistics.median(bare_rates), statistics.median(sim_rates)
    print(f"bare paho loop, pre-encoded payload, QoS 0: {b:,.0f} msg/s median of "
          f"{', '.join(f'{r:,.0f}' for r in bare_rates)} ({args.messages:,} messages each)")
    print(f"factory-sim run --speed max, all kinds QoS 0: {s:,.0f} msg/s median of "
          f"{', '.join(f'{r:,.0f}' for r in sim_rates)} ({n:,} messages each, default "
          f"plant, {args.duration} simulated)")
    print(f"ratio of medians: {100 * s / b:.0f} % (target >= 70 %)")


if __name__ == "__main__":
    main()
