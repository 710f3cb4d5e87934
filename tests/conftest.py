"""Session fixtures: a real Mosquitto and a real influxd on free ports in temp dirs.

Integration tests never mock the broker or the database. Tests that stop, kill or
freeze a service use ``fresh_mosquitto``/``fresh_influxd`` so the shared ones stay up.
Unit tests (tests/unit) need none of this and start nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from stack.services import Influxd, Mosquitto, Service, free_port

# Property tests: no per-example deadline (a shared, loaded machine is not a failure of
# the code: no timed assertions), and in CI the same examples every run, so a landing
# never depends on a random draw; locally every run explores new ones.
settings.register_profile("local", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "local")



def _start(svc: Service) -> Service:
    svc.start(timeout_s=60)
    return svc


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    svc = Mosquitto(run_dir=tmp_path_factory.mktemp("mosquitto"), port=free_port())
    _start(svc)
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    svc = Influxd(run_dir=tmp_path_factory.mktemp("influxd"), port=free_port(), database="")
    _start(svc)
    yield svc
    svc.stop()


@pytest.fixture
def mqtt_url(mosquitto: Mosquitto) -> str:
    if not mosquitto.running():  # a test before us may have stopped the shared one
        mosquitto.restart()
    return mosquitto.url


@pytest.fixture
def influx_url(influxd: Influxd) -> str:
    if not influxd.running():
        influxd.restart()
    return influxd.url


@pytest.fixture
def influx_db(influxd: Influxd, influx_url: str) -> Iterator[str]:
    """A fresh database per test, dropped afterwards, so tests never see each other."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    influxd.query(f'CREATE DATABASE "{name}"')
    yield name
    if influxd.running():
        influxd.query(f'DROP DATABASE "{name}"')


@pytest.fixture
def topic_prefix() -> str:
    """A unique enterprise id so parallel tests on one broker never see each other."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def fresh_mosquitto(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """Factory for a private broker a test may stop, kill or restart."""
    started: list[Mosquitto] = []

    def make(**kwargs: object) -> Mosquitto:
        svc = Mosquitto(run_dir=tmp_path / f"mosquitto{len(started)}", port=free_port(),
                        **kwargs)  # type: ignore[arg-type]
        started.append(svc)
        _start(svc)
        return svc

    yield make
    for svc in started:
        svc.stop()


@pytest.fixture
def fresh_influxd(tmp_path: Path) -> Iterator[Callable[..., Influxd]]:
    """Factory for a private influxd a test may stop, kill, freeze or restart."""
    started: list[Influxd] = []

    def make(database: str = "factory") -> Influxd:
        svc = Influxd(run_dir=tmp_path / f"influxd{len(started)}", port=free_port(),
                      database=database)
        started.append(svc)
        _start(svc)
        return svc

    yield make
    for svc in started:
        svc.stop()
