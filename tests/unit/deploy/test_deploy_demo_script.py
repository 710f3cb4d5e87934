"""scripts/demo and the Makefile's demo targets, run for real with a stand-in `docker`.

No Docker engine runs here, so `docker` is a stand-in: a small shell script first on PATH
that records its arguments and answers `docker info` as an engine that runs, is down or
refuses this user (FAKE_DOCKER). Each run happens in a scratch copy of the files the
script uses, with a PATH of standard tools only: no Python, so the Docker path is shown
to need none.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FILES = ("scripts/demo", "scripts/init-env", ".env.example", "docker-compose.yml",
         "deploy/grafana/kiosk.env", "Makefile")
TOOLS = ("sh", "sed", "grep", "tail", "head", "awk", "mv", "chmod", "cat", "dirname",
         "basename", "tr", "wc", "rm", "printf", "echo", "make", "ss", "lsof")
STAND_IN = r"""#!/bin/sh
# A stand-in for the docker CLI (no engine runs on this machine): records its arguments.
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "info "*)
    case "${FAKE_DOCKER:-ok}" in
      ok) exit 0 ;;
      down) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." \
                 "Is the docker daemon running?" >&2; exit 1 ;;
      denied) echo "permission denied while trying to connect to the Docker daemon" \
                   "socket at unix:///var/run/docker.sock" >&2; exit 1 ;;
    esac ;;
  "compose version") echo "Docker Compose version v2.40.0"; exit 0 ;;
  "compose port") [ -n "${FAKE_OURS:-}" ] && { echo "127.0.0.1:$4"; exit 0; }; exit 1 ;;
  "compose up") exit "${FAKE_UP_RC:-0}" ;;
  "compose exec") printf '%s\n' "${FAKE_EXEC_OUT:-}"; exit "${FAKE_EXEC_RC:-0}" ;;
esac
exit 0
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    for rel in FILES:
        (r / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, r / rel)
    return r


@pytest.fixture
def path_dir(tmp_path: Path) -> Path:
    d = tmp_path / "bin"
    d.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (d / tool).symlink_to(found)
    (d / "docker").write_text(STAND_IN)
    (d / "docker").chmod(0o755)
    return d


