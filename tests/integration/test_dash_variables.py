"""The dashboards' template-variable queries (`dashboards.queries.VARIABLE_QUERIES`, the
`SHOW TAG VALUES` behind every drop-down of the wall) against the real influxd, on a second
plant (enterprise `acme`, site `lyon`) backfilled through the simulator's own code: each
drop-down lists exactly that plant's ids, narrowed by the variables it depends on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dashboards import queries as q
from simulator.plant import load_plant
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient

pytestmark = pytest.mark.integration

PLANT = Path(__file__).resolve().parents[2] / "tests" / "data" / "acme-lyon.yaml"
COLLECTOR = "collector-vars"


def values(client: InfluxClient, name: str, **variables: str | q.Variable) -> set[str]:
    text = q.substitute(q.VARIABLE_QUERIES[name], from_ms=0, to_ms=1,
                        variables={q.VAR_ENTERPRISE: "acme", q.VAR_SITE: "lyon", **variables})
    assert "$" not in text.replace("$/", "").replace(")$", ""), text
    series = client.query(text)[0].get("series") or []
    return {str(v[1]) for s in series for v in s["values"]}


def test_every_drop_down_lists_exactly_the_plants_ids(influx_url: str, influx_db: str) -> None:
    plant = load_plant(PLANT)
    fill = subprocess.run(
        [sys.executable, "-m", "simulator", "backfill", "--plant", str(PLANT), "--days", "0.02",
         "--no-progress", "--influx-url", influx_url, "--influx-db", influx_db],
        capture_output=True, text=True, timeout=300)
    assert fill.returncode == 0, fill.stderr[-2000:]
    client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    from collector.metrics import Metrics

    stats = Metrics(COLLECTOR)
    stats.received({"telemetry": 1})
    assert client.write("\n".join(stats.stats_lines(1_800_000_000_000, (0, 0, 0.0))).encode()).ok

    assert values(client, q.VAR_ENTERPRISE) == {"acme"}
    assert values(client, q.VAR_SITE) == {"lyon"}
    assert values(client, q.VAR_SITE, enterprise="nobody") == set()  # narrowed by enterprise
    assert values(client, q.VAR_AREA) == {a.id for a in plant.areas} == {"moulding", "bottling"}
    for area in plant.areas:
        assert values(client, q.VAR_LINE, area=area.id) == {ln.id for ln in area.lines}
        assert values(client, q.VAR_MACHINE, area=area.id) == \
            {m.id for m in plant.machines if m.area == area.id}
    # "All" areas (Grafana's .* for a multi-value variable) lists every machine.
    assert values(client, q.VAR_MACHINE, area=q.ALL) == {m.id for m in plant.machines}
    assert values(client, q.VAR_COLLECTOR) == {COLLECTOR}
    # Every variable query the wall has runs (a new one too) and returns something.
    for name in q.VARIABLE_QUERIES:
        assert values(client, name, area=q.ALL), name
    client.close()
