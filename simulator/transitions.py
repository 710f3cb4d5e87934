"""State transitions of the plant model: calendar, hazards, repairs and demo commands.

:func:`transition` decides, once a tick, the state and reason of every machine for the next
interval: the shift calendar, random faults, changeovers and starved/blocked stops, timers
running out, the technician's repair, the line's buffers and the demo commands queued by
:meth:`simulator.model.PlantModel.command`. Faults raise alarm and work-order events on the
tick's :class:`~simulator.frames.Frame`. The functions take the model and use its generator
in a fixed order, so a run stays the same for the same seed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.downtime import (
    R_BLOCKED,
    R_BREAK,
    R_CHANGEOVER,
    R_CHARGING,
    R_FAULT,
    R_HOLIDAY,
    R_MICROSTOP,
    R_NOSHIFT,
    R_PREVENTIVE,
    R_PRODUCING,
    R_REPAIR,
    R_STARVED,
    R_WAITPARTS,
    R_WARMUP,
    fault_open,
)
from simulator.faults import zh_if
from simulator.frames import AlarmEvent, Episode, Frame, WorkOrderEvent
from simulator.shifts import CAL_BREAK, CAL_DOWNTIME, CAL_HOLIDAY, CAL_OFF, CAL_ON
from telemetry.contract import MachineState

if TYPE_CHECKING:
    from simulator.model import PlantModel

log = logging.getLogger(__name__)

OFF, IDLE, RUNNING, SETUP, FAULT, MAINT = (int(s) for s in MachineState)
#: Default time the demo `wear` action takes to age a component to its value.
WEAR_RAMP_S = 7200.0


def transition(m: PlantModel, ts: int, frame: Frame) -> None:
    """Decide every machine's state for the interval after ``ts``; events go to ``frame``."""
    n, dt, rng = m.n, m.dt, m.rng
    s, reason = m.state, m.reason
    m.prev_reason = reason.copy()
    new, new_reason = s.copy(), reason.copy()
    cal = m.calendar_now(ts)
    m.timer -= dt
    expired = m.timer <= 1e-9
    u = rng.random(n)
    is_f = s == FAULT
    is_rep = (s == MAINT) & (reason == R_REPAIR)
    is_pm = (s == MAINT) & (reason == R_PREVENTIVE)
    is_parts = (s == MAINT) & (reason == R_WAITPARTS)
    # Faults wait for a technician (simulator.crew), then are repaired, some wait for
    # parts half way; repairs ignore the calendar.
    rep_end = is_rep & expired
    to_parts = rep_end & (m.crew.parts_s > 0)
    back = rep_end & ~to_parts
    free = ~(is_f | is_rep | is_parts) | back
    on = free & (cal == CAL_ON)
    off = free & ((cal == CAL_OFF) | (cal == CAL_HOLIDAY))
    new[off] = OFF
    new_reason[off] = np.where(cal[off] == CAL_HOLIDAY, R_HOLIDAY, R_NOSHIFT)
    new[free & (cal == CAL_BREAK)] = IDLE
    new_reason[free & (cal == CAL_BREAK)] = R_BREAK
    new[free & (cal == CAL_DOWNTIME)] = MAINT
    new_reason[free & (cal == CAL_DOWNTIME)] = R_PREVENTIVE
    # On shift.
    warm = on & ((s == OFF) | is_pm)
    resume = on & (back | ((s == IDLE) & (reason == R_BREAK)))
    timed = (s == SETUP) | ((s == IDLE) & (reason != R_BREAK))
    done = on & ~back & timed & expired
    run = on & ~back & (s == RUNNING)
    # Random faults: constant hazard 1/mtbf_h; wear faults: a component at its failure
    # point (simulator.wear).
    p_f = dt * m.random_rate
    p_c = p_f + dt / m.changeover_s
    p_s = p_c + dt / m.starve_between_s
    worn, worn_code = m.wear_model.failing(run)
    fault = run & (u < p_f)
    fault[worn] = True
    chg = run & ~fault & (u >= p_f) & (u < p_c)
    stv = run & ~fault & (u >= p_c) & (u < p_s)
    # Battery-type signals at their minimum send the machine to charge.
    charge_idx = m.signals.needs_charge(run & ~fault, IDLE, m.timer, m.dt)
    new[resume | done] = RUNNING
    new_reason[resume | done] = R_PRODUCING
    # A micro-stop that outlasts the tick shows as IDLE for its rest (microstops.py).
    going = (run & ~(fault | chg | stv)) | (done & (reason == R_MICROSTOP))
    mi = np.flatnonzero(going & (m.micro.overflow_s > 0))
    if mi.size:
        new[mi] = IDLE
        new_reason[mi] = R_MICROSTOP
        m.timer[mi] = m.micro.overflow_s[mi]
    wi = np.flatnonzero(warm)
    if wi.size:
        new[wi] = SETUP
        new_reason[wi] = R_WARMUP
        m.timer[wi] = np.maximum(0.5 * m.setup_s[wi], dt)
        m.wear_model.maintained(wi[is_pm[wi]])
    ci = np.flatnonzero(chg)
    if ci.size:
        new[ci] = SETUP
        new_reason[ci] = R_CHANGEOVER
        m.timer[ci] = np.maximum(rng.exponential(m.setup_s[ci]), dt)
    si = np.flatnonzero(stv)
    if si.size:
        new[si] = IDLE
        new_reason[si] = np.where(rng.random(si.size) < 0.5, R_STARVED, R_BLOCKED)
        m.timer[si] = np.maximum(rng.exponential(m.starve_s[si]), dt)
    if charge_idx.size:
        new[charge_idx] = IDLE
        new_reason[charge_idx] = R_CHARGING
    # Repairs done, then the crew frees, queues and assigns technicians.
    for i in np.flatnonzero(back):
        end_fault(m, int(i), ts, frame)
    m.crew.step(m, frame, new, new_reason, (is_f | is_parts) & expired, is_parts,
                to_parts, back, is_rep)
    # Work-order progress while being repaired.
    if m.tick % m.iv.wo_every == 0:
        for i in np.flatnonzero(is_rep & ~rep_end):
            frame.workorders.append(wo_progress(m, int(i), "in_progress"))
    # Random and wear faults, then demo commands.
    fi = np.flatnonzero(fault)
    if fi.size:
        codes = m.faults.draw(fi, rng.random(fi.size))
        by_wear = np.isin(fi, worn)
        codes[by_wear] = worn_code
        resp = np.maximum(rng.exponential(m.response_s[fi]), dt)
        mttr = m.faults.mttr_s(codes)
        repair = np.maximum(rng.lognormal(np.log(mttr) - 0.125, 0.5), dt)
        for j, i in enumerate(fi):
            start_fault(m, int(i), int(codes[j]), float(resp[j]), float(repair[j]),
                        ts, "wear" if by_wear[j] else "random", frame, new, new_reason)
    apply_commands(m, ts, frame, new, new_reason, s, on)
    m.flow.gate(new, new_reason, m.timer, R_STARVED, R_BLOCKED)
    m.support.dispatch(new, new_reason, m.timer, ts)
    m.state, m.reason = new, new_reason
    m.planned_now = m._planned(cal)


