"""Publishing to an MQTT broker (paho-mqtt 2.x via :func:`telemetry.mqtt.make_client`).

- QoS per kind (telemetry 0, everything else 1 by default), ``meta`` retained.
- A retained birth message and a last will on ``{e}/{s}/_control/status/{client_id}``
  (MQTT allows one will per connection), the retained ``meta`` of every machine on each
  (re)connect, and ``meta`` with ``online: false`` for every machine on a clean stop.
- Never more than ``max_pending`` messages handed to paho and not yet sent/acked (well
  below paho's 65,535 message ids): flat-out runs wait for the broker (back-pressure),
  paced runs drop and count instead of blocking the simulated clock.
- Broker unreachable or lost: one log line, paho reconnects with capped backoff, the
  simulation keeps going.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from telemetry.endpoints import MqttEndpoint
from telemetry.mqtt import MAX_INFLIGHT_IDS, connect_kwargs, make_client

log = logging.getLogger(__name__)

DEFAULT_QOS = {"telemetry": 0, "state": 1, "counts": 1, "downtime": 1, "alarm": 1,
               "workorder": 1, "energy": 1, "sales": 1, "meta": 1}


def parse_qos(text: str | None) -> dict[str, int]:
    """``"telemetry=0,counts=1"`` -> per-kind QoS over the defaults."""
    qos = dict(DEFAULT_QOS)
    if not text:
        return qos
    for part in text.split(","):
        kind, _, value = part.partition("=")
        kind = kind.strip()
        if kind not in qos or value.strip() not in ("0", "1", "2"):
            raise ValueError(f"--qos {part!r}: use kind=0|1|2 with kind one of "
                             f"{', '.join(qos)}")
        qos[kind] = int(value)
    return qos


class MqttSink:
    wants_messages = True

    def __init__(self, ep: MqttEndpoint, client_id: str, *, status_topic: str,
                 control_topic: str | None = None,
                 on_control: Callable[[str, bytes], None] | None = None,
                 qos: dict[str, int] | None = None, paced: bool = False,
                 max_pending: int = 20_000, keepalive_s: int = 30,
                 stop: threading.Event | None = None) -> None:
        self.ep = ep
        self.qos = qos or dict(DEFAULT_QOS)
        self.paced = paced
        self.max_pending = min(max_pending, MAX_INFLIGHT_IDS // 2)
        self.status_topic = status_topic
        self.control_topic = control_topic
        self.on_control = on_control
        self.stop = stop or threading.Event()
        self.sent = 0
        self.acked = 0
        self.dropped = 0
        self.connects = 0
        self._birth: list[tuple[str, bytes]] = []
        self._birth_lock = threading.Lock()  # birth set vs. (re)connect: never neither
        self._cond = threading.Condition()
        self._connected = threading.Event()
        self._lost_logged = False
        self._closing = False
        # paho walks its whole out-queue on every PUBACK while below max_inflight, so a
        # large window makes each ack O(window): 1000 took 10-12 s for a 10-minute
        # default-plant run at QoS 1, 200 took 5-6 s (same run, same machine).
        self.client = make_client(ep, client_id, max_inflight=200,
                                  max_queued=self.max_pending + 1000)
        self.client.will_set(status_topic, json.dumps({"online": False,
                                                       "client_id": client_id}),
                             qos=1, retain=True)
        self._status_online = json.dumps({"online": True, "client_id": client_id}).encode()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self._dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        self.client.connect_async(**connect_kwargs(self.client, ep, keepalive_s))
        self.client.loop_start()
        log.info("publishing to %s as %s", ep.display(), client_id)

    # -- paho callbacks (network thread) -----------------------------------------------------
    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("broker %s refused the connection: %s", self.ep.display(), reason)
            return
        self.connects += 1
        with self._cond:
            # QoS 0 packets not yet written when the link dropped are gone; only the
            # QoS>0 messages paho keeps will still be acked.
            self.sent = self.acked + len(getattr(client, "_out_messages", {}))
            self._cond.notify_all()
        if self._lost_logged or self.connects > 1:
            log.warning("reconnected to %s", self.ep.display())
        else:
            log.info("connected to %s", self.ep.display())
        self._lost_logged = False
        if self.control_topic:
            client.subscribe(self.control_topic, qos=1)
        self._publish_raw(self.status_topic, self._status_online, 1, True)
        with self._birth_lock:
            self._publish_birth()
            self._connected.set()

    def _publish_birth(self) -> None:
        for topic, payload in self._birth:
            self._publish_raw(topic, payload, self.qos["meta"], True)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any = None) -> None:
        self._connected.clear()
        if not self._closing and not self._lost_logged:
            log.warning("lost connection to %s (%s); reconnecting with backoff",
                        self.ep.display(), reason)
            self._lost_logged = True

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason: Any,
                    properties: Any = None) -> None:
        with self._cond:
            self.acked += 1
            if self.sent - self.acked < self.max_pending // 2:
                self._cond.notify_all()

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if self.on_control is not None and self.control_topic is not None and \
                paho.topic_matches_sub(self.control_topic, msg.topic):
            self.on_control(msg.topic, bytes(msg.payload))

    # -- API ---------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        return self.sent - self.acked

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def set_birth(self, messages: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Retained meta messages re-published on every (re)connect; published now too
        when the first connect came before them."""
        birth = [(topic, self._dumps(p).encode()) for _, topic, p in messages]
        with self._birth_lock:
            self._birth = birth
            if self._connected.is_set():
                self._publish_birth()

    def send(self, kind: str, topic: str, payload: bytes) -> None:
        if kind == "meta":
            return  # published as the retained birth on every (re)connect: set_birth
        self.publish(topic, payload, self.qos.get(kind, 1))

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> None:
        if self.sent - self.acked >= self.max_pending:
            if self.paced:
                self.dropped += 1
                return
            with self._cond:
                while self.sent - self.acked >= self.max_pending:
                    if self._closing or self.stop.is_set():
                        self.dropped += 1
                        return
                    self._cond.wait(0.5)
        self._publish_raw(topic, payload, qos, retain)

    def publish_command(self, topic: str, payload: bytes) -> bool:
        """A control command (QoS 1) for every shard; False when the broker is away."""
        if not self._connected.is_set():
            return False
        self._publish_raw(topic, payload, 1, False)
        return True

    def _publish_raw(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Hand one message to paho and count it (every on_publish matches one of these)."""
        # Count first: paho may call on_publish (network thread) before publish() returns,
        # and it must not run under our lock (paho holds its own locks around callbacks).
        with self._cond:
            self.sent += 1
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if not (info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS or (
                qos > 0 and info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN)):
            with self._cond:
                self.sent -= 1
                self.dropped += 1

    def flush(self) -> None:
        self.drain()

    def drain(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything handed to paho is sent (QoS 0) or acked (QoS 1+)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self.sent - self.acked > 0 and time.monotonic() < deadline:
                if not self._connected.is_set():
                    break
                self._cond.wait(0.1)
            return self.sent - self.acked <= 0

    def close(self, offline: Iterable[tuple[str, str, dict[str, Any]]] = (),
              timeout_s: float = 10.0) -> None:
        """Publish offline meta + status, wait for acks, disconnect cleanly."""
        if self._connected.is_set():
            for _, topic, p in offline:
                self.publish(topic, self._dumps(p).encode(), self.qos["meta"], True)
            self.publish(self.status_topic,
                         bytes(self._status_online).replace(b"true", b"false"), 1, True)
            if not self.drain(timeout_s):
                log.warning("%d messages not acknowledged at shutdown", self.pending)
        self._closing = True
        with self._cond:
            self._cond.notify_all()
        self.client.disconnect()
        self.client.loop_stop()
        if self.dropped:
            log.warning("%d messages dropped (broker unreachable or too slow)", self.dropped)
