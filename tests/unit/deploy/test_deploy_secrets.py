"""No token, password or private key is committed.

Scans every file `git ls-files` lists. A file under a `fixtures/` directory, or a line
carrying the marker ``test-fixture: not a secret``, is a clearly marked test fixture and
is exempt. The scanner itself is tested on samples so this test can fail.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MARKER = "test-fixture: not a secret"

#: (name, pattern) of things that must never be committed.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
    ("InfluxDB token", re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{86}==")),
    ("Mosquitto password hash", re.compile(r":\$[67]\$\d+\$[A-Za-z0-9+/=]{8,}")),
    ("Grafana API key / service account token",
     re.compile(r"\b(?:glsa_[A-Za-z0-9]{32}_[0-9a-f]{8}|eyJrIjoi[A-Za-z0-9=]{20,})")),
    ("AWS access key", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b")),
    # KEY=value / KEY: value where KEY names a secret and the value is a literal: a
    # reference (${VAR}, $VAR, <placeholder>) or an empty value is fine.
    ("secret assignment", re.compile(
        r"""(?x)\b[A-Z0-9_]*(?:PASSWORD|PASSWD|TOKEN|SECRET(?:_KEY)?)\b(?!_FILE)\s*[=:]\s*
        ["']?(?![$<{]|\s|$|["'])([^\s"'#]{6,})""")),
    # password: / token: / "secret": keys in YAML, JSON, INI, Python (any case).
    ("secret key", re.compile(
        r"""(?xi)(?<![\w-])["']?(?:password|passwd|token|secret|secret_key|api_key)["']?
        \s*[:=]\s*["'](?![$<{%])([^\s"']{6,})["']|(?<![\w-])(?:password|passwd|token|secret|
        secret_key|api_key):[ \t]+(?![$<{%"'])([^\s"'#,}]{6,})\s*(?:\#.*)?$""")),
    # scheme://user:password@host with a literal password.
    ("URL credentials", re.compile(
        r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@\"'`]+:(?![$<{%*])([^@\s/\"'`]{3,})@")),
    # An Authorization header value: Token <literal> / Bearer <literal>.
    ("Authorization token", re.compile(
        r"(?<![\w-])(?:Token|Bearer)[ \t]+(?![$<{%])([A-Za-z0-9_\-.~+/]{12,}=*)")),
)
#: What a documented example puts where a secret goes: PASSWORD, MQTT_PASSWORD, pass,
#: secret, ***, xxx, <...>: not a secret.
PLACEHOLDER = re.compile(r"(?i)[A-Z_]+|pass(?:word)?|secret|x{3,}|\*+|\.\.\.|changeme|"
                         r"[a-z-]+[-_](?:token|password|secret)(?:[-_]here)?")
#: In test code a value that says what it is (``"glsa_test_token"``) is a fixture.
OBVIOUS_FIXTURE = re.compile(r"(?i)test|example|dummy|fake|fixture")
#: Files whose whole purpose is to hold secrets.
FORBIDDEN_NAMES = re.compile(r"(^|/)(\.env|passwd|.*\.(key|pem|p12|pfx)|id_(rsa|ed25519))$")


def is_fixture(path: str) -> bool:
    return "/fixtures/" in f"/{path}"


def scan_text(path: str, text: str) -> list[str]:
    """Findings ``path:line: what`` in one file's text."""
    found = []
    for no, line in enumerate(text.splitlines(), 1):
        if MARKER in line:
            continue
        for what, pattern in PATTERNS:
            m = pattern.search(line)
            if m is None:
                continue
            value = next((g for g in m.groups() if g), "")
            if value and what in ("URL credentials", "secret key", "Authorization token") \
                    and PLACEHOLDER.fullmatch(value) and not value.isdigit():
                continue
            if (value and path.startswith("tests/") and OBVIOUS_FIXTURE.search(value)):
                continue
            found.append(f"{path}:{no}: {what}")
    return found


def scan_repo() -> list[str]:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    findings = []
    for rel in filter(None, files):
        if is_fixture(rel):
            continue
        if FORBIDDEN_NAMES.search(rel) and rel != ".env.example":
            findings.append(f"{rel}: a secrets file is committed")
            continue
        path = ROOT / rel
        try:
            raw = path.read_bytes()
        except OSError:  # deleted in the working tree
            continue
        if b"\0" in raw[:8192]:
            continue  # binary
        findings += scan_text(rel, raw.decode("utf-8", "replace"))
    return findings


def test_no_secret_is_committed() -> None:
    assert scan_repo() == []


