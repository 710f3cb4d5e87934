"""MQTT intake: subscribe, map, spool durably, and only then acknowledge.

paho's network thread runs ``on_message``, which only queues the message. The spooler
thread drains the queue in batches: maps each message, fsyncs dead letters, commits the
mapped lines to the spool in one transaction and then sends the PUBACKs in arrival order.
A crash anywhere before the ack means the broker redelivers (persistent session), and
the redelivered message maps to the same point, so nothing is lost or doubled.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections import Counter
from typing import Any, NamedTuple

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from collector.config import CollectorConfig
from collector.deadletter import DeadLetter, DeadLetterLog
from collector.guards import Collisions
from collector.mapping import Ignored, Mapped, Mapper
from collector.metrics import Metrics
from collector.spool import Entry, Spool, SpoolError
from telemetry.mqtt import MAX_INFLIGHT_IDS, ack_many, connect_kwargs, make_client

log = logging.getLogger(__name__)


class Incoming(NamedTuple):  # a NamedTuple: built on paho's thread for every message
    topic: str
    payload: bytes  # the payload, or only its first bytes when `size` >= 0 (oversize)
    mid: int
    qos: int
    generation: int
    ingest_ms: int
    size: int = -1  # an oversize payload's size (its head only is kept)
    sha256: str = ""  # an oversize payload's digest


class Intake:
    """The MQTT client and the spooler thread."""

    def __init__(self, cfg: CollectorConfig, mapper: Mapper, spool: Spool,
                 deadletters: DeadLetterLog, metrics: Metrics) -> None:
        self.cfg = cfg
        self.mapper = mapper
        self.spool = spool
        self.deadletters = deadletters
        self.metrics = metrics
        ep = cfg.endpoints.mqtt
        self.client = make_client(ep, cfg.client_id, clean_start=False,
                                  session_expiry_s=cfg.session_expiry_s, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.collisions = Collisions()
        self._queue: queue.SimpleQueue[Incoming] = queue.SimpleQueue()
        # The queue is bounded in bytes: on_message waits (paho stops reading the socket,
        # TCP pushes back on the broker) while more than this is queued.
        self._queue_max = int(cfg.intake_queue_mb * 1024 * 1024)
        self._queued = 0
        self._room = threading.Condition()
        self._max_payload = cfg.mapping.max_payload_bytes
        self._head = cfg.deadletter_payload_bytes
        self._generation = 0
        self._connects = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spool_loop, name="collector-spooler",
                                        daemon=True)
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.last_error: str | None = None
        self.beat_s = time.monotonic()  # the spooler thread's last sign of life (health)

    @property
    def spooler_alive(self) -> bool:
        return self._thread.is_alive()

    # -- paho callbacks (network thread: nothing slow here) ---------------------------
    def _on_connect(self, client: paho.Client, _userdata: Any, flags: Any, reason: Any,
                    _props: Any) -> None:
        if reason.is_failure:
            self.last_error = f"broker refused connection: {reason}"
            log.error("MQTT %s: %s", self.cfg.endpoints.mqtt.display(), self.last_error)
            return
        self._generation += 1
        self._connects += 1
        if self._connects > 1:
            self.metrics.reconnected()
        self.metrics.connected.set(1)
        self.last_error = None
        self.connected.set()
        log.info("connected to %s as %s (session present: %s)",
                 self.cfg.endpoints.mqtt.display(), self.cfg.client_id,
                 getattr(flags, "session_present", "?"))
        # Resubscribe on every connect: a broker that lost our session must not leave us
        # connected but deaf.
        if self.cfg.endpoints.mqtt.protocol == "5":
            opts = SubscribeOptions(qos=self.cfg.qos, retainHandling=1)
            client.subscribe([(f, opts) for f in self.cfg.subscriptions])
        else:
            client.subscribe([(f, self.cfg.qos) for f in self.cfg.subscriptions])

    def _on_subscribe(self, _c: paho.Client, _u: Any, _mid: int, reasons: Any,
                      _p: Any) -> None:
        bad = [r for r in reasons if getattr(r, "is_failure", False)]
        if bad:
            self.last_error = f"subscription refused: {bad[0]}"
            log.error("MQTT %s", self.last_error)
        else:
            self.subscribed.set()

    def _on_disconnect(self, _c: paho.Client, _u: Any, _flags: Any, reason: Any,
                       _p: Any) -> None:
        self.metrics.connected.set(0)
        self.connected.clear()
        self.subscribed.clear()
        if not self._stop.is_set():
            log.warning("disconnected from %s (%s); reconnecting with backoff",
                        self.cfg.endpoints.mqtt.display(), reason)

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", "replace")
        payload = msg.payload
        now_ms = int(time.time() * 1000)
        if len(payload) > self._max_payload:  # never queued whole: its head, size, digest
            item = Incoming(topic, bytes(payload[:self._head]), msg.mid, msg.qos,
                            self._generation, now_ms, len(payload),
                            hashlib.sha256(payload).hexdigest())
        else:
            item = Incoming(topic, bytes(payload), msg.mid, msg.qos, self._generation,
                            now_ms)
        cost = len(item.payload) + len(topic)
        with self._room:
            while self._queued > self._queue_max and not self._stop.is_set():
                self._room.wait(0.5)
            self._queued += cost
        self._queue.put(item)

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        ep = self.cfg.endpoints.mqtt
        kwargs = connect_kwargs(self.client, ep)
        if ep.protocol == "5":
            props = kwargs.get("properties") or Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.ReceiveMaximum = min(self.cfg.receive_maximum, MAX_INFLIGHT_IDS)
            kwargs["properties"] = props
        self._thread.start()
        self.client.connect_async(**kwargs)
        self.client.loop_start()

    def stop(self) -> None:
        """Stop taking messages: finish (spool + ack) the batch in hand, then disconnect.
        Whatever is still queued is not acked; the broker keeps it for next time."""
        self._stop.set()
        with self._room:
            self._room.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.client.disconnect()
        self.client.loop_stop()
        self.metrics.connected.set(0)

    # -- spooler thread ---------------------------------------------------------------
    def _drain(self, limit: int) -> list[Incoming]:
        """The next batch: what is queued `commit_window_s` after the first message
        (group commit: one wake-up, one transaction, one fsync for all of them at plant
        rates; their acks wait that long). The window is slept through, not woken per
        message."""
        try:
            first = self._queue.get(timeout=0.5)
        except queue.Empty:
            return []
        if self.cfg.commit_window_s > 0:
            self._stop.wait(self.cfg.commit_window_s)
        batch = [first]
        get = self._queue.get_nowait
        while len(batch) < limit:
            try:
                batch.append(get())
            except queue.Empty:
                break
        freed = sum(len(m.payload) + len(m.topic) for m in batch)
        with self._room:
            self._queued -= freed
            self._room.notify_all()
        return batch

    def _spool_loop(self) -> None:
        limit = max(100, min(self.cfg.batch_max_points, 5000))
        try:
            while not self._stop.is_set():
                self.beat_s = time.monotonic()
                batch = self._drain(limit)
                while batch and not self._stop.is_set():
                    try:
                        self._process(batch)
                        break
                    except Exception:  # never let the spooler die: intake would stall
                        log.exception("spooler error; retrying the batch (not acked)")
                        self._stop.wait(1.0)
        finally:
            self.spool.close()

    def _process(self, batch: list[Incoming]) -> None:
        entries: list[Entry] = []
        letters: list[DeadLetter] = []
        kinds: Counter[str] = Counter()
        ignored: Counter[str] = Counter()
        dl_topic = self.cfg.deadletter_topic
        collided = 0
        check_collision = self.collisions.check
        for m in batch:
            if dl_topic and m.topic == dl_topic:
                ignored["deadletter_topic"] += 1
                continue
            if m.size >= 0:
                if self.mapper.ignored(m.topic):
                    ignored["ignored_topic"] += 1
                    continue
                letters.append(DeadLetter(
                    m.topic, m.payload, "oversize", f"payload is {m.size} bytes, limit "
                    f"{self._max_payload} (mapping.max_payload_bytes)", m.ingest_ms,
                    m.size, m.sha256))
                kinds["unmapped"] += 1
                continue
            r = self.mapper.map(m.topic, m.payload, m.ingest_ms)
            if isinstance(r, Mapped):
                entries.append(Entry(r.line, m.topic, m.payload))
                kinds[r.measurement] += 1
                if check_collision(r.line, r.series):
                    collided += 1
            elif isinstance(r, Ignored):
                ignored[r.reason] += 1
            else:
                letters.append(DeadLetter(m.topic, m.payload, r.reason, r.detail,
                                          m.ingest_ms))
                kinds["unmapped"] += 1
        if not self._wait_for_room():
            return  # shutting down while full: nothing acked, the broker keeps it all
        letters_done = False
        while True:
            try:
                if not letters_done:
                    self.deadletters.write(letters)
                    letters_done = True
                self.spool.append(entries)
                break
            except (SpoolError, OSError) as exc:
                log.error("cannot store messages (%s); not acknowledging, retrying", exc)
                self.beat_s = time.monotonic()
                if self._stop.wait(1.0):
                    return
        self.metrics.received(kinds)
        if collided:
            self.metrics.collided(collided)
        for reason, n in ignored.items():
            self.metrics.ignored.labels(reason).inc(n)
        for dl in letters:
            self.metrics.dead_lettered(dl.reason)
        generation = self._generation
        # An ack from an older connection could hit a different message that the broker
        # gave the same id on the new one; skip it (the redelivery is acked).
        ack_many(self.client, [(m.mid, m.qos) for m in batch
                               if m.qos and m.generation == generation])

    def _wait_for_room(self) -> bool:
        if not self.spool.full():
            return True
        self.metrics.set_paused(True)
        st = self.spool.stats()
        log.warning("spool full (%d messages, %d bytes): intake paused, the broker queues "
                    "for us", st.depth, st.bytes)
        while self.spool.full():
            self.beat_s = time.monotonic()
            if self._stop.wait(0.2):
                return False
        self.metrics.set_paused(False)
        log.warning("spool has room again: intake resumed")
        return True
