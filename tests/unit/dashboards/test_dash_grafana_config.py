"""The Grafana the wall runs on: pinned version = the SDK flavour, kiosk settings, language."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
RUN_SH = ROOT / "deploy" / "grafana" / "factory-run.sh"


def _service(file: str = "docker-compose.yml") -> dict[str, Any]:
    svc: dict[str, Any] = yaml.safe_load((ROOT / file).read_text())["services"]["grafana"]
    return svc


def test_grafana_image_is_the_release_line_of_the_sdk_flavour() -> None:
    image = _service()["image"]
    m = re.fullmatch(r"grafana/grafana-oss:(\d+)\.(\d+)\.(\d+)", image)
    assert m, image
    sdk = metadata.version("grafana-foundation-sdk")  # e.g. 1769699379!11.6.0
    flavour = re.fullmatch(r"\d+!(\d+)\.(\d+)\.\d+", sdk)
    assert flavour, f"the SDK must be pinned to a Grafana flavour, got {sdk}"
    assert flavour.groups() == m.groups()[:2], (sdk, image)
    pin = next(d for d in metadata.requires("factory-telemetry") or []
               if d.startswith("grafana-foundation-sdk"))
    assert pin == f"grafana-foundation-sdk=={sdk}", "pinned exactly, never >="
    # 11.4.0 (CVE-2025-4123) and older must not come back.
    assert tuple(int(g) for g in m.groups()) >= (11, 6, 16)
    assert image.split(":")[1] in (ROOT / "docs" / "security.md").read_text()


def test_kiosk_settings() -> None:
    env = {str(k): str(v) for k, v in _service()["environment"].items()}
    assert env["GF_USERS_DEFAULT_THEME"] == "dark"
    assert env["GF_AUTH_DISABLE_LOGIN_FORM"] == "${GRAFANA_DISABLE_LOGIN_FORM:-true}"
    assert env["GF_SECURITY_COOKIE_SECURE"] == "${GRAFANA_COOKIE_SECURE:-false}"
    assert env["GRAFANA_LANG"] == "${GRAFANA_LANG:-en}"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_tls_overlay_serves_https_with_secure_cookies_and_no_ca_key() -> None:
    svc = _service("docker-compose.tls.yml")
    env = svc["environment"]
    assert env["GF_SERVER_PROTOCOL"] == "https"
    assert env["GF_SECURITY_COOKIE_SECURE"] == "true"
    mounts = " ".join(svc["volumes"])
    assert "server.crt" in mounts and "server.key" in mounts and "ca.key" not in mounts
    assert all(v.endswith(":ro") for v in svc["volumes"])
    assert "https://127.0.0.1:3000/api/health" in " ".join(svc["healthcheck"]["test"])


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "run.sh"
    fake.write_text("#!/bin/sh\necho \"lang=$GF_USERS_DEFAULT_LANGUAGE args=$*\"\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return subprocess.run(["/bin/sh", str(RUN_SH), "--flag"], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "GRAFANA_RUN": str(fake), **env})


def test_factory_run_sets_the_ui_language_from_grafana_lang(tmp_path: Path) -> None:
    assert _run(tmp_path).stdout.strip() == "lang=en-US args=--flag"
    assert _run(tmp_path, GRAFANA_LANG="zh").stdout.strip() == "lang=zh-Hans args=--flag"
    bad = _run(tmp_path, GRAFANA_LANG="fr")
    assert bad.returncode == 1 and "allowed: en, zh" in bad.stderr


def test_factory_run_refuses_a_missing_token_file(tmp_path: Path) -> None:
    res = _run(tmp_path, INFLUX_READ_TOKEN_FILE=str(tmp_path / "nope"))
    assert res.returncode == 1 and "missing or empty" in res.stderr
