"""Static checks of the Docker deployment (no Docker engine runs here).

docker-compose.yml, docker-compose.scale.yml, docker-compose.tls.yml, the Dockerfile,
.dockerignore, .env.example and the Mosquitto/InfluxDB/Grafana files under deploy/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from telemetry import topics
from telemetry.contract import DEFAULT_ENTERPRISE, KINDS

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.scale.yml", "docker-compose.tls.yml")
LONG_RUNNING = {"mosquitto", "influxdb", "grafana", "simulator", "collector"}
ONE_SHOT = {"plant", "influxdb-init", "backfill", "fault", "playlists"}
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET")


def load(name: str = "docker-compose.yml") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return data


def services(name: str = "docker-compose.yml") -> dict[str, dict[str, Any]]:
    svcs: dict[str, dict[str, Any]] = load(name)["services"]
    return svcs


def env_example() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def env_of(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    assert isinstance(env, dict), "use the mapping form of environment"
    return {str(k): str(v) for k, v in env.items()}


# -- services, health, restarts, volumes ------------------------------------------------
def test_the_stack_has_every_service() -> None:
    assert set(services()) == LONG_RUNNING | ONE_SHOT


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_long_running_services_have_healthcheck_and_restart_policy(name: str) -> None:
    svc = services()[name]
    check = svc.get("healthcheck")
    assert check and check.get("test"), f"{name} has no healthcheck"
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    for key in ("interval", "timeout", "retries"):
        assert key in check, f"{name} healthcheck lacks {key}"
    assert svc.get("restart") in ("unless-stopped", "always", "on-failure")


def test_one_shot_services_do_not_restart() -> None:
    for name in ONE_SHOT:
        assert services()[name]["restart"] == "no"
    assert services()["fault"]["profiles"] == ["tools"]  # only on demand


def test_dependencies_wait_for_health_or_completion() -> None:
    for file in COMPOSE_FILES:
        for name, svc in services(file).items():
            deps = svc.get("depends_on") or {}
            assert isinstance(deps, dict), f"{file}:{name}: depends_on needs conditions"
            for dep, spec in deps.items():
                want = ("service_completed_successfully" if dep in ONE_SHOT
                        else "service_healthy")
                assert spec.get("condition") == want, f"{file}:{name} -> {dep}"
    deps = services()
    assert set(deps["mosquitto"]["depends_on"]) == {"plant"}  # its ACL comes from the plant
    assert set(deps["simulator"]["depends_on"]) == {"mosquitto", "backfill"}
    assert set(deps["influxdb-init"]["depends_on"]) == {"influxdb"}
    # Everything that uses a token waits for the init that (re)creates it, every start.
    assert set(deps["collector"]["depends_on"]) == {"mosquitto", "influxdb-init"}
    assert set(deps["backfill"]["depends_on"]) == {"influxdb-init"}
    assert set(deps["grafana"]["depends_on"]) == {"influxdb-init"}


def test_data_lives_in_named_volumes() -> None:
    declared = set(load()["volumes"])
    wanted = {"mosquitto": "/mosquitto/data", "influxdb": "/var/lib/influxdb2",
              "grafana": "/var/lib/grafana", "collector": "/data",
              "influxdb-init": "/tokens/writer"}
    for file in COMPOSE_FILES:
        doc = load(file)
        declared_here = declared | set(doc.get("volumes") or {})
        for name, svc in doc["services"].items():
            for vol in svc.get("volumes") or []:
                source = vol.split(":", 1)[0]
                if not source.startswith((".", "/", "$")):
                    assert source in declared_here, f"{file}:{name}: volume {source} undeclared"
    for name, target in wanted.items():
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services()[name]["volumes"]}
        assert target in mounts and not mounts[target].startswith((".", "/")), \
            f"{name}: {target} is not on a named volume"


def test_images_are_pinned() -> None:
    built = {s["image"] for s in services().values() if "build" in s}
    for name, svc in services().items():
        image = svc["image"]
        if image in built:
            continue
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image} unpinned"
        assert re.search(r":\d+\.\d+\.\d+", image), f"{name}: pin a full version, not {image}"
    assert services()["mosquitto"]["image"].startswith("eclipse-mosquitto:2.")
    assert services()["influxdb"]["image"].startswith("influxdb:2.7.")
    assert services()["grafana"]["image"].startswith("grafana/grafana-oss:")


def test_one_build_per_image_tag() -> None:
    """Several services building one tag at once fail with the containerd image store
    (`image ... already exists`): exactly one service builds each tag, the others use it
    and never try to pull it."""
    merged: dict[str, dict[str, Any]] = {}
    for file in COMPOSE_FILES:
        for name, svc in services(file).items():
            merged[name] = {**merged.get(name, {}), **svc}
    by_tag: dict[str, list[str]] = {}
    for name, svc in merged.items():
        if "build" in svc:
            by_tag.setdefault(svc["image"], []).append(name)
    assert by_tag == {"${FACTORY_IMAGE:-factory-telemetry:local}": ["plant"]}
    tag = next(iter(by_tag))
    users = {n for n, s in merged.items() if s.get("image") == tag}
    assert {"plant", "influxdb-init", "backfill", "simulator", "collector", "fault",
            "collector-2", "sim-shard-1"} <= users
    for name in users:
        assert merged[name].get("pull_policy") == "never", f"{name} would try to pull {tag}"
    svcs = services()
    assert svcs["plant"]["build"]["dockerfile"] == "Dockerfile"
    assert svcs["simulator"]["command"][:2] == ["factory-sim", "run"]
    assert svcs["collector"]["command"][:2] == ["factory-collector", "run"]
    assert svcs["backfill"]["command"][:3] == ["python", "-m", "stack.backfill"]
    assert svcs["influxdb-init"]["command"] == ["python", "-m", "stack.influx_init"]


def test_backfill_fills_the_gap_on_every_start_then_the_simulator_runs_in_real_time() -> None:
    """No "done once" marker (later starts used to skip the backfill and leave a gap):
    `stack.backfill` plans from the newest stored point on every start."""
    svcs = services()
    cmd = svcs["backfill"]["command"]
    assert cmd[cmd.index("--days") + 1] == "${BACKFILL_DAYS:-1}"
    assert "backfill.done" not in yaml.safe_dump(svcs["backfill"])
    assert env_example()["BACKFILL_DAYS"] == "1"  # at most the last 24 h
    cmd = svcs["simulator"]["command"]
    assert cmd[cmd.index("--speed") + 1] == "${SIM_SPEED:-1}"


# -- environment variables ----------------------------------------------------------------
VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def test_every_variable_has_a_default_or_is_documented() -> None:
    documented = env_example()
    for file in COMPOSE_FILES:
        text = (ROOT / file).read_text()
        for m in VAR.finditer(text):
            name, op = m.group(1), m.group(2)
            has_default = op in (":-", "-")
            assert has_default or name in documented, \
                f"{file}: ${{{name}}} has no default and is not in .env.example"
            if has_default and name in documented and documented[name]:
                assert m.group(3) == documented[name], \
                    f"{file}: default of {name} differs from .env.example"
    # ... and .env.example documents nothing that is not used.
    used = {m.group(1) for f in COMPOSE_FILES for m in VAR.finditer((ROOT / f).read_text())}
    assert set(documented) - {"COMPOSE_PROJECT_NAME"} <= used


def test_secrets_have_no_default_anywhere() -> None:
    documented = env_example()
    for name, value in documented.items():
        if any(w in name for w in SECRET_WORDS):
            assert value == "", f".env.example must leave {name} empty"
    for file in COMPOSE_FILES:
        for m in VAR.finditer((ROOT / file).read_text()):
            if any(w in m.group(1) for w in SECRET_WORDS):
                assert m.group(2) == ":?", f"{file}: ${{{m.group(1)}}} must be required (:?)"


def test_no_literal_secret_in_service_environment() -> None:
    for file in COMPOSE_FILES:
        for name, svc in services(file).items():
            for key, value in env_of(svc).items() if isinstance(
                    svc.get("environment"), dict) else ():
                if any(w in key for w in SECRET_WORDS) and not key.endswith("_FILE"):
                    assert value.startswith("${") and value.endswith("}"), \
                        f"{file}:{name}: {key} must come from .env"


# -- least privilege -------------------------------------------------------------------------
def test_admin_credentials_only_in_the_influxdb_init() -> None:
    for file in COMPOSE_FILES:
        for name, svc in services(file).items():
            if name != "influxdb-init":
                text = yaml.safe_dump(svc)
                assert "INFLUX_ADMIN" not in text and "DOCKER_INFLUXDB_INIT" not in text, name
    env = env_of(services()["influxdb-init"])
    assert env["INFLUX_ADMIN_TOKEN"].startswith("${INFLUX_ADMIN_TOKEN:?")
    assert env["INFLUX_ADMIN_PASSWORD"].startswith("${INFLUX_ADMIN_PASSWORD:?")


def test_tokens_reach_only_the_services_that_need_them() -> None:
    svcs = services()

    def mounts(name: str) -> set[str]:
        return {v.split(":")[0] for v in svcs[name].get("volumes") or []}

    for name in ("collector", "backfill"):
        env = env_of(svcs[name])
        assert env["FACTORY_INFLUX_API"] == "v2"
        assert env["FACTORY_INFLUX_TOKEN_FILE"] == "/run/factory/influx-write.token"
        assert "influx-writer-token" in mounts(name)
    assert "influx-reader-token" not in mounts("collector")
    # The backfill reads the newest point before it writes (the gap), with the read token.
    assert env_of(svcs["backfill"])["FACTORY_INFLUX_READ_TOKEN_FILE"] == \
        "/run/factory-read/influx-read.token"
    for name in ("collector", "backfill", "grafana"):
        assert all(v.endswith(":ro") for v in svcs[name]["volumes"]
                   if v.startswith("influx-"))
    assert "influx-reader-token" in mounts("grafana")
    assert "influx-writer-token" not in mounts("grafana")
    for name in ("simulator", "fault", "mosquitto", "influxdb", "plant"):
        assert not mounts(name) & {"influx-writer-token", "influx-reader-token"}
    # Only the init writes them (and holds the admin token to make them).
    init = svcs["influxdb-init"]
    assert mounts("influxdb-init") == {"influx-writer-token", "influx-reader-token"}
    env = env_of(init)
    assert Path(env["FACTORY_WRITER_TOKEN_FILE"]).parent.as_posix() in \
        {v.split(":")[1] for v in init["volumes"] if v.startswith("influx-writer-token")}


def test_each_mqtt_client_logs_in_as_its_own_role() -> None:
    svcs = services()
    roles = {"simulator": "simulator", "collector": "collector", "fault": "operator"}
    for name, user in roles.items():
        url = env_of(svcs[name])["FACTORY_MQTT_URL"]
        assert url.startswith(f"mqtt://{user}:${{MQTT_{user.upper()}_PASSWORD:?")


def test_collector_has_a_fixed_client_id_and_spool_volume() -> None:
    env = env_of(services()["collector"])
    assert env["FACTORY_COLLECTOR_CLIENT_ID"]  # a container id would lose the session
    assert "--spool-dir" in services()["collector"]["command"]


def test_only_grafana_is_published_beyond_localhost() -> None:
    for name, svc in services().items():
        for port in svc.get("ports") or []:
            if name == "grafana":
                continue
            if name == "simulator":  # the presenter page: loopback unless DIRECTOR_BIND says
                assert port.startswith("${DIRECTOR_BIND:-127.0.0.1}:"), port
                continue
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on all interfaces"
    assert "ports" not in services()["collector"]  # metrics stay inside the container


def test_grafana_is_locked_down() -> None:
    env = env_of(services()["grafana"])
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert env["GF_SECURITY_SECRET_KEY"].startswith("${GRAFANA_SECRET_KEY:?")
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"].endswith(".json")
    vols = services()["grafana"]["volumes"]
    provisioned = {v.split(":")[1]: v.split(":")[0] for v in vols if v.endswith(":ro")}
    assert provisioned["/etc/grafana/provisioning"] == "./dashboards/provisioning"
    assert provisioned["/var/lib/grafana/dashboards"] == "./dashboards/json"
    for rel in [r for r in provisioned.values() if r.startswith("./")]:
        assert (ROOT / rel).exists(), rel
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"].replace("${GRAFANA_LANG:-en}", "en")
    assert (ROOT / "dashboards/json" / home.split("/dashboards/", 1)[1]).exists()
    # the datasource provisioning gets every variable it expands
    text = (ROOT / "dashboards/provisioning/datasources/influxdb.yaml").read_text()
    assert "Token ${INFLUX_READ_TOKEN}" in text
    body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    wanted = set(re.findall(r"\$\{(\w+)\}", body))
    assert wanted <= set(env) | {"INFLUX_READ_TOKEN"}
    assert "INFLUX_READ_TOKEN" in (ROOT / "deploy/grafana/factory-run.sh").read_text()


# -- Dockerfile and build context -----------------------------------------------------------
def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
    assert len(froms) >= 2
    assert "slim" in re.search(r"ARG PYTHON_IMAGE=(\S+)", text).group(1)  # type: ignore[union-attr]
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert text.rfind("USER") > text.rfind("FROM")  # the last stage runs unprivileged
    assert not re.search(r"^(ENV|ARG)\s+\S*(PASSWORD|TOKEN|SECRET)", text, re.M)
    assert "COPY --from=build" in text


def test_dockerignore_keeps_secrets_and_junk_out_of_the_image() -> None:
    lines = set((ROOT / ".dockerignore").read_text().split())
    for must in (".env", ".git", ".venv", ".run", "deploy/certs"):
        assert must in lines


# -- scale and TLS overrides ---------------------------------------------------------------
def test_scale_example_splits_the_plant_and_shares_one_subscription() -> None:
    scale = services("docker-compose.scale.yml")
    assert scale["simulator"]["profiles"] == ["single"]  # replaced by the shards
    shards = sorted(s["command"][s["command"].index("--shard") + 1]
                    for n, s in scale.items() if n.startswith("sim-shard-"))
    n = len(shards)
    assert n >= 2 and shards == [f"{i}/{n}" for i in range(n)]  # 0-based shard index
    collectors = {"collector": services()["collector"],
                  **{k: v for k, v in scale.items() if k.startswith("collector-")}}
    assert len(collectors) >= 2
    groups = {env_of(c)["FACTORY_COLLECTOR_SHARE_GROUP"] for c in collectors.values()}
    assert groups == {"collectors"}
    ids = [env_of(c)["FACTORY_COLLECTOR_CLIENT_ID"] for c in collectors.values()]
    assert len(set(ids)) == len(ids)
    spools = [v.split(":")[0] for c in collectors.values() for v in c["volumes"]
              if v.split(":")[1] == "/data"]
    assert len(set(spools)) == len(spools) == len(collectors)
    for name, svc in scale.items():
        if name not in ("simulator", "plant"):  # overrides of docker-compose.yml services
            assert "healthcheck" in svc and svc["restart"] == "unless-stopped", name


def test_tls_override_adds_the_tls_listener() -> None:
    mq = services("docker-compose.tls.yml")["mosquitto"]
    assert any(v.startswith("./deploy/mosquitto/tls.conf:/mosquitto/conf.d/") for v in
               mq["volumes"])
    assert "listener 8883" in (ROOT / "deploy/mosquitto/tls.conf").read_text()


# -- Mosquitto configuration and ACL ----------------------------------------------------------
def conf_lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text().splitlines()
            if ln.strip() and not ln.strip().startswith("#")]


def test_mosquitto_config_requires_authentication_and_persists() -> None:
    lines = conf_lines(ROOT / "deploy/mosquitto/mosquitto.conf")
    assert "allow_anonymous false" in lines
    assert "per_listener_settings false" in lines
    assert any(ln.startswith("password_file ") for ln in lines)
    assert any(ln.startswith("acl_file ") for ln in lines)
    assert "persistence true" in lines
    for path in (ROOT / "deploy").rglob("*.conf"):
        assert "allow_anonymous true" not in conf_lines(path), path


def parse_acl(text: str) -> dict[str, list[tuple[str, str]]]:
    rules: dict[str, list[tuple[str, str]]] = {}
    user = ""
    for ln in [ln.strip() for ln in text.splitlines()]:
        if not ln or ln.startswith("#"):
            continue
        parts = ln.split()
        if parts[0] == "user":
            user = parts[1]
            rules[user] = []
        elif parts[0] == "topic":
            assert user, "no global topic rules: every grant belongs to a user"
            access, topic = (parts[1], parts[2]) if len(parts) == 3 else ("readwrite",
                                                                         parts[1])
            rules[user].append((access, topic))
        else:
            pytest.fail(f"unexpected ACL line {ln!r} (no patterns: grants are per user)")
    return rules


def expected_simulator_topics(e: str) -> set[str]:
    out = set()
    for kind in KINDS.values():
        if kind.scope == "machine":
            out.add(topics.machine_topic(e, "+", "+", "+", "+", kind.name))
        elif kind.scope == "area":
            out.add(topics.area_topic(e, "+", "+", kind.name))
        else:
            out.add(topics.site_topic(e, "+", kind.name))
    return out


ROLE_USERS = {"simulator": ["simulator", "simulator-2"], "collector": ["collector"],
              "operator": ["operator"], "health": ["health"]}


@pytest.mark.parametrize("e", [DEFAULT_ENTERPRISE, "acme"])
def test_acl_matches_the_contract_topics_under_the_plants_enterprise(e: str) -> None:
    from stack.acl import render_acl

    acl = parse_acl(render_acl(e, ROLE_USERS))
    assert set(acl) == {"simulator", "simulator-2", "collector", "operator", "health"}
    control = topics.control_topic(e, "+", "+")
    status = topics.control_topic(e, "+", "status/+")  # the simulator's retained status
    for user in ("simulator", "simulator-2"):
        assert {t for a, t in acl[user] if a == "write"} == \
            expected_simulator_topics(e) | {status}
        assert {t for a, t in acl[user] if a == "read"} == {control}
    assert acl["collector"] == [("read", topics.subscription(e))]
    assert acl["operator"] == [("write", control)]
    assert acl["health"] == [("read", "$SYS/broker/uptime")]
    for user, grants in acl.items():
        assert all(a != "readwrite" for a, _ in grants), f"{user}: readwrite is too wide"
        assert all(t.split("/")[0] in (e, "$SYS") for _, t in grants), \
            f"{user}: a grant outside the {e} prefix"
    other = "hearth" if e != "hearth" else "acme"
    assert other not in render_acl(e, ROLE_USERS)  # no hard-coded prefix


def test_acl_users_are_checked() -> None:
    from stack.acl import AclError, render_acl, users_from_env

    assert users_from_env({}) == {r: [r] for r in ("simulator", "collector", "operator",
                                                  "health")}
    assert users_from_env({"MQTT_COLLECTOR_USERS": "collector collector-2"})["collector"] \
        == ["collector", "collector-2"]
    with pytest.raises(AclError, match="already a simulator user"):
        users_from_env({"MQTT_COLLECTOR_USERS": "simulator"})
    with pytest.raises(AclError, match="invalid"):
        users_from_env({"MQTT_OPERATOR_USERS": "Operator!"})
    with pytest.raises(AclError, match="enterprise id"):
        render_acl("hearth\n", ROLE_USERS)


def test_every_contract_topic_is_writable_by_the_simulator() -> None:
    """Each concrete topic the contract builds matches exactly one simulator grant."""
    from stack.acl import render_acl

    e, s = DEFAULT_ENTERPRISE, "shengzhou"
    grants = [t for a, t in parse_acl(render_acl(e, ROLE_USERS))["simulator"] if a == "write"]

    def matches(pattern: str, topic: str) -> bool:
        p, t = pattern.split("/"), topic.split("/")
        return len(p) == len(t) and all(a in ("+", b) for a, b in zip(p, t, strict=True))

    for kind in KINDS.values():
        if kind.scope == "machine":
            topic = topics.machine_topic(e, s, "hardware", "cutting", "laser-01", kind.name)
        elif kind.scope == "area":
            topic = topics.area_topic(e, s, "coating", kind.name)
        else:
            topic = topics.site_topic(e, s, kind.name)
        topics.parse(topic)  # it is a contract topic
        assert sum(matches(g, topic) for g in grants) == 1, topic
    assert not any(matches(g, topics.control_topic(e, s, "fault")) for g in grants)
    status = topics.control_topic(e, s, "status/factory-sim-hearth-0of1")
    assert sum(matches(g, status) for g in grants) == 1


def test_every_listener_ties_the_client_id_to_the_user() -> None:
    """use_username_as_clientid is a listener setting in Mosquitto 2.0: each listener of
    every shipped config must say it after its `listener` line."""
    for path in sorted((ROOT / "deploy/mosquitto").glob("*.conf")):
        lines = conf_lines(path)
        starts = [i for i, ln in enumerate(lines) if ln.startswith("listener ")]
        for n, i in enumerate(starts):
            block = lines[i:starts[n + 1] if n + 1 < len(starts) else len(lines)]
            assert "use_username_as_clientid true" in block, f"{path.name}: {lines[i]}"
    assert not (ROOT / "deploy/mosquitto/acl").exists()  # generated for the plant now


def conf_int(key: str) -> int:
    m = re.search(rf"^{key}\s+(\d+)\s*$", (ROOT / "deploy/mosquitto/mosquitto.conf").read_text(),
                  re.M)
    assert m, key
    return int(m.group(1))


def test_max_packet_size_fits_the_collectors_largest_payload() -> None:
    from collector.mapping import DEFAULT_MAX_PAYLOAD_BYTES

    # fixed header 5 + topic (6 levels of up to 64 characters) + properties
    room = 5 + 2 + 6 * 65 + 256
    size = conf_int("max_packet_size")
    assert DEFAULT_MAX_PAYLOAD_BYTES + room <= size <= 2 * DEFAULT_MAX_PAYLOAD_BYTES
    import tempfile

    from stack.services import MAX_PACKET_SIZE, Mosquitto

    assert size == MAX_PACKET_SIZE  # the native stack's broker has the same limit
    native = Mosquitto(run_dir=Path(tempfile.mkdtemp()), port=1,
                       max_packet_size=MAX_PACKET_SIZE)
    native.prepare()
    conf = native.conf_path.read_text()
    assert f"max_packet_size {size}" in conf
    assert f"max_queued_bytes {conf_int('max_queued_bytes')}" in conf


#: docs/reliability.md ("Broker limits"): the outage the broker's queue is sized for.
OUTAGE_H = 24
PLANT_FACTOR = 4


def test_queue_bounds_fit_the_documented_outage() -> None:
    """The QoS 1 messages a plant 4x the demo plant publishes in a 24 h collector outage
    (measured here from one simulated hour) fit both queue bounds; docs say the same."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "simulator", "run", "--sink", "stdout",
                          "--speed", "max", "--duration", "1h", "--seed", "7",
                          "--log-level", "WARNING"], capture_output=True, text=True,
                         timeout=120, check=True, cwd=ROOT).stdout
    from simulator.publish import DEFAULT_QOS

    n = size = 0
    for line in out.splitlines():
        m = json.loads(line)
        if DEFAULT_QOS[m["topic"].rsplit("/", 1)[1]] >= 1:
            n += 1
            size += len(json.dumps(m["payload"], separators=(",", ":"),
                                   ensure_ascii=False).encode())
    need_msgs, need_bytes = n * OUTAGE_H * PLANT_FACTOR, size * OUTAGE_H * PLANT_FACTOR
    assert need_msgs <= conf_int("max_queued_messages") <= 2 * need_msgs
    assert need_bytes <= conf_int("max_queued_bytes") <= 2 * need_bytes
    doc = (ROOT / "docs/reliability.md").read_text()
    assert f"max_queued_bytes {conf_int('max_queued_bytes')}" in doc
    assert f"{OUTAGE_H} h collector outage" in doc


