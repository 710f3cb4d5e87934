"""``factory-pdm``: predictive maintenance on the stored telemetry (docs/pdm.md).

``run`` follows a plant's telemetry in InfluxDB and writes ``prediction`` and
``pdm_score`` points; ``backtest`` runs the plant model in-process and prints how well
the same detector sees wear-driven failures coming (JSON). Every expected error is one
line on stderr (``factory-pdm: ...``): exit 2 for bad input, 1 when InfluxDB cannot be
used.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

from pdm.detector import DetectorConfig, DetectorConfigError
from simulator.plant import Plant, PlantError, load_plant
from telemetry.endpoints import ConfigError, add_endpoint_args, load_yaml, resolve

log = logging.getLogger("pdm")

#: The backtest's default start (a Monday, 08:00 in Shengzhou), for reproducible figures.
BACKTEST_START = "2026-01-05T00:00:00Z"


class UsageError(Exception):
    """Bad input: one line, exit status 2."""


class ServiceError(Exception):
    """InfluxDB cannot be used: one line, exit status 1."""


def _detector_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plant", metavar="FILE", help="plant YAML (default: the shipped demo "
                   "plant): its machines, identity and fault kinds")
    p.add_argument("--threshold", type=float, metavar="S",
                   help=f"alert when the score reaches S (default {DetectorConfig.threshold})")
    p.add_argument("--horizon-h", type=float, metavar="H",
                   help="an alert says: failure within H hours (default "
                        f"{DetectorConfig.horizon_h:g})")
    p.add_argument("--detector", action="append", default=[], metavar="KEY=VALUE",
                   help="any other detector setting (docs/pdm.md), e.g. fast_h=3; repeatable")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="factory-pdm",
        description="Predictive maintenance: an explainable per-machine vibration detector "
                    "on the stored telemetry, and its backtest against the simulator.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="follow the telemetry in InfluxDB, write predictions",
                         description="Read the plant's telemetry from InfluxDB as it arrives "
                                     "and write prediction and pdm_score points, until "
                                     "SIGTERM/SIGINT.")
    _detector_args(run)
    run.add_argument("--every-s", type=float, metavar="S",
                     help="evaluation interval = feature window (default "
                          f"{DetectorConfig.bucket_s:g})")
    run.add_argument("--settle-s", type=float, default=30.0, metavar="S",
                     help="wait this long after a window ends for its data (default 30)")
    run.add_argument("--window-h", type=float, default=720.0, metavar="H",
                     help="the live score's window (default 720: 30 days)")
    run.add_argument("--config", metavar="FILE",
                     help="YAML file with an influx: section (flags and env win)")
    add_endpoint_args(run, mqtt=False, influx=True)

    bt = sub.add_parser("backtest", help="score the detector on the simulator (JSON)",
                        description="Run the plant model in-process, pass its telemetry "
                                    "through the detector and score the alerts against the "
                                    "model's failure labels; prints JSON.")
    _detector_args(bt)
    bt.add_argument("--days", type=float, required=True, metavar="N", help="simulated days")
    bt.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default 1)")
    bt.add_argument("--step-s", type=float, default=60.0, metavar="S",
                    help="model tick (default 60; must divide the detector's window)")
    bt.add_argument("--start", default=BACKTEST_START, metavar="ISO8601",
                    help=f"simulated start (default {BACKTEST_START})")
    bt.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def detector_config(ns: argparse.Namespace) -> DetectorConfig:
    known = {f.name for f in fields(DetectorConfig)}
    values: dict[str, float] = {}
    for item in ns.detector:
        key, sep, text = item.partition("=")
        if not sep or key not in known:
            raise UsageError(f"--detector {item!r}: use KEY=VALUE with KEY one of "
                             f"{', '.join(sorted(known))}")
        try:
            values[key] = float(text)
        except ValueError as exc:
            raise UsageError(f"--detector {item!r}: {text!r} is not a number") from exc
    for key, value in (("threshold", ns.threshold), ("horizon_h", ns.horizon_h),
                       ("bucket_s", getattr(ns, "every_s", None))):
        if value is not None:
            values[key] = value
    try:
        return replace(DetectorConfig(), **values)
    except DetectorConfigError as exc:
        raise UsageError(str(exc)) from exc


def _plant(ns: argparse.Namespace) -> Plant:
    return load_plant(ns.plant)


def cmd_backtest(ns: argparse.Namespace) -> int:
    from pdm.backtest import BacktestError, report, simulate  # noqa: PLC0415
    from simulator.cli import UsageError as SimUsageError  # noqa: PLC0415
    from simulator.cli import parse_time_ms  # noqa: PLC0415

    cfg = detector_config(ns)
    plant = _plant(ns)
    try:
        start_ms = parse_time_ms(ns.start, "--start")
    except SimUsageError as exc:
        raise UsageError(str(exc)) from exc
    ticks = round(ns.days * 86_400 / ns.step_s) if ns.days > 0 and ns.step_s > 0 else 0
    try:
        if ns.no_progress or not sys.stderr.isatty() or not ticks:
            run = simulate(plant, ns.days, ns.seed, start_ms, step_s=ns.step_s, config=cfg)
        else:
            from rich.console import Console  # noqa: PLC0415
            from rich.progress import (  # noqa: PLC0415
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            with Progress(TextColumn("backtest"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("ticks"), TimeRemainingColumn(),
                          console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("backtest", total=ticks)
                run = simulate(plant, ns.days, ns.seed, start_ms, step_s=ns.step_s,
                               config=cfg, progress=lambda k: bar.advance(task, k))
    except BacktestError as exc:
        raise UsageError(str(exc)) from exc
    out: dict[str, Any] = {"plant": plant.source, "days": ns.days, "seed": ns.seed,
                           "step_s": ns.step_s, "start": ns.start, **report(run, cfg)}
    print(json.dumps(out, indent=1))
    return 0


def cmd_run(ns: argparse.Namespace, stop: threading.Event) -> int:
    from pdm.influx_io import PdmStore  # noqa: PLC0415
    from pdm.live import LiveConfig, LiveDetector  # noqa: PLC0415
    from pdm.modes import PlantModes  # noqa: PLC0415
    from telemetry.influx import InfluxClient, QueryError  # noqa: PLC0415

    cfg = detector_config(ns)
    if not ns.settle_s >= 0 or not ns.window_h > 0:
        raise UsageError("--settle-s must be >= 0 and --window-h > 0")
    plant = _plant(ns)
    config = load_yaml(ns.config) if ns.config else {}
    ep = resolve(ns, config, source=ns.config or "config", client_id="factory-pdm").influx
    client = InfluxClient(ep, timeout_s=30)
    if not client.ping():
        raise ServiceError(f"InfluxDB at {ep.url} is not reachable: start it or set "
                           "--influx-url / FACTORY_INFLUX_URL")
    machines = plant.machines
    store = PdmStore(client, plant.enterprise, plant.site, PlantModes.of(plant),
                     [(m.area, m.line) for m in machines])
    live = LiveDetector(store, cfg, LiveConfig(settle_s=ns.settle_s, window_h=ns.window_h))
    log.info("watching %d machines of %s/%s in %s, a window every %g s", len(machines),
             plant.enterprise, plant.site, ep.display(), cfg.bucket_s)
    try:
        live.start(int(time.time() * 1000))
    except QueryError as exc:
        raise ServiceError(f"cannot read the history from {ep.display()}: {exc}") from exc
    try:
        done = live.run(stop)
    finally:
        client.close()
    log.info("stopped after %d evaluations", done)
    return 0


def _install_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


def main(argv: Sequence[str] | None = None, stop: threading.Event | None = None) -> int:
    """Entry point (also for tests): returns the exit status."""
    ns = build_parser().parse_args(argv)
    logging.basicConfig(level=ns.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if ns.command == "backtest":
            return cmd_backtest(ns)
        stop = stop or threading.Event()
        _install_signals(stop)
        return cmd_run(ns, stop)
    except (UsageError, PlantError, ConfigError) as exc:
        print(f"factory-pdm: {exc}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"factory-pdm: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
