"""scripts/init-env: a .env with fresh random secrets, never overwritten, always 0600.

It is a POSIX sh script (the Docker path needs no host Python): every run here has a PATH
holding only the few standard tools it may use, so a hidden Python call would fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "init-env"
TOOLS = ("sh", "sed", "grep", "tr", "head", "tail", "wc", "chmod", "mv", "rm", "cat",
         "dirname", "printf", "echo")


@pytest.fixture(scope="module")
def tool_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bin")
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (d / tool).symlink_to(found)
    return d


def run(tool_dir: Path, env: Path, example: Path = ROOT / ".env.example"
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool_dir / "sh"), str(SCRIPT), "--env", str(env), "--example",
                           str(example)], capture_output=True, text=True, timeout=60,
                          env={"PATH": str(tool_dir)})


def parse(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", path.read_text(), re.M))


def secret_keys() -> list[str]:
    return [k for k, v in parse(ROOT / ".env.example").items()
            if v == "" and re.search(r"(PASSWORD|TOKEN|SECRET)", k)]


def test_the_script_is_posix_sh() -> None:
    assert SCRIPT.read_text().startswith("#!/bin/sh\n")
    assert os.access(SCRIPT, os.X_OK)


def test_creates_env_with_random_secrets(tool_dir: Path, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    res = run(tool_dir, env)
    assert res.returncode == 0, res.stderr
    values = parse(env)
    assert set(values) == set(parse(ROOT / ".env.example"))
    keys = secret_keys()
    assert len(keys) >= 6
    secrets = [values[k] for k in keys]
    assert all(re.fullmatch(r"[A-Za-z0-9]{32}", s) for s in secrets)  # URL- and shell-safe
    assert len(set(secrets)) == len(secrets)
    assert env.stat().st_mode & 0o777 == 0o600
    for s in secrets:  # never printed
        assert s not in res.stdout and s not in res.stderr
    assert f"{len(keys)} random secret(s)" in res.stdout
    other = tmp_path / "other.env"
    run(tool_dir, other)
    assert all(parse(other)[k] != values[k] for k in keys)  # fresh per install


def test_never_overwrites_and_adds_what_is_missing(tool_dir: Path, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    run(tool_dir, env)
    before_text = env.read_text()
    res = run(tool_dir, env)
    assert "nothing changed" in res.stdout
    assert env.read_text() == before_text
    # A user edit survives; a variable missing from .env (e.g. new in an upgrade) is added.
    before = parse(env)
    lines = [ln for ln in before_text.splitlines() if not ln.startswith("GRAFANA_SECRET_KEY=")]
    lines = [("FACTORY_SEED=42" if ln.startswith("FACTORY_SEED=") else ln) for ln in lines]
    env.write_text("\n".join(lines) + "\n")
    res = run(tool_dir, env)
    assert res.returncode == 0 and "GRAFANA_SECRET_KEY" in res.stdout
    after = parse(env)
    assert after["FACTORY_SEED"] == "42"
    assert re.fullmatch(r"[A-Za-z0-9]{32}", after["GRAFANA_SECRET_KEY"])
    assert after["GRAFANA_SECRET_KEY"] != before["GRAFANA_SECRET_KEY"]  # a new one
    unchanged = {k for k in before if k not in ("GRAFANA_SECRET_KEY", "FACTORY_SEED")}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


def test_a_copied_example_gets_its_empty_secrets_filled_and_mode_0600(tool_dir: Path,
                                                                      tmp_path: Path) -> None:
    """`cp .env.example .env` used to pass as complete, with empty passwords, mode 0644."""
    env = tmp_path / ".env"
    shutil.copy(ROOT / ".env.example", env)
    env.chmod(0o644)
    env.write_text(env.read_text().replace("FACTORY_SEED=7", "FACTORY_SEED=11"))
    res = run(tool_dir, env)
    assert res.returncode == 0, res.stderr
    values = parse(env)
    for key in secret_keys():
        assert re.fullmatch(r"[A-Za-z0-9]{32}", values[key]), key
        assert key in res.stdout and values[key] not in res.stdout
    assert values["FACTORY_SEED"] == "11"  # plain settings kept
    assert env.stat().st_mode & 0o777 == 0o600
    # The comments of the copied file are kept too.
    assert env.read_text().count("\n#") >= (ROOT / ".env.example").read_text().count("\n#")


def test_a_complete_env_is_made_0600(tool_dir: Path, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    run(tool_dir, env)
    env.chmod(0o644)
    res = run(tool_dir, env)
    assert "nothing changed" in res.stdout
    assert env.stat().st_mode & 0o777 == 0o600


def test_missing_example_is_one_line(tool_dir: Path, tmp_path: Path) -> None:
    res = run(tool_dir, tmp_path / ".env", tmp_path / "nope")
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "cannot read" in res.stderr
