"""``factory-stack up|down|status``: start, stop and inspect the local stack.

Each service runs from the locally installed binary in its own directory under
``--run-dir`` (default ``.run/stack``); ``stack.json`` there records the pids (with
their kernel start times) so ``down`` stops exactly the processes ``up`` started.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from stack.services import (
    MAX_PACKET_SIZE,
    Influxd,
    Mosquitto,
    Service,
    ServiceError,
    port_open,
    process_start_time,
)

DEFAULT_RUN_DIR = Path(".run/stack")


def _state_path(run_dir: Path) -> Path:
    return run_dir / "stack.json"


def _load_state(run_dir: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(_state_path(run_dir).read_text())
    except (OSError, ValueError):
        return {}
    return data


def _alive(entry: dict[str, Any]) -> bool:
    pid = entry.get("pid")
    return isinstance(pid, int) and process_start_time(pid) == entry.get("start_time")


def _services(args: argparse.Namespace) -> list[Service]:
    run_dir: Path = args.run_dir
    return [
        Mosquitto(run_dir=run_dir / "mosquitto", port=args.mqtt_port,
                  max_packet_size=MAX_PACKET_SIZE),
        Influxd(run_dir=run_dir / "influxdb", port=args.influx_port,
                rpc_port=args.influx_rpc_port, database=args.db),
    ]


def up(args: argparse.Namespace) -> int:
    state = _load_state(args.run_dir)
    if state and all(_alive(e) for e in state.values()):
        print(f"local stack already running (run dir {args.run_dir}):")
        _print(state)
        return 0
    if state:
        down(args, quiet=True)
    new: dict[str, Any] = {}
    try:
        for svc in _services(args):
            svc.start(timeout_s=60, detach=True)
            assert svc.pid is not None
            new[svc.name] = {"pid": svc.pid, "start_time": process_start_time(svc.pid),
                             "port": svc.port, "url": getattr(svc, "url", ""),
                             "log": str(svc.log_path)}
            args.run_dir.mkdir(parents=True, exist_ok=True)
            _state_path(args.run_dir).write_text(json.dumps(new, indent=2))
    except ServiceError as exc:
        print(f"factory-stack: {exc}", file=sys.stderr)
        down(args, quiet=True)
        return 1
    print(f"local stack up (run dir {args.run_dir}, database {args.db!r}):")
    _print(new)
    return 0


def down(args: argparse.Namespace, quiet: bool = False) -> int:
    state = _load_state(args.run_dir)
    for name, entry in state.items():
        if _alive(entry):
            svc = Service(run_dir=args.run_dir, port=entry["port"], name=name, pid=entry["pid"])
            svc.stop()
            if not quiet:
                print(f"stopped {name} (pid {entry['pid']})")
        elif not quiet:
            print(f"{name} was not running")
    _state_path(args.run_dir).unlink(missing_ok=True)
    if not state and not quiet:
        print(f"no local stack recorded in {args.run_dir}")
    return 0


def status(args: argparse.Namespace) -> int:
    state = _load_state(args.run_dir)
    if not state:
        print(f"local stack: not running (no {_state_path(args.run_dir)})")
        return 3
    _print(state)
    return 0 if all(_alive(e) for e in state.values()) else 3


def _print(state: dict[str, Any]) -> None:
    for name, e in state.items():
        alive = _alive(e) and port_open(int(e["port"]))
        print(f"  {name:10s} {'up  ' if alive else 'DOWN'} {e['url']:28s} pid {e['pid']}  "
              f"log {e['log']}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="factory-stack", description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("up", "down", "status"))
    p.add_argument("--run-dir", type=Path,
                   default=Path(os.environ.get("FACTORY_STACK_DIR", DEFAULT_RUN_DIR)),
                   help="where data, logs and pids live (default .run/stack; "
                        "env FACTORY_STACK_DIR)")
    p.add_argument("--mqtt-port", type=int, default=1883, help="Mosquitto port (default 1883)")
    p.add_argument("--influx-port", type=int, default=8086,
                   help="InfluxDB HTTP port (default 8086)")
    p.add_argument("--influx-rpc-port", type=int, default=8088,
                   help="InfluxDB backup/RPC port (default 8088)")
    p.add_argument("--db", default="factory", help="database to create (default factory)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.run_dir = args.run_dir.resolve()
    handler = {"up": up, "down": down, "status": status}[args.command]
    return handler(args)
