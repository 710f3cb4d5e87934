"""``factory-dashboards``: build the dashboard JSON, check it, push it to a Grafana.

    factory-dashboards build [--plant FILE] [--out DIR] [--lang en|zh|all] [--check]
    factory-dashboards check [--plant FILE]
    factory-dashboards push --grafana URL [--grafana-token T | --grafana-user U ...]
                            --influx-url URL-as-Grafana-sees-it [--influx-token READ-TOKEN]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from dashboards.build import JSON_DIR, build_all, repeat_counts, stale, write
from dashboards.checks import check_all
from dashboards.i18n import LANGS, LangCode
from dashboards.push import PushError, connect, push
from dashboards.wall import load
from simulator.plant import PlantError
from telemetry.endpoints import ConfigError, add_endpoint_args, resolve

log = logging.getLogger(__name__)


def _langs(value: str) -> tuple[LangCode, ...]:
    return LANGS if value == "all" else (cast(LangCode, value),)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="factory-dashboards", description=__doc__.split("\n")[0])
    ap.add_argument("-v", "--verbose", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="generate <out>/<lang>/*.json from a plant file")
    b.add_argument("--lang", choices=(*LANGS, "all"), default="all")
    b.add_argument("--plant", help="plant YAML (default: the demo plant)")
    b.add_argument("--out", type=Path, default=JSON_DIR,
                   help=f"output folder (default: {JSON_DIR}, the committed demo-plant JSON)")
    b.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if the JSON in --out is stale")
    c = sub.add_parser("check", help="static checks over the dashboards built for a plant")
    c.add_argument("--plant", help="plant YAML (default: the demo plant)")
    p = sub.add_parser("push", help="create/update data source, dashboards, playlist, home")
    p.add_argument("--grafana", default=os.environ.get("GRAFANA_URL", "http://127.0.0.1:3000"),
                   help="Grafana base URL, may carry user:password@ (env GRAFANA_URL)")
    p.add_argument("--grafana-token", default=os.environ.get("GRAFANA_TOKEN"),
                   help="service-account token (env GRAFANA_TOKEN)")
    p.add_argument("--grafana-user", default=os.environ.get("GRAFANA_USER"),
                   help="user (env GRAFANA_USER)")
    p.add_argument("--grafana-password", default=os.environ.get("GRAFANA_PASSWORD"),
                   help="password (env GRAFANA_PASSWORD)")
    p.add_argument("--lang", choices=(*LANGS, "all"), default="all")
    p.add_argument("--home-lang", choices=LANGS, default="en",
                   help="which language's plant overview becomes the home dashboard")
    p.add_argument("--plant")
    add_endpoint_args(p, mqtt=False)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.cmd == "build":
            built = build_all(_langs(args.lang), load(args.plant))
            if args.check:
                old = stale(built, args.out)
                for path in old:
                    print(f"stale: {path} (run factory-dashboards build)", file=sys.stderr)
                return 1 if old else 0
            for path in write(built, args.out):
                print(path)
            return 0
        if args.cmd == "check":
            plant = load(args.plant)
            built = build_all(LANGS, plant)
            problems = check_all([x.model for x in built], repeat_counts(plant), plant)
            for problem in problems:
                print(problem, file=sys.stderr)
            print(f"{len(built)} dashboards, {len(problems)} problems")
            return 1 if problems else 0
        influx = resolve(args).influx
        api = connect(args.grafana, args.grafana_token, args.grafana_user,
                      args.grafana_password)
        report = push(api, influx, build_all(_langs(args.lang), args.plant), args.home_lang)
    except (ConfigError, PushError, PlantError, ValueError, OSError) as exc:
        print(f"factory-dashboards: {exc}", file=sys.stderr)
        return 2
    print(f"grafana {report.grafana_version}: data source {report.datasource}, "
          f"{len(report.dashboards)} dashboards, playlists: {', '.join(report.playlists)}, "
          f"home: {report.home_uid}")
    if report.datasource_health != "OK":
        print(f"factory-dashboards: data source health check failed: "
              f"{report.datasource_health}", file=sys.stderr)
        return 1
    print("data source health: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
