"""The alert-rule provisioning file: committed = generated, and well-formed for Grafana."""

from __future__ import annotations

from pathlib import Path

import yaml

from dashboards import alerts
from dashboards.influxql import DATASOURCE_UID

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_file_is_the_generated_one() -> None:
    assert alerts.PROVISIONING_FILE.read_text(encoding="utf-8") == alerts.text(), \
        "run: python -m dashboards.alerts"


def test_rules_have_the_shape_grafana_provisioning_reads() -> None:
    doc = yaml.safe_load(alerts.PROVISIONING_FILE.read_text(encoding="utf-8"))
    assert doc["apiVersion"] == 1
    (group,) = doc["groups"]
    assert {"orgId", "name", "folder", "interval", "rules"} <= set(group)
    uids = [r["uid"] for r in group["rules"]]
    assert len(set(uids)) == len(uids) == 4 and all(len(u) <= 40 for u in uids)
    for rule in group["rules"]:
        refs = [d["refId"] for d in rule["data"]]
        assert len(set(refs)) == len(refs) and rule["condition"] == refs[-1]
        assert rule["noDataState"] in ("NoData", "Alerting", "OK")
        assert rule["execErrState"] in ("Error", "Alerting", "OK")
        assert rule["labels"]["severity"] in ("critical", "warning")
        for d in rule["data"]:
            model = d["model"]
            assert model["refId"] == d["refId"]
            if d["datasourceUid"] == DATASOURCE_UID:
                assert model["rawQuery"] is True and "$timeFilter" in model["query"]
                assert d["relativeTimeRange"]["from"] > 0
            else:
                assert d["datasourceUid"] == "__expr__"
                # an expression only reads refIds defined before it
                used = {model.get("expression", "")} if model["type"] != "math" else {
                    r.strip("$") for r in model["expression"].split() if r.startswith("$")}
                assert used <= set(refs[:refs.index(d["refId"])]), (rule["uid"], used)


def test_grafana_reads_the_file_from_the_provisioning_tree() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert "./dashboards/provisioning:/etc/grafana/provisioning:ro" in mounts
    assert alerts.PROVISIONING_FILE.parent == ROOT / "dashboards/provisioning/alerting"
