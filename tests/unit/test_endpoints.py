from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from telemetry.endpoints import ConfigError, add_endpoint_args, load_yaml, resolve


def _ns(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_endpoint_args(p)
    return p.parse_args(list(argv))


def test_defaults_point_at_the_local_stack() -> None:
    ep = resolve(_ns(), env={})
    assert (ep.mqtt.host, ep.mqtt.port, ep.mqtt.tls) == ("127.0.0.1", 1883, False)
    assert ep.influx.url == "http://127.0.0.1:8086" and ep.influx.db == "factory"
    assert ep.mqtt.protocol == "5" and ep.influx.api == "v1"


def test_flag_beats_env_beats_yaml() -> None:
    config = {"mqtt": {"url": "mqtt://yaml:1"}, "influx": {"db": "fromyaml"}}
    url = "mqtts://u:p%40ss@env.example:8883"  # test-fixture: not a secret
    env = {"FACTORY_MQTT_URL": url, "FACTORY_INFLUX_DB": "envdb"}
    ep = resolve(_ns(), config=config, env=env)
    assert (ep.mqtt.host, ep.mqtt.tls, ep.mqtt.username, ep.mqtt.password) == (
        "env.example", True, "u", "p@ss")
    assert ep.influx.db == "envdb"
    ep = resolve(_ns("--influx-db", "flagdb"), config=config, env=env)
    assert ep.influx.db == "flagdb"
    assert resolve(_ns(), config=config, env={}).influx.db == "fromyaml"


def test_secret_from_file(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text("s3cret\n")
    env = {"FACTORY_INFLUX_TOKEN_FILE": str(tmp_path / "tok")}
    ep = resolve(_ns("--influx-api", "v2"), env=env)
    assert ep.influx.token == "s3cret"
    assert "s3cret" not in repr(ep.mqtt.display()) and "s3cret" not in ep.influx.display()


@pytest.mark.parametrize(("env", "message"), [
    ({"FACTORY_MQTT_URL": "http://x"}, "scheme must be mqtt"),
    ({"FACTORY_MQTT_URL": "mqtt://x:notaport"}, "mqtt url"),
    ({"FACTORY_INFLUX_URL": "ftp://x"}, "influx url"),
    ({"FACTORY_INFLUX_API": "v3"}, "allowed v1, v2"),
    ({"FACTORY_INFLUX_API": "v2"}, "needs a token"),
])
def test_bad_settings_give_one_line_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        resolve(_ns(), env=env)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unknown_yaml_key_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key mqtt\.urll"):
        resolve(_ns(), config={"mqtt": {"urll": "x"}}, env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("mqtt: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(bad)
    with pytest.raises(ConfigError, match="no such config file"):
        load_yaml(tmp_path / "missing.yaml")
