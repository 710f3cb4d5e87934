"""The v2 write path (influxdb-client) against a real server: VictoriaMetrics, which
accepts InfluxDB `/api/v2/write`, a real process on a free port.

VictoriaMetrics ignores InfluxDB's `Authorization: Token ...` header, so a small
token-checking stand-in proxy sits in front of it: it answers 401 unless the request
carries exactly the token the test configured, and forwards everything else unchanged.
The token is therefore checked (a wrong one is refused and nothing is stored)."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collector.config import CollectorConfig
from collector.service import Collector
from stack.services import free_port, port_open

from .conftest import Publisher, contract_messages, make_config, run_args, wait_until

pytestmark = pytest.mark.integration

VM = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[str]:
    if not Path(VM).exists():
        pytest.skip("victoria-metrics is not installed (make services installs it)")
    port = free_port()
    log = (tmp_path / "vm.log").open("wb")
    proc = subprocess.Popen(
        [VM, f"-storageDataPath={tmp_path / 'vm-data'}", f"-httpListenAddr=127.0.0.1:{port}",
         "-retentionPeriod=100y", "-search.latencyOffset=0s", "-dedup.minScrapeInterval=1ms"],
        stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        wait_until(lambda: port_open(port), 30, "victoria-metrics listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


TOKEN = "v2-collector-token-for-tests"


@pytest.fixture
def token_proxy(victoria: str) -> Iterator[tuple[str, list[str]]]:
    """Stand-in: checks `Authorization: Token TOKEN`, then forwards to VictoriaMetrics.
    Yields its URL and the Authorization headers it saw."""
    target = urllib.parse.urlsplit(victoria)
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            auth = self.headers.get("Authorization", "")
            seen.append(auth)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if auth != f"Token {TOKEN}":
                reply = b'{"code":"unauthorized","message":"unauthorized access"}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                return
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "authorization")}
            conn.request("POST", self.path, body, headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        def do_GET(self) -> None:  # /ping, /health: no auth, as InfluxDB
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _export(base: str, match: str) -> dict[str, list[tuple[int, float]]]:
    """series key -> [(ts_ms, value)] via /api/v1/export (raw samples)."""
    urllib.request.urlopen(f"{base}/internal/force_flush", timeout=10).read()
    q = urllib.parse.urlencode({"match[]": match})
    body = urllib.request.urlopen(f"{base}/api/v1/export?{q}", timeout=30).read().decode()
    out: dict[str, list[tuple[int, float]]] = {}
    for line in body.splitlines():
        s = json.loads(line)
        m = s["metric"]
        key = f"{m['__name__']}/{m.get('machine', m.get('area', ''))}"
        out.setdefault(key, []).extend(zip(s["timestamps"], s["values"], strict=True))
    return out


def test_v2_write_path_against_a_real_server(
        mqtt_url: str, victoria: str, token_proxy: tuple[str, list[str]], topic_prefix: str,
        tmp_path: Path, running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    proxy, seen = token_proxy
    cfg = make_config(run_args(mqtt_url, proxy, "factory", tmp_path / "spool", "--topic",
                               f"{topic_prefix}/#", "--influx-api", "v2", "--influx-org", "factory",
                               "--influx-token",
                               TOKEN, "--influx-bucket", "factory"))
    assert cfg.endpoints.influx.api == "v2"
    c = running_collectors(cfg)
    t0 = (int(time.time()) - 3600) * 1000
    msgs = contract_messages(topic_prefix, 1000, machines=10, t0_ms=t0)
    pub = Publisher(mqtt_url)
    pub.publish(msgs)
    pub.close()
    wait_until(lambda: c.metrics.total_written >= 1000, 60, "1000 points written")
    n_telemetry = sum(1 for t, _ in msgs if t.endswith("/telemetry"))

    def telemetry_samples() -> int:
        return sum(len(v) for v in _export(victoria, '{__name__="telemetry_temp_c"}').values())

    wait_until(lambda: telemetry_samples() == n_telemetry, 30,
               f"{n_telemetry} telemetry_temp_c samples")
    series = _export(victoria, '{__name__="telemetry_power_kw",machine="m003"}')
    assert (t0, 3 * 0.25) in series["telemetry_power_kw/m003"]
    assert c.writer.last_status == 204
    assert seen and set(seen) == {f"Token {TOKEN}"}  # every write carried the token


def test_v2_write_with_a_wrong_token_is_refused_and_stores_nothing(
        mqtt_url: str, victoria: str, token_proxy: tuple[str, list[str]], topic_prefix: str,
        tmp_path: Path, running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    proxy, seen = token_proxy
    cfg = make_config(run_args(mqtt_url, proxy, "factory", tmp_path / "spool", "--topic",
                               f"{topic_prefix}/#", "--influx-api", "v2", "--influx-org", "factory",
                               "--influx-token",
                               "wrong-token", "--influx-bucket", "factory"))
    c = running_collectors(cfg)
    msgs = contract_messages(topic_prefix, 50, machines=5,
                             t0_ms=(int(time.time()) - 7200) * 1000)
    pub = Publisher(mqtt_url)
    pub.publish(msgs)
    pub.close()
    wait_until(lambda: c.writer.last_status == 401, 60, "the write refused with 401")
    assert "Token wrong-token" in seen
    assert c.metrics.total_written == 0
    assert _export(victoria, '{__name__=~"telemetry_.*"}') == {}
