"""The compose `influxdb-init` one-shot (`python -m stack.influx_init`) heals on every start.

No InfluxDB 2.x runs on this machine (only 1.x, which has no set-up, bucket, DBRP or token
API), so these tests talk to a **stand-in**: a small in-process HTTP server below that
keeps the state InfluxDB 2.7 keeps for the calls the init makes (`/api/v2/setup`, `orgs`,
`buckets`, `dbrps`, `authorizations`), answers with the JSON shapes of InfluxDB's API
reference and refuses a wrong admin token. What they prove is the init's own logic: it
creates what is missing, keeps what is right, replaces a lost or unknown token, follows the
retention setting, and runs any number of times. The compose stack itself is checked on a
machine with Docker (docs/deployment.md, "Check a Docker machine").
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from stack import influx_init

ADMIN = "admin-token-for-the-stand-in-only"


class StandIn:
    """InfluxDB 2's management state for the calls the init makes (a stand-in)."""

    def __init__(self) -> None:
        self.set_up = False
        self.orgs: list[dict[str, Any]] = []
        self.buckets: list[dict[str, Any]] = []
        self.dbrps: list[dict[str, Any]] = []
        self.auths: list[dict[str, Any]] = []
        self.admin_token = ADMIN
        self.calls: list[str] = []

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(8)

    def bucket(self, name: str, org_id: str, seconds: int) -> dict[str, Any]:
        b = {"id": self.new_id(), "name": name, "orgID": org_id, "type": "user",
             "retentionRules": [{"type": "expire", "everySeconds": seconds}]}
        self.buckets.append(b)
        return b

    def handle(self, method: str, path: str, query: dict[str, str], body: Any,
               token: str) -> tuple[int, Any]:
        self.calls.append(f"{method} {path}")
        if path == "/api/v2/setup":
            if method == "GET":
                return 200, {"allowed": not self.set_up}
            if self.set_up:
                return 422, {"code": "conflict", "message": "onboarding has already been completed"}
            self.set_up = True
            self.admin_token = body["token"]
            org = {"id": self.new_id(), "name": body["org"]}
            self.orgs.append(org)
            self.bucket(body["bucket"], org["id"], body.get("retentionPeriodSeconds", 0))
            self.auths.append({"id": self.new_id(), "token": body["token"], "status": "active",
                               "orgID": org["id"], "description": "admin's Token",
                               "permissions": [{"action": "write",
                                                "resource": {"type": "orgs"}}]})
            return 201, {"org": org}
        if token != self.admin_token or not self.set_up:
            return 401, {"code": "unauthorized", "message": "unauthorized access"}
        if path == "/api/v2/orgs":
            return 200, {"orgs": [o for o in self.orgs if o["name"] == query.get("org")]}
        if path == "/api/v2/buckets":
            if method == "POST":
                return 201, self.bucket(body["name"], body["orgID"],
                                        body["retentionRules"][0]["everySeconds"])
            return 200, {"buckets": [b for b in self.buckets if b["name"] == query.get("name")]}
        if path.startswith("/api/v2/buckets/") and method == "PATCH":
            b = next(b for b in self.buckets if b["id"] == path.rsplit("/", 1)[1])
            b["retentionRules"] = [{"type": "expire", "everySeconds":
                                    body["retentionRules"][0]["everySeconds"]}]
            return 200, b
        if path == "/api/v2/dbrps":
            if method == "POST":
                d = {"id": self.new_id(), "orgID": body["orgID"], "bucketID": body["bucketID"],
                     "database": body["database"], "retention_policy": body["retention_policy"],
                     "default": bool(body.get("default")), "virtual": False}
                self.dbrps.append(d)
                return 201, d
            return 200, {"content": [d for d in self.dbrps
                                     if d["bucketID"] == query.get("bucketID")]}
        if path == "/api/v2/authorizations":
            if method == "POST":
                a = {"id": self.new_id(), "token": secrets.token_urlsafe(24),
                     "status": "active", "orgID": body["orgID"],
                     "description": body.get("description", ""),
                     "permissions": body["permissions"]}
                self.auths.append(a)
                return 201, a
            return 200, {"authorizations": [a for a in self.auths
                                            if a["orgID"] == query.get("orgID")]}
        if path.startswith("/api/v2/authorizations/") and method == "DELETE":
            self.auths = [a for a in self.auths if a["id"] != path.rsplit("/", 1)[1]]
            return 204, None
        return 404, {"code": "not found", "message": f"{method} {path}"}

    def tokens(self, action: str, bucket_id: str) -> list[dict[str, Any]]:
        return [a for a in self.auths if a["permissions"] == [
            {"action": action, "resource": {"type": "buckets", "id": bucket_id,
                                            "orgID": a["orgID"]}}]]


