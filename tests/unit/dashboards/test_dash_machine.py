"""The machine detail screen, and the clicks that open it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dashboards.build import build_all, to_model
from dashboards.checks import check_dashboard
from dashboards.screens import equipment, machine, overview
from dashboards.wall import Wall
from simulator.machine_types import COMMON_SIGNALS, CONDITION_SIGNALS
from simulator.plant import load_plant

ACME_LYON = Path(__file__).resolve().parents[3] / "docs" / "examples" / "acme-lyon.yaml"


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


def _signal_labels(model: dict[str, Any]) -> dict[str, str]:
    table = _panel(model, 6)
    mapping = next(o for o in table["fieldConfig"]["overrides"]
                   if o["matcher"]["options"] == "Field")
    options = mapping["properties"][1]["value"][0]["options"]
    return {k.removeprefix("last_"): v["text"] for k, v in options.items()}


def test_signals_of_the_demo_plant_have_labels_and_units() -> None:
    demo = load_plant()
    sent = {*COMMON_SIGNALS, *CONDITION_SIGNALS} | {
        s.name for t in demo.types.values() for s in t.signals}
    labels = _signal_labels(to_model(machine.build(Wall.of("en", demo))))
    assert set(labels) == sent
    assert labels["vibration_crest"] == "Vibration crest factor"  # a ratio: no unit
    assert labels["temp_c"] == "Temperature (°C)" and labels["oven_temp_c"] == \
        "Oven temperature (°C)"
    zh = _signal_labels(to_model(machine.build(Wall.of("zh", demo))))
    assert zh["tonnage_t"] == "吨位 (吨)" and zh["flow_m3_min"] == "流量 (立方米/分)"


def test_another_plants_custom_signals_come_with_their_units() -> None:
    lyon = load_plant(ACME_LYON)
    en, zh = (to_model(machine.build(Wall.of(c, lyon))) for c in ("en", "zh"))
    assert _signal_labels(en)["barrel_temp_c"] == "Barrel temperature (°C)"
    assert _signal_labels(zh)["barrel_temp_c"] == "料筒温度 (°C)"
    assert _signal_labels(en)["clamp_force_kn"] == "clamp_force_kn (kN)"
    assert _signal_labels(en)["fill_level_ml"] == "fill_level_ml (ml)"
    variables = {v["name"]: v["current"]["value"] for v in en["templating"]["list"]}
    assert variables == {"enterprise": "acme", "site": "lyon",
                         "machine": lyon.machines[0].id,
                         "presenter": machine.PRESENTER_DEFAULT}
    assert check_dashboard(en) == [] and check_dashboard(zh) == []
    assert _signal_labels(zh)["clamp_force_kn"] == "clamp_force_kn (千牛)"


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
        assert _signal_labels(model)["temp_c"] == ("Temperature (°C)" if lang == "en"
                                                   else "温度 (°C)")


def test_the_chinese_screen_shows_the_chinese_texts_the_data_carries() -> None:
    lyon = load_plant(ACME_LYON)
    zh, en = (to_model(machine.build(Wall.of(c, lyon))) for c in ("zh", "en"))

    def excluded(model: dict[str, Any], pid: int) -> dict[str, bool]:
        organize = next(tr for tr in _panel(model, pid)["transformations"]
                        if tr["id"] == "organize")
        return dict(organize["options"]["excludeByName"])

    assert excluded(zh, 7) == {"message": True, "code": True}
    assert excluded(en, 7) == {"message_zh": True, "code": True}
    o = next(o for o in _panel(zh, 8)["fieldConfig"]["overrides"]
             if o["matcher"]["options"] == "fault_code")
    faults = next(pr for pr in o["properties"] if pr["id"] == "mappings")["value"][0]
    assert faults["options"]["INJ-HEATER"]["text"] == "料筒加热区故障"


def test_the_machine_detail_links_to_the_presenter_page_for_that_machine() -> None:
    """Issue 13: floor plan -> machine detail -> the presenter page with that machine
    selected (the page reads `#machine=`), at the port compose publishes it on."""
    import re

    compose = (Path(__file__).resolve().parents[3] / "docker-compose.yml").read_text()
    assert re.search(r'\$\{DIRECTOR_PORT:-(\d+)\}:8090', compose).group(1) == "8090"
    page = (Path(__file__).resolve().parents[3] / "simulator/presenter/index.html")
    assert 'location.hash.slice(1)).get("machine")' in page.read_text()
    built = {(b.lang, b.slug): b.model for b in build_all()}
    for lang in ("en", "zh"):
        model = built[(lang, machine.SLUG)]
        (link,) = _panel(model, 1)["links"]
        assert link["url"] == "${presenter}/presenter#machine=${machine}"
        assert link["targetBlank"] is True
        var = next(v for v in model["templating"]["list"] if v["name"] == "presenter")
        assert var["type"] == "textbox" and var["hide"] == 2
        assert var["query"] == machine.PRESENTER_DEFAULT == "http://localhost:8090"
