"""Counting what InfluxDB holds: points, distinct sequence numbers, missing ranges."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from telemetry.influx import InfluxClient, QueryError

#: Every timestamp InfluxDB 1.x can hold (without an explicit range, some queries stop
#: at now()).
ALL_TIME = "time >= -9223372036854775806 AND time <= 9223372036854775806"


@dataclass(frozen=True)
class Stored:
    points: int  # count(seq): every stored point
    distinct: int  # count(distinct(seq)): different messages stored

    @property
    def duplicates(self) -> int:
        return self.points - self.distinct


def _scalar(client: InfluxClient, q: str) -> int:
    res = client.query(q)
    series = res[0].get("series") or []
    return int(series[0]["values"][0][1]) if series else 0


def stored(client: InfluxClient, prefix: str) -> Stored:
    where = f"enterprise = '{prefix}' AND {ALL_TIME}"
    points = _scalar(client, f'SELECT count("seq") FROM "telemetry" WHERE {where}')
    distinct = _scalar(client, f'SELECT count(distinct("seq")) FROM "telemetry" WHERE {where}')
    return Stored(points, distinct)


def stored_until(client: InfluxClient, until_ms: int) -> int:
    """Points with a timestamp <= until_ms (steady mode: cheap, uses the time index)."""
    try:
        return _scalar(client, f'SELECT count("seq") FROM "telemetry" WHERE time >= 0 AND '
                               f'time <= {until_ms}ms')
    except QueryError:
        return -1  # influxd down or frozen: not yet


def stored_after(client: InfluxClient, after_ms: int) -> int:
    try:
        return _scalar(client, f'SELECT count("seq") FROM "telemetry" WHERE time > '
                               f'{after_ms}ms AND time <= 9223372036854775806')
    except QueryError:
        return -1


def _rows(client: InfluxClient, chunk: int = 200_000) -> Iterator[list[Any]]:
    """Every (time ms, seq) row, in chunks."""
    offset = 0
    while True:
        res = client.query(f'SELECT "seq" FROM "telemetry" WHERE {ALL_TIME} '
                           f'LIMIT {chunk} OFFSET {offset}')
        rows = [v for s in res[0].get("series") or [] for v in s["values"]]
        yield from rows
        if len(rows) < chunk:
            return
        offset += chunk


def check_timestamps(client: InfluxClient, ts_of: Callable[[int], int]) -> tuple[int, int]:
    """(points checked, points whose timestamp is not the one their message carried)."""
    checked = wrong = 0
    for t_ms, seq in _rows(client):
        checked += 1
        if seq is None or int(t_ms) != ts_of(int(seq)):
            wrong += 1
    return checked, wrong


def missing_ranges(client: InfluxClient, published: int,
                   limit: int = 20) -> list[tuple[int, int]]:
    """The first `limit` runs of sequence numbers below `published` that are not stored."""
    seen = bytearray(published)
    for _, seq in _rows(client):
        if seq is not None and 0 <= int(seq) < published:
            seen[int(seq)] = 1
    out: list[tuple[int, int]] = []
    i = 0
    while i < published and len(out) < limit:
        if not seen[i]:
            j = i
            while j + 1 < published and not seen[j + 1]:
                j += 1
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out
