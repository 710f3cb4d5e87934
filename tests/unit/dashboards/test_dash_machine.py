"""The machine detail screen, and the clicks that open it."""

from __future__ import annotations

from typing import Any

from dashboards.build import build_all
from dashboards.screens import equipment, machine, overview
from telemetry.contract import KINDS


def _panel(model: dict[str, Any], pid: int) -> dict[str, Any]:
    return next(p for p in model["panels"] if p["id"] == pid)


def test_floor_plan_tiles_and_timeline_open_the_machine_in_the_same_language() -> None:
    built = {(b.lang, b.slug): b.model for b in build_all()}
    for lang in ("en", "zh"):
        detail_uid = built[(lang, machine.SLUG)]["uid"]
        clicks = [(overview.SLUG, 7, "${__field.labels.machine}"),   # floor plan (canvas)
                  (equipment.SLUG, 1, "${machine}"),                  # repeated tile
                  (equipment.SLUG, 2, "${__field.labels.machine}")]   # state timeline
        for slug, pid, expr in clicks:
            (link,) = _panel(built[(lang, slug)], pid)["fieldConfig"]["defaults"]["links"]
            assert link["url"].startswith(f"/d/{detail_uid}?")
            assert f"var-machine={expr}&" in link["url"] and "${__url_time_range}" in link["url"]


def test_every_contract_telemetry_field_has_a_label_and_unit() -> None:
    fields = set(KINDS["telemetry"].fields)
    assert "temp_c" in fields
    known = {s.field for s in machine.BUILT_IN}
    assert fields <= known, fields - known
    for s in machine.BUILT_IN:
        assert s.unit and s.label and s.label_zh


def test_the_machine_detail_is_one_machine_with_fault_markers() -> None:
    built = {(b.lang, b.slug): b.model for b in build_all()}
    for lang in ("en", "zh"):
        model = built[(lang, machine.SLUG)]
        var = next(v for v in model["templating"]["list"] if v["name"] == "machine")
        assert var["multi"] is False and var["includeAll"] is False
        assert var["current"]["value"]  # a machine of the plant, not empty
        (faults,) = model["annotations"]["list"]
        assert '"active" = true' in faults["query"] and "$machine" in faults["query"]
        assert faults["textColumn"] == ("message" if lang == "en" else "message_zh")
        # what the InfluxDB data source runs: target, with the query and the columns
        target = faults["target"]
        assert target["query"] == faults["query"] and target["fromAnnotations"] is True
        assert target["textColumn"] == faults["textColumn"] and target["titleColumn"] == "code"
        table = _panel(model, 6)
        mapping = next(o for o in table["fieldConfig"]["overrides"]
                       if o["matcher"]["options"] == "Field")
        texts = mapping["properties"][1]["value"][0]["options"]
        assert texts["last_temp_c"]["text"] == ("Temperature (°C)" if lang == "en"
                                                else "温度 (°C)")
