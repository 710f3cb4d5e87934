"""``factory-collector run|check``: the MQTT -> InfluxDB collector's command line."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Sequence

from collector import config as collector_config
from collector.config import CollectorConfig
from collector.mapconfig import filter_matches
from collector.mapping import HINTS, Ignored, Mapped, Mapper
from collector.spool import SpoolError
from telemetry.endpoints import ConfigError, add_endpoint_args
from telemetry.influx import (
    NETWORK_ERROR,
    InfluxClient,
    QueryError,
    http_cause,
    network_cause,
)
from telemetry.mqtt import connect_kwargs, make_client

log = logging.getLogger("collector")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="factory-collector",
        description="MQTT -> InfluxDB collector: ack after durable spooling, dead letters "
                    "with reasons, Prometheus metrics. See docs/collector.md.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("run", "run the collector until SIGTERM/SIGINT"),
                       ("check", "validate the configuration and test both connections")):
        sp = sub.add_parser(name, help=text, description=text)
        sp.add_argument("--config", metavar="FILE",
                        help="YAML config file (sections mqtt, influx, collector, mapping); "
                             "env FACTORY_COLLECTOR_CONFIG")
        sp.add_argument("--spool-dir", metavar="DIR",
                        help="durable spool directory (default ./collector-spool)")
        sp.add_argument("--metrics-port", type=int, metavar="N",
                        help="port of /metrics and /healthz (default 9108, 0 = off)")
        sp.add_argument("--share-group", metavar="NAME",
                        help="MQTT 5 shared subscription group ($share/NAME/<filter>)")
        sp.add_argument("--client-id", metavar="ID",
                        help="stable MQTT client id (default derived from host and spool dir)")
        sp.add_argument("--topic", action="append", metavar="FILTER",
                        help="topic filter, repeatable (default: '<enterprise>/#' and one "
                             "per foreign template)")
        sp.add_argument("--enterprise", metavar="ID",
                        help="enterprise id the default topic filter takes (default: the "
                             "plant file's)")
        sp.add_argument("--plant", metavar="FILE",
                        help="plant YAML whose enterprise the default filter follows "
                             "(default: the simulator's shipped plant)")
        sp.add_argument("--sparkplug", action="store_true", default=None,
                        help="also read Sparkplug B (spBv1.0/#) into the same points")
        sp.add_argument("--sparkplug-host-id", metavar="ID",
                        help="with --sparkplug: be this Sparkplug primary host (STATE)")
        sp.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
        add_endpoint_args(sp)
    mp = sub.add_parser(
        "map", help="dry run: show the line one message becomes, or why it is dead-lettered",
        description="Map one message as the collector would (no broker, no database): print "
                    "the line protocol, or the dead-letter reason with a hint. Exit 0 if it "
                    "would be stored, 1 if dead-lettered or ignored, 2 on a config error.")
    mp.add_argument("--config", metavar="FILE", help="YAML config file (its mapping: section)")
    mp.add_argument("--enterprise", metavar="ID", help=argparse.SUPPRESS)
    mp.add_argument("--plant", metavar="FILE", help=argparse.SUPPRESS)
    mp.add_argument("--topic", action="append", metavar="FILTER", help=argparse.SUPPRESS)
    mp.add_argument("--log-level", default="WARNING", help=argparse.SUPPRESS)
    mp.add_argument("mqtt_topic", metavar="TOPIC", help="the MQTT topic")
    mp.add_argument("payload", metavar="PAYLOAD",
                    help="the payload as text (- reads it from standard input)")
    return p


def dry_run(cfg: CollectorConfig, topic: str, payload: bytes, now_ms: int) -> int:
    """`factory-collector map`: print what one message becomes; 0 if it is stored."""
    result = Mapper(cfg.mapping).map(topic, payload, now_ms)
    if not any(filter_matches(f, topic) for f in cfg.topics):
        print(f"note: the collector does not receive this topic: it subscribes to "
              f"{', '.join(cfg.topics)} (collector.topics, --enterprise, --plant)",
              file=sys.stderr)
    if isinstance(result, Mapped):
        print(result.line)
        return 0
    if isinstance(result, Ignored):
        print(f"ignored: {result.reason} (acknowledged, not stored; mapping.ignore)")
        return 1
    print(f"dead letter: {result.reason}: {result.detail}")
    hint = HINTS.get(result.reason)
    if hint:
        print(f"hint: {hint}")
    return 1


def _check_mqtt(cfg: CollectorConfig, timeout_s: float = 10.0) -> str | None:
    ep = cfg.endpoints.mqtt
    client = make_client(ep, f"{cfg.client_id}-check"[:64])
    done = threading.Event()
    result: list[str | None] = []

    def on_connect(_c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        failed = getattr(reason, "is_failure", False)
        result.append(f"broker refused the connection: {reason}" if failed else None)
        done.set()

    client.on_connect = on_connect
    try:
        client.connect(**connect_kwargs(client, ep))
    except (OSError, ValueError) as exc:
        cause = network_cause(exc, f"mqtt://{ep.host}:{ep.port}", timeout_s) \
            if isinstance(exc, OSError) else str(exc)
        return f"cannot reach broker {ep.display()}: {cause}"
    client.loop_start()
    try:
        if not done.wait(timeout_s):
            return f"broker {ep.display()} did not answer CONNECT within {timeout_s:.0f} s"
        return result[0] if result else None
    finally:
        client.disconnect()
        client.loop_stop()


def _check_influx(cfg: CollectorConfig) -> str | None:
    """None if InfluxDB answers as configured, else one line naming the cause."""
    ep = cfg.endpoints.influx
    client = InfluxClient(ep, timeout_s=10)
    where = f"InfluxDB {ep.display()}"
    try:
        ping = client.ping_result()
        if ping.status == NETWORK_ERROR:
            return f"{where}: {ping.body}"
        if ping.status != 204:
            return f"{where}: {http_cause(ping.status, ping.body, 'ping', '/ping')}"
        if ep.api == "v1":
            try:
                rows = client.query("SHOW DATABASES", db="")
            except QueryError as exc:
                return f"{where}: {exc}"
            names = {v[0] for s in rows[0].get("series", []) for v in s.get("values", [])}
            if ep.db not in names and not cfg.create_database:
                return f"{where}: database {ep.db!r} does not exist"
        else:
            res = client.probe_v2_write()
            if res.status == NETWORK_ERROR:
                return f"{where}: {res.body}"
            if res.status >= 300 and res.status != 400:  # 400: no points in an empty body
                return f"{where}: {http_cause(res.status, res.body, 'v2', '/api/v2/write')}"
        return None
    finally:
        client.close()


def check(cfg: CollectorConfig) -> int:
    errors = [e for e in (_check_mqtt(cfg), _check_influx(cfg)) if e]
    for e in errors:
        print(f"factory-collector: error: {e}", file=sys.stderr)
    if errors:
        return 1
    print(f"ok: config valid; MQTT {cfg.endpoints.mqtt.display()} accepts "
          f"{cfg.client_id}; InfluxDB {cfg.endpoints.influx.display()} reachable; "
          f"subscribing to {', '.join(cfg.subscriptions)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = collector_config.load(args)
    except ConfigError as exc:
        print(f"factory-collector: config error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        return check(cfg)
    if args.command == "map":
        raw = sys.stdin.buffer.read() if args.payload == "-" else \
            args.payload.encode("utf-8", "surrogateescape")
        return dry_run(cfg, args.mqtt_topic, raw, int(time.time() * 1000))
    from collector.service import Collector, run_until_signalled  # noqa: PLC0415

    try:
        collector = Collector(cfg)
    except (SpoolError, OSError) as exc:
        print(f"factory-collector: error: {exc}", file=sys.stderr)
        return 1
    return run_until_signalled(collector)


if __name__ == "__main__":
    sys.exit(main())
