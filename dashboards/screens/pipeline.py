"""6. Pipeline health: what the collector reports about itself (collector_stats and
collector_deadletters): rates, dead letters by reason, spool depth, write latency, lag."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as cm

from dashboards import panels as p
from dashboards import queries as q
from dashboards.screens.base import BODY_TOP, frame, plant_variables, tag_variable
from dashboards.wall import Wall

SLUG = "pipeline-health"


def build(wall: Wall) -> dash.Dashboard:
    t = wall.t
    y = BODY_TOP
    d = frame(SLUG, wall, t("Pipeline health", "数据链路健康"), time_from="now-1h",
              refresh="5s",
              description=t("The collector's own metrics: MQTT in, InfluxDB out, spool.",
                            "采集器自身指标：MQTT 接收、InfluxDB 写入、磁盘缓存。"),
              variables=[*plant_variables(wall),
                         tag_variable(q.VAR_COLLECTOR, t("Collector", "采集器"), "",
                                      multi=True)])
    cards = (("msgs_in", t("Messages in", "接收消息"), "locale", None),
             ("points_written", t("Points written", "写入点数"), "locale", None),
             ("dead_letters", t("Dead letters", "异常消息"), "locale",
              p.steps((None, p.GREEN), (1.0, p.AMBER))),
             ("spool_depth", t("Spool depth", "缓存积压"), "locale",
              p.steps((None, p.GREEN), (1000.0, p.AMBER), (100000.0, p.RED))),
             ("paused", t("Intake paused", "暂停接收"), "bool_yes_no",
              p.steps((None, p.GREEN), (1.0, p.RED))),
             ("write_blocked", t("Writes refused", "写入被拒"), "bool_yes_no",
              p.steps((None, p.GREEN), (1.0, p.RED))),
             ("write_failing", t("Writes failing", "写入失败"), "bool_yes_no",
              p.steps((None, p.GREEN), (1.0, p.RED))),
             ("write_errors", t("Failed writes", "失败写入次数"), "locale",
              p.steps((None, p.GREEN), (1.0, p.AMBER))))
    for i, (fieldname, title, unit, limits) in enumerate(cards):
        d.with_panel(p.stat_panel(12 + i if i >= 6 else 1 + i, title,
                                  p.at(3 * i, y, 3, 4), p.targets(q.PIPELINE_NOW),
                                  unit, decimals=0, thresholds=limits,
                                  mappings=[p.no_data(wall.lang)],
                                  color_mode=cm.BigValueColorMode.BACKGROUND
                                  if limits else cm.BigValueColorMode.VALUE)
                     .reduce_options(p.reduce_last().fields(f"/^{fieldname}$/")))
    d.with_panel(p.timeseries_panel(7, t("Rates", "吞吐率"), p.at(0, y + 4, 12, 8),
                                    p.targets(q.PIPELINE_RATES), "reqps", min_val=0))
    d.with_panel(p.timeseries_panel(8, t("InfluxDB write latency", "InfluxDB 写入延迟"),
                                    p.at(12, y + 4, 12, 8), p.targets(q.PIPELINE_LATENCY), "ms",
                                    min_val=0))
    d.with_panel(p.timeseries_panel(9, t("Lag: message to stored point", "端到端延迟"),
                                    p.at(0, y + 12, 12, 7), p.targets(q.PIPELINE_LAG), "ms",
                                    min_val=0))
    d.with_panel(p.timeseries_panel(10, t("Spool depth", "磁盘缓存积压"), p.at(12, y + 12, 12, 7),
                                    p.targets(q.PIPELINE_SPOOL), "short", min_val=0))
    d.with_panel(p.bargauge_panel(11, t("Dead letters by reason", "异常消息原因"),
                                  p.at(0, y + 19, 24, 5), p.targets(q.PIPELINE_DEADLETTERS),
                                  "short", thresholds=p.steps((None, p.AMBER)))
                 .orientation(cm.VizOrientation.VERTICAL))
    return d
