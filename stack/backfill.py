"""Backfill what is missing, on every start: ``python -m stack.backfill`` (compose ``backfill``).

The newest stored point of the plant (its enterprise and site) decides: nothing stored ->
the last ``--days``; a gap since the newest point -> that gap (at most ``--days``); up to
date (under a minute old) -> nothing. Then it runs ``factory-sim backfill`` for that span,
which writes with the endpoint settings it finds in the environment
(``FACTORY_INFLUX_URL``, ``FACTORY_INFLUX_API``, ``FACTORY_INFLUX_TOKEN_FILE``, ...).
The newest point is read with InfluxQL; with the v2 API through the bucket's DBRP mapping
with the read-only token in ``FACTORY_INFLUX_READ_TOKEN_FILE`` (the write token cannot
read). The native demo (:mod:`stack.demo`) plans its backfill with :func:`plan` too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient, QueryError

#: Newer than this, the history counts as up to date.
UP_TO_DATE_MS = 60_000


@dataclass(frozen=True)
class Plan:
    days: float  # 0: nothing to do
    message: str


def newest_ms(client: InfluxClient, enterprise: str, site: str) -> int | None:
    """Time of the plant's newest telemetry sample (every machine, every few seconds), None
    when it has none; raises QueryError when the database cannot be read (never guess
    "empty" and write a second history)."""
    rows = client.query(f"""SELECT last("power_kw") FROM "telemetry" WHERE "enterprise" = """
                        f"""'{enterprise}' AND "site" = '{site}'""")
    series = (rows[0].get("series") or []) if rows else []
    return int(series[0]["values"][0][0]) if series else None


def plan(newest: int | None, now_ms: int, max_days: float) -> Plan:
    """How much history to write, given the newest stored point."""
    if max_days <= 0:
        return Plan(0.0, "backfill: off (0 days)")
    if newest is None:
        return Plan(max_days, f"first start: backfilling the last {max_days * 24:.1f} h")
    gap_ms = now_ms - newest
    if gap_ms < UP_TO_DATE_MS:
        return Plan(0.0, "history is up to date; no backfill needed")
    days = min(max_days, gap_ms / 86_400_000)
    return Plan(days, f"backfilling the {days * 24:.1f} h since the newest data")


def read_endpoint(env: dict[str, str] | None = None) -> InfluxEndpoint:
    """Where to read the newest point: the write endpoint's server, the read token (v2)."""
    env = dict(os.environ) if env is None else env
    url = env.get("FACTORY_INFLUX_URL", "http://127.0.0.1:8086")
    db = env.get("FACTORY_INFLUX_BUCKET") or env.get("FACTORY_INFLUX_DB") or "factory"
    token_file = env.get("FACTORY_INFLUX_READ_TOKEN_FILE")
    token = Path(token_file).read_text().strip() if token_file else None
    return InfluxEndpoint(url=url, db=db, token=token or None)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m stack.backfill",
                                description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--plant", metavar="FILE", help="plant YAML (default: the demo plant)")
    p.add_argument("--days", type=float, default=1.0, help="at most this much (default 1)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    from simulator.plant import PlantError, load_plant  # noqa: PLC0415

    try:
        plant = load_plant(args.plant)
        client = InfluxClient(read_endpoint())
    except (PlantError, OSError, ValueError) as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return 2
    try:
        todo = plan(newest_ms(client, plant.enterprise, plant.site), int(time.time() * 1000),
                    args.days)
    except QueryError as exc:
        print(f"backfill: cannot read the newest stored point, nothing written ({exc})",
              file=sys.stderr)
        return 1
    finally:
        client.close()
    print(f"backfill ({plant.enterprise}/{plant.site}): {todo.message}", flush=True)
    if todo.days <= 0:
        return 0
    cmd = ["factory-sim", "backfill", "--days", f"{todo.days:.6f}", "--seed", str(args.seed),
           "--no-progress", *(["--plant", args.plant] if args.plant else [])]
    os.execvp(cmd[0], cmd)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
