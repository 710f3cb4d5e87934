"""Push the data source, dashboards, playlists and home dashboard to a running Grafana.

An I/O edge over ``grafana-client`` (Grafana's HTTP API). The request bodies are built by
pure functions (:func:`datasource_payload`, :func:`dashboard_payload`, :func:`home_payload`,
``playlists.playlist_object``) so tests can hold them against Grafana's documented shapes.

Against a provisioned Grafana (the compose stack) the data source and the dashboards are
read-only: Grafana answers 403 for a provisioned data source and 400 "Cannot save
provisioned dashboard" for a provisioned dashboard. Those are skipped and reported (the
files already give Grafana what push would send); every other refusal stops the push.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from dashboards.build import HOME, SCREENS, Built
from dashboards.influxql import DATASOURCE_NAME, DATASOURCE_TYPE, DATASOURCE_UID
from dashboards.playlists import PlaylistError, ensure_playlist
from telemetry.endpoints import InfluxEndpoint

log = logging.getLogger(__name__)

FOLDER_TITLES = {"en": "Factory", "zh": "工厂大屏"}


class PushError(RuntimeError):
    """Grafana refused or could not be reached; the message is one line."""


@dataclass(frozen=True)
class PushReport:
    grafana_version: str
    datasource: str  # "created", "updated" or "read-only" (provisioned, left as it is)
    dashboards: tuple[str, ...]  # saved
    playlists: tuple[str, ...]  # uids, created or updated
    home_uid: str
    datasource_health: str  # "OK" or Grafana's error message
    skipped: tuple[str, ...] = ()  # read-only objects, one line each ("dashboard X: ...")


def datasource_payload(influx: InfluxEndpoint) -> dict[str, Any]:
    """Grafana's data source model for InfluxQL (v2: token header, v1: user/password)."""
    # v2: the InfluxQL database is the DBRP mapping of the bucket (same name in deploy/).
    json_data: dict[str, Any] = {"version": "InfluxQL", "dbName": influx.target,
                                 "httpMode": "POST", "timeInterval": "10s"}
    secure: dict[str, str] = {}
    payload: dict[str, Any] = {
        "name": DATASOURCE_NAME, "uid": DATASOURCE_UID, "type": DATASOURCE_TYPE,
        "access": "proxy", "url": influx.url, "isDefault": True, "basicAuth": False,
        "database": influx.target,
    }
    if influx.token:
        json_data["httpHeaderName1"] = "Authorization"
        secure["httpHeaderValue1"] = f"Token {influx.token}"
    elif influx.user:
        payload["user"] = influx.user
        secure["password"] = influx.password or ""
    payload["jsonData"] = json_data
    if secure:
        payload["secureJsonData"] = secure
    return payload


def dashboard_payload(built: Built, folder_uid: str) -> dict[str, Any]:
    """``POST /api/dashboards/db`` body: create or overwrite by uid."""
    model = {**built.model, "id": None}
    return {"dashboard": model, "folderUid": folder_uid, "overwrite": True,
            "message": "factory-dashboards push"}


def home_payload(uid: str) -> dict[str, Any]:
    return {"homeDashboardUID": uid}


def _raise(exc: Exception) -> Any:
    raise exc


