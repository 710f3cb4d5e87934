"""Fault annotations: every alarm a machine raises, as a marker on the time-series panels.

Grafana's InfluxDB data source takes an InfluxQL annotation query with the columns that
hold the marker's title, text and tags (``titleColumn``, ``textColumn``, ``tagsColumn``).
Its ``prepareAnnotation`` moves those legacy top-level fields into ``target`` (with
``fromAnnotations: true``) and runs the annotation from ``target``; both are written, the
target already in its migrated form. The grafana-foundation-sdk's ``AnnotationQuery``
has no such fields, so :class:`InfluxAnnotation` adds them, the way ``influxql.py`` adds
the InfluxQL target.
"""

from __future__ import annotations

from typing import Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as dm

from dashboards import queries as q
from dashboards.i18n import Lang
from dashboards.influxql import datasource_ref

FAULT_COLOUR = "#e02f44"


def fault_query(where: str = q.SITE_WHERE) -> q.PanelQuery:
    """Alarms raised (``active`` = true) in the window; `where` narrows the machines."""
    return q.PanelQuery(
        "annotations.faults",
        'SELECT "code", "message", "message_zh", "severity", "machine" FROM "alarm" WHERE '
        f'{where} AND "active" = true AND {q.TIME_FILTER}',
        result_format="table",
        description="Alarms raised in the window: one marker each.")


class InfluxAnnotationQuery(dm.AnnotationQuery):
    """An annotation query of Grafana's InfluxDB data source (InfluxQL)."""

    def __init__(self, name: str = "", query: str = "", text_column: str = "",
                 title_column: str = "", tags_column: str = "") -> None:
        super().__init__(name=name, datasource=datasource_ref(), enable=True, hide=False,
                         icon_color=FAULT_COLOUR)
        self.query = query
        self.text_column = text_column
        self.title_column = title_column
        self.tags_column = tags_column

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        columns = {"textColumn": self.text_column, "titleColumn": self.title_column,
                   "tagsColumn": self.tags_column, "timeEndColumn": ""}
        payload.update({"query": self.query, **columns})
        # The data source's own target, as its prepareAnnotation() migrates the legacy
        # fields above into it (migrations.ts): the query runs from target.
        payload["target"] = {"refId": "Anno", "query": self.query, "queryType": "tags",
                             "fromAnnotations": True, "name": self.name, **columns,
                             "limit": 100, "matchAny": False, "tags": [], "type": ""}
        return payload


class InfluxAnnotation(cogbuilder.Builder[dm.AnnotationQuery]):
    def __init__(self, name: str, query: q.PanelQuery) -> None:
        self._internal = InfluxAnnotationQuery(name, query.influxql)

    def build(self) -> dm.AnnotationQuery:
        return self._internal

    def columns(self, *, text: str, title: str, tags: str) -> Self:
        self._internal.text_column = text
        self._internal.title_column = title
        self._internal.tags_column = tags
        return self


def fault_annotation(lang: Lang, where: str = q.SITE_WHERE) -> InfluxAnnotation:
    """Red markers for raised alarms: title the fault code, text the message in `lang`."""
    text = "message" if lang.code == "en" else "message_zh"
    return InfluxAnnotation(lang.t("Faults", "故障"), fault_query(where)).columns(
        text=text, title="code", tags="machine, severity")
