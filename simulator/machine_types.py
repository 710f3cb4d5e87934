"""Machine types: cycle, reliability, power, heat, wear, signals and faults of a kind of
machine, read from the types file (``simulator/data/types.yaml`` for the demo plant).

A type's ``signals:`` may name a built-in signal (:data:`BUILTIN_SIGNALS`, unit known) or
any other valid field key with its ``unit:``; every signal takes per-state values, noise
and one of the models of :class:`SignalSpec`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.plant_check import Ctx, as_list, as_map, join, known, num, text
from telemetry.contract import KINDS, TS_KEY, MachineState
from telemetry.topics import check_id

#: Signals every machine reports in `telemetry`; type-specific ones come from the type.
COMMON_SIGNALS = ("temp_c", "vibration_mm_s", "power_kw", "current_a", "load_pct")
#: Condition-monitoring fields every machine also sends (simulator.wear): the crest factor
#: (peak / RMS) of the vibration. Not a common signal of the screens' signal tables.
CONDITION_SIGNALS = ("vibration_crest",)
#: Built-in type-specific signals: name -> (unit, label, label_zh).
BUILTIN_SIGNALS: dict[str, tuple[str, str, str]] = {
    "spindle_rpm": ("rpm", "Spindle speed", "主轴转速"),
    "tonnage_t": ("t", "Tonnage", "吨位"),
    "oven_temp_c": ("degC", "Oven temperature", "炉温"),
    "pressure_bar": ("bar", "Pressure", "压力"),
    "speed_m_min": ("m/min", "Speed", "速度"),
    "battery_pct": ("%", "Battery", "电量"),
    "flow_m3_min": ("m3/min", "Flow", "流量"),
}
#: The built-in type-specific signals of the contract (kept for callers).
TYPE_SIGNALS = tuple(k for k in KINDS["telemetry"].fields
                     if k not in COMMON_SIGNALS and k not in CONDITION_SIGNALS)
#: Field keys a plant-declared signal may not take (InfluxDB's `time`, the timestamp key).
RESERVED_FIELDS = ("time", TS_KEY)
SIGNAL_MODELS = ("level", "thermal", "charge")
STATE_KEYS = tuple(s.name.lower() for s in MachineState)  # off idle running setup fault ...
SEVERITIES = ("info", "warning", "critical")
#: A fault's ``kind``: ``wear`` (a component that wears out, see :mod:`simulator.wear`) or
#: ``random`` (constant hazard 1 / the type's ``mtbf_h``).
FAULT_KINDS = ("random", "wear")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,31}\Z")  # \Z: "$" lets a trailing newline in
_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")

assert set(BUILTIN_SIGNALS) == set(TYPE_SIGNALS), "contract and built-in signals differ"


@dataclass(frozen=True)
class SignalSpec:
    """One type-specific signal: its value per state and how it moves.

    - ``level``: jumps to the state's level (plus noise) every sample;
    - ``thermal``: first-order approach to the state's level with time constant tau_s;
    - ``charge``: integrates the state's rate (units per minute), clipped to [min, max].

    ``unit``, ``label`` and ``label_zh`` describe it for the dashboards (built-in signals
    have defaults; a plant-declared signal must give its unit).
    """

    name: str
    model: str
    by_state: tuple[float, ...]  # indexed by MachineState
    noise: float = 0.0  # relative (level/thermal: fraction of value) or absolute (charge)
    tau_s: float = 600.0
    noise_tau_s: float = 60.0  # correlation time of the noise (AR(1)), seconds
    lo: float = 0.0
    hi: float = 100.0
    unit: str = ""
    label: str = ""  # default: the signal name
    label_zh: str = ""  # default: label

    def __post_init__(self) -> None:
        if self.model not in SIGNAL_MODELS:
            raise ValueError(f"signal model {self.model!r} not in {SIGNAL_MODELS}")
        if len(self.by_state) != len(MachineState):
            raise ValueError("by_state needs one value per machine state")
        if not self.label:
            object.__setattr__(self, "label", self.name)
        if not self.label_zh:
            object.__setattr__(self, "label_zh", self.label)


@dataclass(frozen=True)
class FaultSpec:
    """One failure mode. ``kind`` random: drawn by ``weight`` when the type's random hazard
    (1 / ``mtbf_h``) fires. ``kind`` wear: a component with its own life (``life_h``
    running hours at 75 % load, the Weibull characteristic life), a P-F interval
    (``pf_h`` running hours from the first sign in vibration to the failure) and the
    fraction of its age a preventive maintenance restores (``pm_restore``)."""

    code: str
    message: str
    severity: str = "critical"
    weight: float = 1.0
    mttr_min: float | None = None  # overrides the type's mttr_min
    message_zh: str = ""  # default: message
    kind: str = "random"
    life_h: float = 0.0  # wear: characteristic life in running hours
    pf_h: float = 0.0  # wear: P-F interval in running hours
    pm_restore: float = 0.0  # wear: fraction of its age a preventive maintenance removes

    def __post_init__(self) -> None:
        if not self.message_zh:
            object.__setattr__(self, "message_zh", self.message)


#: Defaults of a type's power_factor and noise_tau_s (docs/simulator.md).
PF_NO_LOAD = 0.4
PF_FULL_LOAD = 0.87
NOISE_TAU_S = (30.0, 15.0, 120.0)


@dataclass(frozen=True)
class MachineType:
    id: str
    name: str
    ideal_cycle_s: float  # 0 = does not produce parts (no counts messages)
    cycle_cv: float
    scrap_rate: float
    mtbf_h: float
    mttr_min: float
    response_min: float
    setup_min: float
    changeover_h: float
    starve_h: float
    starve_min: float
    microstops_per_h: float
    microstop_s: float
    power_kw: tuple[float, ...]  # by MachineState
    temp_rise_c: tuple[float, ...]  # above ambient, by MachineState
    temp_tau_s: float
    vibration_mm_s: float  # running, unworn
    wear_gain: float  # vibration x (1 + wear_gain * defect^2) (simulator.wear)
    wear_life_h: float  # default life_h of the type's wear faults
    signals: tuple[SignalSpec, ...]
    faults: tuple[FaultSpec, ...]
    name_zh: str = ""  # default: name
    vibration_crest: float = 3.0  # healthy crest factor (peak / RMS) of the vibration
    pf_no_load: float = PF_NO_LOAD  # power factor at no load (I = P / (sqrt(3) U pf))
    pf_full_load: float = PF_FULL_LOAD  # power factor at the running power
    #: correlation time (s) of the sensor noise of each of NOISE_FIELDS
    noise_tau_s: tuple[float, ...] = NOISE_TAU_S

    def __post_init__(self) -> None:
        if not self.name_zh:
            object.__setattr__(self, "name_zh", self.name)

    @property
    def producing(self) -> bool:
        return self.ideal_cycle_s > 0


_TYPE_KEYS = ("name", "name_zh", "ideal_cycle_s", "cycle_cv", "scrap_rate", "mtbf_h", "mttr_min",
              "response_min", "setup_min", "changeover_h", "starve_h", "starve_min",
              "microstops_per_h", "microstop_s", "power_kw", "temp_c", "vibration_mm_s",
              "signals", "faults", "power_factor", "noise_tau_s")
#: Common signals whose noise correlation time a type may set (`noise_tau_s:`), in order.
NOISE_FIELDS = ("power_kw", "vibration_mm_s", "temp_c")


def _by_state(ctx: Ctx, m: Mapping[str, Any], path: str, *, required: tuple[str, ...],
              lo: float = 0.0, extra: tuple[str, ...] = ()) -> tuple[tuple[float, ...],
                                                                     dict[str, float]]:
    """Read ``{off, idle, running, setup, fault, maintenance}``; missing ones default.

    setup and fault default to idle, maintenance to off. Returns values by MachineState
    and any `extra` keys read as numbers.
    """
    known(ctx, m, path, (*STATE_KEYS, "run", *extra))
    vals: dict[str, float] = {}
    for key in STATE_KEYS:
        src = "run" if key == "running" and "run" in m else key
        if src in m:
            vals[key] = num(ctx, m, src, path, lo=lo)
    for key in required:
        if key not in vals:
            raise ctx.fail(join(path, "run" if key == "running" else key), "is required")
    vals.setdefault("off", 0.0)
    vals.setdefault("idle", vals["off"])
    vals.setdefault("running", vals["idle"])
    vals.setdefault("setup", vals["idle"])
    vals.setdefault("fault", vals["idle"])
    vals.setdefault("maintenance", vals["off"])
    extras = {k: num(ctx, m, k, path, lo=-math.inf) for k in extra if k in m}
    return tuple(vals[k] for k in STATE_KEYS), extras


def _signal(ctx: Ctx, name: str, raw: Any, path: str) -> SignalSpec:
    builtin = BUILTIN_SIGNALS.get(name)
    if builtin is None:
        taken = (*COMMON_SIGNALS, *CONDITION_SIGNALS, *RESERVED_FIELDS)
        if name in taken or not _FIELD.match(name):
            raise ctx.fail(path, f"{name!r} is not a signal name a type may declare (lower-"
                           "case letters, digits and _, starting with a letter, at most 64; "
                           f"not {', '.join(taken)})")
        builtin = ("", name, "")
    m = as_map(ctx, raw, path)
    model = text(ctx, m, "model", path, "level")
    if model not in SIGNAL_MODELS:
        raise ctx.fail(join(path, "model"),
                       f"must be one of {', '.join(SIGNAL_MODELS)}, got {model!r}")
    if not builtin[0] and m.get("unit") is None:
        raise ctx.fail(join(path, "unit"), f"is required for {name!r}, which is not a "
                       f"built-in signal ({', '.join(BUILTIN_SIGNALS)})")
    unit = text(ctx, m, "unit", path, builtin[0] or None)
    label = text(ctx, m, "name", path, builtin[1])
    label_zh = text(ctx, m, "name_zh", path, builtin[2] or label)
    rest = {k: v for k, v in m.items() if k not in ("model", "unit", "name", "name_zh")}
    by_state, ex = _by_state(ctx, rest, path, required=("running",), lo=-math.inf,
                             extra=("noise", "tau_min", "min", "max", "noise_tau_s"))
    lo, hi = ex.get("min", 0.0), ex.get("max", 100.0)
    if model == "charge" and lo >= hi:
        raise ctx.fail(join(path, "max"), f"must be greater than min ({lo:g})")
    tau_min = ex.get("tau_min", 10.0)
    if tau_min <= 0:
        raise ctx.fail(join(path, "tau_min"), f"must be > 0, got {tau_min:g}")
    noise = ex.get("noise", 0.01)
    if noise < 0:
        raise ctx.fail(join(path, "noise"), f"must be >= 0, got {noise:g}")
    noise_tau = ex.get("noise_tau_s", 60.0)
    if noise_tau < 0:
        raise ctx.fail(join(path, "noise_tau_s"), f"must be >= 0, got {noise_tau:g}")
    return SignalSpec(name=name, model=model, by_state=by_state, noise=noise,
                      tau_s=tau_min * 60.0, lo=lo, hi=hi, unit=unit, label=label,
                      label_zh=label_zh, noise_tau_s=noise_tau)


def _power_factor(ctx: Ctx, raw: Any, path: str) -> tuple[float, float]:
    """``power_factor: {no_load, full_load}`` (0 < no_load <= full_load <= 1)."""
    m = as_map(ctx, raw if raw is not None else {}, path)
    known(ctx, m, path, ("no_load", "full_load"))
    full = num(ctx, m, "full_load", path, PF_FULL_LOAD, lo=0.0, hi=1.0, lo_open=True)
    no_load = num(ctx, m, "no_load", path, min(PF_NO_LOAD, full), lo=0.0, hi=full,
                  lo_open=True)
    return no_load, full


def _noise_taus(ctx: Ctx, raw: Any, path: str) -> tuple[float, ...]:
    """``noise_tau_s: {power_kw, vibration_mm_s, temp_c}`` (seconds, 0 = white)."""
    m = as_map(ctx, raw if raw is not None else {}, path)
    known(ctx, m, path, NOISE_FIELDS)
    return tuple(num(ctx, m, f, path, d, hi=86400.0)
                 for f, d in zip(NOISE_FIELDS, NOISE_TAU_S, strict=True))


#: Defaults of a wear fault: P-F interval as a fraction of life_h, preventive restore.
PF_FRACTION = 0.15
PM_RESTORE = 0.03


def _fault(ctx: Ctx, raw: Any, path: str, default_life_h: float) -> FaultSpec:
    m = as_map(ctx, raw, path)
    known(ctx, m, path, ("code", "message", "message_zh", "severity", "weight", "mttr_min",
                         "kind", "life_h", "pf_h", "pm_restore"))
    code = text(ctx, m, "code", path)
    if not _CODE.match(code):
        raise ctx.fail(join(path, "code"),
                       f"{code!r} must be 1-32 of A-Z 0-9 _ . - starting with A-Z or 0-9")
    sev = text(ctx, m, "severity", path, "critical")
    if sev not in SEVERITIES:
        raise ctx.fail(join(path, "severity"),
                       f"must be one of {', '.join(SEVERITIES)}, got {sev!r}")
    mttr = num(ctx, m, "mttr_min", path, -1.0, lo=-1.0)
    if mttr != -1.0 and mttr <= 0:
        raise ctx.fail(join(path, "mttr_min"), f"must be > 0, got {mttr:g}")
    message = text(ctx, m, "message", path, code)
    kind = text(ctx, m, "kind", path, "random")
    if kind not in FAULT_KINDS:
        raise ctx.fail(join(path, "kind"),
                       f"must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
    wear = kind == "wear"
    for key in ("life_h", "pf_h", "pm_restore"):
        if key in m and not wear:
            raise ctx.fail(join(path, key), "is for a fault with kind: wear")
    life_h = num(ctx, m, "life_h", path, default_life_h, lo=0.0, lo_open=True) if wear else 0.0
    pf_h = num(ctx, m, "pf_h", path, PF_FRACTION * life_h, lo=0.0, lo_open=True) if wear \
        else 0.0
    if pf_h > life_h:
        raise ctx.fail(join(path, "pf_h"), f"must be at most life_h ({life_h:g}), got {pf_h:g}")
    return FaultSpec(code=code, message=message, severity=sev,
                     message_zh=text(ctx, m, "message_zh", path, message),
                     weight=num(ctx, m, "weight", path, 1.0, lo=0.0, lo_open=True),
                     mttr_min=None if mttr == -1.0 else mttr, kind=kind, life_h=life_h,
                     pf_h=pf_h,
                     pm_restore=num(ctx, m, "pm_restore", path, PM_RESTORE, hi=1.0)
                     if wear else 0.0)


def _machine_type(ctx: Ctx, tid: str, raw: Any, path: str) -> MachineType:
    m = as_map(ctx, raw, path)
    known(ctx, m, path, _TYPE_KEYS)
    power, _ = _by_state(ctx, as_map(ctx, m.get("power_kw"), join(path, "power_kw")),
                         join(path, "power_kw"), required=("running",))
    tpath = join(path, "temp_c")
    traw = as_map(ctx, m.get("temp_c", {"running": 15.0}), tpath)
    rise, tex = _by_state(ctx, traw, tpath, required=(), extra=("tau_min",))
    tau_min = tex.get("tau_min", 15.0)
    if tau_min <= 0:
        raise ctx.fail(join(tpath, "tau_min"), f"must be > 0, got {tau_min:g}")
    vpath = join(path, "vibration_mm_s")
    vraw = as_map(ctx, m.get("vibration_mm_s", {}), vpath)
    known(ctx, vraw, vpath, ("base", "wear_gain", "life_h", "crest"))
    life_h = num(ctx, vraw, "life_h", vpath, 600.0, lo=0.0, lo_open=True)
    spath = join(path, "signals")
    sraw = as_map(ctx, m.get("signals") or {}, spath)
    signals = tuple(_signal(ctx, k, v, join(spath, k)) for k, v in sraw.items())
    fpath = join(path, "faults")
    fraw = m.get("faults")
    if fraw is None:
        faults: tuple[FaultSpec, ...] = (FaultSpec("GEN-FAULT", "Machine fault"),)
    else:
        faults = tuple(_fault(ctx, f, f"{fpath}[{i}]", life_h)
                       for i, f in enumerate(as_list(ctx, fraw, fpath)))
    codes = [f.code for f in faults]
    if len(set(codes)) != len(codes):
        raise ctx.fail(fpath, "fault codes must be unique within a type")
    name = text(ctx, m, "name", path, tid)
    pf = _power_factor(ctx, m.get("power_factor"), join(path, "power_factor"))
    return MachineType(
        id=tid,
        name=name,
        name_zh=text(ctx, m, "name_zh", path, name),
        ideal_cycle_s=num(ctx, m, "ideal_cycle_s", path, 0.0, hi=86400.0),
        cycle_cv=num(ctx, m, "cycle_cv", path, 0.05, hi=1.0),
        scrap_rate=num(ctx, m, "scrap_rate", path, 0.01, hi=1.0),
        mtbf_h=num(ctx, m, "mtbf_h", path, 100.0, lo=0.0, lo_open=True),
        mttr_min=num(ctx, m, "mttr_min", path, 45.0, lo=0.0, lo_open=True),
        response_min=num(ctx, m, "response_min", path, 8.0),
        setup_min=num(ctx, m, "setup_min", path, 15.0),
        changeover_h=num(ctx, m, "changeover_h", path, 8.0, lo=0.0, lo_open=True),
        starve_h=num(ctx, m, "starve_h", path, 3.0, lo=0.0, lo_open=True),
        starve_min=num(ctx, m, "starve_min", path, 4.0),
        microstops_per_h=num(ctx, m, "microstops_per_h", path, 4.0),
        microstop_s=num(ctx, m, "microstop_s", path, 15.0),
        power_kw=power,
        temp_rise_c=rise,
        temp_tau_s=tau_min * 60.0,
        vibration_mm_s=num(ctx, vraw, "base", vpath, 1.5),
        wear_gain=num(ctx, vraw, "wear_gain", vpath, 3.0),
        wear_life_h=life_h,
        vibration_crest=num(ctx, vraw, "crest", vpath, 3.0, lo=1.0),
        signals=signals,
        faults=faults,
        pf_no_load=pf[0],
        pf_full_load=pf[1],
        noise_tau_s=_noise_taus(ctx, m.get("noise_tau_s"), join(path, "noise_tau_s")),
    )


def parse_types(raw: Any, source: str, path: str = "types") -> dict[str, MachineType]:
    ctx = Ctx(source)
    m = as_map(ctx, raw, path)
    if not m:
        raise ctx.fail(path, "must define at least one machine type")
    out: dict[str, MachineType] = {}
    for tid, body in m.items():
        p = join(path, tid)
        try:
            check_id("machine type", tid)
        except ValueError as exc:
            raise ctx.fail(p, str(exc)) from exc
        out[tid] = _machine_type(ctx, tid, body, p)
    return out


