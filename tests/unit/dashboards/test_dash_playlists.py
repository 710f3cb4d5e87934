"""The wall's playlists: fixed uids, every screen, and the kiosk URL that points at them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from dashboards import playlists
from dashboards.build import SCREENS, build_all
from dashboards.i18n import LANGS

ROOT = Path(__file__).resolve().parents[3]


def test_each_language_rotates_through_all_its_screens() -> None:
    built = build_all()
    for code in LANGS:
        want = [b.uid for b in built if b.lang == code and b.slug in SCREENS]
        obj = playlists.playlist_object(code, playlists.screen_uids(code))
        assert obj["metadata"]["name"] == f"factory-wall-{code}"
        assert [i["value"] for i in obj["spec"]["items"]] == want
        assert {i["type"] for i in obj["spec"]["items"]} == {"dashboard_by_uid"}
        assert "resourceVersion" not in obj["metadata"]
    assert playlists.playlist_object("en", ["a"], resource_version="7")["metadata"][
        "resourceVersion"] == "7"


def test_the_kiosk_url_is_the_playlist_of_the_walls_language() -> None:
    kiosk = dict(re.findall(r"^KIOSK_PATH_(\w+)=(\S+)$",
                            (ROOT / "deploy/grafana/kiosk.env").read_text(), re.M))
    assert kiosk == {code: playlists.kiosk_path(code) for code in LANGS}
    assert kiosk["en"] == "/playlists/play/factory-wall-en?kiosk"


def test_compose_creates_the_playlists_once_grafana_is_healthy() -> None:
    svc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["playlists"]
    assert svc["command"] == ["python", "-m", "dashboards.playlists"]
    assert svc["depends_on"] == {"grafana": {"condition": "service_healthy"}}
    assert svc["restart"] == "no"
    env = svc["environment"]
    assert env["GRAFANA_URL"] == "http://grafana:3000"
    assert env["GRAFANA_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
