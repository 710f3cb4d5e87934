"""The presenter page in headless Chromium (Debian's `chromium`), driven over the DevTools
protocol: log in with the token, click a machine's fault button, see the fault raised in
the running simulator and shown on the page. Chromium is a real browser, not a stand-in."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from simulator.api import ControlServer
from simulator.director import Director
from simulator.encode import Encoder
from simulator.model import PlantModel
from simulator.plant import parse_plant
from simulator.runner import Runner
from simulator.sinks import NullSink

pytestmark = pytest.mark.integration

TOKEN = "test-presenter-token-0123456789"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def wait_for(pred: Any, what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout_s} s")


class Page:
    """One browser tab over the DevTools protocol (websocket-client)."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    def js(self, expression: str) -> Any:
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in res:
            raise AssertionError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def close(self) -> None:
        self.ws.close()


@contextmanager
def chromium(tmp_path: Path) -> Iterator[Page]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    proc = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--remote-debugging-port=0", f"--user-data-dir={tmp_path / 'profile'}",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the browser says where its DevTools endpoint is
            if line.startswith("DevTools listening on ws://"):
                port = int(line.split(":")[2].split("/")[0])
                break
        else:
            raise AssertionError(f"chromium exited ({proc.wait()}) without DevTools")
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # drain
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            tabs = json.loads(r.read())
        page = Page(next(t for t in tabs if t["type"] == "page")["webSocketDebuggerUrl"])
        try:
            yield page
        finally:
            page.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _plant() -> Any:
    cell = {"name": "Cell", "name_zh": "单元", "ideal_cycle_s": 10, "mtbf_h": 1_000_000,
            "changeover_h": 1_000_000, "starve_h": 1_000_000, "microstops_per_h": 0,
            "power_kw": {"off": 0.5, "idle": 3, "run": 20},
            "temp_c": {"idle": 5, "run": 30, "tau_min": 5},
            "vibration_mm_s": {"base": 2.0, "wear_gain": 3.0, "life_h": 100},
            "faults": [{"code": "C-JAM", "message": "Jam", "severity": "warning"},
                       {"code": "C-HOT", "message": "Hot", "severity": "critical"}]}
    return parse_plant({"enterprise": "acme", "site": "lyon", "utc_offset_h": 1,
                        "types": {"cell": cell},
                        "calendars": {"main": {"shifts": ["00:00-24:00"]}},
                        "areas": [{"id": "shop", "lines": [{
                            "id": "l1", "name": "Line 1", "machines": [
                                {"id": "cell", "type": "cell", "count": 3}]}]}]}, "lyon.yaml")


@contextmanager
def director(**kwargs: Any) -> Iterator[tuple[PlantModel, ControlServer]]:
    model = PlantModel(_plant(), 1, 1_767_571_200_000)
    runner = Runner(model, Encoder(model), NullSink(), speed=60.0)
    sim = threading.Thread(target=runner.run, daemon=True)
    sim.start()
    server = ControlServer(Director(runner), TOKEN, port=0, **kwargs).start()
    try:
        yield model, server
    finally:
        server.close()
        runner.stop.set()
        sim.join(10)


def _visible(page: Page, element_id: str) -> bool:
    return bool(page.js(f"!document.getElementById('{element_id}').classList"
                        ".contains('hidden')"))


def test_presenter_page_logs_in_and_raises_a_fault(tmp_path: Path) -> None:
    with director() as (model, server), chromium(tmp_path) as page:
        page.send("Page.navigate", url=f"{server.url}/presenter#machine=cell-02")
        wait_for(lambda: page.js("document.readyState") == "complete"
                 and _visible(page, "login"), "the login form")
        assert not _visible(page, "visitor")  # visitor mode is off
        # A wrong token is refused and the page says so.
        page.js("document.getElementById('token').value = 'not-the-token-123';"
                "document.getElementById('login-form').requestSubmit()")
        wait_for(lambda: page.js("document.getElementById('login-msg').textContent")
                 == "The token was not accepted.", "the refusal")
        page.js(f"document.getElementById('token').value = '{TOKEN}';"
                "document.getElementById('login-form').requestSubmit()")
        wait_for(lambda: page.js("!!document.querySelector('#m-cell-02.sel')"),
                 "the machines, cell-02 selected from the link")
        assert page.js("document.getElementById('sel-name').textContent") == \
            "cell-02 (Cell · 单元)"
        assert page.js("document.querySelector('#floor .line b').textContent") == "Line 1"
        page.js("document.getElementById('code').value = 'C-HOT';"
                "document.getElementById('fault').click()")
        wait_for(lambda: "fault queued" in page.js(
            "document.getElementById('msg').textContent"), "the page's confirmation")
        ep = wait_for(lambda: [e for e in model.episodes if e.source == "control"],
                      "the fault in the simulator")[0]
        assert (ep.machine, ep.code) == ("cell-02", "C-HOT")
        wait_for(lambda: page.js("!!document.querySelector('#m-cell-02.FAULT')"),
                 "cell-02 shown in FAULT on the page")
        assert page.js("document.querySelectorAll('#floor button.FAULT').length") == 1
        # One click clears it again.
        page.js("document.getElementById('clear').click()")
        wait_for(lambda: ep.end_ms is not None, "the fault cleared from the page")
        # One click turns the page's own words into Chinese (the plant's names in it too),
        # the API's confirmations included; the choice is kept for the next visit.
        page.js("document.getElementById('lang').click()")
        assert page.js("document.getElementById('fault').textContent") == "触发故障"
        assert page.js("document.getElementById('sel-name').textContent") == "cell-02 (单元)"
        assert page.js("document.documentElement.lang") == "zh-CN"
        page.js("document.getElementById('fault').click()")
        wait_for(lambda: page.js("document.getElementById('msg').textContent")
                 == "触发故障 已排队，下一周期执行 (cell-02)", "the confirmation in Chinese")
        page.send("Page.reload")
        wait_for(lambda: page.js("document.readyState") == "complete" and page.js(
            "document.getElementById('lang').textContent") == "English", "Chinese kept")
        page.js("document.getElementById('lang').click()")
        assert page.js("document.getElementById('fault').textContent") == "Raise fault"


def test_visitor_mode_page_raises_a_fault_without_the_token(tmp_path: Path) -> None:
    with director(visitors=True) as (model, server), chromium(tmp_path) as page:
        page.send("Page.navigate", url=f"{server.url}/presenter")
        wait_for(lambda: page.js("document.readyState") == "complete"
                 and _visible(page, "visitor"), "the visitor button")
        page.js("document.getElementById('as-visitor').click()")
        wait_for(lambda: page.js("!!document.getElementById('m-cell-03')"), "the machines")
        assert page.js("[...document.querySelectorAll('.presenter-only')]"
                       ".every(e => e.classList.contains('hidden'))")
        page.js("document.getElementById('m-cell-03').click();"
                "document.getElementById('fault').click()")
        ep = wait_for(lambda: [e for e in model.episodes if e.source == "control"],
                      "the visitor's fault")[0]
        assert ep.machine == "cell-03"
