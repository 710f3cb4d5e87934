"""``python -m reliability``: run the fault matrix and print the results table."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from reliability.cases import CASES, PROFILES, CaseResult, run_case
from reliability.report import legend, machine, table, write_json
from stack.services import ServiceError

log = logging.getLogger("reliability")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m reliability",
        description="Run the fault matrix (docs/reliability.md) on a private local stack "
                    "and print the results table.")
    p.add_argument("--profile", choices=sorted(PROFILES), default="full",
                   help="durations: full (issue 7's: 60 s influxd stop, 30 s freeze, 1 h "
                        "soak) or ci (the short versions the tests run)")
    p.add_argument("--rates", default="2000,10000",
                   help="comma-separated publish rates in msg/s (default 2000,10000)")
    p.add_argument("--cases", default=",".join(CASES),
                   help=f"comma-separated cases (default all: {', '.join(CASES)})")
    p.add_argument("--soak-s", type=float, help="override the soak duration")
    p.add_argument("--soak-rates", help="rates for the soak (default: the first rate)")
    p.add_argument("--work-dir", type=Path,
                   help="where services keep data and logs (default: a temp dir)")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    profile = PROFILES[args.profile]
    if args.soak_s:
        profile = replace(profile, soak_s=args.soak_s)
    try:
        rates = [float(r) for r in args.rates.split(",") if r]
        soak_rates = [float(r) for r in args.soak_rates.split(",")] if args.soak_rates \
            else rates[:1]
    except ValueError:
        print("python -m reliability: error: --rates/--soak-rates take numbers, e.g. "
              "2000,10000", file=sys.stderr)
        return 2
    names = [c for c in args.cases.split(",") if c]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        print(f"python -m reliability: error: unknown case {unknown[0]!r} (known: "
              f"{', '.join(CASES)})", file=sys.stderr)
        return 2
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="reliability-"))
    results: list[CaseResult] = []
    t0 = time.monotonic()
    print(f"fault matrix, profile {profile.name}, rates {rates}, work dir {work}",
          flush=True)
    for name in names:
        for rate in soak_rates if name == "soak" else rates:
            t = time.monotonic()
            try:
                r = run_case(name, rate, profile, work)
            except ServiceError as exc:
                print(f"python -m reliability: error: {exc}", file=sys.stderr)
                return 1
            results.append(r)
            print(f"{name} @ {rate:,.0f} msg/s: published {r.published:,}, stored "
                  f"{r.stored:,}, lost {r.lost:,}, dup {r.duplicates:,}, recovery "
                  f"{r.recovery_s if r.recovery_s is None else round(r.recovery_s, 1)} s "
                  f"({time.monotonic() - t:.0f} s)", flush=True)
            if args.json:
                write_json(results, args.json)
    print(f"\nMachine: {machine()}; profile {profile.name}; total "
          f"{(time.monotonic() - t0) / 60:.1f} min\n")
    print(table(results))
    print()
    print(legend())
    # A broker crash may lose what Mosquitto had not saved (docs/reliability.md); nothing
    # else may lose anything, and nothing may be doubled.
    crash_ok = [r.case.startswith("mosquitto_kill") and r.error is None
                and r.duplicates == 0 and r.unexpected_dead_letters == 0 for r in results]
    return 0 if all(r.ok or c for r, c in zip(results, crash_ok, strict=True)) else 1


if __name__ == "__main__":
    sys.exit(main())
