"""Sparkplug B edge-node sessions: one MQTT connection per edge node (``--format sparkplug``).

Per the Sparkplug 3.0 session rules (docs/simulator.md):

- NDEATH with the session's ``bdSeq`` is the MQTT will (QoS 1); a new connection takes the
  next ``bdSeq`` (0-255) and re-arms the will before paho reconnects.
- NBIRTH (``seq`` 0) and every DBIRTH go out after each connect, after an NCMD
  ``Node Control/Rebirth`` and before data whose metric the last birth did not declare;
  data always follows its birth (one lock orders them). ``seq`` counts 0-255 over every
  message but NDEATH.
- NDATA/DDATA at QoS 0 unless ``--qos`` names a higher QoS; births and deaths likewise,
  the will at QoS 1. With a primary host id, nothing is published until that host's
  STATE says online, and publishing stops while it says offline.
- A clean stop publishes the machines' offline ``meta`` (as the JSON sink does), a DDEATH
  per device and the NDEATH, then disconnects.

Flow control mirrors :class:`simulator.publish.MqttSink`: at most ``max_pending``
messages handed to paho and not yet sent/acked; flat-out runs wait, paced runs drop.
Data while an edge node is offline is dropped and counted (its NDEATH told hosts so).
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

from simulator.sparkplug import SparkplugEncoder
from telemetry import sparkplug_b_pb2 as pb
from telemetry.endpoints import MqttEndpoint
from telemetry.mqtt import MAX_INFLIGHT_IDS, connect_kwargs, make_client
from telemetry.sparkplug import (
    DDATA,
    NCMD,
    NDATA,
    REBIRTH,
    node_topic,
    seq_suffix,
    state_topic,
)

log = logging.getLogger(__name__)


class EdgeSession:
    """One edge node's MQTT client and Sparkplug session state."""

    def __init__(self, sink: SparkplugSink, nid: str, client_id: str) -> None:
        self.sink = sink
        self.id = nid
        self.bd_seq = 0
        self.seq = 0
        self.needs_birth = True
        self.connected = threading.Event()
        self.host_online = sink.primary_host is None
        self.host_ready = threading.Event()  # the primary host is online (or none is set)
        if self.host_online:
            self.host_ready.set()
        self.ncmd_topic = node_topic(sink.encoder.group, NCMD, nid)
        self.client = make_client(sink.ep, client_id, max_inflight=200,
                                  max_queued=sink.max_pending + 1000)
        self._arm_will()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = sink._on_publish
        self.client.on_message = self._on_message

    def _arm_will(self) -> None:
        _, topic, body = self.sink.encoder.ndeath(self.id, self.bd_seq, int(time.time() * 1000))
        self.client.will_set(topic, body, qos=1, retain=False)

    def next_seq(self) -> int:
        seq = self.seq
        self.seq = (seq + 1) % 256
        return seq

    # -- paho callbacks (network thread: flags only, the birth thread publishes) -----------
    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, reason: Any,
                    _p: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("broker %s refused edge node %s: %s", self.sink.ep.display(), self.id,
                        reason)
            return
        subs = [(self.ncmd_topic, 1)]
        if self.sink.primary_host is not None:
            subs.append((state_topic(self.sink.primary_host), 1))
        if self.sink.control_topic and self is self.sink.control_session:
            subs.append((self.sink.control_topic, 1))
        client.subscribe(subs)
        self.needs_birth = True
        self.connected.set()
        self.sink.wake()

    def _on_disconnect(self, _c: paho.Client, _u: Any, _f: Any, reason: Any,
                       _p: Any = None) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if not self.sink.closing:
            if was:
                log.warning("edge node %s lost the broker (%s); reconnecting", self.id, reason)
            self.bd_seq = (self.bd_seq + 1) % 256  # the next session's NBIRTH and will
            self._arm_will()

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        if msg.topic == self.ncmd_topic:
            try:
                cmd = pb.Payload.FromString(msg.payload)
            except Exception:
                log.warning("edge node %s: undecodable NCMD ignored", self.id)
                return
            if any(m.name == REBIRTH and m.boolean_value for m in cmd.metrics):
                log.info("edge node %s: rebirth requested", self.id)
                self.needs_birth = True
                self.sink.wake()
        elif self.sink.primary_host is not None and msg.topic == state_topic(
                self.sink.primary_host):
            try:
                online = bool(json.loads(msg.payload)["online"])
            except (ValueError, KeyError, TypeError):
                log.warning("edge node %s: unreadable STATE %r ignored", self.id, msg.payload)
                return
            if online and not self.host_online:
                self.needs_birth = True
            self.host_online = online
            if online:
                self.host_ready.set()
            else:
                self.host_ready.clear()
            self.sink.wake()
        elif self.sink.on_control is not None and self.sink.control_topic is not None and \
                paho.topic_matches_sub(self.sink.control_topic, msg.topic):
            self.sink.on_control(msg.topic, bytes(msg.payload))


