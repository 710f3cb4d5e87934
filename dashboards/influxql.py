"""An InfluxQL target for grafana-foundation-sdk, which has no InfluxDB query builder.

:class:`InfluxQLQuery` implements the SDK's ``Dataquery`` variant, so panels accept it
like any built-in query; :class:`InfluxQLTarget` is its builder. The JSON is Grafana's
InfluxDB data-source query model in raw-query mode (``rawQuery: true``, ``query``,
``resultFormat``, ``alias``).
"""

from __future__ import annotations

from typing import Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

from dashboards.queries import PanelQuery

#: The uid every panel and the provisioned data source use.
DATASOURCE_UID = "factory-influxdb"
DATASOURCE_TYPE = "influxdb"
DATASOURCE_NAME = "Factory InfluxDB"

ResultFormat = Literal["time_series", "table", "logs"]


def datasource_ref() -> dashboard.DataSourceRef:
    return dashboard.DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


class InfluxQLQuery(cogvariants.Dataquery):
    """One raw InfluxQL query of a panel (Grafana's InfluxDB query model)."""

    def __init__(self, query: str = "", ref_id: str = "A", alias: str = "",
                 result_format: ResultFormat = "time_series", hide: bool = False) -> None:
        self.query = query
        self.ref_id = ref_id
        self.alias = alias
        self.result_format: ResultFormat = result_format
        self.hide = hide

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "datasource": datasource_ref(),
            "rawQuery": True,
            "query": self.query,
            "resultFormat": self.result_format,
        }
        if self.alias:
            payload["alias"] = self.alias
        if self.hide:
            payload["hide"] = True
        return payload


class InfluxQLTarget(cogbuilder.Builder[InfluxQLQuery]):
    """Builder for :class:`InfluxQLQuery`, usually made from a :class:`PanelQuery`."""

    def __init__(self, query: PanelQuery | None = None) -> None:
        self._internal = InfluxQLQuery()
        if query is not None:
            self.query(query.influxql).result_format(query.result_format).alias(query.alias)

    def build(self) -> InfluxQLQuery:
        return self._internal

    def query(self, query: str) -> Self:
        self._internal.query = query
        return self

    def ref_id(self, ref_id: str) -> Self:
        self._internal.ref_id = ref_id
        return self

    def alias(self, alias: str) -> Self:
        self._internal.alias = alias
        return self

    def result_format(self, result_format: ResultFormat) -> Self:
        self._internal.result_format = result_format
        return self

    def hide(self, hide: bool = True) -> Self:
        self._internal.hide = hide
        return self
