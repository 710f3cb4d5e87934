"""What a first `make demo` on a stock laptop trips over, caught statically (no Docker engine
runs here): line endings and executable bits of what containers run, pinned Python
dependencies and base image, a build context without runtime state, health checks that
exist in their images and test the service itself, stop timeouts longer than a flush."""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.scale.yml", "docker-compose.tls.yml")


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def tracked() -> list[str]:
    return [f for f in git("ls-files", "-z").split("\0") if f]


#: Run by a shell or mounted into a Linux container: must be LF in every checkout.
def container_files() -> list[str]:
    return [f for f in tracked() if f.startswith(("scripts/", "deploy/")) or f in (
        "Dockerfile", ".dockerignore", ".env.example", "Makefile", "constraints.txt",
        *COMPOSE_FILES) or f.endswith((".sh", ".yml", ".yaml", ".conf", ".py"))]


def test_gitattributes_force_lf_for_scripts_and_configs() -> None:
    files = container_files()
    assert "scripts/demo" in files and "deploy/mosquitto/mosquitto.conf" in files
    out = git("check-attr", "eol", "--", *files)
    not_lf = [ln for ln in out.splitlines() if not ln.endswith(": eol: lf")]
    assert not_lf == []
    for rel in files:  # and the files themselves have no CR
        assert b"\r" not in (ROOT / rel).read_bytes(), rel


def executables() -> dict[str, str]:
    """Tracked path -> git mode of everything that is run directly."""
    modes = {}
    for line in git("ls-files", "-s").splitlines():
        meta, path = line.split("\t", 1)
        modes[path] = meta.split()[0]
    return modes


@pytest.mark.parametrize("pattern", ["scripts/*", "deploy/*/*.sh"])
def test_scripts_are_executable_in_git(pattern: str) -> None:
    """A script run directly needs its executable bit (`run-parts` silently skips one
    without), and a Windows checkout keeps whatever mode git recorded."""
    modes = executables()
    matched = {p: m for p, m in modes.items() if fnmatch.fnmatch(p, pattern)}
    assert matched, pattern
    assert {p for p, m in matched.items() if m != "100755"} == set()
    for p in matched:
        assert (ROOT / p).read_text().startswith("#!"), f"{p}: no shebang"


# -- pinned dependencies and base image ------------------------------------------------
def constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip()] = version.strip()
    return pins


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_constraints_pin_every_runtime_dependency_and_match_the_tested_venv() -> None:
    import importlib.metadata as md
    import runpy

    pins = constraints()
    assert pins and all(re.fullmatch(r"[\w.!+]+", v) for v in pins.values())
    lock = runpy.run_path(str(ROOT / "scripts/lock-deps"))
    closure = {k: v for k, v in lock["closure"]().items() if v is not None}
    assert set(closure) <= set(pins), set(closure) - set(pins)  # the whole closure is pinned
    pyproject = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.M | re.S)
    assert deps is not None
    for raw in re.findall(r'"([^"]+)"', deps.group(1)):
        req = Requirement(raw)
        assert norm(req.name) in pins, req.name
        assert req.specifier.contains(pins[norm(req.name)], prereleases=True), raw
    for name in closure:  # the venv the tests ran in is the pinned set
        assert md.version(name) == pins[name], f"{name}: venv {md.version(name)}, pinned " \
            f"{pins[name]} (make venv)"


def test_the_dockerfile_uses_the_constraints_and_a_pinned_base_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base is not None
    assert re.fullmatch(r"python:3\.12\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", base.group(1))
    assert "COPY pyproject.toml README.md constraints.txt ./" in text
    wheel = next(ln for ln in text.splitlines() if "pip wheel" in ln)
    assert "--constraint constraints.txt" in wheel
    assert "--no-index" in next(ln for ln in text.splitlines() if "pip install" in ln)
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()  # and so does make venv


def dockerignore() -> list[str]:
    return [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]


def ignored(path: str) -> bool:
    """Docker's rules, as far as this file uses them: last match wins, ! re-includes."""
    out = False
    for pattern in dockerignore():
        neg = pattern.startswith("!")
        pat = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        hit = any(fnmatch.fnmatch("/".join(parts[:i]), pat) or
                  fnmatch.fnmatch("/".join(parts[:i]), f"*/{pat.removeprefix('**/')}") or
                  (pat.startswith("**/") and fnmatch.fnmatch(parts[i - 1], pat[3:]))
                  for i in range(1, len(parts) + 1))
        if hit:
            out = not neg
    return out