def start_fault(m: PlantModel, i: int, code: int, response_s: float, repair_s: float,
                ts: int, source: str, frame: Frame, new: np.ndarray, new_reason: np.ndarray,
                ) -> None:
    """Machine ``i`` goes down with fault ``code``: alarm, open work order, episode."""
    new[i] = FAULT
    new_reason[i] = R_FAULT
    m.fault_code[i] = code
    m.timer[i] = response_s
    m.repair_s[i] = repair_s
    m._wo_seq += 1
    day = m.clock.day(ts)
    m.wo_id[i] = f"WO-{day}-{m._wo_seq:05d}"
    m.wo_opened[i] = ts
    m.technician[i] = None
    code_s, message, severity, _, message_zh = m.fault_codes[code]
    frame.alarms.append(AlarmEvent(i, code_s, True, severity, message, m.wo_id[i],
                                   zh_if(message_zh, message_zh, message)))
    frame.workorders.append(wo_event(m, i, "open", 0.0))
    ep = Episode(m.ids[i], code_s, source, ts, m.wo_id[i])
    m.episodes.append(ep)
    m._open_episode[i] = ep


def end_fault(m: PlantModel, i: int, ts: int, frame: Frame) -> None:
    """The machine is back: work order done, alarm cleared, episode closed; a wear
    mode's component is new (other components stay as they are)."""
    m.wear_model.repaired(i, int(m.fault_code[i]))
    frame.workorders.append(wo_event(m, i, "done", 100.0))
    code, message, severity, _, message_zh = m.fault_codes[m.fault_code[i]]
    frame.alarms.append(AlarmEvent(i, code, False, severity, f"Cleared: {message}",
                                   m.wo_id[i],
                                   zh_if(f"已清除：{message_zh}", message_zh, message)))
    ep = m._open_episode.pop(i, None)
    if ep is not None:
        ep.end_ms = ts


