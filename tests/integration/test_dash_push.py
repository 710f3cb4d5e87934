"""`factory-dashboards push` and the playlist step against a STAND-IN for Grafana.

No Grafana binary runs here, so this is a local HTTP server written for the test, not
Grafana: it records every request, answers like Grafana's HTTP API (health, data sources
by uid, folders, dashboards/db, the playlist resource API under
/apis/playlist.grafana.app/v0alpha1, org preferences, data source health) and rejects any
request body that does not have the shape Grafana's API documentation gives. In
``provisioned`` mode it answers like the compose Grafana, whose data source and dashboards
come from files: 403 "Cannot update read-only data source" and 400 "Cannot save
provisioned dashboard". Whether a real Grafana accepts and renders the result is verified
only in the compose stack (docs/dashboards.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboards import playlists
from dashboards.build import BOARDS, SCREENS, build_all
from dashboards.cli import main
from dashboards.i18n import LANGS
from dashboards.influxql import DATASOURCE_UID

pytestmark = pytest.mark.integration

TOKEN = "glsa_test_token"


def _require(body: Any, spec: dict[str, type | tuple[type, ...]], where: str) -> None:
    if not isinstance(body, dict):
        raise ValueError(f"{where}: body must be a JSON object")
    for key, typ in spec.items():
        if key not in body:
            raise ValueError(f"{where}: missing {key!r}")
        if not isinstance(body[key], typ):
            raise ValueError(f"{where}: {key!r} has type {type(body[key]).__name__}")


# Request shapes from Grafana's HTTP API reference (data source, folder, dashboard,
# playlist and preferences APIs).
def check_datasource(body: Any) -> None:
    _require(body, {"name": str, "type": str, "url": str, "access": str, "uid": str,
                    "jsonData": dict}, "datasource")
    if body["access"] not in ("proxy", "direct"):
        raise ValueError("datasource: access must be proxy or direct")


def check_dashboard(body: Any) -> None:
    _require(body, {"dashboard": dict, "overwrite": bool, "folderUid": str}, "dashboards/db")
    d = body["dashboard"]
    _require(d, {"uid": str, "title": str, "panels": list, "schemaVersion": int},
             "dashboards/db dashboard")
    if d.get("id") is not None:
        raise ValueError("dashboards/db: a new or overwritten dashboard must have id null")


PLAYLISTS = "/apis/playlist.grafana.app/v0alpha1/namespaces/default/playlists"


def check_playlist(body: Any) -> None:
    """A playlist object of Grafana's resource API (group playlist.grafana.app)."""
    _require(body, {"apiVersion": str, "kind": str, "metadata": dict, "spec": dict},
             "playlist")
    if body["apiVersion"] != "playlist.grafana.app/v0alpha1" or body["kind"] != "Playlist":
        raise ValueError("playlist: apiVersion/kind")
    _require(body["metadata"], {"name": str}, "playlist metadata")
    _require(body["spec"], {"title": str, "interval": str, "items": list}, "playlist spec")
    for item in body["spec"]["items"]:
        _require(item, {"type": str, "value": str}, "playlist item")
        if item["type"] not in ("dashboard_by_uid", "dashboard_by_tag", "dashboard_by_id"):
            raise ValueError(f"playlist: unknown item type {item['type']!r}")


def check_preferences(body: Any) -> None:
    allowed = {"theme", "homeDashboardUID", "homeDashboardId", "timezone", "weekStart",
               "locale"}
    if not isinstance(body, dict) or not set(body) <= allowed:
        raise ValueError(f"preferences: unknown keys {set(body) - allowed}")


