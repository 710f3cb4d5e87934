"""scripts/init-env: a .env with fresh random secrets, never overwritten."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "init-env"


def run(env: Path, example: Path = ROOT / ".env.example") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--env", str(env), "--example",
                           str(example)], capture_output=True, text=True, timeout=60)


def parse(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", path.read_text(), re.M))


def secret_keys() -> list[str]:
    return [k for k, v in parse(ROOT / ".env.example").items()
            if v == "" and re.search(r"(PASSWORD|TOKEN|SECRET)", k)]


def test_creates_env_with_random_secrets(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    res = run(env)
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
    other = tmp_path / "other.env"
    run(other)
    assert all(parse(other)[k] != values[k] for k in keys)  # fresh per install


def test_never_overwrites_and_adds_what_is_missing(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    run(env)
    before = env.read_text()
    res = run(env)
    assert "nothing changed" in res.stdout
    assert env.read_text() == before
    # A user edit survives; a variable missing from .env (e.g. new in an upgrade) is added.
    lines = [ln for ln in before.splitlines() if not ln.startswith("GRAFANA_SECRET_KEY=")]
    lines = [("FACTORY_SEED=42" if ln.startswith("FACTORY_SEED=") else ln) for ln in lines]
    env.write_text("\n".join(lines) + "\n")
    res = run(env)
    assert res.returncode == 0 and "GRAFANA_SECRET_KEY" in res.stdout
    after = parse(env)
    assert after["FACTORY_SEED"] == "42"
    assert re.fullmatch(r"[A-Za-z0-9]{32}", after["GRAFANA_SECRET_KEY"])
    assert {k: v for k, v in after.items() if k != "GRAFANA_SECRET_KEY"} == \
        {k: v for k, v in parse(tmp_path / ".env").items() if k != "GRAFANA_SECRET_KEY"}


def test_missing_example_is_one_line(tmp_path: Path) -> None:
    res = run(tmp_path / ".env", tmp_path / "nope")
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "cannot read" in res.stderr
