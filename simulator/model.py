"""The plant model: every machine steps together as numpy arrays, one tick at a time.

Time is discrete: tick ``k`` is at ``start_ms + k * step_s``. A tick

1. accumulates the interval that just ended with the state decided at the previous tick
   (production, run/planned time, heat, wear, energy, sales orders);
2. decides the state for the next interval (shift calendar, hazards for faults,
   changeovers and starved/blocked stops, timers, demo commands) and raises alarm and
   work-order events (:mod:`simulator.transitions`);
3. computes the signals a sensor would read now.

The model owns its ``numpy.random.Generator`` and never reads the wall clock, so the
same plant, seed and start give the same run. Encoding to messages is separate
(:mod:`simulator.encode`) so the model can run without producing any text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.ambient import Ambient
from simulator.business import SalesModel
from simulator.crew import Crew
from simulator.cycletime import CycleClock
from simulator.downtime import (
    R_BREAK,
    R_FAULT,
    R_HOLIDAY,
    R_NOSHIFT,
    R_PREVENTIVE,
    R_PRODUCING,
    REASONS,
    Downtime,
)
from simulator.faults import FaultCodes
from simulator.flow import LineFlow
from simulator.frames import AlarmEvent, Episode, Frame, Intervals, WorkOrderEvent
from simulator.microstops import MicroStops
from simulator.plant import (
    CAL_BREAK,
    CAL_DOWNTIME,
    CAL_HOLIDAY,
    CAL_ON,
    Person,
    Plant,
    calendar_status,
)
from simulator.sensors import SensorFaults
from simulator.shift_effects import ShiftEffects
from simulator.shifts import LocalClock
from simulator.signals import PowerFactor, RedNoise, TypeSignals
from simulator.support import Support
from simulator.transitions import FAULT, IDLE, MAINT, OFF, RUNNING, SETUP, transition
from simulator.wear import Wear
from telemetry.contract import MachineState

__all__ = [
    "FAULT", "IDLE", "MAINT", "OFF", "REASONS", "RUNNING", "R_FAULT", "SETUP", "AlarmEvent",
    "Episode", "Frame", "Intervals", "PlantModel", "WorkOrderEvent",
]

N_STATES = len(MachineState)


#: Vibration relative to running, by state (OFF IDLE RUNNING SETUP FAULT MAINTENANCE).
_VIB_BY_STATE = np.array([0.03, 0.2, 1.0, 0.35, 0.1, 0.03])


class PlantModel:
    """All machines of a plant as arrays; :meth:`step` advances one tick."""

    prev_reason: np.ndarray  # the reasons before the last transition (set by it)

    def __init__(self, plant: Plant, seed: int, start_ms: int,
                 intervals: Intervals | None = None) -> None:
        self.plant = plant
        self.iv = intervals or Intervals()
        self.dt = float(self.iv.step_s)
        self.dt_ms = round(self.dt * 1000)
        if self.dt_ms < 1:
            raise ValueError("telemetry interval must be at least 1 ms")
        self.start_ms = int(start_ms)
        self.rng = np.random.default_rng(seed)
        self.tick = 0
        self.machines = plant.machines
        self.ids = [m.id for m in self.machines]
        self.index = {m: i for i, m in enumerate(self.ids)}
        n = self.n = len(self.machines)
        types = plant.types
        self.type_ids = list(dict.fromkeys(m.type for m in self.machines))
        self.type_idx = np.array([self.type_ids.index(m.type) for m in self.machines], np.int64)
        tl = [types[t] for t in self.type_ids]

        def per(attr: str, scale: float = 1.0) -> np.ndarray:
            return np.array([float(getattr(t, attr)) * scale for t in tl])[self.type_idx]

        self.ideal_s = per("ideal_cycle_s")
        self.producing = self.ideal_s > 0
        self.safe_ideal = np.where(self.producing, self.ideal_s, 1.0)
        self.cycle_cv = per("cycle_cv")
        self.scrap_rate = per("scrap_rate")
        self.mtbf_s = per("mtbf_h", 3600)
        self.mttr_s = per("mttr_min", 60)
        self.response_s = per("response_min", 60)
        self.setup_s = per("setup_min", 60)
        # Machines that make no parts never change over, starve or block (issue 16).
        self.changeover_s = np.where(self.producing, per("changeover_h", 3600), np.inf)
        self.starve_between_s = np.where(self.producing, per("starve_h", 3600), np.inf)
        self.starve_s = per("starve_min", 60)
        #: The generator of the loss features (micro-stops, crew), apart from the model's.
        self.loss_rng = np.random.default_rng([seed, 16])
        self.crew = Crew(plant, n, self.loss_rng)
        self.micro = MicroStops(per("microstops_per_h", 1 / 3600), per("microstop_s"),
                                self.producing, self.loss_rng)
        self.power_by_state = np.array([t.power_kw for t in tl])[self.type_idx]
        self.rise_by_state = np.array([t.temp_rise_c for t in tl])[self.type_idx]
        self.temp_alpha = 1 - np.exp(-self.dt / per("temp_tau_s"))
        self.vib_base = per("vibration_mm_s")
        self.faults = FaultCodes(tl, self.type_idx)
        self.fault_codes = self.faults.codes
        self.wear_model = Wear(tl, self.type_idx, self.faults, seed)
        #: Random-fault probability per second (0 for a type with only wear modes).
        self.random_rate = np.where(self.faults.has_random, 1.0 / self.mtbf_s, 0.0)
        # Calendars and areas.
        cal_ids = list(plant.calendars)
        self.calendars = [plant.calendars[c] for c in cal_ids]
        area_cal = {a.id: cal_ids.index(a.calendar) for a in plant.areas}
        self.cal_idx = np.array([area_cal[m.area] for m in self.machines], np.int64)
        self.area_ids = [a.id for a in plant.areas]
        self.area_idx = np.array([self.area_ids.index(m.area) for m in self.machines], np.int64)
        self.base_load_kw = np.array([a.base_load_kw for a in plant.areas])
        self._cal_cache: tuple[int, np.ndarray] = (-1, np.zeros(0, np.int8))
        self.clock = LocalClock(plant.tzinfo)
        self.shift_fx = ShiftEffects(plant, cal_ids, self.cal_idx, self.clock)
        self.signals = TypeSignals(self.machines, types, self.dt)
        # Ambient, power factor, correlated noise, sensor faults (simulator.signals...).
        self.ambient = Ambient(plant.climate, self.clock)
        self.pf = PowerFactor(self.power_by_state[:, RUNNING], per("pf_no_load"),
                              per("pf_full_load"))
        self.red = RedNoise(np.array([t.noise_tau_s for t in tl])[self.type_idx].T, self.dt)
        self.sensors = SensorFaults(plant.sensor_faults, self.ids, self.dt, self.dt_ms,
                                    np.random.default_rng([seed, 5]))
        self.signal_values = self.signals.values
        self.flow = LineFlow(plant, self.index, self.producing)
        self.support = Support(plant, self.index, self.producing,
                               self.power_by_state[:, RUNNING])
        self.sales = SalesModel(plant, self.rng)
        self.episodes: list[Episode] = []
        self._open_episode: dict[int, Episode] = {}
        self._commands: list[tuple[str, int, dict[str, Any]]] = []
        self._wo_seq = 0
        self._ar = np.arange(n)
        self.force_full_state = False
        self._init_state()

    # -- set-up ----------------------------------------------------------------------------
    def _init_state(self) -> None:
        n, rng = self.n, self.rng
        cal = self.calendar_now(self.start_ms)
        self.state = np.select(
            [cal == CAL_ON, cal == CAL_BREAK, cal == CAL_DOWNTIME],
            [RUNNING, IDLE, MAINT], OFF).astype(np.int64)
        self.reason = np.select(
            [cal == CAL_ON, cal == CAL_BREAK, cal == CAL_DOWNTIME, cal == CAL_HOLIDAY],
            [R_PRODUCING, R_BREAK, R_PREVENTIVE, R_HOLIDAY], R_NOSHIFT).astype(np.int64)
        self.planned_now = self._planned(cal)
        self.timer = np.zeros(n)
        self.timer_total = np.ones(n)
        self.repair_s = np.zeros(n)
        self.fault_code = np.full(n, -1, np.int64)
        self.wo_id: list[str] = [""] * n
        self.wo_opened = np.zeros(n, np.int64)
        self.technician: list[Person | None] = [None] * n
        self.load = rng.uniform(60, 90, n)
        ar = np.arange(n)
        self.temp_c = self.ambient.c(self.start_ms) + self.rise_by_state[ar, self.state] * 0.9
        self.progress = rng.uniform(0, 1, n)
        self.signals.start(self.state, rng)
        # Counters: totals start from a plausible, time-derived base so live runs continue
        # roughly where a backfill left off.
        hours = max(0.0, (self.start_ms - 1_735_689_600_000) / 3_600_000)  # since 2025-01-01
        self.good_total = np.where(self.producing, (hours * 3600 * 0.45 / self.safe_ideal),
                                   0).astype(np.int64)
        self.scrap_total = (self.good_total * self.scrap_rate).astype(np.int64)
        self.kwh_total = (self.base_load_kw + np.bincount(
            self.area_idx, self.power_by_state[:, RUNNING] * 0.5,
            minlength=len(self.area_ids))) * hours
        self.downtime = Downtime(n, self.fault_codes)
        self._zero_counts()
        self.kwh_acc = np.zeros(len(self.area_ids))
        self.cycles = CycleClock(np.where(self.producing, self.ideal_s * 1.05, 0.0))
        self.power_kw = self.power_by_state[ar, self.state].copy()
        self.area_power_kw = self.base_load_kw.copy()
        # Ground truth over the whole run.
        self.truth_run_s = np.zeros(n)
        self.truth_planned_s = np.zeros(n)
        self.truth_ideal_s = np.zeros(n)
        self.truth_good = np.zeros(n, np.int64)
        self.truth_scrap = np.zeros(n, np.int64)
        self.state_seconds = np.zeros((n, N_STATES))
        self.truth_kwh = np.zeros(len(self.area_ids))
        self._compute_signals(rng.standard_normal((8, n)))
        self.prev_state = self.state.copy()

    def _zero_counts(self) -> None:
        n = self.n
        self.acc_good = np.zeros(n, np.int64)
        self.acc_scrap = np.zeros(n, np.int64)
        self.acc_run_s = np.zeros(n)
        self.acc_planned_s = np.zeros(n)
        self.acc_ideal_s = np.zeros(n)
        self.downtime.reset()
        self.micro.reset()

    @property
    def last_cycle_s(self) -> np.ndarray:
        """`cycle_time_s` of `counts`: running seconds per finished part (cycletime)."""
        return self.cycles.last_s

    # -- downtime (simulator.downtime; these names are what the encoder and truth read) ---
    @property
    def acc_down_s(self) -> np.ndarray:
        return self.downtime.acc_s

    @property
    def acc_down_state(self) -> np.ndarray:
        return self.downtime.acc_state

    @property
    def down_rows(self) -> np.ndarray:
        return self.downtime.rows

    @property
    def truth_down_s(self) -> np.ndarray:
        return self.downtime.truth_s

    def down_reason(self, key: int) -> str:
        return self.downtime.reason(key)

    @property
    def wear(self) -> np.ndarray:
        """Per machine: the age of its most used wear component (1.0 = its life_h)."""
        return self.wear_model.level

    # -- calendar ----------------------------------------------------------------------------
    def calendar_now(self, ts_ms: int) -> np.ndarray:
        """Calendar status (CAL_*) of every machine at ``ts_ms``."""
        local_s = self.clock.local_s(ts_ms)
        minute_key = local_s // 60
        if self._cal_cache[0] == minute_key:
            return self._cal_cache[1]
        minute = int(minute_key % 1440)
        day = int(local_s // 86400)
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        per_cal = np.array([calendar_status(c, minute, weekday, day)
                            for c in self.calendars], np.int8)
        status = per_cal[self.cal_idx]
        self._cal_cache = (minute_key, status)
        return status

    def ts_of(self, tick: int) -> int:
        return self.start_ms + tick * self.dt_ms

    @property
    def now_ms(self) -> int:
        return self.ts_of(self.tick)

    # -- demo commands -----------------------------------------------------------------------
    def open_episodes(self) -> list[Episode]:
        """Faults not yet back in service."""
        return list(self._open_episode.values())

    def command(self, action: str, machine: str, **params: Any) -> None:
        """Queue a demo command applied at the next tick: fault, clear, starve or wear."""
        if machine not in self.index:
            raise KeyError(machine)
        if action not in ("fault", "clear", "starve", "wear"):
            raise ValueError(f"unknown action {action!r}")
        self._commands.append((action, self.index[machine], params))

    # -- stepping ----------------------------------------------------------------------------
    def initial_frame(self) -> Frame:
        """Frame for tick 0: meta and the state of every machine."""
        return Frame(ts_ms=self.start_ms, tick=0, telemetry=True, state_all=True,
                     state_changed=np.ones(self.n, bool), meta=True)

    def step(self, *, force_counts: bool = False) -> Frame:
        n, dt, rng = self.n, self.dt, self.rng
        self.tick += 1
        ts = self.now_ms
        prev_ts = ts - self.dt_ms
        ar = self._ar
        s = self.state
        noise = rng.standard_normal((8, n))
        # 1. the interval (prev_ts, ts] in state s ------------------------------------------
        running = s == RUNNING
        planned = self.planned_now
        # Running for OEE: RUNNING or in a micro-stop (performance loss, not downtime).
        working, eff = self.micro.interval(s, self.reason, self.timer, dt)
        run_s = np.where(working, dt, 0.0)
        shift_perf, shift_scrap = self.shift_fx.at(prev_ts)
        cycle = self.safe_ideal * (1.03 + self.cycle_cv * np.abs(noise[0])) / shift_perf
        before = self.progress.copy()
        self.progress += np.where(working & self.producing, eff / cycle, 0.0)
        units = self.flow.clamp(np.floor(self.progress).astype(np.int64))
        self.cycles.add(run_s, before, self.progress, units)
        # A part finished but held by a full buffer or no input waits in the machine.
        self.progress = np.minimum(self.progress - units, 1.0)
        defect = self.wear_model.worst
        p_scrap = np.minimum(self.scrap_rate * (1 + 2 * defect * defect) * shift_scrap, 0.5)
        scrap = rng.binomial(units, p_scrap)
        good = units - scrap
        self.flow.move(good, units)
        ideal = units * self.ideal_s
        planned_s = planned * dt
        self.acc_good += good
        self.acc_scrap += scrap
        self.acc_run_s += run_s
        self.acc_planned_s += planned_s
        self.acc_ideal_s += ideal
        self.good_total += good
        self.scrap_total += scrap
        self.truth_good += good
        self.truth_scrap += scrap
        self.truth_run_s += run_s
        self.truth_planned_s += planned_s
        self.truth_ideal_s += ideal
        self.state_seconds[ar, s] += dt
        self.downtime.add(s, self.reason, self.fault_code, (planned > 0) & ~working, dt)
        # Heat, wear and load evolve over the interval.
        self.load = np.where(running, np.clip(self.load + 2.5 * noise[1], 45, 98), self.load)
        self.support.apply_load(self.load, running, noise[1])
        load_f = np.where(running, 0.6 + 0.4 * self.load / 100, 1.0)
        target = self.ambient.c(ts) + self.rise_by_state[ar, s] * load_f \
            + np.where(running, self.wear_model.heat_c, 0.0)
        self.temp_c += (target - self.temp_c) * self.temp_alpha
        self.wear_model.advance(run_s, self.load, ts)
        self.signals.advance(s, dt)
        energy = self.power_kw * dt / 3600
        area_kwh = np.bincount(self.area_idx, energy, minlength=len(self.area_ids)) \
            + self.base_load_kw * dt / 3600
        self.kwh_acc += area_kwh
        self.kwh_total += area_kwh
        self.truth_kwh += area_kwh
        # 2. decide the next interval -------------------------------------------------------
        frame = Frame(ts_ms=ts, tick=self.tick)
        transition(self, ts, frame)
        changed = (self.state != s) | (self.reason != self.prev_reason)
        # 3. what sensors read now ----------------------------------------------------------
        self._compute_signals(noise)
        # 4. business streams ---------------------------------------------------------------
        self.sales.produced(good, dt)
        frame.sales = self.sales.orders(prev_ts, ts, self.clock.offset_s(prev_ts))
        k = self.tick
        frame.state_changed = changed
        frame.state_all = k % self.iv.state_every == 0 or self.force_full_state
        self.force_full_state = False
        frame.counts = force_counts or k % self.iv.counts_every == 0
        frame.energy = force_counts or k % self.iv.energy_every == 0
        if frame.counts:
            self.cycles.close()
        return frame

    def closing_frame(self) -> Frame:
        """Counts and energy for the partial interval up to now, when a run stops early.

        Empty when the last tick already sent them (no two messages share a ts).
        """
        k = self.tick
        frame = Frame(ts_ms=self.now_ms, tick=k, telemetry=False,
                      state_changed=np.zeros(self.n, bool))
        frame.counts = k > 0 and k % self.iv.counts_every != 0
        frame.energy = k > 0 and k % self.iv.energy_every != 0
        if frame.counts:
            self.cycles.close()
        return frame

    def after_emit(self, frame: Frame) -> None:
        """Reset interval accumulators once the encoder has read a frame."""
        if frame.counts:
            self._zero_counts()
        if frame.energy:
            self.kwh_acc[:] = 0.0

    @staticmethod
    def _planned(cal: np.ndarray) -> np.ndarray:
        """1 where the next interval counts as planned production time: on shift.

        Breaks, planned downtime and time off shift are not planned; a repair that runs
        past the end of a shift stops costing availability when the shift ends.
        """
        planned: np.ndarray = (cal == CAL_ON).astype(np.float64)
        return planned


    def _compute_signals(self, noise: np.ndarray) -> None:
        ar = self._ar
        st = self.state
        running = st == RUNNING
        base = self.power_by_state[ar, st]
        idle_kw = self.power_by_state[:, IDLE]
        power = np.where(running, idle_kw + (base - idle_kw) * self.load / 90.0, base)
        red = self.red.step(noise[2:5])  # power, vibration, temperature: AR(1), not white
        self.power_kw = np.maximum(power * (1 + 0.02 * red[0]), 0.0)
        self.load_pct = np.where(running, self.load, 0.0)
        vib_f = _VIB_BY_STATE[st]
        wear = self.wear_model
        vib = self.vib_base * wear.vib_factor * vib_f
        self.vibration = np.maximum(vib * (1 + 0.05 * red[1]), 0.01)
        self.vibration_crest = wear.crest(vib_f >= 0.2, wear.rng.standard_normal(self.n))
        self.temp_out = self.temp_c + 0.15 * red[2]
        self.power_kw *= wear.friction  # a failing component drags
        self.current_a = self.pf.current_a(self.power_kw)
        self.signals.read(st, noise[5:8])
        self.area_power_kw = np.bincount(self.area_idx, self.power_kw,
                                         minlength=len(self.area_ids)) + self.base_load_kw
        self.sensors.apply(self.tick, self.now_ms, self.sensor_values)

    def sensor_values(self) -> dict[str, np.ndarray]:
        """Every telemetry field as it truly is (NaN where a machine lacks it); what is
        sent is this with ``self.sensors.overrides`` on top (simulator.sensors)."""
        return {"temp_c": self.temp_out, "vibration_mm_s": self.vibration,
                "vibration_crest": self.vibration_crest, "power_kw": self.power_kw,
                "current_a": self.current_a, "load_pct": self.load_pct, **self.signal_values}
