"""Timed demo effects a story applies to a running model, and their end.

Each effect changes one of the model's per-machine parameters for a while and puts it back
when it ends (or on :meth:`Effects.reset`): a wear ``ramp`` (one component, the one
of the fault ``code`` given or the type's first wear mode, ages to ``value`` over the
duration: vibration climbs towards its failure, :meth:`simulator.wear.Wear.start_ramp`),
``scrap`` (quality drift), ``speed`` (a line runs faster: shorter cycle), ``power`` (an
energy peak) and ``sales`` (a spike in one region). Factors multiply and
divide back, so effects that overlap on one machine still end where they started.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.model import PlantModel

EFFECT_ACTIONS = ("ramp", "scrap", "speed", "power", "sales")


@dataclass
class _Effect:
    action: str
    machine: int  # -1 for site-wide (sales)
    start_ms: int
    end_ms: int
    value: float
    region: str | None = None
    wear0: float = 0.0
    mode: int = 0


class Effects:
    def __init__(self, model: PlantModel) -> None:
        self.model = model
        self.active: list[_Effect] = []

    def start(self, action: str, machine: str, params: dict[str, Any], now_ms: int) -> None:
        """Begin an effect now (``params``: value, duration_s, region for sales)."""
        m = self.model
        if action not in EFFECT_ACTIONS:
            raise ValueError(f"unknown effect {action!r}")
        i = m.index[machine] if action != "sales" else -1
        end = now_ms + round(float(params["duration_s"]) * 1000)
        eff = _Effect(action, i, now_ms, end, float(params["value"]), params.get("region"))
        if action == "ramp":
            w = m.wear_model
            eff.mode = w.first_mode(i, m.faults.code_number(i, params.get("code")))
            eff.wear0 = float(w.age[i, eff.mode])
            w.start_ramp(i, eff.mode, eff.value, now_ms, end)
            self.active = [e for e in self.active if not (e.action == "ramp" and e.machine == i)]
        else:
            self._scale(eff, ending=False)
        self.active.append(eff)

    def tick(self, now_ms: int) -> None:
        """Advance ramps to ``now_ms`` and end the effects whose time is up."""
        if not self.active:
            return
        if any(e.action == "ramp" for e in self.active):
            self.model.wear_model.advance_ramps(now_ms)
        ended = [e for e in self.active if now_ms >= e.end_ms]
        self.active = [e for e in self.active if now_ms < e.end_ms]
        for e in ended:
            if e.action != "ramp":
                self._scale(e, ending=True)

    def reset(self) -> None:
        """End every effect now; ramped machines get a fresh bearing."""
        ended, self.active = self.active, []
        for e in ended:
            if e.action == "ramp":
                self.model.wear_model.renew(e.machine, e.mode, min(e.wear0, 0.3))
            else:
                self._scale(e, ending=True)

    def _scale(self, e: _Effect, *, ending: bool) -> None:
        m, i = self.model, e.machine
        f = 1 / e.value if ending else e.value
        if e.action == "scrap":
            m.scrap_rate[i] *= f  # the model caps the scrap probability itself
        elif e.action == "speed":
            m.safe_ideal[i] /= f
            m.ideal_s[i] /= f
        elif e.action == "power":
            m.power_by_state[i] = m.power_by_state[i] * f
        elif not ending:
            m.sales.spike(e.region, e.value)
        else:  # the latest other spike still running, or none
            others = [o for o in self.active if o.action == "sales" and o is not e]
            m.sales.spike(others[-1].region if others else None,
                          others[-1].value if others else 1.0)

    def describe(self) -> list[dict[str, Any]]:
        ids = self.model.ids
        return [{"action": e.action, "machine": ids[e.machine] if e.machine >= 0 else None,
                 "region": e.region, "value": e.value, "end_ms": e.end_ms}
                for e in self.active]

