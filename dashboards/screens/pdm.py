"""Predictive-maintenance panels: the failures the detector expects (a table on the
maintenance screen, a count on the home wall) and its live scorecard.

The issue calls the table "failures expected in the next 8 h"; its titles name no horizon
because the horizon is the detector's own setting (``factory-pdm --horizon-h``), and each
row says its own ("Expected within 192 h")."""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, table
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.wall import Wall

#: What the panels read when the detector expects nothing (or does not run).
NO_PREDICTION = ("No predicted failures", "暂无预测故障")
#: Score colours: amber from the detector's alert, red when it is nearly sure.
SCORE_STEPS = {"mode": "absolute", "steps": [
    {"value": None, "color": p.AMBER}, {"value": 0.9, "color": p.RED}]}


def predicted_failures(pid: int, wall: Wall, pos: dm.GridPos) -> table.Panel:
    """Machines whose latest prediction alerts, highest score first."""
    t = wall.t
    return (p.table_panel(pid, t("Failures expected (predictive maintenance)",
                                 "预计故障（预测性维护）"),
                          pos, p.targets(q.PREDICTED_FAILURES))
            .time_from(q.PREDICTION_WINDOW).hide_time_override(True)
            .no_value(t(*NO_PREDICTION))
            .transformations([
                p.transformation("organize", {
                    "excludeByName": {"Time": True},
                    "indexByName": {"machine": 0, "mode": 1, "score": 2, "horizon_h": 3,
                                    "vib_ratio": 4}}),
                p.transformation("sortBy", {"sort": [{"field": "score", "desc": True}]}),
                p.limit_rows(pos),
            ])
            .overrides([
                p.field_props("machine", displayName=t("Machine", "设备"),
                              mappings=wall.machine_mappings(), custom__width=200),
                p.field_props("mode", displayName=t("Failure mode", "故障模式"),
                              mappings=wall.mode_mappings(), custom__width=260),
                p.field_props("score", displayName=t("Score", "置信度"), unit="percentunit",
                              noValue=p.NO_DATA,
                              decimals=0, min=0, max=1, thresholds=SCORE_STEPS,
                              custom__cellOptions={"type": "color-background",
                                                   "mode": "basic"}),
                p.field_props("horizon_h", displayName=t("Expected within", "预计时限"),
                              unit="h", noValue=p.NO_DATA,
                              decimals=0),
                p.field_props("vib_ratio", displayName=t("Vibration vs own", "振动/基线"),
                              unit="suffix:×", decimals=2, noValue=p.NO_DATA),
            ]))


def failures_expected(pid: int, wall: Wall, pos: dm.GridPos) -> stat.Panel:
    """How many machines the detector expects to fail: green 0, amber from 1."""
    t = wall.t
    return p.stat_panel(pid, t("Failures expected", "预计故障"), pos,
                        p.targets(q.FAILURES_EXPECTED), "locale", decimals=0,
                        time_from=q.PREDICTION_WINDOW,
                        color_mode=cm.BigValueColorMode.BACKGROUND, no_value="0",
                        thresholds=p.steps((None, p.GREEN), (1.0, p.AMBER)))


def scorecard(pid: int, wall: Wall, pos: dm.GridPos) -> table.Panel:
    """The detector's own latest score per failure source: precision, recall beside the
    recall alerts would get by chance (random failures are expected to stay there), median
    lead time, failures and alerts."""
    t = wall.t
    # a value the latest score lacks (no lead time without a hit) is "-" in its cell; the
    # panel's noValue is for no score at all
    pct = {"unit": "percentunit", "decimals": 0, "min": 0, "max": 1, "noValue": p.NO_DATA}
    return (p.table_panel(pid, t("Prediction scorecard (live)", "预测准确度（实时）"), pos,
                          p.targets(q.SCORECARD))
            .no_value(t("No score yet", "暂无评分"))
            .transformations([
                p.transformation("organize", {
                    "excludeByName": {"Time": True},
                    "indexByName": {"source": 0, "precision": 1, "recall": 2,
                                    "chance_recall": 3, "median_lead_h": 4, "failures": 5,
                                    "alerts": 6}}),
                p.transformation("sortBy", {"sort": [{"field": "source", "desc": True}]}),
                p.limit_rows(pos),
            ])
            .overrides([
                p.field_props("source", displayName=t("Source", "故障来源"),
                              mappings=wall.pdm_source_mappings()),
                p.field_props("precision", displayName=t("Precision", "准确率"), **pct),
                p.field_props("recall", displayName=t("Recall", "召回率"), **pct),
                p.field_props("chance_recall", displayName=t("By chance", "随机基准"),
                              **pct),
                p.field_props("median_lead_h", displayName=t("Median lead", "提前量中位数"),
                              unit="h", decimals=1, noValue=p.NO_DATA),
                p.field_props("failures", displayName=t("Failures", "故障次数"),
                              unit="locale", decimals=0),
                p.field_props("alerts", displayName=t("Alerts", "预警次数"), unit="locale",
                              decimals=0),
            ]))
