"""The demo director: checks a presenter's command and hands it to the simulator.

One process runs the control API (:mod:`simulator.api`). With a single shard its
commands go straight into the runner's queue; with several shards they are published on
the control topics (``{e}/{s}/_control/{command}``), which every shard subscribes to, so
the shard that owns the machine acts on it (and the others keep their replicas in step).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from simulator.control import (
    Command,
    check_fault_code,
    check_speed,
    control_payload,
)
from simulator.downtime import REASONS, fault_open
from simulator.encode import Shard
from simulator.plant import PlantError
from simulator.runner import Runner
from simulator.stories import NEXT, library
from telemetry.contract import MachineState
from telemetry.topics import control_topic

_STATE_NAMES = [s.name for s in MachineState]


class Director:
    def __init__(self, runner: Runner, shard: Shard | None = None,
                 publish: Callable[[str, bytes], bool] | None = None) -> None:
        self.runner = runner
        self.model = runner.model
        self.plant = runner.model.plant
        self.shard = shard or Shard()
        self.publish = publish
        self._types = {m.id: self.plant.types[m.type] for m in self.plant.machines}
        self._lines = {(a.id, ln.id): ln for a in self.plant.areas for ln in a.lines}

    # -- commands (ValueError: a one-line reason, the HTTP 400 body) -----------------------
    def fault(self, body: dict[str, Any]) -> str:
        machine = self.check_machine(body)
        params: dict[str, Any] = {"source": "control"}
        code = body.get("code")
        if code is not None:
            check_fault_code(code, "code")
            known = [f.code for f in self._types[machine].faults]
            if code not in known:
                raise ValueError(f"code {code!r} is not a fault of {machine} "
                                 f"(one of {', '.join(known)})")
            params["code"] = code
        dur = body.get("duration_min")
        if dur is not None:
            if isinstance(dur, bool) or not isinstance(dur, int | float) or not 0 < dur <= 10080:
                raise ValueError("duration_min must be a number 0-10080")
            params["duration_s"] = float(dur) * 60
        self._allowed(body, "machine", "code", "duration_min")
        return self._send(Command("fault", machine, params))

    def clear(self, body: dict[str, Any]) -> str:
        machine = self.check_machine(body)
        self._allowed(body, "machine")
        return self._send(Command("clear", machine, {"source": "control"}))

    def speed(self, body: dict[str, Any]) -> str:
        self._allowed(body, "speed")
        return self._send(Command("speed", "", {"speed": check_speed(body.get("speed"))}))

    def story(self, body: dict[str, Any]) -> str:
        self._allowed(body, "name")
        name = body.get("name")
        if not isinstance(name, str):
            raise ValueError("story needs a string 'name' (or next)")
        if name != NEXT and name not in library():  # never a path from the network
            raise ValueError(f"unknown story {name[:64]!r} (one of {', '.join(library())}, "
                             "next)")
        try:
            self.runner.stories.check(name)
        except PlantError as exc:
            raise ValueError(str(exc)) from exc
        return self._send(Command("story", "", {"name": name}))

    def reset(self, body: dict[str, Any]) -> str:
        self._allowed(body)
        return self._send(Command("reset", "", {}))

    def check_machine(self, body: dict[str, Any]) -> str:
        machine = body.get("machine")
        if not isinstance(machine, str):
            raise ValueError("needs a string 'machine'")
        if machine not in self._types:
            raise ValueError(f"unknown machine {machine[:64]!r}")
        return machine

    @staticmethod
    def _allowed(body: dict[str, Any], *keys: str) -> None:
        extra = sorted(set(body) - set(keys))
        if extra:
            raise ValueError(f"unknown key {extra[0][:40]!r} (allowed: "
                             f"{', '.join(keys) or 'none'})")

    def _send(self, cmd: Command) -> str:
        if self.shard.count > 1 and self.publish is not None:
            topic = control_topic(self.plant.enterprise, self.plant.site, cmd.action)
            if not self.publish(topic, control_payload(cmd)):
                raise ConnectionError("the broker did not take the command; try again")
            return f"{cmd.action} sent to every shard"
        self.runner.submit(cmd)
        return f"{cmd.action} queued for the next tick"

    # -- status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        m, r = self.model, self.runner
        state, reason, code = m.state.copy(), m.reason.copy(), m.fault_code.copy()
        owned = r.encoder.owned_mask
        machines = []
        for i, mc in enumerate(m.machines):
            line, mtype = self._lines[(mc.area, mc.line)], self._types[mc.id]
            row: dict[str, Any] = {"id": mc.id, "area": mc.area, "line": mc.line,
                                   "line_name": line.name, "line_name_zh": line.name_zh,
                                   "type": mc.type, "type_name": mtype.name,
                                   "type_name_zh": mtype.name_zh, "owned": bool(owned[i])}
            if owned[i]:
                s, rs = int(state[i]), int(reason[i])
                row["state"] = _STATE_NAMES[s]
                row["reason"] = REASONS[rs]
                down = fault_open(s, rs)
                row["fault"] = m.fault_codes[code[i]][0] if down and code[i] >= 0 else None
                row["work_order"] = m.wo_id[i] if down else None
            machines.append(row)
        return {
            "plant": {"enterprise": self.plant.enterprise, "site": self.plant.site,
                      "name": self.plant.name, "name_zh": self.plant.name_zh,
                      "timezone": self.plant.timezone},
            "shard": f"{self.shard.index}/{self.shard.count}",
            "sim_time": dt.datetime.fromtimestamp(m.now_ms / 1000, dt.UTC).isoformat(),
            "sim_time_local": dt.datetime.fromtimestamp(m.now_ms / 1000,
                                                        self.plant.tzinfo).isoformat(),
            "speed": r.speed, "stories": r.stories.status(), "effects": r.effects.describe(),
            "faults": {mc.id: [f.code for f in self._types[mc.id].faults]
                       for mc in m.machines if owned[m.index[mc.id]]},
            "machines": machines}