def demo(repo: Path, path_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    log = repo.parent / "docker.log"
    return subprocess.run([str(path_dir / "sh"), str(repo / "scripts/demo"), *args],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          cwd=repo.parent, env={"PATH": str(path_dir), "FAKE_LOG": str(log),
                                                "PY": str(repo / ".venv/bin/python"), **env})


def calls(repo: Path) -> list[str]:
    log = repo.parent / "docker.log"
    return log.read_text().splitlines() if log.exists() else []


def test_no_python_anywhere_on_the_docker_path(repo: Path, path_dir: Path) -> None:
    assert not list(path_dir.glob("python*"))
    res = demo(repo, path_dir)
    assert res.returncode == 0, res.stdout + res.stderr
    up = [c for c in calls(repo) if c.startswith("compose up")]
    assert up == ["compose up -d --build --wait --wait-timeout 600"]
    assert (repo / ".env").stat().st_mode & 0o777 == 0o600  # init-env ran (POSIX sh)
    assert "Wall display (kiosk): http://localhost:3000/d/plant-overview?kiosk" in res.stdout


def test_the_makefile_demo_targets_need_no_venv() -> None:
    text = (ROOT / "Makefile").read_text()
    for target in ("demo", "demo-down"):
        m = re.search(rf"^{target}:(.*)$", text, re.M)
        assert m is not None and m.group(1).strip() == "", f"{target}: {m.group(1) if m else ''}"
    # --no-print-directory: under `make test` MAKELEVEL > 0 would add "Entering directory".
    dry = subprocess.run(["make", "--no-print-directory", "-n", "demo", "demo-down"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert len(lines) == 2 and all("scripts/demo" in ln for ln in lines), lines
    assert "pip install" not in dry.stdout and "-m venv" not in dry.stdout


def test_the_kiosk_url_is_in_the_walls_language(repo: Path, path_dir: Path) -> None:
    (repo / ".env").write_text("GRAFANA_LANG=zh\nGRAFANA_PORT=3300\n")
    res = demo(repo, path_dir)
    assert res.returncode == 0, res.stderr
    paths = dict(re.findall(r"^KIOSK_PATH_(\w+)=(\S+)$",
                            (ROOT / "deploy/grafana/kiosk.env").read_text(), re.M))
    assert f"Wall display (kiosk): http://localhost:3300{paths['zh']}" in res.stdout
    assert paths["zh"] != paths["en"]


@pytest.mark.parametrize("state,why", [("down", "does not answer"),
                                       ("denied", "may not use it")])
def test_an_unusable_docker_is_explained_and_nothing_switches_silently(
        repo: Path, path_dir: Path, state: str, why: str) -> None:
    res = demo(repo, path_dir, FAKE_DOCKER=state)
    assert res.returncode == 1
    assert why in res.stdout
    assert "FACTORY_DEMO_NATIVE=1" in res.stderr and "no terminal to ask on" in res.stderr
    assert not [c for c in calls(repo) if c.startswith("compose up")]
    assert not (repo / ".run").exists()  # the native demo did not start either


def test_a_taken_port_is_named_before_anything_starts(repo: Path, path_dir: Path) -> None:
    if not ((path_dir / "lsof").exists() or (path_dir / "ss").exists()):
        pytest.fail("neither lsof nor ss here: the port check cannot name a holder")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        (repo / ".env").write_text(f"INFLUX_PORT={port}\n")
        res = demo(repo, path_dir)
    assert res.returncode == 1
    assert f"port {port} (InfluxDB) is in use by python" in res.stderr
    assert f"(pid {os.getpid()})" in res.stderr
    assert "INFLUX_PORT" in res.stderr
    assert not [c for c in calls(repo) if c.startswith("compose up")]


def test_ports_of_the_running_stack_itself_are_fine(repo: Path, path_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        (repo / ".env").write_text(f"MQTT_PORT={s.getsockname()[1]}\n")
        res = demo(repo, path_dir, FAKE_OURS="1")  # compose port: published by us
    assert res.returncode == 0, res.stderr


def test_a_failed_start_says_so(repo: Path, path_dir: Path) -> None:
    res = demo(repo, path_dir, FAKE_UP_RC="1")
    assert res.returncode == 1
    assert "did not come up healthy" in res.stderr
    assert "compose ps -a" in calls(repo)


def test_down_stops_everything_in_any_state(repo: Path, path_dir: Path) -> None:
    """`down` removes created, exited and restarting containers too (`ps -q` listed only
    running ones), plus the tools-profile and scale-out ones; never the volumes."""
    res = demo(repo, path_dir, "--down")
    assert res.returncode == 0, res.stderr
    downs = [c for c in calls(repo) if " down" in c]
    assert downs == ["compose --profile tools down --remove-orphans"]
    assert not any("ps" in c.split() for c in calls(repo))  # no "is it running?" guess
    assert "-v" not in downs[0].split()


def test_plant_goes_to_env_for_every_later_compose_call(repo: Path, path_dir: Path,
                                                        tmp_path: Path) -> None:
    plant_dir = tmp_path / "plants"
    plant_dir.mkdir()
    (plant_dir / "acme.yaml").write_text("enterprise: acme\n")
    res = demo(repo, path_dir, PLANT="plants/acme.yaml")  # relative to where make ran
    assert res.returncode == 0, res.stderr
    env = (repo / ".env").read_text()
    assert f"PLANT_DIR={plant_dir}\n" in env and "PLANT_FILE=acme.yaml\n" in env
    assert env.count("PLANT_DIR=") == 1
    bad = demo(repo, path_dir, PLANT="plants/nope.yaml")
    assert bad.returncode == 1 and "no such file" in bad.stderr


INSTALL_STAND_IN = """#!/bin/sh
# A stand-in for scripts/install-services (it would apt-get install): records the call.
echo install-services >> "$FAKE_LOG"
exit 3
"""


@pytest.mark.parametrize("plant,ok", [("acme-lyon.yaml", True), ("bad.yaml", False)])
def test_native_path_checks_the_plant_before_anything_starts(
        repo: Path, path_dir: Path, tmp_path: Path, plant: str, ok: bool) -> None:
    """`make demo PLANT=...` without Docker: the plant file is validated first (one line
    naming the key), then services are installed and `python -m stack.demo up --plant`."""
    (repo / "scripts/install-services").write_text(INSTALL_STAND_IN)
    (repo / "scripts/install-services").chmod(0o755)
    plants = tmp_path / "plants"
    plants.mkdir()
    shutil.copy(ROOT / "tests/data/acme-lyon.yaml", plants / "acme-lyon.yaml")
    (plants / "bad.yaml").write_text("enterprise: acme\nsite: lyon\nname: x\n"
                                     "areas:\n  - id: moulding\n    calendar: night_shift\n")
    py = Path(sys.executable)
    res = demo(repo, path_dir, FACTORY_DEMO_NATIVE="1", PLANT=f"plants/{plant}", PY=str(py))
    if ok:
        # Past the check: install-services ran (its stand-in stops the script there).
        assert calls(repo) == ["install-services"], res.stdout + res.stderr
        assert res.returncode == 3
    else:
        assert res.returncode == 2
        assert calls(repo) == []  # nothing installed, nothing started
        line, = res.stderr.splitlines()
        assert line.startswith("demo: ") and "areas[0].calendar" in line


ANSWER = ('{"results":[{"statement_id":0,"series":[{"name":"telemetry","columns":["time",'
          '"count"],"values":[["1970-01-01T00:00:00Z",%d]]}]}]}')


@pytest.mark.parametrize("answer,rc,ok", [(ANSWER % 1512, "0", True), (ANSWER % 0, "0", False),
                                          ('{"results":[{"statement_id":0}]}', "0", False),
                                          ("wget: server returned error: HTTP/1.1 401", "1",
                                           False)])
def test_the_docker_check_is_one_command_and_fails_without_fresh_data(
        repo: Path, path_dir: Path, answer: str, rc: str, ok: bool) -> None:
    """`make demo-check`: compose up --wait, then one InfluxQL query from inside Grafana's
    container with its read-only token; OK only with telemetry of the last 2 minutes."""
    (repo / ".env").write_text("INFLUX_BUCKET=plantdata\n")
    res = demo(repo, path_dir, "--check", FAKE_EXEC_OUT=answer, FAKE_EXEC_RC=rc)
    up = [c for c in calls(repo) if c.startswith("compose up")]
    assert up == ["compose up -d --wait --wait-timeout 600"]
    (exec_call,) = [c for c in calls(repo) if c.startswith("compose exec")]
    assert exec_call.startswith("compose exec -T grafana sh -c ")
    assert "/run/factory/influx-read.token" in exec_call and "db=plantdata&" in exec_call
    if ok:
        assert res.returncode == 0, res.stderr
        assert "1512 telemetry samples of the last 2 min" in res.stdout
    else:
        assert res.returncode == 1
        assert res.stderr.startswith("demo: check: ") and len(res.stderr.splitlines()) == 1


def test_the_docker_check_refuses_an_unhealthy_stack(repo: Path, path_dir: Path) -> None:
    res = demo(repo, path_dir, "--check", FAKE_UP_RC="1")
    assert res.returncode == 1 and "not healthy" in res.stderr
    assert not [c for c in calls(repo) if c.startswith("compose exec")]
