"""URL credentials never reach an error message or a log line (#12).

`--mqtt-url http://collector:PASSWORD@...` used to echo the password in its error. Each
case runs a real CLI with a URL carrying a unique password in a wrong or unreachable form
(nothing listens on the ports used) and reads everything it printed.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
import sys

import pytest

from stack.services import free_port
from telemetry.endpoints import InfluxEndpoint, MqttEndpoint, redact, redact_url

PW = "Pw" + secrets.token_hex(8)


@pytest.mark.parametrize("text,want", [
    ("http://collector:SECRET@broker:1883", "http://collector:***@broker:1883"),
    ("collector:SECRET@broker", "collector:***@broker"),
    ("mqtt://u:p%40SECRET@h", "mqtt://u:***@h"),  # test-fixture: not a secret
    ("mqtt://u:p@SECRET@h:1", "mqtt://u:***@h:1"),
    ("two: mqtt://a:SECRET@b and https://c:SECRET@d/e", "two: mqtt://a:***@b and https://c:***@d/e"),
    ("url 'http://a:SECRET@b'", "url 'http://a:***@b'"),
    ("mqtt://host:1883 user@example.com", "mqtt://host:1883 user@example.com"),
    ("collector c1: mqtt://collector@127.0.0.1:1883", "collector c1: mqtt://collector@127.0.0.1:1883"),
])
def test_redact(text: str, want: str) -> None:
    assert redact(text) == want
    assert redact_url(text) == want


def test_influx_url_credentials_leave_the_url() -> None:
    ep = InfluxEndpoint(url=f"http://admin:{PW}@influx:8086")
    assert ep.url == "http://influx:8086" and (ep.user, ep.password) == ("admin", PW)
    assert PW not in ep.display()


def test_every_log_record_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("paho.anything").info("connecting to %s", f"mqtt://c:{PW}@h:1")
        logging.getLogger("x").warning(f"failed: http://u:{PW}@h/write")
    assert PW not in caplog.text and caplog.text.count(":***@") == 2


def test_endpoint_errors_are_redacted() -> None:
    from telemetry.endpoints import ConfigError

    for url in (f"http://collector:{PW}@h", f"collector:{PW}@h", f"mqtt://c:{PW}@h:port",
                f"mqtt://c:{PW}@", f"mqtt://c:{PW}@h:1/path"):
        with pytest.raises(ConfigError) as err:
            MqttEndpoint.from_url(url)
        assert PW not in str(err.value), url
    with pytest.raises(ConfigError) as err:
        InfluxEndpoint(url=f"ftp://admin:{PW}@h")
    assert PW not in str(err.value)


def cli(*args: str) -> str:
    res = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                         timeout=120)
    return res.stdout + res.stderr


def closed() -> int:
    return free_port()  # nothing listens there


@pytest.mark.parametrize("args", [
    ["simulator", "run", "--duration", "1m", "--speed", "max", "--mqtt-url",
     f"http://collector:{PW}@127.0.0.1:1883"],
    ["simulator", "run", "--duration", "1m", "--speed", "max", "--mqtt-url",
     f"collector:{PW}@127.0.0.1"],
    ["simulator", "run", "--duration", "1m", "--speed", "max", "--mqtt-url",
     f"mqtt://simulator:{PW}@127.0.0.1:notaport"],
    ["simulator", "run", "--duration", "10m", "--speed", "max", "--mqtt-url",
     f"mqtt://simulator:{PW}@127.0.0.1:{closed()}", "--log-level", "DEBUG"],
    ["simulator", "fault", "laser-01", "--mqtt-url", f"mqtt://operator:{PW}@127.0.0.1:{closed()}"],
    ["simulator", "backfill", "--days", "0.01", "--influx-url", f"ftp://admin:{PW}@127.0.0.1"],
    ["simulator", "backfill", "--days", "0.01", "--influx-url",
     f"http://admin:{PW}@127.0.0.1:{closed()}"],
    ["collector", "check", "--mqtt-url", f"mqtt://collector:{PW}@127.0.0.1:{closed()}",
     "--influx-url", f"http://admin:{PW}@127.0.0.1:{closed()}"],
    ["collector", "check", "--mqtt-url", f"tcp:/collector:{PW}@x"],
], ids=["http-scheme", "no-scheme", "bad-port", "unreachable-broker", "fault-unreachable",
        "influx-scheme", "influx-unreachable", "collector-check", "collector-garbage"])
def test_no_cli_prints_a_url_password(args: list[str]) -> None:
    out = cli(*args)
    assert out.strip(), "the CLI said nothing"
    assert PW not in out, out[-2000:]