@pytest.mark.parametrize("path", ["collector-spool/spool.sqlite3", "collector-spool/x.db",
                                  "a/collector-spool-2/wal", "deadletters.jsonl",
                                  "deploy/certs/ca.key", ".env", ".run/demo/demo.json",
                                  "spool-test/data.sqlite", "collector.log"])
def test_runtime_state_stays_out_of_the_build_context(path: str) -> None:
    assert ignored(path), path


def test_every_source_file_the_image_needs_is_in_the_build_context() -> None:
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", (ROOT / "Dockerfile").read_text(), re.M)
    sources = {s for line in copied for s in line.split()}
    needed = [f for f in tracked() if f.split("/")[0] in sources or f in sources]
    assert "collector/spool.py" in needed
    assert [f for f in needed if ignored(f)] == []


# -- health checks, stop timeouts ----------------------------------------------------------
#: What each image is known to contain, from its published Dockerfile: eclipse-mosquitto
#: (Alpine + busybox, the mosquitto clients), influxdb 2.7 (Debian + the influx CLI),
#: grafana-oss (Alpine + busybox), ours (the Python services and stack.health).
IMAGE_COMMANDS = {
    "eclipse-mosquitto": {"mosquitto_sub", "mosquitto_pub", "wget", "sh"},
    "influxdb": {"influx", "bash", "sh"},
    "grafana/grafana-oss": {"wget", "sh"},
    "factory-telemetry": {"python", "factory-sim", "factory-collector"},
}


def merged_services() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for file in COMPOSE_FILES:
        for name, svc in yaml.safe_load((ROOT / file).read_text())["services"].items():
            out[name] = {**out.get(name, {}), **svc}
    return out


def image_family(image: str) -> str:
    image = re.sub(r"^\$\{FACTORY_IMAGE:-([^}]+)\}$", r"\1", image)
    return image.rsplit(":", 1)[0]


def check_command(test: list[str]) -> list[str]:
    if test[0] == "CMD":
        return test[1:]
    words = shlex.split(test[1].replace("$$", "$"))
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        words.pop(0)  # VAR=value prefixes
    return words


def test_health_checks_use_commands_their_images_have() -> None:
    for name, svc in merged_services().items():
        check = svc.get("healthcheck")
        if not check:
            continue
        family = image_family(svc["image"])
        assert family in IMAGE_COMMANDS, f"{name}: unknown image {svc['image']}"
        cmd = check_command(check["test"])
        assert cmd[0] in IMAGE_COMMANDS[family], f"{name}: {cmd[0]} not in {family}"
        if cmd[:3] == ["python", "-m", "stack.health"]:
            from stack.health import main

            # It parses (exit 1 = unhealthy here, never 2 = usage error).
            assert main([*cmd[3:-1], cmd[-1]] if cmd[3] != "http" else
                        ["http", "http://127.0.0.1:9/healthz"]) == 1, name


def test_the_simulator_health_check_tests_publishing_not_just_the_broker() -> None:
    for name, svc in merged_services().items():
        if svc.get("command", [""])[:2] == ["factory-sim", "run"]:
            cmd = check_command(svc["healthcheck"]["test"])
            assert cmd[3] == "fresh", f"{name}: {cmd}"
            beat = svc["command"][svc["command"].index("--heartbeat-file") + 1]
            assert cmd[4] == beat


def seconds(text: str) -> float:
    m = re.fullmatch(r"(\d+)(s|m)", text)
    assert m, text
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


def test_stop_grace_period_outlasts_the_collectors_flush() -> None:
    from collector.config import OPTIONS

    flush_s = {o.key: o.default for o in OPTIONS}["shutdown_timeout_s"]
    collectors = {n: s for n, s in merged_services().items()
                  if s.get("command", [""])[0] == "factory-collector"}
    assert len(collectors) >= 3
    for name, svc in collectors.items():
        assert seconds(svc.get("stop_grace_period", "10s")) >= flush_s + 10, name
