"""Sustained QoS 1 throughput MQTT -> InfluxDB, one collector process, zero loss; beside a
bare paho subscriber and a tutorial-style collector (paho + one HTTP write per message)
measured in the same run on the same local stack.

All three connect with MQTT 5 and Receive Maximum 10,000 (the collector's default), so
the broker's inflight window is the same for each. Each consumer gets the same backlog:
its persistent session is created, N messages are published into it while it is away,
then it is started and timed from its connect until it has consumed (bare), written
(collector: all N queryable in InfluxDB, checked by count) or for a fixed window
(tutorial: it is too slow to drain N in a benchmark's time).

    .venv/bin/python benchmarks/bench_collector_throughput.py [--messages 100000]
        [--rounds 2] [--tutorial-s 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _collector_bench import (
    collector_cmd,
    cpu_seconds,
    env,
    finish,
    influx_count,
    metric,
    publisher,
    start_stack,
)

from stack.services import Influxd, Mosquitto, free_port

BARE = r'''
import sys, time, json, threading
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
port, topic, cid, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
mode = sys.argv[5]
got = 0; first = None; done = threading.Event(); subscribed = threading.Event()
def on_message(c, u, m):
    global got, first
    if first is None: first = time.monotonic()
    got += 1
    if got >= n: done.set()
c = paho.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=paho.MQTTv5)
c.on_message = on_message
c.on_subscribe = lambda *a: subscribed.set()
c.on_connect = lambda cl, *a: cl.subscribe(topic, qos=1)
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes
p = Properties(PacketTypes.CONNECT); p.SessionExpiryInterval = 3600
p.ReceiveMaximum = 10000  # as the collector's default: same broker-side inflight window
t0 = time.monotonic()
c.connect("127.0.0.1", port, clean_start=False, properties=p)
c.loop_start()
subscribed.wait(30)
if mode == "prepare":
    c.disconnect(); c.loop_stop(); sys.exit(0)
done.wait(600)
t1 = time.monotonic()
cpu = time.process_time()
print(json.dumps({"received": got, "elapsed_s": t1 - t0, "cpu_s": cpu}), flush=True)
c.disconnect(); c.loop_stop()
'''

TUTORIAL = r'''
import sys, time, json, http.client, urllib.parse
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
port, topic, cid, influx_port, seconds = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
    int(sys.argv[4]), float(sys.argv[5])
mode = sys.argv[6]
conn = http.client.HTTPConnection("127.0.0.1", influx_port, timeout=10)
q = urllib.parse.urlencode({"db": "bench", "precision": "ms"})
n = 0
def on_message(c, u, m):
    # The tutorial way: parse, format one point, one HTTP write per message.
    global n
    d = json.loads(m.payload)
    parts = m.topic.split("/")
    tags = ",".join(f"{k}={v}" for k, v in zip(
        ("enterprise", "site", "area", "line", "machine"), parts))
    fields = ",".join(f"{k}={float(v)}" for k, v in d.items() if k != "ts")
    conn.request("POST", f"/write?{q}", f"{parts[5]},{tags} {fields} {d['ts']}")
    conn.getresponse().read()
    n += 1
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes
c = paho.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=paho.MQTTv5)
c.on_message = on_message
c.on_connect = lambda cl, *a: cl.subscribe(topic, qos=1)
p = Properties(PacketTypes.CONNECT); p.SessionExpiryInterval = 3600
p.ReceiveMaximum = 10000
c.connect("127.0.0.1", port, clean_start=False, properties=p)
c.loop_start()
if mode == "prepare":
    time.sleep(1); c.disconnect(); c.loop_stop(); sys.exit(0)
time.sleep(seconds)
c.disconnect(); c.loop_stop()
print(json.dumps({"written": n, "elapsed_s": seconds}), flush=True)
'''


def bare_round(mqtt: Mosquitto, n: int) -> float:
    prefix = f"b{uuid.uuid4().hex[:8]}"
    argv = [sys.executable, "-c", BARE, str(mqtt.port), f"{prefix}/#", f"{prefix}-bare", str(n)]
    subprocess.run([*argv, "prepare"], check=True)
    finish(publisher(mqtt, prefix, n, 0))
    out = subprocess.run([*argv, "run"], check=True, capture_output=True, text=True)
    bare = json.loads(out.stdout.strip().splitlines()[-1])
    rate = float(bare["received"] / bare["elapsed_s"])
    print(f"  bare paho subscriber: {bare['received']} in {bare['elapsed_s']:.1f} s = "
          f"{rate:.0f} msg/s, {bare['cpu_s'] / n * 1e6:.0f} us CPU/msg", flush=True)
    return rate


def collector_round(mqtt: Mosquitto, influx: Influxd, run: Path, n: int) -> float:
    prefix = f"c{uuid.uuid4().hex[:8]}"
    port = free_port()
    cmd = collector_cmd(mqtt, influx, run / prefix, prefix, port)
    prep = subprocess.Popen(cmd, env=env())
    while metric(port, "collector_mqtt_connected") < 1:
        time.sleep(0.2)
    time.sleep(1)
    prep.terminate()
    prep.wait(60)
    finish(publisher(mqtt, prefix, n, 0))
    proc = subprocess.Popen(cmd, env=env())
    while metric(port, "collector_mqtt_connected") < 1:  # timed from connect,
        time.sleep(0.02)  # like the bare subscriber
    t0 = time.monotonic()
    while metric(port, "collector_points_written_total") < n:
        time.sleep(0.5)  # each scrape costs the collector CPU: keep them rare
    elapsed = time.monotonic() - t0
    cpu_s = cpu_seconds(proc.pid)
    stored = influx_count(influx, where=f"WHERE enterprise = '{prefix}'")
    proc.terminate()
    proc.wait(60)
    print(f"  collector: {n} written in {elapsed:.1f} s (connect -> all written) = "
          f"{n / elapsed:.0f} msg/s, {cpu_s / n * 1e6:.0f} us CPU/msg; InfluxDB holds {stored} "
          f"({'zero loss' if stored == n else f'LOST {n - stored}'})", flush=True)
    return n / elapsed


def tutorial_round(mqtt: Mosquitto, influx: Influxd, n: int, seconds: float) -> float:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    argv = [sys.executable, "-c", TUTORIAL, str(mqtt.port), f"{prefix}/#",
            f"{prefix}-tutorial", str(influx.port), str(seconds)]
    subprocess.run([*argv, "prepare"], check=True)
    finish(publisher(mqtt, prefix, n, 0))
    out = subprocess.run([*argv, "run"], check=True, capture_output=True, text=True)
    tut = json.loads(out.stdout.strip().splitlines()[-1])
    rate = float(tut["written"] / tut["elapsed_s"])
    print(f"  tutorial collector (one HTTP write per message): {tut['written']} in "
          f"{tut['elapsed_s']:.0f} s = {rate:.0f} msg/s", flush=True)
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2,
                    help="bare/collector/tutorial rounds (the VM is noisy; each is printed)")
    ap.add_argument("--tutorial-s", type=float, default=10.0,
                    help="how long the tutorial-style collector runs per round")
    args = ap.parse_args()
    n = args.messages
    with tempfile.TemporaryDirectory(prefix="bench-collector-") as tmp:
        run = Path(tmp)
        mqtt, influx = start_stack(run)
        try:
            for r in range(1, args.rounds + 1):
                print(f"round {r}: backlog of {n} QoS 1 messages per consumer")
                bare = bare_round(mqtt, n)
                coll = collector_round(mqtt, influx, run, n)
                tut = tutorial_round(mqtt, influx, min(n, 30_000), args.tutorial_s)
                print(f"  collector / bare subscriber = {coll / bare:.0%} (target >= 70 %); "
                      f"collector / tutorial = {coll / tut:.1f}x (target >= 3x)", flush=True)
        finally:
            mqtt.stop()
            influx.stop()


if __name__ == "__main__":
    main()
