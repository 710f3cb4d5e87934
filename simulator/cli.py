"""``factory-sim``: run, validate, backfill, fault.

Every expected error is one line on stderr (``factory-sim: ...``) and a non-zero exit:
2 for bad input (flags, plant or scenario files), 1 when a service cannot be reached.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from simulator import __version__
from simulator.control import (
    check_fault_code,
    fault_payload,
    fault_topic,
    load_scenario,
    parse_control,
    parse_duration_s,
)
from simulator.plant import PlantError, load_plant
from telemetry.endpoints import ConfigError, Endpoints, add_endpoint_args, load_yaml, resolve
from telemetry.topics import control_topic

log = logging.getLogger("simulator")

#: Default start for reproducible flat-out runs to stdout/null (a Monday, 08:00 in Shengzhou).
REPRODUCIBLE_START = "2026-01-05T00:00:00Z"


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


class ServiceUnavailableError(Exception):
    """A broker or database that cannot be reached: one line, exit status 1."""


# -- argument parsing ----------------------------------------------------------------------
def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plant", metavar="FILE", help="plant YAML (default: the shipped demo plant)")
    p.add_argument("--scale", type=int, default=1, metavar="N",
                   help="repeat every line N times (default: 1)")
    p.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default: 1)")
    p.add_argument("--no-sensor-faults", action="store_true",
                   help="no sensor dropouts, stuck values or spikes, whatever the plant's "
                        "sensor_faults: says")
    _identity(p)
    p.add_argument("--log-level", default="INFO",
                   choices=("DEBUG", "INFO", "WARNING", "ERROR"))


def _identity(p: argparse.ArgumentParser) -> None:
    p.add_argument("--enterprise", metavar="ID",
                   help="override the plant's enterprise id (first topic level)")
    p.add_argument("--site", metavar="ID", help="override the plant's site id")


def _plant(ns: argparse.Namespace) -> Any:
    plant = load_plant(ns.plant, ns.scale, enterprise=ns.enterprise, site=ns.site)
    if getattr(ns, "no_sensor_faults", False):  # run, backfill (not fault)
        plant = replace(plant, sensor_faults=replace(plant.sensor_faults, enabled=False))
    return plant


def _endpoints(p: argparse.ArgumentParser, *, mqtt: bool, influx: bool) -> None:
    p.add_argument("--config", metavar="FILE",
                   help="YAML file with mqtt:/influx: sections (flags and env win)")
    add_endpoint_args(p, mqtt=mqtt, influx=influx)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="factory-sim",
        description="Deterministic smart-factory simulator publishing the telemetry "
                    "contract (docs/contract.md) over MQTT.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate and publish (MQTT, stdout or nowhere)",
                         description="Simulate the plant and publish its messages.")
    _common(run)
    run.add_argument("--speed", default="1", metavar="1|N|max",
                     help="1 = real time, N = N x real time, max = flat out (default: 1)")
    run.add_argument("--duration", metavar="D",
                     help="simulated time to run, e.g. 10m, 2h, 1d (default: until stopped)")
    run.add_argument("--sink", default="mqtt", choices=("mqtt", "stdout", "null"),
                     help="mqtt (default), stdout (one JSON line per message) or null")
    run.add_argument("--shard", default="0/1", metavar="i/n",
                     help="publish only shard i of n (split by line; default 0/1)")
    run.add_argument("--telemetry-interval-s", type=float, default=5.0, metavar="S",
                     help="telemetry interval = model tick (default: 5)")
    run.add_argument("--counts-interval-s", type=float, default=30.0, metavar="S",
                     help="counts interval (default: 30)")
    run.add_argument("--state-interval-s", type=float, default=60.0, metavar="S",
                     help="periodic state re-publish interval (default: 60)")
    run.add_argument("--start", metavar="ISO|now",
                     help="simulated start time (default: now; with --speed max and a "
                          f"stdout/null sink {REPRODUCIBLE_START}, for reproducible output)")
    run.add_argument("--qos", metavar="KIND=Q,...",
                     help="QoS per kind, e.g. telemetry=0,counts=1 (defaults: telemetry 0, "
                          "others 1)")
    run.add_argument("--format", default="json", choices=("json", "sparkplug"),
                     help="json (the contract, default) or sparkplug (Sparkplug B 3.0 edge "
                          "nodes: group = site, edge node = line; with --sink mqtt)")
    run.add_argument("--sparkplug-host", metavar="HOST_ID",
                     help="with --format sparkplug: publish only while this primary host "
                          "application's STATE says online")
    run.add_argument("--scenario", metavar="FILE", help="scripted events (YAML)")
    run.add_argument("--heartbeat-file", metavar="FILE",
                     help="with --sink mqtt: rewrite FILE every few seconds while the broker "
                          "acknowledges new messages (a container health check reads its age)")
    run.add_argument("--labels-out", metavar="FILE",
                     help="write ground-truth labels (scenario events, every fault, every "
                          "story played, every sensor fault) as JSON; rewritten each time "
                          "a story ends")
    run.add_argument("--story-loop", metavar="NAME[,NAME...]|all",
                     default=os.environ.get("FACTORY_STORY_LOOP") or None,
                     help="play these stories (simulator/data/stories) one after another "
                          "forever (env FACTORY_STORY_LOOP)")
    run.add_argument("--story-quiet", default="8m", metavar="D",
                     help="quiet time from one story's incident to the next story "
                          "(default: 8m, an incident about every 15 minutes)")
    run.add_argument("--control-port", type=int, metavar="N",
                     default=_env_port("FACTORY_CONTROL_PORT"),
                     help="serve the director's control API and presenter page on this port "
                          "(env FACTORY_CONTROL_PORT; default: off)")
    run.add_argument("--control-bind", metavar="ADDR",
                     default=os.environ.get("FACTORY_CONTROL_BIND") or "127.0.0.1",
                     help="address the control API listens on (env FACTORY_CONTROL_BIND; "
                          "default 127.0.0.1)")
    run.add_argument("--control-token", metavar="TOKEN",
                     help="bearer token for the control API (prefer env "
                          "FACTORY_CONTROL_TOKEN: a flag shows in ps)")
    run.add_argument("--visitor-mode", action="store_true",
                     default=os.environ.get("FACTORY_CONTROL_VISITORS", "") in ("1", "true"),
                     help="let anyone raise or clear a fault without the token, one every 30 s "
                          "(env FACTORY_CONTROL_VISITORS=1; default: off)")
    run.add_argument("--truth-out", metavar="FILE",
                     help="write the run's ground truth (OEE, state seconds, sales) as JSON")
    _endpoints(run, mqtt=True, influx=False)

    val = sub.add_parser("validate", help="check a plant file without running",
                         description="Validate a plant YAML file and print a summary.")
    val.add_argument("plant", metavar="PLANT.yaml")
    val.add_argument("--scale", type=int, default=1, metavar="N")

    bf = sub.add_parser("backfill", help="write the last N days of history to InfluxDB",
                        description="Generate history and write it straight to InfluxDB "
                                    "(the same points the collector writes).")
    _common(bf)
    bf.add_argument("--days", type=float, required=True, metavar="N",
                    help="days of history (fractions allowed: 0.25 = 6 h)")
    bf.add_argument("--end", default="now", metavar="ISO8601|now",
                    help="end of the window (default: now)")
    bf.add_argument("--telemetry-interval-s", type=float, default=10.0, metavar="S",
                    help="telemetry interval (default: 10)")
    bf.add_argument("--counts-interval-s", type=float, default=60.0, metavar="S",
                    help="counts interval (default: 60)")
    bf.add_argument("--state-interval-s", type=float, default=300.0, metavar="S",
                    help="periodic state interval (default: 300)")
    bf.add_argument("--truth-out", metavar="FILE.json",
                    help="write the ground truth of the backfilled window as JSON")
    bf.add_argument("--batch-points", type=_positive_int, default=50_000, metavar="N",
                    help="points per write request (default: 50000)")
    bf.add_argument("--writers", type=_positive_int, default=1, metavar="N",
                    help="concurrent HTTP write requests (default: 1)")
    bf.add_argument("--no-progress", action="store_true", help="no progress bar")
    _endpoints(bf, mqtt=False, influx=True)

    fault = sub.add_parser("fault", help="make a running simulator fault a machine now",
                           description="Publish a demo fault command on the control topic.")
    fault.add_argument("machine", metavar="MACHINE_ID")
    fault.add_argument("--code", help="fault code (default: the type's first fault code)")
    fault.add_argument("--duration-min", type=float, metavar="M",
                       help="minutes until back in service (default: 20)")
    fault.add_argument("--plant", metavar="FILE", help="plant YAML (to check the machine id)")
    fault.add_argument("--scale", type=int, default=1, metavar="N")
    _identity(fault)
    fault.add_argument("--log-level", default="WARNING",
                       choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    _endpoints(fault, mqtt=True, influx=False)
    return parser


# -- helpers -------------------------------------------------------------------------------
def parse_time_ms(text: str, what: str) -> int:
    if text == "now":
        return int(time.time() * 1000)
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"{what} {text!r}: use ISO 8601 (2026-01-05T08:00:00+08:00) "
                         "or now") from exc
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return int(t.timestamp() * 1000)


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        v = float(text)
    except ValueError as exc:
        raise UsageError(f"--speed {text!r}: use 1, a factor like 60, or max") from exc
    if not (0 < v <= 1e6) or not math.isfinite(v):
        raise UsageError(f"--speed {text!r} must be > 0")
    return v


def _endpoints_from(ns: argparse.Namespace, client_id: str) -> Endpoints:
    config = load_yaml(ns.config) if getattr(ns, "config", None) else {}
    return resolve(ns, config, source=ns.config or "config", client_id=client_id)


def _write_json(path: str, data: Any) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(p)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from exc


def _install_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


def _env_port(name: str) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        print(f"factory-sim: {name}={text!r}: use a port number 1-65535", file=sys.stderr)
        sys.exit(2)
    return int(text)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _intervals(ns: argparse.Namespace) -> Any:
    from simulator.model import Intervals  # noqa: PLC0415

    try:
        return Intervals.from_seconds(ns.telemetry_interval_s, ns.counts_interval_s,
                                      ns.state_interval_s)
    except ValueError as exc:
        raise UsageError(f"--telemetry-interval-s: {exc}") from exc


# -- commands ------------------------------------------------------------------------------
def cmd_validate(ns: argparse.Namespace) -> int:
    plant = load_plant(ns.plant, ns.scale)
    per_area = ", ".join(f"{a.id} {sum(len(ln.machines) for ln in a.lines)}"
                         for a in plant.areas)
    print(f"{ns.plant}: OK: {plant.enterprise}/{plant.site}, {len(plant.areas)} areas, "
          f"{len(plant.lines)} lines, {len(plant.machines)} machines ({per_area}), "
          f"{len(plant.types)} machine types")
    return 0


def cmd_run(ns: argparse.Namespace, stop: threading.Event | None = None) -> int:
    from simulator.encode import Encoder, Shard  # noqa: PLC0415
    from simulator.model import PlantModel  # noqa: PLC0415
    from simulator.runner import Runner  # noqa: PLC0415
    from simulator.sinks import NullSink, Sink, StdoutSink  # noqa: PLC0415
    from simulator.sparkplug import SparkplugEncoder  # noqa: PLC0415
    from simulator.stories import StoryPlayer, parse_loop, story_path  # noqa: PLC0415

    speed = _speed(ns.speed)
    try:
        shard = Shard.parse(ns.shard)
        duration_s = parse_duration_s(ns.duration, "--duration") if ns.duration else None
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    plant = _plant(ns)
    scenario = load_scenario(ns.scenario, plant) if ns.scenario else None
    loop = []
    for name in parse_loop(ns.story_loop) if ns.story_loop else []:
        try:
            load_scenario(story_path(name), plant)  # fits this plant, or a one-line error
        except PlantError as exc:
            if ns.story_loop.strip() != "all":
                raise
            log.warning("story %s does not fit this plant, left out of the loop: %s",
                        name, exc)
            continue
        loop.append(name)
    try:
        story_quiet_s = parse_duration_s(ns.story_quiet, "--story-quiet")
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    iv = _intervals(ns)
    start = ns.start or ("now" if speed is not None or ns.sink == "mqtt"
                         else REPRODUCIBLE_START)
    start_ms = parse_time_ms(start, "--start")
    model = PlantModel(plant, ns.seed, start_ms, iv)
    if ns.format == "sparkplug" and ns.sink != "mqtt":
        raise UsageError("--format sparkplug needs --sink mqtt")
    if ns.sparkplug_host and ns.format != "sparkplug":
        raise UsageError("--sparkplug-host needs --format sparkplug")
    encoder: Encoder = (SparkplugEncoder(model, shard) if ns.format == "sparkplug"
                        else Encoder(model, shard))
    ticks = None if duration_s is None else max(1, math.ceil(duration_s / iv.step_s - 1e-9))
    stop = stop or threading.Event()
    runner_box: list[Any] = []

    def on_control(topic: str, payload: bytes) -> None:
        try:
            cmd = parse_control(topic.rsplit("/", 1)[-1], payload)
        except ValueError as exc:
            log.warning("control: %s", exc)
            return
        if runner_box:
            runner_box[0].submit(cmd)

    sink: Sink
    mqtt_sink: Any = None
    if ns.sink == "mqtt":
        from simulator.publish import MqttSink, parse_qos  # noqa: PLC0415

        try:
            qos = parse_qos(ns.qos)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        client_id = f"factory-sim-{plant.enterprise}-{shard.index}of{shard.count}"
        ep = _endpoints_from(ns, client_id).mqtt
        cid = ep.client_id or client_id
        if isinstance(encoder, SparkplugEncoder):
            from simulator.edge_nodes import SparkplugSink, sparkplug_qos  # noqa: PLC0415

            mqtt_sink = SparkplugSink(ep, cid, encoder, qos=sparkplug_qos(ns.qos),
                                      paced=speed is not None, primary_host=ns.sparkplug_host,
                                      control_topic=control_topic(plant.enterprise, plant.site,
                                                                  "+"),
                                      on_control=on_control, stop=stop)
        else:
            mqtt_sink = MqttSink(ep, cid,
                                 status_topic=control_topic(plant.enterprise, plant.site,
                                                            f"status/{cid}"),
                                 control_topic=control_topic(plant.enterprise, plant.site, "+"),
                                 on_control=on_control,
                                 qos=qos, paced=speed is not None, stop=stop)
        mqtt_sink.set_birth(encoder.meta(start_ms))
        if not mqtt_sink.wait_connected(5.0):
            log.warning("broker %s not reachable yet; running anyway and retrying with "
                        "backoff", ep.display())
        sink = mqtt_sink
    elif ns.sink == "stdout":
        sink = StdoutSink()
    else:
        sink = NullSink()
    stories = StoryPlayer(model, loop, story_quiet_s,
                          on_end=lambda: _write_labels(ns, scenario, model, runner, final=False))
    runner = Runner(model, encoder, sink, speed=speed, duration_ticks=ticks,
                    scenario=scenario, stop=stop, stories=stories)
    runner_box.append(runner)
    server = None
    if ns.control_port is not None:
        from simulator.api import ControlApiError, ControlServer  # noqa: PLC0415
        from simulator.director import Director  # noqa: PLC0415

        director = Director(runner, shard, mqtt_sink.publish_command if mqtt_sink else None)
        try:
            server = ControlServer(director, ns.control_token
                                   or os.environ.get("FACTORY_CONTROL_TOKEN"),
                                   port=ns.control_port, bind=ns.control_bind,
                                   visitors=ns.visitor_mode).start()
        except ControlApiError as exc:
            if mqtt_sink is not None:
                mqtt_sink.close()
            raise UsageError(str(exc)) from exc
    log.info("running %d machines (shard %d/%d) from %s at speed %s", len(model.ids),
             shard.index, shard.count,
             dt.datetime.fromtimestamp(start_ms / 1000, dt.UTC).isoformat(), ns.speed)
    if mqtt_sink is not None and ns.heartbeat_file:
        _heartbeat(mqtt_sink, Path(ns.heartbeat_file), stop)
    try:
        stats = runner.run()
    except BrokenPipeError:
        return 0
    finally:
        if server is not None:
            server.close()
        if mqtt_sink is not None:
            mqtt_sink.close(offline=encoder.meta(model.now_ms, online=False))
    log.info("done: %d ticks, %d messages in %.1f s (%.0f machine-samples/s)", stats.ticks,
             stats.messages, stats.wall_s,
             stats.ticks * len(model.ids) / stats.wall_s if stats.wall_s else 0)
    _write_labels(ns, scenario, model, runner)
    if ns.truth_out:
        from simulator.truth import ground_truth  # noqa: PLC0415

        _write_json(ns.truth_out, ground_truth(model))
    return 0


def _write_labels(ns: argparse.Namespace, scenario: Any, model: Any, runner: Any,
                  *, final: bool = True) -> None:
    if ns.labels_out and not final:
        try:
            _write_labels(ns, scenario, model, runner)
        except UsageError as exc:  # mid-run: keep simulating, say why the file is stale
            log.warning("labels: %s", exc)
    elif ns.labels_out:
        _write_json(ns.labels_out, {
            "scenario": scenario.name if scenario else None,
            "start_ms": model.start_ms, "end_ms": model.now_ms,
            "commands": runner.stats.labels,
            "faults": [e.as_dict() for e in model.episodes],
            "stories": runner.stories.labels_now(),
            "sensor_faults": model.sensors.labels(model.now_ms)})


def _heartbeat(sink: Any, path: Path, stop: threading.Event, every_s: float = 5.0) -> None:
    """Rewrite ``path`` whenever the broker acknowledged messages since the last look: its
    age says how long ago the simulator last published successfully."""
    def beat() -> None:
        last = -1
        while not stop.wait(every_s):
            if sink.acked != last and sink.acked > 0:
                last = sink.acked
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(json.dumps({"acked": last, "at_ms": int(time.time() * 1000)}))
                tmp.replace(path)

    threading.Thread(target=beat, name="sim-heartbeat", daemon=True).start()


def cmd_backfill(ns: argparse.Namespace, stop: threading.Event | None = None) -> int:
    from simulator.backfill import BackfillError, backfill, describe, window  # noqa: PLC0415
    from simulator.model import PlantModel  # noqa: PLC0415
    from simulator.truth import ground_truth  # noqa: PLC0415
    from telemetry.influx import InfluxClient, QueryError  # noqa: PLC0415

    plant = _plant(ns)
    iv = _intervals(ns)
    end_ms = parse_time_ms(ns.end, "--end")
    try:
        start_ms, end_ms, ticks = window(end_ms, ns.days, round(iv.step_s * 1000))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    ep = _endpoints_from(ns, "factory-sim-backfill").influx
    client = InfluxClient(ep, timeout_s=60)
    if not client.ping():
        raise ServiceUnavailableError(f"InfluxDB at {ep.url} is not reachable: start it or set "
                                 "--influx-url / FACTORY_INFLUX_URL")
    if ep.api == "v1":
        try:
            client.create_database()
        except QueryError as exc:
            raise ServiceUnavailableError(f"cannot create database {ep.db!r}: {exc}") from exc
    model = PlantModel(plant, ns.seed, start_ms, iv)
    stop = stop or threading.Event()
    _install_signals(stop)
    log.info("backfilling %d machines, %s .. %s (%d ticks) into %s", len(model.ids),
             _iso(start_ms), _iso(end_ms), ticks, ep.display())
    try:
        if ns.no_progress or not sys.stderr.isatty():
            stats = backfill(model, ticks, client, batch_points=ns.batch_points,
                             writers=ns.writers, stop=stop)
        else:
            from rich.progress import (  # noqa: PLC0415
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            with Progress(TextColumn("backfill"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("ticks"), TimeRemainingColumn(), transient=True) as bar:
                task = bar.add_task("backfill", total=ticks)
                stats = backfill(model, ticks, client, batch_points=ns.batch_points,
                                 writers=ns.writers, progress=lambda n: bar.advance(task, n),
                                 stop=stop)
    except BackfillError as exc:
        raise ServiceUnavailableError(str(exc)) from exc
    finally:
        client.close()
    summary = describe(stats)
    print(f"backfilled {summary['points']} points ({_iso(start_ms)} .. {_iso(end_ms)}) in "
          f"{summary['wall_s']} s: {summary['points_per_s']} points/s", file=sys.stderr)
    if ns.truth_out:
        _write_json(ns.truth_out, ground_truth(model))
    return 0 if not stop.is_set() else 1


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cmd_fault(ns: argparse.Namespace) -> int:
    from paho.mqtt.enums import MQTTErrorCode  # noqa: PLC0415

    from telemetry.mqtt import connect_kwargs, make_client  # noqa: PLC0415

    plant = _plant(ns)
    if ns.machine not in {m.id for m in plant.machines}:
        raise UsageError(f"unknown machine {ns.machine!r} in {plant.source} "
                         f"(e.g. {plant.machines[0].id})")
    if ns.duration_min is not None and not 0 < ns.duration_min <= 10080:
        raise UsageError("--duration-min must be 0-10080")
    if ns.code is not None:
        try:
            check_fault_code(ns.code, "--code")
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    ep = _endpoints_from(ns, f"factory-sim-fault-{int(time.time() * 1000) % 10**8}").mqtt
    client = make_client(ep, ep.client_id or "factory-sim-fault")
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p=None: connected.set()
    try:
        client.connect(**connect_kwargs(client, ep, keepalive_s=10))
    except OSError as exc:
        raise ServiceUnavailableError(f"cannot reach the broker at {ep.display()}: {exc}") from exc
    client.loop_start()
    try:
        if not connected.wait(10):
            raise ServiceUnavailableError(f"broker at {ep.display()} did not accept the connection")
        info = client.publish(fault_topic(plant),
                              fault_payload(int(time.time() * 1000), ns.machine, ns.code,
                                            ns.duration_min), qos=1)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise ServiceUnavailableError(f"publish failed: {info.rc}")
        info.wait_for_publish(10)
        if not info.is_published():
            raise ServiceUnavailableError(f"broker at {ep.display()} did not acknowledge the "
                                     "command")
    finally:
        client.disconnect()
        client.loop_stop()
    print(f"fault command sent: {ns.machine} code={ns.code or '(type default)'} "
          f"duration={ns.duration_min or 20} min on {fault_topic(plant)}")
    return 0


def main(argv: Sequence[str] | None = None, stop: threading.Event | None = None) -> int:
    """Entry point (also for tests and the demo): returns the exit status."""
    parser = build_parser()
    ns = parser.parse_args(argv)
    logging.basicConfig(level=getattr(ns, "log_level", "INFO"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if ns.command == "validate":
            return cmd_validate(ns)
        if ns.command == "run":
            stop = stop or threading.Event()
            _install_signals(stop)
            return cmd_run(ns, stop)
        if ns.command == "backfill":
            return cmd_backfill(ns, stop)
        return cmd_fault(ns)
    except (UsageError, PlantError, ConfigError) as exc:
        print(f"factory-sim: {exc}", file=sys.stderr)
        return 2
    except ServiceUnavailableError as exc:
        print(f"factory-sim: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
