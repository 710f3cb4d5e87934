"""The native demo's director keys against the real control API of a running simulator
(a null sink: no services needed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from simulator.api import ControlServer
from simulator.director import Director
from simulator.encode import Encoder
from simulator.model import PlantModel
from simulator.plant import load_plant
from simulator.runner import Runner
from simulator.sinks import NullSink
from stack.director import Controls, DirectorClient

TOKEN = "test-keys-token-0123456789"


@pytest.fixture
def director() -> Iterator[tuple[Runner, DirectorClient]]:
    model = PlantModel(load_plant(), 1, 1_767_571_200_000)
    runner = Runner(model, Encoder(model), NullSink(), speed=30.0)
    t = threading.Thread(target=runner.run, daemon=True)
    t.start()
    server = ControlServer(Director(runner), TOKEN, port=0).start()
    try:
        yield runner, DirectorClient(server.url, TOKEN)
    finally:
        server.close()
        runner.stop.set()
        t.join(10)


def wait_for(pred: Any, what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if got := pred():
            return got
        time.sleep(0.02)
    raise AssertionError(f"no {what} within {timeout_s} s")


def test_keys_select_fault_speed_story_and_reset(
        director: tuple[Runner, DirectorClient]) -> None:
    runner, client = director
    c = Controls(client)
    c.refresh()
    assert c.selected == "laser-01" and c.speed == 30
    assert c.key("]") == "selected: laser-02 (RUNNING)"
    assert c.key("}") is not None and c.selected == "punch-01"  # the next line
    assert c.key("{") is not None and c.selected == "laser-01"
    c.key("[")
    assert c.selected == load_plant().machines[-1].id  # wraps to the last machine
    c.key("]")
    note = c.key("f")
    assert note == "fault queued for the next tick (laser-01)"
    ep = wait_for(lambda: [e for e in runner.model.episodes if e.source == "control"],
                  "the fault")[0]
    assert ep.machine == "laser-01"
    assert c.key("+") == "speed 60x" and c.key("+") == "speed stays 60x"
    wait_for(lambda: runner.speed == 60, "60x")
    assert c.key("-") == "speed 30x"
    assert c.key("n") == "story queued for the next tick"
    wait_for(lambda: runner.stories.labels, "a story started")
    assert c.key("r") == "reset queued for the next tick"
    wait_for(lambda: ep.end_ms is not None and not runner.stories.playing, "a clean plant")
    assert c.key("x") is None


def test_an_unreachable_api_is_one_line() -> None:
    c = Controls(DirectorClient("http://127.0.0.1:9", TOKEN, timeout_s=2))
    c.selected = "laser-01"
    assert c.key("f").startswith("control API at http://127.0.0.1:9 not reachable")
