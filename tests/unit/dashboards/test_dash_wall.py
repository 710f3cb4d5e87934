"""The wall rules (banner, exact numbers, noValue, colours, fit) hold for the default plant
and for a second plant, and each check fires on a dashboard broken on purpose."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from dashboards import chinamap
from dashboards import panels as p
from dashboards import queries as q
from dashboards.build import Built, build_all, repeat_counts
from dashboards.checks import check_all
from dashboards.cli import main
from dashboards.wall import FRESH_WINDOW, Wall, load
from dashboards.wallchecks import check_wall, query_columns, table_columns
from simulator.plant import Plant

#: The second plant of the plant-format tests: acme/lyon, Europe/Paris, no hardware and no
#: assembly area, names mostly without Chinese, plant-declared signals.
ROOT = Path(__file__).resolve().parents[3]
LYON = ROOT / "docs" / "examples" / "acme-lyon.yaml"
#: The deployment tests' smaller acme/lyon (positions on the floor plan, packaging output).
LYON_DEPLOY = ROOT / "tests" / "data" / "acme-lyon.yaml"


@pytest.fixture(scope="module")
def lyon() -> Plant:
    return load(LYON)


@pytest.fixture(scope="module")
def built() -> list[Built]:
    return build_all()


def _by(built: list[Built], uid: str) -> dict[str, Any]:
    return copy.deepcopy(next(b.model for b in built if b.uid == uid))


def _panel(model: dict[str, Any], pid: int) -> dict[str, Any]:
    return next(p for p in model["panels"] if p["id"] == pid)


def test_a_second_plant_builds_and_passes_every_check(lyon: Plant, tmp_path: Path) -> None:
    built = build_all(plant=lyon)
    assert check_all([b.model for b in built], repeat_counts(lyon), lyon) == []
    overview = next(b.model for b in built if b.uid == "plant-overview")
    variables = {v["name"]: v for v in overview["templating"]["list"]}
    assert variables["enterprise"]["current"]["value"] == "acme"
    assert variables["site"]["current"]["value"] == "lyon"
    assert variables["output"]["current"]["value"] == [
        m.id for m in Wall.of("en", lyon).output_machines]
    assert overview["timezone"] == "Europe/Paris"
    assert next(b.model for b in built if b.uid == "equipment-status")["title"] == \
        "Injection moulding equipment status"
    assert next(b.model for b in built if b.uid == "equipment-status-zh")["title"] == \
        "Injection moulding设备运行情况"  # the plant gives this area no Chinese name
    # build --out writes there and leaves the committed JSON alone.
    assert main(["build", "--plant", str(LYON), "--out", str(tmp_path), "--lang", "zh"]) == 0
    assert sorted(p.name for p in (tmp_path / "zh").iterdir()) == sorted(
        f"{b.slug}.json" for b in built if b.lang == "zh")
    assert not (tmp_path / "en").exists()
    assert main(["check", "--plant", str(LYON)]) == 0
    assert main(["check", "--plant", str(LYON_DEPLOY)]) == 0


def test_a_bad_plant_file_is_a_one_line_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "plant.yaml"
    bad.write_text("enterprise: acme\nsite: lyon\nareas: []\n")
    assert main(["check", "--plant", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("factory-dashboards: ") and "\n" not in err


def test_every_screen_has_the_banner(built: list[Built]) -> None:
    for b in built:
        content = _panel(b.model, 101)["options"]["content"]
        assert b.model["title"].replace("&", "&amp;") in content
        assert "${__to:date:YYYY-MM-DD HH:mm:ss}" in content
        assert _panel(b.model, 103)["timeFrom"] == "60s"


def test_shift_names_follow_the_plant_calendar(lyon: Plant) -> None:
    bottling = next(a for a in lyon.areas if a.id == "bottling")
    shifts = Wall.of("zh", lyon).shifts(bottling)
    assert shifts == [("非生产时间", 0, 360), ("一班 06:00-14:00", 360, 840),
                      ("二班 14:00-22:00", 840, 1320), ("非生产时间", 1320, 1440)]
    assert Wall.of("en", lyon).shifts() == [("Shift 1 00:00-24:00", 0, 1440)]
    night = Wall.of("en", load()).shifts(load().areas[0])  # 22:00-06:00 over midnight
    assert night[0] == ("Shift 3 22:00-06:00", 0, 360) and night[-1][1:] == (1320, 1440)
    assert sum(end - start for _, start, end in night) == 1440
    # Moulding (the first output) runs round the clock: daily buckets from local midnight
    # (in local minutes: the query's tz() aligns buckets to the plant's clock, summer time
    # included).
    assert Wall.of("en", lyon).shift_offset == "0m"
    assert Wall.of("en", lyon).query_variables()[q.VAR_PLANT_TZ].values == ("Europe/Paris",)
    # The output lines (final assembly) start at 07:00 local: 420 min into an 8 h bucket.
    assert Wall.of("en", load()).shift_offset == "420m"
    # A fixed offset that no IANA name has: UTC buckets, the offset in UTC minutes.
    kolkata = Wall.of("en", dataclasses.replace(load(), timezone="UTC+05:30",
                                                utc_offset_h=5.5))
    assert (kolkata.query_zone, kolkata.shift_offset) == ("UTC", f"{(420 - 330) % 480}m")


@pytest.mark.parametrize(("uid", "pid", "mutate", "expected"), [
    ("plant-overview", 1, lambda p: p["fieldConfig"]["defaults"].update(unit="short"),
     "scales the number"),
    ("sales-energy", 1, lambda p: p["fieldConfig"]["defaults"].update(unit="currencyCNY"),
     "scales the number"),
    ("plant-overview", 5, lambda p: p["fieldConfig"]["defaults"].pop("noValue"), "noValue"),
    ("plant-overview", 5, lambda p: p["fieldConfig"]["defaults"]["thresholds"]["steps"][1]
     .update(color="#ff8800"), "palette"),
    ("sales-energy-zh", 9, lambda p: p["fieldConfig"]["overrides"][-1]["properties"][1][
        "value"][0]["options"]["critical"].update(color="#ff780a"), "severity critical"),
    ("sales-energy", 9, lambda p: p["transformations"][0]["options"]["excludeByName"].update(
        code=False, wo_id=False, area=False), "do not fit"),
    ("maintenance-progress", 4, lambda p: p["transformations"].pop(), "rows not limited"),
    ("equipment-status", 3, lambda p: p["gridPos"].update(h=5), "bars need"),
    ("oee-production", 103, lambda p: p.update(timeFrom="1h"), "60 s"),
    ("oee-production", 101, lambda p: p["options"].update(content="OEE"), "banner"),
    ("plant-overview-zh", 7, lambda p: p.update(title="Plant floor"), "untranslated"),
    ("oee-production-zh", 9, lambda p: p["fieldConfig"]["overrides"][-1]["properties"][0][
        "value"][0]["options"]["LSR-CHILLER"].update(text="Chiller coolant flow low"),
     "untranslated 'Chiller'"),
    ("equipment-status-zh", 2, lambda p: p["fieldConfig"]["defaults"]["mappings"][0][
        "options"]["0"].update(text="停机"), "OFF is 关机"),
    ("pipeline-health-zh", 3, lambda p: p.update(title="死信"), "异常消息"),
    ("sales-energy", 4, lambda p: p["transformations"].pop(1), "divides by 'output'"),
    ("pipeline-health", 102, lambda p: p["targets"][0].update(
        query=p["targets"][0]["query"].replace("$site", "$plant")), "uses $plant"),
    ("maintenance-progress", 5, lambda p: p["transformations"].insert(
        2, p["transformations"].pop(3)), "divides by 'failures'"),
    ("equipment-status-zh", 2, lambda p: p.update(title="本班设备状态"), "rolling"),
])
def test_wall_checks_catch_broken_dashboards(built: list[Built], uid: str, pid: int,
                                             mutate: Any, expected: str) -> None:
    model = _by(built, uid)
    assert check_wall(model, load()) == []
    mutate(_panel(model, pid))
    problems = check_wall(model, load())
    assert any(expected in p for p in problems), problems


def test_table_columns_are_read_from_the_queries(built: list[Built]) -> None:
    assert query_columns('SELECT "code", "message" FROM "alarm" WHERE $timeFilter '
                         'ORDER BY time DESC LIMIT 20') == ["Time", "code", "message"]
    assert query_columns('SELECT last("a") AS "x" FROM (SELECT b FROM m GROUP BY "t") '
                         'GROUP BY "machine", "line"') == ["Time", "machine", "line", "x"]
    faults = _panel(_by(built, "plant-overview"), 8)
    assert table_columns(faults) == ["Time", "machine", "line", "code"]


def test_state_panels_read_the_freshness_window_and_show_offline(built: list[Built],
                                                                 lyon: Plant) -> None:
    # A plant with few machines gets boxes wide enough to name the state.
    small = next(b.model for b in build_all(("zh",), lyon) if b.slug == "plant-overview")
    texts = {e["config"]["text"]["fixed"] for e in _panel(small, 7)["options"]["root"][
        "elements"] if e["config"]["text"]["mode"] == "field"}
    assert texts == {"离线"}
    for lang, offline in (("en", "Offline"), ("zh", "离线")):
        suffix = "" if lang == "en" else "-zh"
        overview = _by(built, f"plant-overview{suffix}")
        for pid in (4, 7):  # machines running, floor plan
            assert _panel(overview, pid)["timeFrom"] == FRESH_WINDOW
        # current faults and active alarms: alarms not cleared, however old (7 days)
        for pid in (5, 8):
            assert _panel(overview, pid)["timeFrom"] == q.ALARM_WINDOW
        boxes = [e for e in _panel(overview, 7)["options"]["root"]["elements"]
                 if "field" in e["background"]["color"]]
        assert {e["background"]["color"]["fixed"] for e in boxes} == {p.GREY}
        assert {e["config"]["text"]["fixed"] for e in boxes
                if e["config"]["text"]["mode"] == "field"} <= {offline}
        tile = _panel(_by(built, f"equipment-status{suffix}"), 1)
        assert tile["timeFrom"] == FRESH_WINDOW
        assert tile["fieldConfig"]["defaults"]["noValue"] == offline
        assert tile["fieldConfig"]["defaults"]["thresholds"]["steps"][0]["color"] == p.GREY
    timeline = _panel(_by(built, "equipment-status"), 2)
    assert timeline["targets"][0]["query"].endswith("fill(null)")


def test_collector_cards_are_grey_without_data(built: list[Built]) -> None:
    """No collector statistics at all is not "fine": grey "No data", not green."""
    for pid in range(1, 7):
        (null,) = _panel(_by(built, "pipeline-health-zh"), pid)["fieldConfig"]["defaults"][
            "mappings"]
        assert null["type"] == "special" and null["options"]["match"] == "null+nan"
        assert null["options"]["result"] == {"text": "无数据", "color": p.GREY}


def test_energy_per_unit_has_no_value_before_the_first_unit(built: list[Built]) -> None:
    """merge -> keep rows with output > 0 -> kWh / output: no row, no Infinity."""
    ids = [t["id"] for t in _panel(_by(built, "sales-energy"), 4)["transformations"]]
    assert ids == ["merge", "filterByValue", "calculateField"]
    flt = _panel(_by(built, "sales-energy"), 4)["transformations"][1]["options"]
    assert flt["filters"] == [{"fieldName": "output",
                               "config": {"id": "greater", "options": {"value": 0}}}]


def test_the_chinese_wall_names_everything_from_the_plant(built: list[Built]) -> None:
    """Areas, lines, fault codes, downtime reasons, regions and channels reach the zh wall
    in Chinese through value mappings and renames generated from the plant."""
    plant = load()
    overview = _by(built, "plant-overview-zh")
    texts = {e["config"]["text"].get("fixed") for e in _panel(overview, 7)["options"]["root"][
        "elements"]}
    assert {a.name_zh for a in plant.areas} | {ln.name_zh for _, ln in plant.lines} <= texts
    assert "五金车间" in texts
    pareto = _panel(_by(built, "oee-production-zh"), 9)
    reasons = pareto["fieldConfig"]["overrides"][-1]["properties"][0]["value"][0]["options"]
    assert reasons["LSR-CHILLER"]["text"] == next(
        f.message_zh for f in plant.types["laser_cutter"].faults if f.code == "LSR-CHILLER")
    assert reasons["repair"]["text"] == "故障维修"
    sales = _by(built, "sales-energy-zh")
    renamed = {o["matcher"]["options"]: o["properties"][0]["value"]
               for o in _panel(sales, 6)["fieldConfig"]["overrides"]}
    assert renamed["dealer"] == "经销商"
    # regions: on the China map (panel 5), its blocks labelled with the regions' name_zh
    assert _panel(sales, 5)["options"]["basemap"]["config"]["style"]["text"]["field"] == \
        "name_zh"
    assert {f["properties"]["name_zh"] for f in chinamap.regions_geojson(
        plant.business.regions)["features"]} >= {"华东", "华南"}
    crew = next(o["properties"][1]["value"][0]["options"]
                for o in _panel(overview, 10)["fieldConfig"]["overrides"]
                if o["matcher"]["options"] == "technician")
    assert crew["Zhang Wei"]["text"] == "张伟"
    alarms = _panel(sales, 9)
    (shown,) = [o for o in alarms["fieldConfig"]["overrides"]
                if o["matcher"]["options"] == "code"]
    assert shown["properties"][1]["value"][0]["options"]["LSR-CHILLER"]["text"] == \
        reasons["LSR-CHILLER"]["text"]
    states = _panel(overview, 7)["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert states["0"]["text"] == "关机"  # OFF is 关机, never 停机


def test_a_plant_with_one_very_long_line_fits_the_floor_plan(tmp_path: Path) -> None:
    """300 machines on one line wrap onto several rows instead of shrinking to nothing."""
    plant_file = tmp_path / "long.yaml"
    plant_file.write_text("enterprise: big\nsite: one\nname: Big\ntimezone: America/New_York\n"
                          "types: types.yaml\nareas:\n  - id: a\n    lines:\n      - id: l1\n"
                          "        machines:\n"
                          "          - {id: r, type: abb_robot_cell, count: 300}\n")
    assert main(["check", "--plant", str(plant_file)]) == 0


def test_every_state_reason_has_a_label_in_both_languages() -> None:
    """The reasons come from simulator.downtime.REASONS (never a list in the dashboards):
    each one, and those announced for issue 16, reads as words in English and Chinese."""
    from dashboards.i18n import REASON_NAMES, Lang, reason_label
    from simulator.downtime import REASONS

    for reason in {r for r in REASONS if r} | {"micro-stop", "waiting-parts", "holiday", "standby"}:
        assert reason in REASON_NAMES, f"state reason {reason!r} has no label"
        en, zh = REASON_NAMES[reason]
        assert en and not re.search(r"[A-Za-z]", zh), reason
    assert reason_label("new-reason", Lang("en")) == "New reason"  # never a raw code
    for code in ("en", "zh"):
        mapped = Wall.of(code, load()).reason_mappings()[0]["options"]
        assert {r for r in REASONS if r} <= set(mapped)
        assert mapped["waiting-parts"]["text"] == ("Waiting for parts" if code == "en"
                                                   else "等待备件")