class StandIn:
    def __init__(self, healthy: bool = True, ds_health: str = "OK",
                 provisioned: bool = False) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.datasources: dict[str, Any] = {}
        self.folders: dict[str, Any] = {}
        self.dashboards: dict[str, Any] = {}
        self.playlists: dict[str, Any] = {}
        self.version = 0
        self.preferences: dict[str, Any] = {}
        self.healthy = healthy
        self.ds_health = ds_health
        self.provisioned_dashboards: set[str] = set()
        if provisioned:  # as the compose Grafana starts: from the provisioning files
            self.datasources[DATASOURCE_UID] = {"uid": DATASOURCE_UID, "readOnly": True}
            self.folders = {f"factory-{lang}": {"uid": f"factory-{lang}"} for lang in LANGS}
            self.provisioned_dashboards = {b.uid for b in build_all()}

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path == "/api/health" and method == "GET":
            return 200, {"commit": "abc", "database": "ok" if self.healthy else "failing",
                         "version": "11.4.0"}
        if path == "/api/datasources" and method == "POST":
            check_datasource(body)
            self.datasources[body["uid"]] = body
            return 200, {"id": 1, "message": "Datasource added", "name": body["name"],
                         "datasource": body}
        if path.startswith("/api/datasources/uid/"):
            uid = path.split("/")[4]
            if path.endswith("/health"):
                ok = self.ds_health == "OK"
                return (200 if ok else 400), {"status": "OK" if ok else "ERROR",
                                              "message": self.ds_health}
            if method == "GET":
                return (200, self.datasources[uid]) if uid in self.datasources else (
                    404, {"message": "Data source not found"})
            if method == "PUT":
                check_datasource(body)
                if uid not in self.datasources:
                    return 404, {"message": "Data source not found"}
                if self.datasources[uid].get("readOnly"):
                    return 403, {"message": "Cannot update read-only data source"}
                self.datasources[uid] = body
                return 200, {"id": 1, "message": "Datasource updated", "datasource": body}
        if path.startswith("/api/folders/") and method == "GET":
            uid = path.split("/")[3]
            return (200, self.folders[uid]) if uid in self.folders else (
                404, {"message": "folder not found"})
        if path == "/api/folders" and method == "POST":
            _require(body, {"uid": str, "title": str}, "folder")
            self.folders[body["uid"]] = body
            return 200, {"uid": body["uid"], "title": body["title"], "id": len(self.folders)}
        if path == "/api/dashboards/db" and method == "POST":
            check_dashboard(body)
            if body["folderUid"] not in self.folders:
                return 400, {"message": "folder not found"}
            uid = body["dashboard"]["uid"]
            if uid in self.provisioned_dashboards:
                return 400, {"message": "Cannot save provisioned dashboard",
                             "status": "provisioned-dashboard"}
            self.dashboards[uid] = body
            return 200, {"id": len(self.dashboards), "uid": uid, "status": "success",
                         "url": f"/d/{uid}", "version": 1}
        if path == PLAYLISTS and method == "POST":
            check_playlist(body)
            name = body["metadata"]["name"]
            if name in self.playlists:
                return 409, {"kind": "Status", "code": 409, "reason": "AlreadyExists",
                             "message": f'playlists.playlist.grafana.app "{name}" already exists'}
            self.version += 1
            self.playlists[name] = {**body, "metadata": {
                **body["metadata"], "resourceVersion": str(self.version)}}
            return 201, self.playlists[name]
        if path.startswith(PLAYLISTS + "/"):
            name = path.rsplit("/", 1)[1]
            if name not in self.playlists:
                return 404, {"kind": "Status", "code": 404, "reason": "NotFound",
                             "message": f'playlists.playlist.grafana.app "{name}" not found'}
            if method == "GET":
                return 200, self.playlists[name]
            if method == "PUT":
                check_playlist(body)
                have = self.playlists[name]["metadata"]["resourceVersion"]
                if body["metadata"].get("resourceVersion") != have or \
                        body["metadata"]["name"] != name:
                    return 409, {"kind": "Status", "code": 409, "reason": "Conflict",
                                 "message": "the object has been modified"}
                self.version += 1
                self.playlists[name] = {**body, "metadata": {
                    **body["metadata"], "resourceVersion": str(self.version)}}
                return 200, self.playlists[name]
        if path == "/api/org/preferences" and method == "PATCH":
            check_preferences(body)
            self.preferences.update(body)
            return 200, {"message": "Preferences updated"}
        return 404, {"message": "Not found"}


