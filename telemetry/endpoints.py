"""Endpoint settings both services take the same way: flag > environment > YAML > default.

Every flag ``--influx-db`` has an environment variable ``FACTORY_INFLUX_DB``; secrets
also accept ``FACTORY_..._FILE`` naming a file that holds the value (Docker secrets).
A YAML config file may hold the same settings under ``mqtt:`` and ``influx:``
(``mqtt: {url: ..., protocol: ...}``).

URL credentials never reach an error message or a log line: every message built here
names URLs through :func:`redact_url`, an InfluxDB URL's ``user:password@`` moves into
the endpoint's user and password (so ``InfluxEndpoint.url`` holds none), and importing
this module installs a log record factory that redacts ``scheme://user:password@`` in
every record of every logger (:func:`redact`).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import yaml

DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"
DEFAULT_INFLUX_URL = "http://127.0.0.1:8086"
DEFAULT_INFLUX_DB = "factory"


class ConfigError(ValueError):
    """A bad setting; the message is one line naming the key and what is allowed."""


@dataclass(frozen=True)
class Setting:
    section: str  # "mqtt" or "influx"
    key: str  # key inside the section, e.g. "url"
    default: str | None
    help: str
    choices: tuple[str, ...] = ()
    secret: bool = False

    @property
    def flag(self) -> str:
        return f"--{self.section}-{self.key.replace('_', '-')}"

    @property
    def dest(self) -> str:
        return f"{self.section}_{self.key}"

    @property
    def env(self) -> str:
        return f"FACTORY_{self.section.upper()}_{self.key.upper()}"


SETTINGS: tuple[Setting, ...] = (
    Setting("mqtt", "url", DEFAULT_MQTT_URL,
            "broker URL, mqtt://[user:pass@]host[:port] or mqtts:// for TLS"),
    Setting("mqtt", "protocol", "5", "MQTT protocol version", choices=("5", "3.1.1")),
    Setting("mqtt", "client_id", None, "client id (default: derived from the service name)"),
    Setting("mqtt", "ca_file", None, "CA bundle for mqtts:// (default: system CAs)"),
    Setting("mqtt", "cert_file", None, "client certificate for mutual TLS"),
    Setting("mqtt", "key_file", None, "client private key for mutual TLS", secret=True),
    Setting("influx", "url", DEFAULT_INFLUX_URL, "InfluxDB base URL"),
    Setting("influx", "api", "v1", "InfluxDB write API", choices=("v1", "v2")),
    Setting("influx", "db", DEFAULT_INFLUX_DB, "database (v1 API)"),
    Setting("influx", "bucket", None, "bucket (v2 API; default: the database name)"),
    Setting("influx", "org", None, "organisation (v2 API)"),
    Setting("influx", "token", None, "API token (v2 API)", secret=True),
    Setting("influx", "user", None, "user name (v1 API)"),
    Setting("influx", "password", None, "password (v1 API)", secret=True),
)


@dataclass(frozen=True)
class MqttEndpoint:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None
    protocol: Literal["5", "3.1.1"] = "5"
    client_id: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MqttEndpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ConfigError(f"mqtt url {redact_url(url)!r}: scheme must be mqtt:// or "
                              "mqtts://")
        tls = parts.scheme in ("mqtts", "ssl")
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise ConfigError(f"mqtt url {redact_url(url)!r}: {exc}") from exc
        if not parts.hostname:
            raise ConfigError(f"mqtt url {redact_url(url)!r} has no host")
        if parts.path not in ("", "/"):
            raise ConfigError(f"mqtt url {redact_url(url)!r}: a path is not allowed")
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            **options,
        )

    def display(self) -> str:
        """URL without the password, for logs."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class InfluxEndpoint:
    url: str = DEFAULT_INFLUX_URL
    api: Literal["v1", "v2"] = "v1"
    db: str = DEFAULT_INFLUX_DB
    bucket: str | None = None
    org: str | None = None
    token: str | None = None
    user: str | None = None
    password: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"influx url {redact_url(self.url)!r}: must be "
                              "http(s)://host[:port]")
        if parts.username is not None or parts.password is not None:
            # http://user:password@host: basic-auth credentials (v1). Kept as the user and
            # password (unless set otherwise) and taken out of the URL, which is logged.
            host = parts.netloc.rpartition("@")[2]
            object.__setattr__(self, "url", urlunsplit(parts._replace(netloc=host)))
            if self.user is None and parts.username:
                object.__setattr__(self, "user", unquote(parts.username))
            if self.password is None and parts.password:
                object.__setattr__(self, "password", unquote(parts.password))
        if self.api == "v2" and not self.token:
            raise ConfigError("influx api v2 needs a token: set --influx-token or "
                              "FACTORY_INFLUX_TOKEN")

    @property
    def target(self) -> str:
        """Database (v1) or bucket (v2) written to."""
        return self.bucket or self.db if self.api == "v2" else self.db

    def display(self) -> str:
        return f"{self.url} ({self.api}, {self.target})"