def _call(what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except GrafanaException as exc:
        raise PushError(f"grafana: {what} failed with HTTP {exc.status_code}: "
                        f"{str(exc.response)[:200]}") from exc
    except Exception as exc:  # niquests connection errors and timeouts
        raise PushError(f"grafana: {what} failed: {type(exc).__name__}: {exc}") from exc


def _read_only(exc: GrafanaException, status: int) -> str | None:
    """Grafana's message when `exc` is its answer for a provisioned (read-only) object."""
    body = exc.response if isinstance(exc.response, dict) else {}
    message = str(body.get("message") or exc.response or "")
    if exc.status_code == status and ("provisioned" in message or "read-only" in message):
        return message
    return None


def _exists(fn: Callable[[], Any]) -> bool:
    try:
        fn()
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return False
        raise PushError(f"grafana: lookup failed with HTTP {exc.status_code}") from exc
    except GrafanaException as exc:
        raise PushError(f"grafana: lookup failed with HTTP {exc.status_code}") from exc
    except Exception as exc:
        raise PushError(f"grafana: unreachable: {type(exc).__name__}: {exc}") from exc
    return True


def connect(url: str, token: str | None = None, user: str | None = None,
            password: str | None = None, timeout_s: float = 10.0) -> GrafanaApi:
    credential: str | tuple[str, str] | None = token or ((user, password or "") if user else None)
    api: GrafanaApi = GrafanaApi.from_url(url, credential=credential, timeout=timeout_s)
    return api


def push(api: GrafanaApi, influx: InfluxEndpoint, built: Sequence[Built],
         home_lang: str = "en") -> PushReport:
    """Create or update everything; raise PushError on the first refusal."""
    health = _call("health check", lambda: api.client.GET("/health"))
    if not isinstance(health, dict) or health.get("database") != "ok":
        raise PushError(f"grafana: unhealthy: {health!r}")
    version = str(health.get("version", "?"))
    log.info("grafana %s is healthy", version)

    skipped: list[str] = []
    ds = datasource_payload(influx)
    ds_path = f"/datasources/uid/{DATASOURCE_UID}"
    if _exists(partial(api.client.GET, ds_path)):
        try:
            api.client.PUT(ds_path, json=ds)
            ds_action = "updated"
        except GrafanaException as exc:
            message = _read_only(exc, 403)
            if message is None:
                _call("update data source", partial(_raise, exc))
            ds_action = "read-only"
            skipped.append(f"data source {DATASOURCE_UID}: {message} (HTTP 403, provisioned)")
        except Exception as exc:
            _call("update data source", partial(_raise, exc))
    else:
        _call("create data source", partial(api.client.POST, "/datasources", json=ds))
        ds_action = "created"
    log.info("data source %s %s (%s)", DATASOURCE_UID, ds_action, influx.display())

    langs = sorted({b.lang for b in built})
    for lang in langs:
        folder_uid = f"factory-{lang}"
        if not _exists(partial(api.folder.get_folder, folder_uid)):
            _call(f"create folder {folder_uid}", partial(
                api.folder.create_folder, FOLDER_TITLES.get(lang, "Factory"), uid=folder_uid))
    pushed = []
    save_dashboard: Callable[[dict[str, Any]], Any] = api.dashboard.update_dashboard
    for b in built:
        body = dashboard_payload(b, f"factory-{b.lang}")
        try:
            save_dashboard(body)
        except GrafanaException as exc:
            message = _read_only(exc, 400)
            if message is None:
                _call(f"save dashboard {b.uid}", partial(_raise, exc))
            skipped.append(f"dashboard {b.uid}: {message} (HTTP 400)")
            log.info("dashboard %s is provisioned: left as it is", b.uid)
            continue
        except Exception as exc:
            _call(f"save dashboard {b.uid}", partial(_raise, exc))
        pushed.append(b.uid)
        log.info("dashboard %s saved", b.uid)

    playlists = []
    for lang in langs:
        try:
            result = ensure_playlist(api, lang, [b.uid for b in built
                                                 if b.lang == lang and b.slug in SCREENS])
        except PlaylistError as exc:
            raise PushError(str(exc)) from exc
        playlists.append(result.uid)
        log.info("playlist %s %s", result.uid, result.action)

    home = next((b.uid for b in built if b.slug == HOME and b.lang == home_lang),
                next(b.uid for b in built if b.slug == HOME))
    _call("set home dashboard", lambda: api.client.PATCH("/org/preferences",
                                                         json=home_payload(home)))
    try:
        result = api.client.GET(f"/datasources/uid/{DATASOURCE_UID}/health")
        ds_health = "OK" if result.get("status") == "OK" else str(result.get("message"))
    except GrafanaException as exc:  # Grafana answers 400 {"status": "ERROR", "message"}
        body = exc.response if isinstance(exc.response, dict) else {}
        ds_health = str(body.get("message") or f"HTTP {exc.status_code}: {exc.response}")[:300]
    return PushReport(version, ds_action, tuple(pushed), tuple(playlists), home, ds_health,
                      tuple(skipped))
