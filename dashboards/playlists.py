"""The wall's rotating playlists, one per language, under uids that never change.

Grafana cannot provision playlists from files, so `docker compose up` runs this module once
(the ``playlists`` service: ``python -m dashboards.playlists``) after Grafana is healthy, and
``factory-dashboards push`` calls :func:`ensure_playlists` too. Both create or update the
same two playlists, so running either any number of times leaves exactly two.

The uid is fixed (``factory-wall-en`` / ``factory-wall-zh``) so the kiosk URL is known
before Grafana starts: ``/playlists/play/factory-wall-en?kiosk`` (deploy/grafana/kiosk.env).
Grafana's legacy ``/api/playlists`` cannot choose a uid on create (it generates one), so
this talks to the playlist resource API Grafana 11 serves under
``/apis/playlist.grafana.app/v0alpha1`` (the ``kubernetesPlaylists`` feature, on by default
since Grafana 11), where the uid is the object's ``metadata.name``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from dashboards.build import SCREENS
from dashboards.i18n import LANGS, Lang, LangCode
from dashboards.screens.base import uid as dashboard_uid

log = logging.getLogger(__name__)

INTERVAL = "1m"
GROUP_VERSION = "playlist.grafana.app/v0alpha1"
#: grafana-client joins paths onto ``.../api``; ``s/...`` makes that ``.../apis/...``.
_APIS = "s/" + GROUP_VERSION
#: Organisation 1 (the only one the compose Grafana has) is the namespace ``default``.
NAMESPACE = "default"
TITLES = {"en": "Factory big screen (en)", "zh": "工厂大屏轮播 (zh)"}


class PlaylistError(RuntimeError):
    """Grafana refused or could not be reached; the message is one line."""


def playlist_uid(code: LangCode) -> str:
    return f"factory-wall-{code}"


def kiosk_path(code: LangCode) -> str:
    """Where the wall starts in kiosk mode: the language's playlist."""
    return f"/playlists/play/{playlist_uid(code)}?kiosk"


def screen_uids(code: LangCode) -> list[str]:
    """The rotation: every screen of the language, in the build's order."""
    return [dashboard_uid(slug, Lang(code)) for slug in SCREENS]


def playlist_object(code: LangCode, uids: Sequence[str], interval: str = INTERVAL,
                    resource_version: str | None = None) -> dict[str, Any]:
    """The playlist as Grafana's resource API takes it (create, or update with the version)."""
    meta: dict[str, Any] = {"name": playlist_uid(code), "namespace": NAMESPACE}
    if resource_version:
        meta["resourceVersion"] = resource_version
    return {"apiVersion": GROUP_VERSION, "kind": "Playlist", "metadata": meta,
            "spec": {"title": TITLES[code], "interval": interval,
                     "items": [{"type": "dashboard_by_uid", "value": u} for u in uids]}}


@dataclass(frozen=True)
class PlaylistResult:
    uid: str
    action: str  # "created", "updated" or "unchanged"


def _path(name: str = "") -> str:
    base = f"{_APIS}/namespaces/{NAMESPACE}/playlists"
    return f"{base}/{name}" if name else base


def _fail(what: str, exc: Exception) -> PlaylistError:
    if isinstance(exc, GrafanaException):
        body = exc.response
        message = body.get("message") if isinstance(body, dict) else body
        return PlaylistError(f"grafana: {what} failed with HTTP {exc.status_code}: "
                             f"{str(message)[:200]}")
    return PlaylistError(f"grafana: {what} failed: {type(exc).__name__}: {exc}")


def ensure_playlist(api: GrafanaApi, code: LangCode, uids: Sequence[str],
                    interval: str = INTERVAL) -> PlaylistResult:
    """Create the language's playlist, or update it in place when it differs."""
    name = playlist_uid(code)
    try:
        current = api.client.GET(_path(name))
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise _fail(f"read playlist {name}", exc) from exc
        current = None
    except Exception as exc:  # connection errors, 5xx
        raise _fail(f"read playlist {name}", exc) from exc
    want = playlist_object(code, uids, interval)
    try:
        if current is None:
            api.client.POST(_path(), json=want)
            return PlaylistResult(name, "created")
        if isinstance(current, dict) and current.get("spec") == want["spec"]:
            return PlaylistResult(name, "unchanged")
        version = (current.get("metadata") or {}).get("resourceVersion") if isinstance(
            current, dict) else None
        api.client.PUT(_path(name), json=playlist_object(code, uids, interval, version))
        return PlaylistResult(name, "updated")
    except Exception as exc:
        raise _fail(f"save playlist {name}", exc) from exc


def ensure_playlists(api: GrafanaApi, langs: Sequence[LangCode] = LANGS,
                     interval: str = INTERVAL) -> list[PlaylistResult]:
    return [ensure_playlist(api, code, screen_uids(code), interval) for code in langs]


def main(argv: Sequence[str] | None = None) -> int:
    """The compose one-shot: ``python -m dashboards.playlists`` (settings from the env)."""
    ap = argparse.ArgumentParser(prog="python -m dashboards.playlists",
                                 description="create or update the wall's playlists")
    ap.add_argument("--grafana", default=os.environ.get("GRAFANA_URL", "http://127.0.0.1:3000"))
    ap.add_argument("--grafana-user", default=os.environ.get("GRAFANA_USER"))
    ap.add_argument("--grafana-password", default=os.environ.get("GRAFANA_PASSWORD"))
    ap.add_argument("--grafana-token", default=os.environ.get("GRAFANA_TOKEN"))
    ap.add_argument("--interval", default=os.environ.get("PLAYLIST_INTERVAL", INTERVAL),
                    help="time per screen, Grafana syntax (default 1m)")
    args = ap.parse_args(argv)
    credential = args.grafana_token or (
        (args.grafana_user, args.grafana_password or "") if args.grafana_user else None)
    api = GrafanaApi.from_url(args.grafana, credential=credential, timeout=10.0)
    try:
        results = ensure_playlists(api, LANGS, args.interval)
    except PlaylistError as exc:
        print(f"playlists: {exc}", file=sys.stderr)
        return 2
    for r in results:
        print(f"playlist {r.uid}: {r.action} (/playlists/play/{r.uid}?kiosk)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
