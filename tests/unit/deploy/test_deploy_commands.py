"""The compose services' commands and environments are what the real CLIs accept.

No Docker here, so each service's command line is parsed by the real argument parser and
its environment resolved by the real configuration code, with compose's ``${VAR:-default}``
expanded as compose would with the defaults (secrets filled with placeholders).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector import config as collector_config
from collector.cli import _parser as collector_parser
from simulator.cli import build_parser as sim_parser
from telemetry.endpoints import resolve

ROOT = Path(__file__).resolve().parents[3]
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
PLACEHOLDER = "pw0123456789abcdef"


def expand(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return m.group(3) if m.group(2) in (":-", "-") else PLACEHOLDER
    return VAR.sub(repl, value)


def services(name: str) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / name).read_text())["services"]
    return data


def service(name: str, file: str = "docker-compose.yml") -> tuple[list[str], dict[str, str]]:
    svc = services(file)[name]
    cmd = [expand(str(a)) for a in svc.get("entrypoint") or []] + \
        [expand(str(a)) for a in svc.get("command") or []]
    env = {k: expand(str(v)) for k, v in (svc.get("environment") or {}).items()}
    return cmd, env


def with_token(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    if "FACTORY_INFLUX_TOKEN_FILE" in env:
        token = tmp_path / "token"
        token.write_text("scoped-token-for-tests\n")
        env = {**env, "FACTORY_INFLUX_TOKEN_FILE": str(token)}
    return env


def sim_args(cmd: list[str]) -> list[str]:
    assert cmd[0] == "factory-sim"
    return cmd[1:]


def test_simulator_command_parses_and_logs_in_as_simulator(tmp_path: Path) -> None:
    cmd, env = service("simulator")
    ns = sim_parser().parse_args(sim_args(cmd))
    assert (ns.command, ns.speed, ns.sink, ns.seed) == ("run", "1", "mqtt", 7)
    assert ns.plant == "/plant/plant.yaml"
    ep = resolve(ns, env=with_token(env, tmp_path))
    assert (ep.mqtt.host, ep.mqtt.port, ep.mqtt.username) == ("mosquitto", 1883, "simulator")
    # The broker makes the client id the user name; the configured one says the same.
    assert ep.mqtt.password == PLACEHOLDER and ep.mqtt.client_id == "simulator"


def test_backfill_command_parses_and_writes_with_the_scoped_token(tmp_path: Path) -> None:
    cmd, env = service("backfill")
    assert cmd[:3] == ["python", "-m", "stack.backfill"]
    # What stack.backfill runs after planning the gap: factory-sim backfill with its args.
    ns = sim_parser().parse_args(sim_args(["factory-sim", "backfill", *cmd[3:]]))
    assert ns.command == "backfill" and ns.days == 1.0 and ns.seed == 7
    assert ns.plant == "/plant/plant.yaml"
    ep = resolve(ns, env=with_token(env, tmp_path))
    assert (ep.influx.url, ep.influx.api, ep.influx.target, ep.influx.org) == \
        ("http://influxdb:8086", "v2", "factory", "factory")
    assert ep.influx.token == "scoped-token-for-tests"


@pytest.mark.parametrize("name,file", [("collector", "docker-compose.yml"),
                                       ("collector-2", "docker-compose.scale.yml"),
                                       ("collector-3", "docker-compose.scale.yml")])
def test_collector_command_parses_and_config_resolves(tmp_path: Path, name: str,
                                                      file: str) -> None:
    cmd, env = service(name, file)
    assert cmd[0] == "factory-collector"
    ns = collector_parser().parse_args(cmd[1:])
    # The plant file mounted at /plant (PLANT_DIR, default simulator/data) names the
    # enterprise the collector subscribes to.
    assert env["FACTORY_COLLECTOR_PLANT"] == "/plant/plant.yaml"
    env = {**env, "FACTORY_COLLECTOR_PLANT": str(ROOT / "simulator/data/plant.yaml")}
    cfg = collector_config.load(ns, env=with_token(env, tmp_path))
    assert cfg.subscriptions == ("$share/collectors/hearth/#",)  # what the ACL grants
    assert cfg.client_id == env["FACTORY_COLLECTOR_CLIENT_ID"]
    # Each collector is its own broker user, and its client id says the same (the broker
    # makes the id the user name: use_username_as_clientid).
    assert cfg.endpoints.mqtt.username == cfg.client_id
    assert str(cfg.spool_dir) == "/data/spool"
    assert cfg.metrics_port == 9108 and cfg.metrics_bind == "127.0.0.1"
    ep = cfg.endpoints
    assert ep.mqtt.username.split("-")[0] == "collector"
    assert (ep.influx.api, ep.influx.target, ep.influx.token) == \
        ("v2", "factory", "scoped-token-for-tests")


def test_scale_shards_parse_and_cover_the_plant() -> None:
    shards, users = [], []
    for name in services("docker-compose.scale.yml"):
        if name.startswith("sim-shard-"):
            cmd, env = service(name, "docker-compose.scale.yml")
            ns = sim_parser().parse_args(sim_args(cmd))
            shards.append(ns.shard)
            ep = resolve(ns, env=env).mqtt
            assert ep.client_id == ep.username
            users.append(ep.username)
    assert sorted(shards) == ["0/3", "1/3", "2/3"]
    assert len(set(users)) == 3  # a broker session each


def test_fault_tool_parses_as_operator(tmp_path: Path) -> None:
    cmd, env = service("fault")
    ns = sim_parser().parse_args([*sim_args(cmd)[:-1], "laser-01"])
    assert ns.command == "fault" and ns.machine == "laser-01"
    assert ns.plant == "/plant/plant.yaml"
    assert resolve(ns, env=env).mqtt.username == "operator"


@pytest.mark.parametrize("file", ["docker-compose.yml", "docker-compose.scale.yml"])
def test_the_plant_service_writes_the_acl_for_every_broker_user(file: str,
                                                                tmp_path: Path) -> None:
    """The plant one-shot's real command, run here with the demo plant: its ACL and user
    list name every user the MQTT clients of this compose file log in as."""
    import subprocess
    import sys

    base = services("docker-compose.yml")["plant"]
    env = {**base.get("environment", {}), **services(file).get("plant", {}).get(
        "environment", {})}
    cmd = [expand(str(a)) for a in base["command"]]
    assert cmd[:3] == ["python", "-m", "stack.acl"]
    cmd = [sys.executable, *cmd[1:]]
    cmd[cmd.index("--plant") + 1] = str(ROOT / "simulator/data/plant.yaml")
    cmd[cmd.index("--out") + 1] = str(tmp_path)
    res = subprocess.run(cmd, env={"PATH": "/usr/bin:/bin", **{k: str(v) for k, v in env.items()}},
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    listed = {ln.split()[1]: ln.split()[0] for ln in (tmp_path / "users").read_text().splitlines()}
    acl_users = re.findall(r"^user (\S+)$", (tmp_path / "acl").read_text(), re.M)
    assert sorted(acl_users) == sorted(listed)
    merged = {**services("docker-compose.yml"), **services(file)}
    for name, svc in merged.items():
        url = str((svc.get("environment") or {}).get("FACTORY_MQTT_URL", ""))
        if not url or (svc.get("profiles") == ["single"] and file != "docker-compose.yml"):
            continue
        user = re.match(r"mqtt://([^:]+):", url).group(1)  # type: ignore[union-attr]
        assert user in listed, f"{file}:{name} logs in as {user}, not a broker user"