@dataclass(frozen=True)
class Endpoints:
    mqtt: MqttEndpoint
    influx: InfluxEndpoint


#: ``[scheme:]//user:password@`` (the password may hold an unencoded ``@``: up to the last).
_URL_CREDENTIALS = re.compile(r"((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)([^\s/:@'\"]*):([^\s'\"]*)@")
#: A bare ``user:password@host`` at the start of a word (no scheme, no slash).
_BARE_CREDENTIALS = re.compile(r"(?<![^\s'\"(=,\[/])()([^\s/:@'\"]+):([^\s/:@'\"]*)@(?=[^\s@])")


def redact_url(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``."""
    return redact(url)


def redact(text: str) -> str:
    """Every ``scheme://user:password@`` (and bare ``user:password@host``) in ``text``,
    with the password replaced by ``***``."""
    if "@" not in text:
        return text
    for pattern in (_URL_CREDENTIALS, _BARE_CREDENTIALS):
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", text)
    return text


def _install_log_redaction() -> None:
    """Wrap the log record factory once: each record's message is redacted."""
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(previous, "_factory_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to logging to report
            return record
        if "@" in message:
            record.msg, record.args = redact(message), None
        return record

    factory._factory_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_log_redaction()


def add_endpoint_args(parser: argparse.ArgumentParser, *, mqtt: bool = True,
                      influx: bool = True) -> None:
    """Add the shared endpoint flags (defaults are resolved later, not by argparse)."""
    for s in SETTINGS:
        if (s.section == "mqtt" and not mqtt) or (s.section == "influx" and not influx):
            continue
        default = f" (default: {s.default})" if s.default else ""
        parser.add_argument(
            s.flag, dest=s.dest, default=None, choices=s.choices or None, metavar=None
            if s.choices else s.key.upper(), help=f"{s.help}{default}; env {s.env}",
        )


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file; a missing or malformed file is a one-line ConfigError."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{p}: no such config file") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{p}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})") \
            from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a mapping")
    return data


def _value(s: Setting, ns: argparse.Namespace | None, env: Mapping[str, str],
           config: Mapping[str, Any], source: str) -> str | None:
    flag = getattr(ns, s.dest, None) if ns is not None else None
    if flag is not None:
        return str(flag)
    if env.get(s.env):
        return env[s.env]
    if s.secret and env.get(f"{s.env}_FILE"):
        path = Path(env[f"{s.env}_FILE"])
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{s.env}_FILE={path}: cannot read ({exc.strerror})") from exc
    section = config.get(s.section) or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: '{s.section}' must be a mapping")
    if section.get(s.key) is not None:
        return str(section[s.key])
    return s.default


def resolve(ns: argparse.Namespace | None = None, config: Mapping[str, Any] | None = None,
            env: Mapping[str, str] | None = None, source: str = "config",
            client_id: str | None = None) -> Endpoints:
    """Resolve both endpoints from flags, environment, YAML config and defaults."""
    env = os.environ if env is None else env
    config = config or {}
    for section in ("mqtt", "influx"):
        known = {s.key for s in SETTINGS if s.section == section}
        sec = config.get(section) or {}
        if isinstance(sec, dict):
            for key in sec:
                if key not in known:
                    raise ConfigError(f"{source}: unknown key {section}.{key} "
                                      f"(allowed: {', '.join(sorted(known))})")
    v = {s.dest: _value(s, ns, env, config, source) for s in SETTINGS}
    for s in SETTINGS:
        if s.choices and v[s.dest] not in s.choices:
            raise ConfigError(f"{s.section}.{s.key} = {v[s.dest]!r}: allowed "
                              f"{', '.join(s.choices)}")
    mqtt = MqttEndpoint.from_url(
        v["mqtt_url"] or DEFAULT_MQTT_URL,
        protocol=v["mqtt_protocol"],
        client_id=v["mqtt_client_id"] or client_id,
        ca_file=v["mqtt_ca_file"],
        cert_file=v["mqtt_cert_file"],
        key_file=v["mqtt_key_file"],
    )
    influx = InfluxEndpoint(
        url=(v["influx_url"] or DEFAULT_INFLUX_URL).rstrip("/"),
        api=v["influx_api"],  # type: ignore[arg-type]  # checked against choices above
        db=v["influx_db"] or DEFAULT_INFLUX_DB,
        bucket=v["influx_bucket"],
        org=v["influx_org"],
        token=v["influx_token"],
        user=v["influx_user"],
        password=v["influx_password"],
    )
    return Endpoints(mqtt=mqtt, influx=influx)