@pytest.mark.parametrize("line", [
    "-----BEGIN EC PRIVATE KEY-----",  # test-fixture: not a secret
    "-----BEGIN PRIVATE KEY-----",  # test-fixture: not a secret
    "token = " + "A" * 86 + "==",  # test-fixture: not a secret
    "simulator:$7$101$abcdefghABCDEFGH$abcdefghijklmnop",  # test-fixture: not a secret
    "GF_SECURITY_ADMIN_PASSWORD=hunter2hunter2",  # test-fixture: not a secret
    "MQTT_SIMULATOR_PASSWORD: s3cr3tvalue",  # test-fixture: not a secret
    'INFLUX_TOKEN="q9w8e7r6t5y4"',  # test-fixture: not a secret
    "GRAFANA_SECRET_KEY=SW2YcwTIb9zpOOhoPsMm",  # test-fixture: not a secret
    # URL credentials, any scheme
    "--mqtt-url mqtt://collector:Xk29fjQpa81Lw@broker:1883",  # test-fixture: not a secret
    "url: http://admin:s3cretPw@influx:8086",  # test-fixture: not a secret
    "postgres://app:hunter2x@db/app",  # test-fixture: not a secret
    # lowercase keys
    "password: Xk29fjQpa81Lw",  # test-fixture: not a secret
    '  token: "q9w8e7r6t5y4u3"',  # test-fixture: not a secret
    '{"password": "Xk29fjQpa81Lw"}',  # test-fixture: not a secret
    "secret_key = 'Zz81kfmq0Pwe'",  # test-fixture: not a secret
    # Token / Bearer literals
    "Authorization: Token q9w8e7r6t5y4u3i2o1p0",  # test-fixture: not a secret
    'headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9abc"}',  # test-fixture: not a secret
    "curl -H 'Authorization: Token ZmFjdG9yeS10b2tlbi0xMjM0NTY3OA=='",  # test-fixture: not a secret
])
def test_scanner_finds_secrets(line: str) -> None:
    assert scan_text("sample", line), line


@pytest.mark.parametrize("line", [
    "MQTT_SIMULATOR_PASSWORD=",
    "GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD:?run scripts/init-env}",
    "FACTORY_INFLUX_TOKEN_FILE: /run/factory/influx-write.token",
    'password = "$MQTT_PASSWORD"',
    "INFLUX_ADMIN_PASSWORD=<generated>",
    "TOKEN=short",
    "MQTT_HEALTH_PASSWORD=topsecretvalue  # test-fixture: not a secret",
    "--mqtt-url mqtts://simulator:PASSWORD@my-host.example.com:8883",
    "mqtt://user:pass@host:1883",
    'f"mqtt://collector:{col_pw}@127.0.0.1:{port}"',
    "mqtt://simulator:${MQTT_SIMULATOR_PASSWORD:?run scripts/init-env}@mosquitto:1883",
    "http://collector:***@influx:8086",
    "password: ${GRAFANA_ADMIN_PASSWORD}",
    "token: <your read token>",
    "    password: str | None = None",
    '"Authorization": f"Token {ep.token}"',
    "Authorization: Token ${INFLUX_READ_TOKEN}",
    "Authorization: Token $TOKEN",
    "the Token header",
])
def test_scanner_ignores_references_placeholders_and_marked_fixtures(line: str) -> None:
    assert scan_text("sample", line) == [], line


def test_self_describing_fixture_values_pass_only_in_tests() -> None:
    line = 'TOKEN = "glsa_test_token"'
    assert scan_text("tests/integration/test_x.py", line) == []
    assert scan_text("dashboards/push.py", line) != []


@pytest.mark.parametrize("name,forbidden", [
    (".env", True), ("deploy/certs/server.key", True), ("deploy/mosquitto/passwd", True),
    ("a/b/ca.pem", True), (".env.example", False), ("deploy/mosquitto/acl", False),
])
def test_secret_file_names(name: str, forbidden: bool) -> None:
    assert bool(FORBIDDEN_NAMES.search(name)) is forbidden


# -- generated secrets stay out of git and out of the broker -------------------------------
@pytest.mark.parametrize("path", ["deploy/certs/ca.key", "deploy/certs/server.key",
                                  "deploy/certs/ca.crt", "deploy/certs/ca.srl", ".env",
                                  "my/other.key"])
def test_generated_secrets_are_git_ignored(path: str) -> None:
    """`scripts/gen-certs` writes deploy/certs: `git add -A` used to stage ca.key."""
    res = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
    assert res.returncode == 0, f"{path} is not ignored"


def test_the_ca_key_is_mounted_nowhere() -> None:
    import yaml

    for file in ("docker-compose.yml", "docker-compose.scale.yml", "docker-compose.tls.yml"):
        for name, svc in yaml.safe_load((ROOT / file).read_text())["services"].items():
            for vol in svc.get("volumes") or []:
                source = vol.split(":")[0]
                assert "ca.key" not in source, f"{file}:{name}: {vol}"
                assert not re.search(r"CERTS_DIR:-[^}]*\}$", source), \
                    f"{file}:{name} mounts the whole certificate directory: {vol}"
    entry = (ROOT / "deploy/mosquitto/entrypoint.sh").read_text()
    assert "ca.key" not in entry