@contextmanager
def serve(state: StandIn) -> Iterator[str]:
    """Run the stand-in on a free port; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _do(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            state.requests.append((self.command, self.path, dict(self.headers), body))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, reply = 401, {"message": "Unauthorized"}
            else:
                try:
                    status, reply = state.handle(self.command, self.path, body)
                except ValueError as exc:
                    status, reply = 400, {"message": f"bad request: {exc}"}
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # http.server's naming
            self._do()

        def do_POST(self) -> None:
            self._do()

        def do_PUT(self) -> None:
            self._do()

        def do_PATCH(self) -> None:
            self._do()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def grafana() -> Iterator[tuple[str, StandIn]]:
    state = StandIn()
    with serve(state) as url:
        yield url, state


@pytest.fixture
def provisioned() -> Iterator[tuple[str, StandIn]]:
    """The stand-in answering like the compose Grafana (provisioned data source, boards)."""
    state = StandIn(provisioned=True)
    with serve(state) as url:
        yield url, state


def _push(url: str, *extra: str) -> int:
    return main(["push", "--grafana", url, "--grafana-token", TOKEN,
                 "--influx-url", "http://influxdb:8086", "--influx-db", "factory", *extra])


def _bad_requests(state: StandIn) -> list[Any]:
    return [r for r in state.requests if r[0] != "GET" and r[3] is None]


def test_push_creates_then_updates_everything(grafana: tuple[str, StandIn],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    url, state = grafana
    assert _push(url, "--influx-api", "v2", "--influx-token", "read-only-token") == 0
    out = capsys.readouterr().out
    assert "data source created" in out and "14 dashboards" in out
    ds = state.datasources[DATASOURCE_UID]
    assert ds["jsonData"]["version"] == "InfluxQL" and ds["jsonData"]["dbName"] == "factory"
    assert ds["jsonData"]["httpHeaderName1"] == "Authorization"
    assert ds["secureJsonData"]["httpHeaderValue1"] == "Token read-only-token"
    assert set(state.folders) == {"factory-en", "factory-zh"}
    assert set(state.dashboards) == set(BOARDS) | {f"{s}-zh" for s in BOARDS}
    assert all(d["overwrite"] for d in state.dashboards.values())
    assert sorted(state.playlists) == ["factory-wall-en", "factory-wall-zh"]
    en = state.playlists["factory-wall-en"]["spec"]
    assert [i["value"] for i in en["items"]] == list(SCREENS)
    assert en["interval"] == "1m"
    assert state.preferences == {"homeDashboardUID": "plant-overview"}
    assert not _bad_requests(state)
    first = len(state.requests)

    # Second push, now with a 1.x user: updates in place, creates nothing new.
    assert _push(url, "--influx-user", "grafana", "--influx-password", "pw",
                 "--home-lang", "zh") == 0
    assert "data source updated" in capsys.readouterr().out
    later = state.requests[first:]
    assert ("PUT", f"/api/datasources/uid/{DATASOURCE_UID}") in {(m, p) for m, p, _, _ in later}
    assert not [p for m, p, _, _ in later if m == "POST" and p in ("/api/datasources",
                                                                    "/api/folders",
                                                                    PLAYLISTS)]
    ds = state.datasources[DATASOURCE_UID]
    assert ds["user"] == "grafana" and ds["secureJsonData"] == {"password": "pw"}
    assert "httpHeaderName1" not in ds["jsonData"]
    assert len(state.playlists) == 2
    assert state.preferences == {"homeDashboardUID": "plant-overview-zh"}
    # Every request carried the service-account token.
    assert {h.get("Authorization") for _, _, h, _ in state.requests} == {f"Bearer {TOKEN}"}


def test_push_reports_refusals_in_one_line(grafana: tuple[str, StandIn],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    url, state = grafana
    rc = main(["push", "--grafana", url, "--grafana-token", "wrong",
               "--influx-url", "http://influxdb:8086"])
    err = capsys.readouterr().err
    assert rc == 2 and "401" in err and len(err.strip().splitlines()) == 1
    state.healthy = False
    assert _push(url) == 2
    assert "unhealthy" in capsys.readouterr().err
    state.healthy, state.ds_health = True, "error reading InfluxDB: 401 Unauthorized"
    assert _push(url) == 1
    assert "health check failed: error reading InfluxDB" in capsys.readouterr().err


def test_push_to_nothing_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    from stack.services import free_port

    rc = _push(f"http://127.0.0.1:{free_port()}")
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("factory-dashboards: grafana:")
    assert len(err.strip().splitlines()) == 1


def test_push_to_a_provisioned_grafana_skips_and_reports_read_only_objects(
        provisioned: tuple[str, StandIn], capsys: pytest.CaptureFixture[str]) -> None:
    url, state = provisioned
    assert _push(url) == 0
    out = capsys.readouterr().out
    assert "data source read-only, 0 dashboards" in out
    skipped = [line for line in out.splitlines() if line.startswith("skipped, read-only")]
    # one line per refused object: the data source and all 14 dashboards
    assert len(skipped) == 15
    assert any("Cannot update read-only data source (HTTP 403" in line for line in skipped)
    assert sum("Cannot save provisioned dashboard (HTTP 400)" in line for line in skipped) == 14
    assert state.datasources[DATASOURCE_UID] == {"uid": DATASOURCE_UID, "readOnly": True}
    assert not state.dashboards
    # what push can do, it did: playlists and the home dashboard
    assert sorted(state.playlists) == ["factory-wall-en", "factory-wall-zh"]
    assert state.preferences == {"homeDashboardUID": "plant-overview"}


def test_push_still_stops_on_other_refusals(provisioned: tuple[str, StandIn],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    url, state = provisioned
    state.provisioned_dashboards.clear()
    state.folders.clear()
    state.handle = _refuse_dashboards(state.handle)  # type: ignore[method-assign]
    assert _push(url) == 2
    err = capsys.readouterr().err
    assert "save dashboard plant-overview failed with HTTP 400" in err
    assert "folder not found" in err and len(err.strip().splitlines()) == 1


def _refuse_dashboards(handle: Any) -> Any:
    def wrapped(method: str, path: str, body: Any) -> tuple[int, Any]:
        if path == "/api/folders" and method == "POST":  # folder "created" but not kept
            return 200, {"uid": body["uid"], "title": body["title"]}
        return handle(method, path, body)  # type: ignore[no-any-return]
    return wrapped


def test_the_playlist_step_is_idempotent(provisioned: tuple[str, StandIn],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    url, state = provisioned
    args = ["--grafana", url, "--grafana-token", TOKEN]
    assert playlists.main(args) == 0
    assert capsys.readouterr().out.splitlines() == [
        "playlist factory-wall-en: created (/playlists/play/factory-wall-en?kiosk)",
        "playlist factory-wall-zh: created (/playlists/play/factory-wall-zh?kiosk)"]
    zh = state.playlists["factory-wall-zh"]["spec"]
    assert [i["value"] for i in zh["items"]] == [f"{s}-zh" for s in SCREENS]
    assert playlists.main(args) == 0  # a second `docker compose up`
    assert "factory-wall-en: unchanged" in capsys.readouterr().out
    assert playlists.main([*args, "--interval", "30s"]) == 0  # changed: updated in place
    assert "factory-wall-en: updated" in capsys.readouterr().out
    assert sorted(state.playlists) == ["factory-wall-en", "factory-wall-zh"]
    assert state.playlists["factory-wall-en"]["spec"]["interval"] == "30s"
    assert state.playlists["factory-wall-en"]["metadata"]["resourceVersion"] == "3"
    posts = [p for m, p, _, _ in state.requests if m == "POST"]
    assert posts == [PLAYLISTS, PLAYLISTS]


def test_the_playlist_step_reports_refusals_in_one_line(
        provisioned: tuple[str, StandIn], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = provisioned
    assert playlists.main(["--grafana", url, "--grafana-token", "wrong"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("playlists: grafana: read playlist factory-wall-en failed with HTTP 401")
    assert len(err.strip().splitlines()) == 1
