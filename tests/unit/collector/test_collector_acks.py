"""A batch's PUBACKs queued as one buffer are byte for byte what paho's `ack` queues one
by one, in the same order (MQTT 5 and 3.1.1)."""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from telemetry.mqtt import ack_many


def _recording(protocol: int) -> tuple[paho.Client, list[tuple[Any, ...]]]:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="t", protocol=protocol,
                         manual_ack=True)
    queued: list[tuple[Any, ...]] = []
    client._packet_queue = lambda *a, **k: queued.append(a)  # type: ignore[method-assign]
    return client, queued


@pytest.mark.parametrize("protocol", [paho.MQTTv5, paho.MQTTv311])
def test_batched_pubacks_are_the_bytes_paho_sends(protocol: int) -> None:
    mids = [1, 2, 300, 65_535, 7] * 500  # more than one buffer of 1,024
    one_by_one, queued = _recording(protocol)
    for mid in mids:
        one_by_one.ack(mid, 1)
    expected = b"".join(bytes(a[1]) for a in queued)
    assert {a[0] for a in queued} == {paho.PUBACK} and len(queued) == len(mids)
    batched, got = _recording(protocol)
    ack_many(batched, [(mid, 1) for mid in mids])
    assert b"".join(bytes(a[1]) for a in got) == expected
    assert len(got) == 3  # 2,500 acks: three socket writes, not 2,500


def test_qos2_goes_through_paho() -> None:
    client, queued = _recording(paho.MQTTv5)
    ack_many(client, [(9, 2)])
    assert [a[0] for a in queued] == [paho.PUBCOMP]  # paho's own QoS 2 path