@pytest.fixture
def server() -> Iterator[tuple[StandIn, str]]:
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _do(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            token = (self.headers.get("Authorization") or "").removeprefix("Token ")
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            code, out = state.handle(self.command, url.path, query, body, token)
            data = b"" if out is None else json.dumps(out).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _do  # noqa: N815 (http.server's names)

        def log_message(self, *_: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield state, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def env(url: str, tmp: Path, **extra: str) -> dict[str, str]:
    (tmp / "writer").mkdir(exist_ok=True)
    (tmp / "reader").mkdir(exist_ok=True)
    return {"FACTORY_INFLUX_URL": url, "INFLUX_ADMIN_TOKEN": ADMIN,
            "INFLUX_ADMIN_PASSWORD": "admin-password-stand-in", "INFLUX_ORG": "factory",
            "INFLUX_BUCKET": "factory", "INFLUX_RETENTION": "30d",
            "FACTORY_WRITER_TOKEN_FILE": str(tmp / "writer" / "influx-write.token"),
            "FACTORY_READER_TOKEN_FILE": str(tmp / "reader" / "influx-read.token"), **extra}


def run(monkeypatch: pytest.MonkeyPatch, settings: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    code = influx_init.main([])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_fresh_server_gets_everything_and_a_second_run_changes_nothing(
        server: tuple[StandIn, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    state, url = server
    settings = env(url, tmp_path)
    code, out, err = run(monkeypatch, settings, capsys)
    assert code == 0, err
    assert state.set_up and len(state.buckets) == 1
    bucket = state.buckets[0]
    assert bucket["retentionRules"][0]["everySeconds"] == 30 * 86400
    assert [(d["database"], d["retention_policy"], d["default"]) for d in state.dbrps] == \
        [("factory", "autogen", True)]
    write = Path(settings["FACTORY_WRITER_TOKEN_FILE"]).read_text()
    read = Path(settings["FACTORY_READER_TOKEN_FILE"]).read_text()
    # Exactly one write-only and one read-only token for the bucket, in the files.
    assert [a["token"] for a in state.tokens("write", bucket["id"])] == [write]
    assert [a["token"] for a in state.tokens("read", bucket["id"])] == [read]
    assert ADMIN not in out and write not in out and read not in out
    before = (len(state.auths), len(state.buckets), len(state.dbrps))
    calls = len(state.calls)
    code, out, _ = run(monkeypatch, settings, capsys)
    assert code == 0
    assert (len(state.auths), len(state.buckets), len(state.dbrps)) == before
    assert not [c for c in state.calls[calls:] if not c.startswith("GET")]  # read-only run
    assert out.count("is valid, kept") == 2
    assert Path(settings["FACTORY_WRITER_TOKEN_FILE"]).read_text() == write


@pytest.mark.parametrize("damage", ["lost", "unknown", "revoked"])
def test_a_lost_or_unknown_token_is_replaced_and_the_stale_one_revoked(
        server: tuple[StandIn, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], damage: str) -> None:
    state, url = server
    settings = env(url, tmp_path)
    assert run(monkeypatch, settings, capsys)[0] == 0
    writer = Path(settings["FACTORY_WRITER_TOKEN_FILE"])
    old = writer.read_text()
    read = Path(settings["FACTORY_READER_TOKEN_FILE"]).read_text()
    if damage == "lost":  # the token volume was removed
        writer.unlink()
    elif damage == "unknown":  # a token file from another server (a wiped data volume)
        writer.write_text("not-a-token-this-server-knows")
    else:
        state.auths = [a for a in state.auths if a["token"] != old]
    code, out, err = run(monkeypatch, settings, capsys)
    assert code == 0, err
    new = writer.read_text()
    assert new and new != old
    bucket_id = state.buckets[0]["id"]
    assert [a["token"] for a in state.tokens("write", bucket_id)] == [new]  # old one revoked
    assert Path(settings["FACTORY_READER_TOKEN_FILE"]).read_text() == read
    assert "new write-only token" in out


def test_a_half_done_first_start_heals(server: tuple[StandIn, str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Set up, but the bucket, its mapping and the tokens never made it (the first start
    stopped half-way): the next start creates them."""
    state, url = server
    state.set_up = True
    state.orgs.append({"id": state.new_id(), "name": "factory"})
    code, _, err = run(monkeypatch, env(url, tmp_path), capsys)
    assert code == 0, err
    assert [b["name"] for b in state.buckets] == ["factory"]
    assert len(state.dbrps) == 1
    assert len(state.tokens("write", state.buckets[0]["id"])) == 1


def test_retention_follows_the_setting(server: tuple[StandIn, str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    state, url = server
    assert run(monkeypatch, env(url, tmp_path), capsys)[0] == 0
    code, out, _ = run(monkeypatch, env(url, tmp_path, INFLUX_RETENTION="1w2d"), capsys)
    assert code == 0
    assert state.buckets[0]["retentionRules"][0]["everySeconds"] == 9 * 86400
    assert "retention set to 777600 s" in out


def test_wrong_admin_token_is_one_line_without_secrets(
        server: tuple[StandIn, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, url = server
    assert run(monkeypatch, env(url, tmp_path), capsys)[0] == 0
    wrong = "a-wrong-admin-token-value"
    bad = env(url, tmp_path, INFLUX_ADMIN_TOKEN=wrong)  # test-fixture: not a secret
    code, out, err = run(monkeypatch, bad, capsys)
    assert code == 1
    assert len(err.splitlines()) == 1
    assert "401" in err
    assert wrong not in err + out


@pytest.mark.parametrize("text,seconds", [("30d", 2_592_000), ("72h", 259_200),
                                          ("1w2d", 777_600), ("0", 0)])
def test_retention_seconds(text: str, seconds: int) -> None:
    assert influx_init.retention_seconds(text) == seconds


@pytest.mark.parametrize("text", ["30 days", "d30", "-1d", "30x"])
def test_retention_garbage_is_refused(text: str) -> None:
    with pytest.raises(influx_init.InitError, match="INFLUX_RETENTION"):
        influx_init.retention_seconds(text)


def test_missing_admin_secrets_are_named(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("INFLUX_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("INFLUX_ADMIN_PASSWORD", raising=False)
    assert influx_init.main([]) == 1
    assert "INFLUX_ADMIN_TOKEN, INFLUX_ADMIN_PASSWORD not set" in capsys.readouterr().err


def test_an_unwritable_token_folder_is_one_line_with_the_fix(
        server: tuple[StandIn, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, url = server
    settings = env(url, tmp_path, FACTORY_WRITER_TOKEN_FILE=str(tmp_path / "no" / "such" / "t"))
    code, _, err = run(monkeypatch, settings, capsys)
    assert code == 1
    (line,) = err.splitlines()
    assert line.startswith(f"influx-init: cannot write {tmp_path}/no/such/t (")
    assert "docker volume rm" in line
