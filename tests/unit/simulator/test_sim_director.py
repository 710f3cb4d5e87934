"""The demo director without services: stories, effects, the runner's commands and the
control API over real HTTP on localhost (a null sink: nothing is published)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from simulator.api import ControlApiError, ControlServer
from simulator.control import Command, parse_control, parse_scenario
from simulator.director import Director
from simulator.effects import Effects
from simulator.encode import Encoder
from simulator.model import FAULT, PlantModel
from simulator.plant import PlantError, load_plant
from simulator.runner import Runner
from simulator.sinks import NullSink
from simulator.stories import StoryPlayer, library, parse_loop
from stack.director import DirectorClient

from .helpers_sim import MONDAY_0800_LOCAL_MS, tiny_plant

TOKEN = "test-token-0123456789"


def wait_for(pred: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"no {what} within {timeout_s} s")


def test_every_shipped_story_fits_the_demo_plant_and_names_its_machines() -> None:
    plant = load_plant()
    assert set(library()) == {"bearing-wear", "laser-chiller", "rush-order", "energy-peak",
                              "quality-drift"}
    assert parse_loop("all") == list(library())
    for name in library():
        StoryPlayer(PlantModel(plant, 1, MONDAY_0800_LOCAL_MS)).check(name)
    with pytest.raises(PlantError, match="unknown story 'nope'"):
        parse_loop("bearing-wear,nope")


def test_scenario_targets_and_new_actions_on_a_second_plant() -> None:
    plant = tiny_plant(machines=3)
    raw = {"events": [
        {"at": "1m", "type": "press", "pick": 2, "action": "ramp", "value": 1.2,
         "duration": "10m"},
        {"at": 0, "line": "l1", "action": "scrap", "value": 3, "duration": "5m"},
        {"at": "2m", "action": "sales", "value": 4, "duration": "5m"}]}
    sc = parse_scenario(raw, "s.yaml", plant)
    assert [(e.at_s, e.action, e.machine) for e in sc.events] == [
        (0, "scrap", "p-01"), (0, "scrap", "p-02"), (0, "scrap", "p-03"),
        (60, "ramp", "p-02"), (120, "sales", "")]
    assert sc.length_s == 660
    # A replay moves a type pick on by one, wrapping.
    assert parse_scenario(raw, "s.yaml", plant, replay=2).events[3].machine == "p-01"
    for bad, where in (({"at": 0, "type": "laser", "action": "fault"}, r"events\[0\]\.type"),
                       ({"at": 0, "machine": "p-01", "line": "l1"}, r"events\[0\]\.machine"),
                       ({"at": 0, "machine": "p-01", "action": "scrap", "value": 2},
                        r"events\[0\]\.duration"),
                       ({"at": 0, "machine": "p-01", "action": "speed", "value": 0,
                         "duration": "1m"}, r"events\[0\]\.value"),
                       ({"at": 0, "action": "sales", "region": "Mars", "value": 2,
                         "duration": "1m"}, r"events\[0\]\.region")):
        with pytest.raises(PlantError, match=where):
            parse_scenario({"events": [bad]}, "s.yaml", plant)


def test_effects_scale_and_put_back_exactly() -> None:
    model = PlantModel(tiny_plant(machines=2), 1, MONDAY_0800_LOCAL_MS)
    fx = Effects(model)
    scrap0, ideal0, power0 = (model.scrap_rate.copy(), model.ideal_s.copy(),
                              model.power_by_state.copy())
    t0 = model.now_ms
    fx.start("scrap", "p-01", {"value": 4.0, "duration_s": 60}, t0)
    fx.start("scrap", "p-01", {"value": 2.0, "duration_s": 120}, t0)
    fx.start("speed", "p-02", {"value": 1.25, "duration_s": 60}, t0)
    fx.start("power", "p-02", {"value": 1.5, "duration_s": 60}, t0)
    fx.start("sales", "", {"value": 5.0, "duration_s": 60, "region": "North China"}, t0)
    assert model.scrap_rate[0] == pytest.approx(scrap0[0] * 8)
    assert model.ideal_s[1] == pytest.approx(ideal0[1] / 1.25)
    assert model.power_by_state[1] == pytest.approx(power0[1] * 1.5)
    assert model.sales.rate_factor == 5.0
    fx.tick(t0 + 60_000)
    assert model.scrap_rate[0] == pytest.approx(scrap0[0] * 2)
    assert model.ideal_s[1] == pytest.approx(ideal0[1])
    assert model.power_by_state[1] == pytest.approx(power0[1])
    assert model.sales.rate_factor == 1.0
    fx.start("ramp", "p-02", {"value": 1.5, "duration_s": 100}, t0 + 60_000)
    w0 = model.wear[1]
    fx.tick(t0 + 110_000)
    assert model.wear[1] == pytest.approx(w0 + (1.5 - w0) / 2)
    fx.reset()
    assert model.scrap_rate[0] == pytest.approx(scrap0[0]) and not fx.active


def test_sales_spike_puts_the_extra_orders_in_its_region() -> None:
    model = PlantModel(load_plant(), 3, MONDAY_0800_LOCAL_MS)
    model.sales.spike("Southwest China", 6.0)
    orders = model.sales.orders(model.now_ms, model.now_ms + 6 * 3_600_000, 8 * 3600)
    share = sum(o.region == "Southwest China" for o in orders) / len(orders)
    assert len(orders) > 300 and share > 0.75  # 1 - 1/6 + its own small share


def _runner(machines: int = 2, speed: float | None = 60.0,
            loop: list[str] | None = None) -> Runner:
    model = PlantModel(tiny_plant(machines=machines), 1, MONDAY_0800_LOCAL_MS)
    return Runner(model, Encoder(model), NullSink(), speed=speed,
                  stories=StoryPlayer(model, loop))


@contextmanager
def running(runner: Runner) -> Iterator[Runner]:
    t = threading.Thread(target=runner.run, daemon=True)
    t.start()
    try:
        yield runner
    finally:
        runner.stop.set()
        t.join(10)
        assert not t.is_alive()


def test_clear_and_reset_end_faults_with_a_done_work_order() -> None:
    r = _runner(machines=3, speed=None)
    r.duration_ticks = 0
    m = r.model
    r.submit(Command("fault", "p-01", {"duration_s": 3600}))
    r.submit(Command("fault", "p-02", {"duration_s": 3600}))
    for _ in range(3):
        r._apply_inputs()
        m.step()
    assert m.state[0] == FAULT and len(m.open_episodes()) == 2
    r.submit(Command("clear", "p-01", {}))
    r._apply_inputs()
    frame = m.step()
    assert [(w.machine, w.status) for w in frame.workorders] == [(0, "done")]
    assert [(a.machine, a.active) for a in frame.alarms] == [(0, False)]
    r.submit(Command("reset", "", {}))
    r._apply_inputs()
    frame = m.step()
    assert [(w.machine, w.status) for w in frame.workorders] == [(1, "done")]
    assert not m.open_episodes() and all(e.end_ms for e in m.episodes)


def test_a_speed_change_applies_to_a_running_runner() -> None:
    with running(_runner(speed=1.0)) as r:
        tick0 = r.model.tick
        r.submit(Command("speed", "", {"speed": 60.0}))
        # 1x would take 5 s per tick: 40 ticks (200 s simulated) in the wait below means
        # the new factor took hold without a restart.
        wait_for(lambda: r.model.tick >= tick0 + 40, "40 ticks at 60x", timeout_s=30)
        assert r.speed == 60.0


def test_story_labels_hold_the_events_and_the_fault_they_raised(tmp_path: Any) -> None:
    plant = tiny_plant(machines=2)
    story = tmp_path / "jam.yaml"
    story.write_text("name: jam\nevents:\n"
                     "  - {at: 1m, type: press, action: scrap, value: 3, duration: 2m}\n"
                     "  - {at: 2m, type: press, action: fault, code: T-JAM, duration: 5m}\n")
    model = PlantModel(plant, 1, MONDAY_0800_LOCAL_MS)
    player = StoryPlayer(model, [str(story)], quiet_s=60)
    r = Runner(model, Encoder(model), NullSink(), duration_ticks=400, stories=player)
    r.run()
    labels = player.labels_now()
    assert [(lb["story"], lb["run"]) for lb in labels[:2]] == [(str(story), 1), (str(story), 2)]
    first, second = labels[0], labels[1]
    fault = first["faults"][0]
    assert (fault["machine"], fault["code"]) == ("p-01", "T-JAM")
    assert fault["start_ms"] == first["start_ms"] + 120_000
    assert fault["end_ms"] - fault["start_ms"] == 300_000
    assert first["end_ms"] >= fault["end_ms"]
    # The loop starts the next play a quiet minute after the incident (the last event),
    # on the next machine of the type.
    assert second["start_ms"] == first["start_ms"] + 180_000
    assert second["faults"][0]["machine"] == "p-02"


def _call(port: int, method: str, path: str, body: Any = None,
          token: str | None = TOKEN) -> tuple[int, dict[str, Any]]:
    return DirectorClient(f"http://127.0.0.1:{port}", TOKEN).request(method, path, body, token)


@contextmanager
def api(runner: Runner, **kwargs: Any) -> Iterator[int]:
    server = ControlServer(Director(runner), TOKEN, port=0, **kwargs).start()
    try:
        yield server.port
    finally:
        server.close()


def test_api_refuses_to_start_without_a_token() -> None:
    for token in (None, "", "short", "has a space in it"):
        with pytest.raises(ControlApiError, match="needs a token"):
            ControlServer(Director(_runner()), token, port=0)


def test_api_auth_validation_and_a_fault() -> None:
    with running(_runner()) as r, api(r) as port:
        ep0 = len(r.model.episodes)
        for token in (None, "wrong-token-0123456789", TOKEN + "x", " "):
            assert _call(port, "POST", "/api/fault", {"machine": "p-01"}, token)[0] == 401
            assert _call(port, "GET", "/api/status", token=token)[0] == 401
        assert _call(port, "POST", "/api/reset", {}, "wrong-token-0123456789")[0] == 401
        for body, reason in (({"machine": "laser-99"}, "unknown machine 'laser-99'"),
                             ({"machine": "p-01", "code": "LSR-CHILLER"}, "not a fault of"),
                             ({"machine": "p-01", "duration_min": -3}, "duration_min"),
                             ({"machine": "p-01", "colour": "red"}, "unknown key"),
                             (b"{not json", "not JSON"), ([1, 2], "JSON object")):
            status, data = _call(port, "POST", "/api/fault", body)
            assert (status, reason in data["error"]) == (400, True), data
        for speed in (0, 61, "fast", True):
            assert _call(port, "POST", "/api/speed", {"speed": speed})[0] == 400
        assert _call(port, "POST", "/api/story", {"name": "../../etc/passwd"})[0] == 400
        assert _call(port, "POST", "/api/explode", {})[0] == 404
        assert r.commands.empty() and len(r.model.episodes) == ep0  # nothing changed
        status, data = _call(port, "POST", "/api/fault", {"machine": "p-02", "code": "T-JAM",
                                                          "duration_min": 30})
        assert status == 202 and data["ok"]
        ep = wait_for(lambda: [e for e in r.model.episodes if e.source == "control"],
                      "the fault")[0]
        assert (ep.machine, ep.code) == ("p-02", "T-JAM")
        snap = wait_for(lambda: (s := _call(port, "GET", "/api/status")[1])
                        and s["machines"][1]["fault"] and s, "status with the fault")
        assert snap["machines"][1]["state"] in ("FAULT", "MAINTENANCE")
        assert _call(port, "POST", "/api/speed", {"speed": 30})[0] == 202
        wait_for(lambda: _call(port, "GET", "/api/status")[1]["speed"] == 30, "speed 30")


def test_visitor_mode_allows_only_faults_and_clears_at_a_rate() -> None:
    with running(_runner()) as r:
        with api(r) as port:
            assert _call(port, "POST", "/api/fault", {"machine": "p-01"}, None)[0] == 401
        with api(r) as port:
            assert _call(port, "GET", "/api/status", token=None)[0] == 401
        with api(r, visitors=True, visitor_gap_s=3600) as port:
            status, snap = _call(port, "GET", "/api/status", token=None)
            assert (status, snap["visitors"], snap["presenter"]) == (200, True, False)
            assert _call(port, "GET", "/api/labels", token=None)[0] == 401
            assert _call(port, "POST", "/api/speed", {"speed": 5}, None)[0] == 401
            assert _call(port, "POST", "/api/fault", {"machine": "nope"}, None)[0] == 400
            assert _call(port, "POST", "/api/fault", {"machine": "p-01"}, None)[0] == 202
            assert _call(port, "POST", "/api/clear", {"machine": "p-01"}, None)[0] == 429
            assert _call(port, "POST", "/api/clear", {"machine": "p-01"})[0] == 202


def test_control_topic_payloads_for_the_new_commands() -> None:
    assert parse_control("speed", b'{"speed": 12}').params == {"speed": 12.0}
    assert parse_control("clear", b'{"machine": "p-01"}').machine == "p-01"
    assert parse_control("story", b'{"name": "next"}').params == {"name": "next"}
    assert parse_control("reset", b"").action == "reset"
    for cmd, bad in (("speed", b'{"speed": 99}'), ("clear", b"{}"), ("story", b"[]"),
                     ("launch", b"{}")):
        with pytest.raises(ValueError):
            parse_control(cmd, bad)


def test_a_failing_handler_answers_500_and_the_simulator_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with running(_runner()) as r, api(r) as port:
        def boom() -> dict[str, Any]:
            raise RuntimeError("status exploded")

        monkeypatch.setattr(Director, "status", lambda self: boom())
        assert _call(port, "GET", "/api/status") == (500, {"error": "internal error (logged)"})
        tick = r.model.tick
        wait_for(lambda: r.model.tick > tick + 2, "ticks after the failure")
        assert _call(port, "POST", "/api/fault", {"machine": "p-01"})[0] == 202
        oversized = b"{" + b" " * 5000 + b"}"
        assert _call(port, "POST", "/api/fault", oversized)[0] == 400