class SparkplugSink:
    """The Sink for ``--format sparkplug``: routes each encoded message to its edge node."""

    wants_messages = True

    def __init__(self, ep: MqttEndpoint, client_id: str, encoder: SparkplugEncoder, *,
                 qos: int = 0, paced: bool = False, primary_host: str | None = None,
                 control_topic: str | None = None,
                 on_control: Callable[[str, bytes], None] | None = None,
                 max_pending: int = 20_000, keepalive_s: int = 30,
                 stop: threading.Event | None = None) -> None:
        self.ep = ep
        self.encoder = encoder
        self.qos = qos
        self.paced = paced
        self.primary_host = primary_host
        self.control_topic = control_topic
        self.on_control = on_control
        self.max_pending = min(max_pending, MAX_INFLIGHT_IDS // 2)
        self.stop = stop or threading.Event()
        self.sent = self.acked = self.dropped = 0
        self.closing = False
        self._cond = threading.Condition()
        self._lock = threading.RLock()  # seq order == wire order; births before data
        self._wake = threading.Event()
        self.sessions = {nid: EdgeSession(self, nid, f"{client_id}-{nid}"[:128])
                         for nid in encoder.nodes}
        self.control_session = next(iter(self.sessions.values()), None)
        self._by_topic: dict[str, EdgeSession] = {}
        self._births = threading.Thread(target=self._birth_loop, name="sparkplug-births",
                                        daemon=True)
        self._births.start()
        for s in self.sessions.values():
            s.client.connect_async(**connect_kwargs(s.client, ep, keepalive_s))
            s.client.loop_start()
        log.info("Sparkplug B: %d edge nodes of group %s on %s", len(self.sessions),
                 encoder.group, ep.display())

    # -- births ----------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def _birth_loop(self) -> None:
        while not self.closing:
            self._wake.wait(1.0)
            self._wake.clear()
            for s in self.sessions.values():
                if s.needs_birth and s.connected.is_set() and s.host_online:
                    with self._lock:
                        if s.needs_birth:
                            self._birth(s)

    def _birth(self, s: EdgeSession) -> None:
        """NBIRTH + DBIRTHs (caller holds the lock)."""
        s.needs_birth = False
        s.seq = 0
        for _, topic, body in self.encoder.births(s.id, s.bd_seq, self.encoder.model.now_ms):
            self._publish(s, topic, body + seq_suffix(s.next_seq()), self.qos)

    # -- the Sink API ----------------------------------------------------------------------
    def set_birth(self, messages: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """The machines' ``meta`` (online) carried by every DBIRTH."""
        self.encoder.record(messages)

    def send(self, kind: str, topic: str, payload: bytes) -> None:
        if kind not in (NDATA, DDATA):
            # a JSON message (the runner's catch-up path publishes events as JSON)
            msg = (kind, topic, json.loads(payload))
            for m in self.encoder.convert([msg], msg[2]["ts"]):
                self.send(*m)
            return
        s = self._by_topic.get(topic)
        if s is None:
            s = self._by_topic[topic] = self.sessions[topic.split("/")[3]]
        if not (s.connected.is_set() and s.host_online) or not self._room():
            self.dropped += 1
            return
        with self._lock:
            if s.needs_birth or self.encoder.nodes[s.id].grown:
                self._birth(s)
            self._publish(s, topic, payload + seq_suffix(s.next_seq()), self.qos)

    def _room(self) -> bool:
        if self.sent - self.acked < self.max_pending:
            return True
        if self.paced:
            return False
        with self._cond:
            while self.sent - self.acked >= self.max_pending:
                if self.closing or self.stop.is_set():
                    return False
                self._cond.wait(0.5)
        return True

    def _publish(self, s: EdgeSession, topic: str, body: bytes, qos: int) -> None:
        with self._cond:
            self.sent += 1
        info = s.client.publish(topic, body, qos=qos)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS and not (
                qos > 0 and info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN):
            with self._cond:
                self.sent -= 1
                self.dropped += 1

    def _on_publish(self, _c: paho.Client, _u: Any, _mid: int, _r: Any,
                    _p: Any = None) -> None:
        with self._cond:
            self.acked += 1
            if self.sent - self.acked < self.max_pending // 2:
                self._cond.notify_all()

    @property
    def pending(self) -> int:
        return self.sent - self.acked

    def wait_connected(self, timeout_s: float) -> bool:
        """Every edge node connected and, with a primary host, that host online."""
        deadline = time.monotonic() + timeout_s
        ok = all(s.connected.wait(max(0.0, deadline - time.monotonic()))
                 and s.host_ready.wait(max(0.0, deadline - time.monotonic()))
                 for s in self.sessions.values())
        if not ok and self.primary_host and all(s.connected.is_set()
                                                for s in self.sessions.values()):
            log.warning("primary host %s is not online (%s): publishing nothing until it is",
                        self.primary_host, state_topic(self.primary_host))
        return ok

    def flush(self) -> None:
        self.drain()

    def drain(self, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self.sent - self.acked > 0 and time.monotonic() < deadline:
                self._cond.wait(0.1)
            return self.sent - self.acked <= 0

    def close(self, offline: Iterable[tuple[str, str, dict[str, Any]]] = (),
              timeout_s: float = 10.0) -> None:
        """Offline meta as DDATA, a DDEATH per device, NDEATH; then disconnect."""
        now = self.encoder.model.now_ms
        for m in self.encoder.convert(offline, now, with_meta=True):
            self.send(*m)
        with self._lock:
            for s in self.sessions.values():
                if not (s.connected.is_set() and s.host_online):
                    continue
                for _, topic, body in self.encoder.ddeaths(s.id, now):
                    self._publish(s, topic, body + seq_suffix(s.next_seq()), self.qos)
                _, topic, body = self.encoder.ndeath(s.id, s.bd_seq, now)
                self._publish(s, topic, body, 1)
        if not self.drain(timeout_s):
            log.warning("%d Sparkplug messages not acknowledged at shutdown", self.pending)
        self.closing = True
        self._wake.set()
        with self._cond:
            self._cond.notify_all()
        for s in self.sessions.values():
            s.client.disconnect()
            s.client.loop_stop()
        if self.dropped:
            log.warning("%d Sparkplug messages dropped (edge node offline or broker too slow)",
                        self.dropped)


def sparkplug_qos(text: str | None) -> int:
    """QoS of Sparkplug messages: 0 (the specification) unless ``--qos`` names a higher one
    for any kind (``telemetry=1`` gives a lossless run); the highest named wins."""
    named = [part.partition("=")[2].strip() for part in (text or "").split(",") if part]
    return max((int(q) for q in named if q in ("0", "1", "2")), default=0)
