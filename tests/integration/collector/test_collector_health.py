"""Truthful health and named causes, against the real influxd (1.6: it has no /api/v2)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.cli import main
from collector.config import CollectorConfig
from collector.service import Collector
from stack.services import free_port

from .conftest import Publisher, contract_messages, make_config, run_args, wait_until

pytestmark = pytest.mark.integration


def _check(capsys: pytest.CaptureFixture[str], mqtt_url: str, influx_url: str,
           tmp_path: Path, *extra: str) -> str:
    args = ["check", *run_args(mqtt_url, influx_url, "factory", tmp_path / "spool")[1:],
            *extra]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_check_names_the_cause(mqtt_url: str, influx_url: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    closed = free_port()
    assert "connection refused: nothing listens on 127.0.0.1:" in _check(
        capsys, mqtt_url, f"http://127.0.0.1:{closed}", tmp_path)
    assert "DNS: cannot resolve host 'influx.invalid'" in _check(
        capsys, mqtt_url, "http://influx.invalid:8086", tmp_path)
    tls = _check(capsys, mqtt_url, influx_url.replace("http://", "https://"), tmp_path)
    assert "TLS handshake failed" in tls and "plain-HTTP server" in tls
    path = _check(capsys, mqtt_url, influx_url + "/influx", tmp_path)
    assert "HTTP 404 from /ping" in path and "check the URL" in path
    v2 = _check(capsys, mqtt_url, influx_url, tmp_path, "--influx-api", "v2",
                "--influx-token", "t", "--influx-org", "o")
    assert "HTTP 404 from /api/v2/write" in v2
    assert "no /api/v2 here: InfluxDB 1.x? use --influx-api v1" in v2
    # v2 without an org is a config error before any request
    args = ["check", *run_args(mqtt_url, influx_url, "factory", tmp_path / "spool")[1:],
            "--influx-api", "v2", "--influx-token", "t"]
    assert main(args) == 2
    assert "needs an org" in capsys.readouterr().err


def test_healthz_is_503_while_writes_stall_and_says_why(
        mqtt_url: str, influx_url: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector],
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    conf = tmp_path / "collector.yaml"
    conf.write_text("collector:\n  write_stall_s: 2\n  stats_interval_s: 0.5\n"
                    "  shutdown_timeout_s: 0\n")
    argv = run_args(mqtt_url, influx_url, "factory", tmp_path / "spool", "--topic",
                    f"{topic_prefix}/#", "--influx-api", "v2", "--influx-token", "t",
                    "--influx-org", "o")
    argv[argv.index("--metrics-port") + 1] = str(port)
    c = running_collectors(make_config(argv, conf))
    base = f"http://127.0.0.1:{port}"

    def healthz() -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    assert healthz()[0] == 200  # nothing spooled yet: nothing is stalled
    pub = Publisher(mqtt_url)
    pub.publish(contract_messages(topic_prefix, 50))
    pub.close()
    wait_until(lambda: c.writer.last_status == 404, 30, "a failed write")
    metrics = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    assert "collector_write_failing 1.0" in metrics
    wait_until(lambda: healthz()[0] == 503, 30, "/healthz 503")
    _, body = healthz()
    assert body["ok"] is False and body["write_stalled"] is True
    assert "no /api/v2 here" in str(body["last_write_error"])
    assert any("no write succeeded" in p for p in body["problems"])  # type: ignore[attr-defined]
    assert body["stuck_threads"] == []
    assert any("writes failing" in r.message and "use --influx-api v1" in r.message
               for r in caplog.records)
    lines = c.metrics.stats_lines(0, (1, 1, 1.0))
    assert "write_failing=1i" in lines[0] and "write_errors=" in lines[0]


def test_a_stuck_writer_thread_makes_healthz_503(
        mqtt_url: str, influx_url: str, influx_db: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    """A write that hangs for longer than write_stall_s (a server that accepts the
    connection and never answers; write_timeout_s ends each attempt after 3 s)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        conf = tmp_path / "collector.yaml"
        conf.write_text("collector:\n  write_stall_s: 1\n  write_timeout_s: 3\n"
                        "  create_database: false\n  stats_interval_s: 0\n"
                        "  shutdown_timeout_s: 0\n")
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        c = running_collectors(make_config(run_args(
            mqtt_url, url, influx_db, tmp_path / "spool", "--topic", f"{topic_prefix}/#"),
            conf))
        pub = Publisher(mqtt_url)
        pub.publish(contract_messages(topic_prefix, 5))
        pub.close()
        wait_until(lambda: "writer" in c.health()[1]["stuck_threads"], 30,
                   "the writer reported stuck")
        assert c.health()[0] is False
    finally:
        silent.close()