def test_mosquitto_password_file_is_generated_not_committed() -> None:
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    assert "password_file /mosquitto/run/passwd" in conf
    assert "acl_file /mosquitto/acl/acl" in conf
    vols = services()["mosquitto"]["volumes"]
    assert "mosquitto-acl:/mosquitto/acl:ro" in vols
    assert "mosquitto-acl:/acl" in services()["plant"]["volumes"]
    assert "/mosquitto/run:mode=0700" in services()["mosquitto"]["tmpfs"]
    assert not list((ROOT / "deploy").rglob("passwd"))


# -- InfluxDB init ---------------------------------------------------------------------------
def test_influxdb_needs_no_first_start_hook_and_is_healthy_when_it_answers() -> None:
    """A token check in InfluxDB's health check left it unhealthy for good once a token
    volume was lost; a first-start hook that failed once failed on every start."""
    influx = services()["influxdb"]
    assert not [v for v in influx["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert not [k for k in env_of(influx) if k.startswith("DOCKER_INFLUXDB_INIT")]
    check = " ".join(influx["healthcheck"]["test"])
    assert "influx ping" in check and "token" not in check
    assert not (ROOT / "deploy/influxdb").exists()


def test_collector_metrics_bind_to_loopback_by_default() -> None:
    from collector.config import OPTIONS

    bind = {o.key: o.default for o in OPTIONS}["metrics_bind"]
    assert bind == "127.0.0.1"
    assert "FACTORY_COLLECTOR_METRICS_BIND" not in env_of(services()["collector"])


def test_the_documented_kiosk_urls_exist() -> None:
    import json

    for lang, uid in (("en", "plant-overview"), ("zh", "plant-overview-zh")):
        board = json.loads((ROOT / f"dashboards/json/{lang}/plant-overview.json").read_text())
        assert board["uid"] == uid
        assert f"/d/{uid}?kiosk" in (ROOT / "docs/deployment.md").read_text()
    # The one place that says where the wall starts, per language, is deploy/grafana/kiosk.env
    kiosk = dict(re.findall(r"^KIOSK_PATH_(\w+)=(\S+)$",
                            (ROOT / "deploy/grafana/kiosk.env").read_text(), re.M))
    assert set(kiosk) == {"en", "zh"}
    for lang, path in kiosk.items():
        uid = re.fullmatch(r"/d/([\w-]+)\?kiosk", path)
        if uid:  # a dashboard: it exists in that language
            board = json.loads((ROOT / f"dashboards/json/{lang}/{uid.group(1).removesuffix('-zh')}"
                                ".json").read_text())
            assert board["uid"] == uid.group(1)
    assert "kiosk.env" in (ROOT / "scripts/demo").read_text()
