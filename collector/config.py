"""Collector settings: flag > environment > YAML (`collector:` section) > default.

The endpoints (`mqtt:`, `influx:`) are resolved by :mod:`telemetry.endpoints` exactly as
the other services do; this module adds the collector's own options and the mapping.
Every option, its default and the reason for the default is in :data:`OPTIONS` (and
docs/collector.md is written from the same table).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from collector.mapconfig import MappingConfig, MappingConfigError, mapping_from_dict
from telemetry.endpoints import ConfigError, Endpoints, load_yaml, resolve


@dataclass(frozen=True)
class Option:
    key: str
    default: Any
    parse: Callable[[Any], Any]
    help: str


def _positive_int(v: Any) -> int:
    n = int(v)
    if n <= 0:
        raise ValueError("must be > 0")
    return n


def _non_negative_int(v: Any) -> int:
    n = int(v)
    if n < 0:
        raise ValueError("must be >= 0")
    return n


def _positive_float(v: Any) -> float:
    f = float(v)
    if not f > 0:
        raise ValueError("must be > 0")
    return f


def _non_negative_float(v: Any) -> float:
    f = float(v)
    if not f >= 0:
        raise ValueError("must be >= 0")
    return f


def _opt_str(v: Any) -> str | None:
    return None if v in (None, "") else str(v)


def _topics(v: Any) -> tuple[str, ...]:
    items = [v] if isinstance(v, str) else list(v)
    out = tuple(str(t) for t in items)
    if not out or any(not t for t in out):
        raise ValueError("give at least one non-empty topic filter")
    return out


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _sync(v: Any) -> str:
    s = str(v).lower()
    if s not in ("full", "normal"):
        raise ValueError("allowed: full, normal")
    return s


def _qos(v: Any) -> int:
    n = int(v)
    if n not in (1, 2):
        raise ValueError("allowed: 1, 2 (QoS 0 cannot be acknowledged after storage)")
    return n


OPTIONS: tuple[Option, ...] = (
    Option("client_id", None, _opt_str,
           "MQTT client id; default factory-collector-<host>-<hash of spool dir>, stable "
           "across restarts so the broker keeps the session, distinct per spool"),
    Option("topics", None, _topics,
           "topic filters to subscribe to; default: one per template head, with the "
           "enterprise filled in ('<enterprise>/#' for the contract)"),
    Option("enterprise", None, _opt_str,
           "enterprise id (first topic level) the default topic filter takes; default: "
           "the plant file's"),
    Option("plant", None, _opt_str,
           "plant YAML whose `enterprise` the default topic filter follows; default: the "
           "simulator's shipped plant"),
    Option("share_group", None, _opt_str,
           "MQTT 5 shared-subscription group: subscribe to $share/<group>/<filter> so several "
           "collectors split one stream"),
    Option("qos", 1, _qos, "subscription QoS (1: at-least-once, idempotent points make it "
           "exactly-once in the database)"),
    Option("session_expiry_s", 604_800, _positive_int,
           "how long the broker keeps our session (and queues for us) while we are away: "
           "7 days covers a long weekend"),
    Option("receive_maximum", 10_000, _positive_int,
           "most unacknowledged messages the broker may send us at once (MQTT 5); bounds "
           "memory while keeping the pipe full"),
    Option("spool_dir", "./collector-spool", str,
           "directory holding the durable spool (SQLite, WAL mode) and, by default, the "
           "dead-letter file"),
    Option("spool_max_mb", 1024, _positive_float,
           "spool size limit; when reached intake pauses (stops acking, the broker queues)"),
    Option("spool_sync", "full", _sync,
           "SQLite synchronous mode: full survives power loss, normal only process crashes"),
    Option("commit_window_s", 0.05, _non_negative_float,
           "group commit: after a message arrives, gather more for up to this long before "
           "one spool transaction (and its acks); fewer fsyncs and wake-ups at plant rates"),
    Option("batch_max_points", 5000, _positive_int,
           "most points per InfluxDB write (InfluxData recommends 5,000)"),
    Option("batch_max_wait_s", 0.25, _positive_float,
           "longest a point waits for a batch to fill; bounds publish->queryable latency"),
    Option("write_timeout_s", 10.0, _positive_float, "HTTP timeout of one write"),
    Option("retry_max_s", 30.0, _positive_float,
           "cap of the exponential backoff after network errors and 5xx; retries never stop"),
    Option("blocked_retry_s", 60.0, _positive_float,
           "after 401/403 writing stops; probe again this often (credentials may be fixed)"),
    Option("write_stall_s", 60.0, _positive_float,
           "/healthz answers 503 when no write has succeeded for this long while the "
           "spool holds data, or when the spooler or writer thread has not moved for this "
           "long"),
    Option("shutdown_timeout_s", 10.0, _non_negative_float,
           "on SIGTERM, how long to keep flushing the spool before exiting (the rest stays "
           "spooled for next start)"),
    Option("deadletter_file", None, _opt_str,
           "dead-letter JSONL file; default <spool_dir>/deadletters.jsonl"),
    Option("deadletter_payload_bytes", 4096, _positive_int,
           "a dead-letter record keeps at most this many first bytes of the payload (plus "
           "its size and SHA-256)"),
    Option("deadletter_max_mb", 64.0, _positive_float,
           "the dead-letter file is rotated at this size"),
    Option("deadletter_keep", 3, _non_negative_int,
           "rotated dead-letter files kept (deadletters.jsonl.1 ..); disk use is at most "
           "(keep + 1) x deadletter_max_mb"),
    Option("intake_queue_mb", 64.0, _positive_float,
           "bytes of received messages waiting for the spooler; past it paho stops reading "
           "the socket (TCP back-pressure) until the spooler catches up"),
    Option("deadletter_topic", None, _opt_str,
           "also publish each dead letter (QoS 1) to this MQTT topic; it is never consumed "
           "by the collector itself"),
    Option("metrics_bind", "127.0.0.1", str,
           "address of the /metrics and /healthz HTTP server (loopback: not exposed by "
           "default)"),
    Option("metrics_port", 9108, _non_negative_int,
           "port of the /metrics and /healthz server; 0 disables it"),
    Option("stats_interval_s", 10.0, _non_negative_float,
           "how often collector_stats/collector_deadletters points go to InfluxDB; 0 "
           "disables"),
    Option("create_database", True, _bool,
           "v1 API: CREATE DATABASE at start (idempotent) so a fresh influxd just works"),
    Option("sparkplug", False, _bool,
           "also read Sparkplug B (spBv1.0/#, added to the topics unless one of them covers "
           "it) into the same points; birth tables are kept in the spool"),
    Option("sparkplug_host_id", None, _opt_str,
           "with sparkplug: act as this Sparkplug primary host application (retained "
           "spBv1.0/STATE/<id> online while connected, offline as the will)"),
)
_BY_KEY = {o.key: o for o in OPTIONS}


@dataclass(frozen=True)
class CollectorConfig:
    endpoints: Endpoints
    client_id: str
    topics: tuple[str, ...]
    enterprise: str | None
    plant: str | None
    share_group: str | None
    qos: int
    session_expiry_s: int
    receive_maximum: int
    spool_dir: Path
    spool_max_mb: float
    spool_sync: str
    commit_window_s: float
    batch_max_points: int
    batch_max_wait_s: float
    write_timeout_s: float
    retry_max_s: float
    blocked_retry_s: float
    write_stall_s: float
    shutdown_timeout_s: float
    deadletter_file: Path
    deadletter_payload_bytes: int
    deadletter_max_mb: float
    deadletter_keep: int
    intake_queue_mb: float
    deadletter_topic: str | None
    metrics_bind: str
    metrics_port: int
    stats_interval_s: float
    create_database: bool
    mapping: MappingConfig
    sparkplug: bool = False
    sparkplug_host_id: str | None = None

    def __post_init__(self) -> None:
        if self.share_group and any(c in self.share_group for c in "/+#"):
            raise ConfigError(f"collector.share_group = {self.share_group!r}: must not "
                              "contain / + #")
        if self.sparkplug_host_id and (not self.sparkplug or any(
                c in self.sparkplug_host_id for c in "/+#")):
            raise ConfigError(f"collector.sparkplug_host_id = {self.sparkplug_host_id!r}: "
                              "needs sparkplug: true and no / + #")
        if self.deadletter_topic and any(c in self.deadletter_topic for c in "+#"):
            raise ConfigError(f"collector.deadletter_topic = {self.deadletter_topic!r}: "
                              "no wildcards")

    @property
    def subscriptions(self) -> tuple[str, ...]:
        topics = self.topics
        if self.sparkplug and not any(t.split("/")[0] in ("spBv1.0", "+", "#") for t in topics):
            topics = (*topics, "spBv1.0/#")
        if self.share_group:
            return tuple(f"$share/{self.share_group}/{t}" for t in topics)
        return topics

    @property
    def spool_max_bytes(self) -> int:
        return int(self.spool_max_mb * 1024 * 1024)


def default_client_id(spool_dir: Path) -> str:
    digest = hashlib.sha1(str(spool_dir.resolve()).encode(), usedforsecurity=False)
    host = "".join(c if c.isalnum() or c in "-_." else "-" for c in socket.gethostname())
    return f"factory-collector-{host[:40]}-{digest.hexdigest()[:8]}"


def plant_enterprise(plant: str | None) -> str | None:
    """The `enterprise` of a plant file (default: the simulator's shipped plant, if
    installed); ConfigError if a named file cannot be read or has none."""
    if plant is None:
        try:
            from simulator.plant import DEFAULT_PLANT  # noqa: PLC0415
        except ImportError:
            return None
        path = Path(DEFAULT_PLANT)
        if not path.is_file():
            return None
    else:
        path = Path(plant)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"collector.plant = {str(path)!r}: cannot read it ({exc})") \
            from exc
    enterprise = data.get("enterprise") if isinstance(data, dict) else None
    if not isinstance(enterprise, str) or not enterprise:
        raise ConfigError(f"collector.plant = {str(path)!r}: has no enterprise: key")
    return enterprise


def load(ns: argparse.Namespace | None = None, env: Mapping[str, str] | None = None,
         config_path: str | None = None) -> CollectorConfig:
    """Resolve the full collector configuration; raise ConfigError (one line) if bad."""
    env = os.environ if env is None else env
    path = config_path or (getattr(ns, "config", None) if ns is not None else None) \
        or env.get("FACTORY_COLLECTOR_CONFIG")
    raw: dict[str, Any] = load_yaml(path) if path else {}
    source = str(path) if path else "config"
    allowed_top = {"mqtt", "influx", "collector", "mapping"}
    for key in raw:
        if key not in allowed_top:
            raise ConfigError(f"{source}: unknown section {key!r} "
                              f"(allowed: {', '.join(sorted(allowed_top))})")
    section = raw.get("collector") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: 'collector' must be a mapping")
    for key in section:
        if key not in _BY_KEY:
            raise ConfigError(f"{source}: unknown key collector.{key} "
                              f"(allowed: {', '.join(sorted(_BY_KEY))})")
    flags = {
        "spool_dir": getattr(ns, "spool_dir", None),
        "metrics_port": getattr(ns, "metrics_port", None),
        "share_group": getattr(ns, "share_group", None),
        "client_id": getattr(ns, "client_id", None),
        "topics": getattr(ns, "topic", None) or None,
        "enterprise": getattr(ns, "enterprise", None),
        "plant": getattr(ns, "plant", None),
        "sparkplug": getattr(ns, "sparkplug", None) or None,
        "sparkplug_host_id": getattr(ns, "sparkplug_host_id", None),
    }
    values: dict[str, Any] = {}
    for opt in OPTIONS:
        env_key = f"FACTORY_COLLECTOR_{opt.key.upper()}"
        if flags.get(opt.key) is not None:
            value, where = flags[opt.key], f"--{opt.key.replace('_', '-')}"
        elif env.get(env_key):
            value, where = env[env_key], env_key
            if opt.key == "topics":
                value = value.split(",")
        elif opt.key in section:
            value, where = section[opt.key], f"{source}: collector.{opt.key}"
        else:
            values[opt.key] = opt.default
            continue
        try:
            values[opt.key] = opt.parse(value)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where} = {value!r}: {exc}") from exc
    try:
        mapping = mapping_from_dict(raw.get("mapping"))
    except (MappingConfigError, ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    spool_dir = Path(values.pop("spool_dir"))
    client_id = values.pop("client_id") or default_client_id(spool_dir)
    endpoints = resolve(ns, raw, env, source, client_id=client_id)
    if endpoints.mqtt.client_id and not getattr(ns, "client_id", None) \
            and not section.get("client_id"):
        client_id = endpoints.mqtt.client_id
    if values["topics"] is None:
        if values["enterprise"] is None:
            values["enterprise"] = plant_enterprise(values["plant"])
        values["topics"] = mapping.topic_filters(values["enterprise"])
    dl_file = values.pop("deadletter_file")
    if endpoints.influx.api == "v2" and not endpoints.influx.org:
        raise ConfigError("influx api v2 needs an org (InfluxDB 2.x refuses writes without "
                          "one): set --influx-org or FACTORY_INFLUX_ORG")
    if mapping.max_payload_bytes <= 0:
        raise ConfigError("mapping.max_payload_bytes must be > 0")
    return CollectorConfig(
        endpoints=endpoints,
        client_id=client_id,
        spool_dir=spool_dir,
        deadletter_file=Path(dl_file) if dl_file else spool_dir / "deadletters.jsonl",
        mapping=mapping,
        **values,
    )
