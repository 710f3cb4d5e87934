"""A deterministic QoS 1 publisher of contract messages that can be counted exactly.

Message ``seq`` goes to machine ``m{seq % series}`` as a `telemetry` message whose payload
carries ``seq`` (an extra float field, exact below 2**53) and a timestamp unique within
its series, so every message is exactly one point and a redelivery overwrites itself.
A point stored twice under another timestamp would show as ``count(seq) >
count(distinct(seq))``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from telemetry.endpoints import MqttEndpoint
from telemetry.mqtt import MAX_INFLIGHT_IDS
from telemetry.topics import machine_topic

log = logging.getLogger(__name__)

TsMode = Literal["steady", "skewed"]

#: MQTT 5 PUBACK reason "no matching subscribers": accepted, but nobody will get it.
NO_MATCHING_SUBSCRIBERS = 16

#: Anchors of the skewed-timestamp mode (epoch ms): far past, far future, InfluxDB's
#: limits are 1677..2262, so these are storable; OUT_OF_RANGE is not (dead-lettered).
FAR_PAST_MS = 31_536_000_000  # 1971-01-01
FAR_FUTURE_MS = 7_258_118_400_000  # 2200-01-01
OUT_OF_RANGE_MS = 10_413_792_000_000  # 2300-01-01: beyond int64 nanoseconds
#: In skewed mode one message in this many carries an unstorable timestamp.
OUT_OF_RANGE_EVERY = 97


@dataclass(frozen=True)
class LoadSpec:
    """What to publish: `prefix` is the enterprise id (unique per run)."""

    prefix: str
    t0_ms: int
    series: int = 200
    ts_mode: TsMode = "steady"

    def __post_init__(self) -> None:
        if self.series < 1:
            raise ValueError(f"series must be >= 1, got {self.series}")

    def topic(self, seq: int) -> str:
        m = seq % self.series
        return machine_topic(self.prefix, "rel", "hardware", f"line{m % 4}", f"m{m:04d}",
                             "telemetry")

    def ts_ms(self, seq: int) -> int:
        """Timestamp of message `seq`: unique within its series in every mode."""
        k = seq // self.series
        if self.ts_mode == "steady":
            return self.t0_ms + k
        # skewed: rotate through now / far past / far future / descending (out of order)
        if seq % OUT_OF_RANGE_EVERY == 0:
            return OUT_OF_RANGE_MS + k
        cat = k % 4
        if cat == 0:
            return self.t0_ms + k
        if cat == 1:
            return FAR_PAST_MS + k
        if cat == 2:
            return FAR_FUTURE_MS + k
        return self.t0_ms - 1_000_000_000 - k  # runs backwards as seq grows

    def storable(self, seq: int) -> bool:
        return not (self.ts_mode == "skewed" and seq % OUT_OF_RANGE_EVERY == 0)

    def message(self, seq: int) -> tuple[str, bytes]:
        payload = {"ts": self.ts_ms(seq), "seq": seq, "temp_c": 20.0 + seq % 50 / 10,
                   "power_kw": float(seq % 1000)}
        return self.topic(seq), json.dumps(payload, separators=(",", ":")).encode()

    def seq_of_ts(self, ts_ms: int) -> int:
        """Steady mode: the highest k with ts <= ts_ms, as a message count boundary."""
        return max(0, ts_ms - self.t0_ms + 1) * self.series


@dataclass
class PublisherStats:
    published: int = 0  # handed to the client (it retries until acked)
    acked: int = 0  # PUBACK received
    acked_no_subscriber: int = 0  # PUBACK "no matching subscribers"
    refused: int = 0  # PUBACK with a failure reason code
    disconnects: int = 0
    last_ack_at: float = field(default=0.0)


class SeqPublisher:
    """Publishes messages 0, 1, 2, ... at `rate_per_s` in a thread until stopped.

    At most `window` messages are unacknowledged at once (paho numbers QoS 1 messages
    with 16-bit ids), so during a broker outage the publisher blocks like a device whose
    buffer is full; paho resends unacknowledged messages after reconnecting. Keep the
    window small: paho scans every unacknowledged message on each PUBACK, so with 5,000
    outstanding one thread acks only ~500-1,000 msg/s (measured), with 500 it keeps up.
    """

    def __init__(self, mqtt_url: str, spec: LoadSpec, rate_per_s: float,
                 client_id: str, window: int = 500) -> None:
        if not 0 < window < MAX_INFLIGHT_IDS // 2:
            raise ValueError(f"window must be 1..{MAX_INFLIGHT_IDS // 2 - 1}, got {window}")
        self.spec = spec
        self.rate_per_s = rate_per_s
        self.window = window
        self.stats = PublisherStats()
        self._ep = MqttEndpoint.from_url(mqtt_url)
        self._slots = threading.BoundedSemaphore(window)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._thread = threading.Thread(target=self._run, name="seq-publisher", daemon=True)
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                        protocol=paho.MQTTv5)
        c.max_inflight_messages_set(window)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(min_delay=1, max_delay=2)
        c.on_publish = self._on_publish
        c.on_disconnect = self._on_disconnect
        self.client = c

    # paho network thread -------------------------------------------------------------
    def _on_publish(self, _c: paho.Client, _u: object, _mid: int, reason: object,
                    _p: object) -> None:
        value = int(getattr(reason, "value", 0))
        with self._lock:
            self.stats.acked += 1
            self.stats.last_ack_at = time.monotonic()
            if value == NO_MATCHING_SUBSCRIBERS:
                self.stats.acked_no_subscriber += 1
            elif value >= 0x80:
                self.stats.refused += 1
        self._slots.release()

    def _on_disconnect(self, *_args: object) -> None:
        with self._lock:
            self.stats.disconnects += 1

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.client.connect(self._ep.host, self._ep.port, keepalive=10)
        self.client.loop_start()
        self._thread.start()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def _run(self) -> None:
        seq = 0
        tick_s = 0.01
        t_next = time.monotonic()
        carry = 0.0
        while not self._stop.is_set():
            if self._paused.is_set():
                self._stop.wait(0.05)
                t_next = time.monotonic()
                continue
            carry += self.rate_per_s * tick_s
            n = int(carry)
            carry -= n
            for _ in range(n):
                while not self._slots.acquire(timeout=0.2):
                    if self._stop.is_set():
                        return
                topic, payload = self.spec.message(seq)
                self.client.publish(topic, payload, qos=1)
                seq += 1
                with self._lock:
                    self.stats.published = seq
            t_next += tick_s
            delay = t_next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -5.0:  # far behind (blocked by the window): do not burst
                t_next = time.monotonic()

    def stop(self, ack_timeout_s: float = 120.0) -> bool:
        """Stop publishing, wait for every outstanding ack; True if all were acked."""
        self._stop.set()
        self._thread.join(timeout=30)
        deadline = time.monotonic() + ack_timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self.stats.acked >= self.stats.published:
                    break
            time.sleep(0.1)
        self.client.disconnect()
        self.client.loop_stop()
        with self._lock:
            return self.stats.acked >= self.stats.published

    def snapshot(self) -> PublisherStats:
        with self._lock:
            return PublisherStats(**vars(self.stats))