def apply_commands(m: PlantModel, ts: int, frame: Frame, new: np.ndarray,
                   new_reason: np.ndarray, old: np.ndarray, on: np.ndarray) -> None:
    """Apply the demo commands queued by :meth:`PlantModel.command`."""
    commands, m._commands = m._commands, []
    for action, i, params in commands:
        busy = fault_open(int(new[i]), int(new_reason[i]))
        if action == "wear":  # ages one component over duration_s (default 2 h)
            w = m.wear_model
            k = w.first_mode(i, m.faults.code_number(i, params.get("code")))
            end = ts + round(float(params.get("duration_s", WEAR_RAMP_S)) * 1000)
            w.start_ramp(i, k, float(params.get("value", 0.9)), ts, end)
        elif action == "clear":
            if busy:  # back through a short warm-up, as after a repair
                end_fault(m, i, ts, frame)
                new[i], new_reason[i], m.timer[i] = SETUP, R_WARMUP, m.dt
        elif action == "starve":
            if not m.producing[i]:
                log.warning("machine %s makes no parts; starve command ignored", m.ids[i])
            elif on[i] and not busy:
                new[i] = IDLE
                new_reason[i] = R_STARVED
                m.timer[i] = max(float(params.get("duration_s", 600)), m.dt)
        elif busy:
            log.warning("machine %s is already down; fault command ignored", m.ids[i])
        else:
            code = m.faults.code_for(i, params.get("code"), float(m.mttr_s[i]))
            duration = max(float(params.get("duration_s", 1200)), 2 * m.dt)
            start_fault(m, i, code, 0.25 * duration, 0.75 * duration, ts,
                        str(params.get("source", "control")), frame, new, new_reason)


def wo_event(m: PlantModel, i: int | np.integer[Any], status: str,
             pct: float) -> WorkOrderEvent:
    """The work-order message of machine ``i``'s current fault."""
    code = {"open": 0, "in_progress": 1, "done": 2}[status]
    tech = m.technician[i]
    return WorkOrderEvent(int(i), m.wo_id[i], status, code, float(pct),
                          tech.name if tech else "", m.fault_codes[m.fault_code[i]][0],
                          int(m.wo_opened[i]), tech.name_zh if tech else "")


def wo_progress(m: PlantModel, i: int, status: str) -> WorkOrderEvent:
    """The work-order event of machine ``i`` with its repair progress so far (the part
    of the repair left after a wait for parts included)."""
    left = max(float(m.timer[i]), 0.0) + float(m.crew.rest_s[i])
    pct = 100.0 * (1 - left / max(float(m.timer_total[i]), 1e-9))
    return wo_event(m, i, status, min(max(round(pct, 1), 0.0), 99.9) + 0.0)  # not -0.0
