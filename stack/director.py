"""The native demo's side of the director: a client for the simulator's control API and
the terminal overview's keys (fault on the selected machine, next story, speed, reset).

Keys: ``[`` / ``]`` select the previous / next machine, ``{`` / ``}`` jump a line,
``f`` faults the selected machine, ``c`` clears it, ``n`` plays the next story,
``+`` / ``-`` speed up / down (1, 2, 5, 10, 30, 60 x), ``r`` resets the plant.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
HELP = "[ ] { } select · f fault · c clear · n next story · + - speed · r reset"


class DirectorError(RuntimeError):
    """The control API refused or could not be reached: one line."""


class DirectorClient:
    def __init__(self, url: str, token: str, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    @property
    def presenter_url(self) -> str:
        return f"{self.url}/presenter"

    def request(self, method: str, path: str, body: Any = None,
                token: str | None = "") -> tuple[int, dict[str, Any]]:
        """One call: (HTTP status, JSON body); status 0 when nothing answered. ``token``
        None sends no Authorization header, "" the client's token; ``body`` bytes as is."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        token = self.token if token == "" else token
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(f"{self.url}{path}", method=method, data=data,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return resp.status, _json(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _json(exc.read())
        except OSError as exc:
            return 0, {"error": f"control API at {self.url} not reachable ({exc})"}

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None
              ) -> dict[str, Any]:
        status, data = self.request(method, f"/api/{path}", body)
        if status == 0:
            raise DirectorError(str(data["error"]))
        if not 200 <= status < 300:
            raise DirectorError(f"{path}: {data.get('error', f'HTTP {status}')}")
        return data

    def status(self) -> dict[str, Any]:
        return self._call("GET", "status")

    def command(self, name: str, body: dict[str, Any] | None = None) -> str:
        return str(self._call("POST", name, body or {}).get("message", "ok"))


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {"error": raw[:200].decode(errors="replace")}
    return data if isinstance(data, dict) else {"value": data}


class Controls:
    """What the overview's keys do; :meth:`key` returns a one-line note for the screen."""

    def __init__(self, client: DirectorClient) -> None:
        self.client = client
        self.machines: list[dict[str, Any]] = []
        self.selected: str | None = None
        self.speed = 1.0

    def refresh(self) -> None:
        s = self.client.status()
        self.machines = [m for m in s["machines"] if m.get("owned", True)]
        self.speed = float(s["speed"] or 1.0)
        if self.selected not in {m["id"] for m in self.machines}:
            self.selected = self.machines[0]["id"] if self.machines else None

    def describe(self) -> str:
        m = next((m for m in self.machines if m["id"] == self.selected), None)
        if m is None:
            return "selected: none"
        state = m.get("state") or "?"
        return f"selected: {m['id']} ({state}{', ' + m['fault'] if m.get('fault') else ''})"

    def _move(self, step: int, by_line: bool) -> None:
        if not self.machines:
            return
        ids = [m["id"] for m in self.machines]
        i = ids.index(self.selected) if self.selected in ids else 0
        if not by_line:
            self.selected = ids[(i + step) % len(ids)]
            return
        starts = [k for k, m in enumerate(self.machines)
                  if k == 0 or (m["area"], m["line"]) != (self.machines[k - 1]["area"],
                                                          self.machines[k - 1]["line"])]
        cur = max(k for k in starts if k <= i)
        j = starts[(starts.index(cur) + step) % len(starts)]
        self.selected = ids[j]

    def key(self, key: str) -> str | None:
        """Act on one key press; None for keys that are not director keys."""
        try:
            if key in "[]{}":
                self._move(-1 if key in "[{" else 1, key in "{}")
                return self.describe()
            if key in ("f", "c"):
                if self.selected is None:
                    return "no machine selected"
                msg = self.client.command("fault" if key == "f" else "clear",
                                          {"machine": self.selected})
                return f"{msg} ({self.selected})"
            if key == "n":
                return self.client.command("story", {"name": "next"})
            if key in ("+", "=", "-"):
                up = key != "-"
                options = [s for s in SPEEDS if (s > self.speed if up else s < self.speed)]
                if not options:
                    return f"speed stays {self.speed:g}x"
                self.speed = options[0] if up else options[-1]
                self.client.command("speed", {"speed": self.speed})
                return f"speed {self.speed:g}x"
            if key == "r":
                return self.client.command("reset")
        except DirectorError as exc:
            return str(exc)
        return None
