"""Building a configured paho-mqtt 2.x client from an :class:`MqttEndpoint`."""

from __future__ import annotations

import ssl
import struct
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from telemetry.endpoints import MqttEndpoint

#: Cap for paho's reconnect backoff.
RECONNECT_MAX_S = 30

#: paho numbers QoS>0 messages with 16-bit ids; never queue more than this unacked.
MAX_INFLIGHT_IDS = 65_535


def make_client(ep: MqttEndpoint, client_id: str, *, clean_start: bool = True,
                session_expiry_s: int = 0, manual_ack: bool = False,
                max_inflight: int = 1000, max_queued: int = 50_000) -> paho.Client:
    """A paho client with auth, TLS, protocol version and capped reconnect backoff.

    Call :func:`connect_kwargs` for the matching ``connect``/``connect_async`` arguments.
    """
    protocol = paho.MQTTv5 if ep.protocol == "5" else paho.MQTTv311
    kwargs: dict[str, Any] = {
        "callback_api_version": CallbackAPIVersion.VERSION2,
        "client_id": client_id,
        "protocol": protocol,
        "manual_ack": manual_ack,
    }
    if protocol == paho.MQTTv311:
        kwargs["clean_session"] = clean_start
    client = paho.Client(**kwargs)
    if ep.username is not None:
        client.username_pw_set(ep.username, ep.password)
    if ep.tls:
        client.tls_set(ca_certs=ep.ca_file, certfile=ep.cert_file, keyfile=ep.key_file,
                       cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.reconnect_delay_set(min_delay=1, max_delay=RECONNECT_MAX_S)
    client.max_inflight_messages_set(min(max_inflight, MAX_INFLIGHT_IDS))
    client.max_queued_messages_set(min(max_queued, MAX_INFLIGHT_IDS - max_inflight))
    client._factory_connect = {  # type: ignore[attr-defined]  # read by connect_kwargs
        "clean_start": clean_start, "session_expiry_s": session_expiry_s}
    return client


def connect_kwargs(client: paho.Client, ep: MqttEndpoint,
                   keepalive_s: int = 30) -> dict[str, Any]:
    """Arguments for ``client.connect``/``connect_async`` matching :func:`make_client`."""
    opts: dict[str, Any] = getattr(client, "_factory_connect", {})
    kwargs: dict[str, Any] = {"host": ep.host, "port": ep.port, "keepalive": keepalive_s}
    if ep.protocol == "5":
        kwargs["clean_start"] = opts.get("clean_start", True)
        expiry = int(opts.get("session_expiry_s", 0))
        if expiry:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = expiry
            kwargs["properties"] = props
    return kwargs


#: One PUBACK: fixed header 0x40, remaining length 2, the message id (success; no reason
#: code: the bytes paho's `ack` sends for MQTT 3.1.1 and 5 alike).
_PUBACK = struct.Struct("!BBH")
#: PUBACKs joined into one buffer (one socket write).
_ACKS_PER_WRITE = 1024


def ack_many(client: paho.Client, acks: Sequence[tuple[int, int]]) -> None:
    """Acknowledge (mid, qos) pairs in order, as ``client.ack`` would one by one.

    With paho 2.x, QoS 1 acks are queued as one buffer of back-to-back PUBACK packets (the
    same bytes, in the same order): one wake-up of paho's network thread and one socket
    write per batch instead of one of each per message. Anything else (QoS 2, a paho
    without ``_packet_queue``) goes through ``client.ack``.
    """
    queue_packet = getattr(client, "_packet_queue", None)
    if queue_packet is None or any(qos != 1 for _, qos in acks):
        for mid, qos in acks:
            client.ack(mid, qos)
        return
    for i in range(0, len(acks), _ACKS_PER_WRITE):
        chunk = acks[i:i + _ACKS_PER_WRITE]
        packet = b"".join([_PUBACK.pack(paho.PUBACK, 2, mid) for mid, _ in chunk])
        queue_packet(paho.PUBACK, packet, 0, 0)
