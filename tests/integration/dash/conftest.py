"""What the dashboards' integration tests on written cases share: a client on the test's
own database of the real influxd (tests/conftest.py), and a write that must be accepted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stack.services import Influxd
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient


class CaseClient(InfluxClient):
    def write_lines(self, lines: list[str]) -> None:
        """Write line protocol (ms timestamps); the write must be accepted."""
        result = self.write("\n".join(lines).encode())
        assert result.ok, result


@pytest.fixture
def client(influxd: Influxd, influx_db: str) -> Iterator[CaseClient]:
    c = CaseClient(InfluxEndpoint(url=influxd.url, db=influx_db))
    yield c
    c.close()
