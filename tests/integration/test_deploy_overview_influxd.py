"""Every reader of InfluxDB data survives any stored value, against the real influxd.

Hostile points (a state_code no state has, a work order status no status has, progress
of 1e300, a negative sale, a string where a number belongs, an alarm stamped in 2262) go
into a fresh database through the real write API; the native demo's overview then runs
its real queries (stack.overview.fetch) and draws the screen.
"""

from __future__ import annotations

import time

import pytest

from stack.overview import UNKNOWN_STATE, fetch, render_text
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient

pytestmark = pytest.mark.integration

TAGS = "enterprise=hearth,site=shengzhou"
MACHINE = f"{TAGS},area=hardware,line=cutting"


def test_the_overview_survives_hostile_stored_values(influx_url: str, influx_db: str) -> None:
    now = int(time.time() * 1000)
    client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    lines = [
        f"state,{MACHINE},machine=laser-01 state_code=99i,state=\"BOGUS\" {now - 5000}",
        f"state,{MACHINE},machine=laser-02 state_code=2i,state=\"RUNNING\" {now - 5000}",
        f"state,{MACHINE},machine=laser-03 state_code=-1i {now - 5000}",
        f"workorder,{MACHINE},machine=laser-01,wo_id=WO-X status_code=7i,progress_pct=1e300,"
        f"technician=\"x\" {now - 4000}",
        f"workorder,{MACHINE},machine=laser-02,wo_id=WO-Y status_code=1i,progress_pct=-50,"
        f"technician=\"y\" {now - 4000}",
        f"sales,{TAGS},region=East\\ China,channel=online amount_cny=-5,units=1i {now - 3000}",
        f"sales,{TAGS},region=Overseas,channel=online amount_cny=100,units=1i {now - 3000}",
        f"alarm,{MACHINE},machine=laser-01 code=\"X\",message=\"from 2262\",active=true,"
        f"severity=\"bogus\" 9223372036000",
        f"telemetry,{MACHINE},machine=laser-02 power_kw=1.5 {now - 2000}",
        f"energy,{TAGS},area=hardware kwh=1e300 {now - 2000}",
    ]
    res = client.write("\n".join(lines).encode())
    assert res.ok, res.body
    o = fetch(client)
    client.close()
    assert o.floor_states == {"laser-01": UNKNOWN_STATE, "laser-02": "RUNNING",
                                 "laser-03": UNKNOWN_STATE}
    assert o.states == {UNKNOWN_STATE: 2, "RUNNING": 1}
    assert [(w.wo_id, w.progress_pct) for w in o.work_orders] == [("WO-Y", 0.0)]
    assert o.sales_share_pct == {"Overseas": 100.0}
    assert o.latest_data_ms == now - 2000
    text = render_text(o, width=160)
    assert "laser-01 ?" in text and "laser-02 run" in text
