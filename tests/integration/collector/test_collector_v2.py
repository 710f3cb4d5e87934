"""The v2 write path (influxdb-client) against a real server: VictoriaMetrics, which
accepts InfluxDB `/api/v2/write`. Not a mock: a real process on a free port."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
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
        mqtt_url: str, victoria: str, topic_prefix: str, tmp_path: Path,
        running_collectors: Callable[[CollectorConfig], Collector]) -> None:
    cfg = make_config(run_args(mqtt_url, victoria, "factory", tmp_path / "spool", "--topic",
                               f"{topic_prefix}/#", "--influx-api", "v2", "--influx-token",
                               "not-checked", "--influx-bucket", "factory"))
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
