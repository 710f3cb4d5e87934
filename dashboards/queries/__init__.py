"""Every InfluxQL query the dashboards run, one pure module per screen, and Grafana's macro
expansion.

``core`` holds what all queries share (:class:`PanelQuery`, the variables, the tag filters,
OEE as a ratio of sums); ``overview``, ``equipment``, ``maintenance``, ``production``,
``sales``, ``pipeline`` the queries of one screen each, ``pdm`` those of predictive
maintenance (the machine detail's are in ``dashboards.detail_queries``); ``expand``
Grafana's expansion (:func:`substitute`). The dashboards put these strings into their
panels verbatim; the terminal overview and the query contract tests run the very same
strings against InfluxDB after :func:`substitute` has expanded them the way Grafana's
InfluxQL data source does.

Everything is re-exported here, so ``from dashboards import queries as q; q.OEE_PLANT``
works whatever module a query lives in.
"""

from __future__ import annotations

import importlib

from dashboards.queries.core import *  # noqa: F403
from dashboards.queries.core import PanelQuery
from dashboards.queries.equipment import *  # noqa: F403
from dashboards.queries.expand import *  # noqa: F403
from dashboards.queries.maintenance import *  # noqa: F403
from dashboards.queries.overview import *  # noqa: F403
from dashboards.queries.overview import (
    ACTIVE_ALARMS,
    ENERGY_TODAY,
    FLOOR_PLAN_STATES,
    HOURLY_OUTPUT,
    MACHINES_RUNNING,
    OEE_PLANT,
    OUTPUT_TODAY,
    OUTPUT_VS_TARGET_PCT,
    SALES_BY_REGION,
    WORK_ORDERS,
)
from dashboards.queries.pdm import *  # noqa: F403
from dashboards.queries.pipeline import *  # noqa: F403
from dashboards.queries.production import *  # noqa: F403
from dashboards.queries.sales import *  # noqa: F403

#: The plant-overview queries the terminal overview (``make demo`` without Grafana) runs.
OVERVIEW: dict[str, PanelQuery] = {q.key.split(".", 1)[1]: q for q in (
    OUTPUT_TODAY, OUTPUT_VS_TARGET_PCT, OEE_PLANT, MACHINES_RUNNING, ACTIVE_ALARMS,
    ENERGY_TODAY, SALES_BY_REGION, HOURLY_OUTPUT, WORK_ORDERS, FLOOR_PLAN_STATES)}

#: The modules whose PanelQuery constants count as the dashboards' queries.
QUERY_MODULES = (*(f"dashboards.queries.{m}" for m in (
    "overview", "equipment", "maintenance", "pdm", "production", "sales", "pipeline")),
    "dashboards.detail_queries")


def all_queries() -> dict[str, PanelQuery]:
    """Every query of :data:`QUERY_MODULES`, by key."""
    found: dict[str, PanelQuery] = {}
    spaces = [vars(importlib.import_module(m)) for m in QUERY_MODULES]
    for value in (v for space in spaces for v in space.values()):
        for q in value if isinstance(value, tuple) else (value,):
            if isinstance(q, PanelQuery):
                found[q.key] = q
    return found
