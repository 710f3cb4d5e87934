"""The batched tutorial collector that bench_collector_paced.py compares with: MQTT ->
InfluxDB as blog posts write it (paho MQTT 3.1.1, json.loads, influxdb.InfluxDBClient
.write_points of 1,000 points, leftovers flushed after 1 s). It acks on receipt and keeps
nothing on disk, so a crash loses what it holds. Benchmark only (pip install influxdb).

    python benchmarks/tutorial_collector.py MQTT_PORT TOPIC INFLUX_PORT DB CLIENT_ID
"""

import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
from influxdb import InfluxDBClient

mqtt_port, topic, influx_port, db, client_id = sys.argv[1:6]
influx = InfluxDBClient("127.0.0.1", int(influx_port), database=db)
points: list[dict[str, object]] = []
lock = threading.Lock()
LEVELS = ("enterprise", "site", "area", "line", "machine")


def flush() -> None:
    global points
    with lock:
        batch, points = points, []
    if batch:
        influx.write_points(batch, time_precision="ms", batch_size=1000)


def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
    data = json.loads(msg.payload)
    parts = msg.topic.split("/")
    point = {"measurement": parts[-1], "tags": dict(zip(LEVELS, parts[:-1], strict=True)),
             "time": data.pop("ts"), "fields": {k: float(v) for k, v in data.items()}}
    with lock:
        points.append(point)
        full = len(points) >= 1000
    if full:
        flush()


def on_connect(client: mqtt.Client, *args: object) -> None:
    client.subscribe(topic, qos=1)


def on_subscribe(client: mqtt.Client, *args: object) -> None:
    print("subscribed", flush=True)


client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                     protocol=mqtt.MQTTv311, clean_session=False)
client.on_connect = on_connect
client.on_message = on_message
client.on_subscribe = on_subscribe
client.connect("127.0.0.1", int(mqtt_port))
client.loop_start()
while True:
    time.sleep(1)
    flush()
