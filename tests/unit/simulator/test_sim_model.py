from __future__ import annotations

from simulator.model import FAULT, IDLE, MAINT, OFF, RUNNING, SETUP, Intervals, PlantModel

from .helpers_sim import MONDAY_0800_LOCAL_MS, PRESS, tiny_plant

MIN_MS = 60_000


def _model(shifts: list[str] | None = None, start_ms: int = MONDAY_0800_LOCAL_MS,
           press: dict | None = None, machines: int = 2, step_s: float = 10.0,
           seed: int = 1) -> PlantModel:
    plant = tiny_plant(shifts=shifts, machines=machines, press=press)
    return PlantModel(plant, seed, start_ms, Intervals.from_seconds(step_s, 60, 60, 60, 60))


def _run(m: PlantModel, minutes: float) -> list:
    frames = []
    for _ in range(round(minutes * 60 / m.dt)):
        f = m.step()
        frames.append(f)
        m.after_emit(f)
    return frames


def test_shift_calendar_drives_off_warmup_running() -> None:
    # On shift 08:00-08:30 local, starting at 08:00: RUNNING, then OFF after 08:30,
    # then SETUP (warm-up) when the next shift starts at 09:00, then RUNNING.
    m = _model(shifts=["08:00-08:30", "09:00-10:00"])
    assert (m.state == RUNNING).all()
    _run(m, 31)
    assert (m.state == OFF).all()
    assert m.planned_now.sum() == 0
    _run(m, 30)  # now 09:01
    assert (m.state == SETUP).all()
    _run(m, 15)  # warm-up is half the type's setup time (default 15 min)
    assert (m.state == RUNNING).all()


def test_stopped_machine_cools_and_running_machine_heats() -> None:
    m = _model(shifts=["08:00-08:30"])
    _run(m, 25)
    hot = m.temp_c.copy()
    _run(m, 30)  # off shift from 08:30
    assert (m.state == OFF).all()
    assert (m.temp_c < hot - 5).all()
    cold = _model(shifts=["08:00-12:00"])
    cold.temp_c[:] = 24.0
    _run(cold, 10)
    assert (cold.temp_c > 30).all()


def test_a_demo_ramp_raises_vibration_and_any_repair_resets_it_without_wear_modes() -> None:
    # The tiny press has no `kind: wear` fault: one demo-only component that never fails.
    m = _model(machines=2)
    m.command("wear", "p-02", value=1.2, duration_s=0)
    _run(m, 1)
    assert m.vibration[1] > 2.5 * m.vibration[0]
    assert m.vibration_crest[1] > 1.3 * m.vibration_crest[0]
    # Wear grows with running hours (life 100 h).
    before = m.wear.copy()
    _run(m, 60)
    assert (m.wear > before).all()
    assert not m.episodes  # a demo-only component never fails
    # Without wear modes, a repair resets it (as before there were wear modes).
    m.command("fault", "p-02", code="T-JAM", duration_s=600)
    _run(m, 12)
    assert m.wear[1] < 0.001  # new, then a minute or so of running


def test_fault_lifecycle_alarm_and_work_order() -> None:
    m = _model(machines=1)
    m.command("fault", "p-01", code="T-JAM", duration_s=20 * 60)
    frames = _run(m, 25)
    alarms = [(f.ts_ms, a.active, a.code) for f in frames for a in f.alarms]
    wos = [(f.ts_ms, w.status, w.progress_pct, w.technician) for f in frames
           for w in f.workorders]
    assert alarms[0][1:] == (True, "T-JAM") and alarms[-1][1:] == (False, "T-JAM")
    statuses = [w[1] for w in wos]
    assert statuses[0] == "open" and statuses[-1] == "done"
    assert statuses.index("in_progress") < len(statuses) - 1
    progress = [w[2] for w in wos if w[1] == "in_progress"]
    assert progress == sorted(progress) and progress[0] == 0.0
    assert wos[-1][3]  # a technician did the job
    assert all(w[0] > alarms[0][0] for w in wos[1:])
    # Down for about the commanded 20 minutes, then back to RUNNING.
    assert (alarms[-1][0] - alarms[0][0]) / MIN_MS == 20
    assert m.state[0] == RUNNING
    ep = m.episodes[0]
    assert (ep.code, ep.source, ep.end_ms) == ("T-JAM", "control", alarms[-1][0])


def test_fault_then_maintenance_states() -> None:
    m = _model(machines=1)
    m.command("fault", "p-01", duration_s=40 * 60)
    seen = []
    for _ in range(45 * 6):
        m.after_emit(m.step())
        seen.append(int(m.state[0]))
    order = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert order == [FAULT, MAINT, RUNNING]


def test_random_faults_follow_mtbf() -> None:
    press = dict(PRESS, mtbf_h=2.0, mttr_min=10)
    m = _model(press=press, machines=50, step_s=30.0)
    _run(m, 12 * 60)
    n = len(m.episodes)
    # 50 machines x ~12 h, minus downtime: about 50 * 12 / 2 faults (wear adds a little).
    assert 170 < n < 450, n
    codes = {e.code for e in m.episodes}
    assert codes == {"T-JAM"}


def test_starved_and_changeover_stops_happen() -> None:
    press = dict(PRESS, starve_h=0.5, changeover_h=1.0)
    m = _model(press=press, machines=20)
    seen: set[int] = set()
    for _ in range(8 * 360):
        m.after_emit(m.step())
        seen.update(int(s) for s in m.state)
    assert {IDLE, SETUP, RUNNING} <= seen


def test_production_counts_follow_cycle_time() -> None:
    m = _model(machines=1)
    _run(m, 60)
    made = int(m.truth_good[0] + m.truth_scrap[0])
    # 3600 s at a 10 s ideal cycle, somewhat slower in practice.
    assert 280 <= made <= 360
    assert m.truth_run_s[0] == 3600 and m.truth_planned_s[0] == 3600
    assert abs(m.truth_ideal_s[0] - made * 10) < 1e-6


def test_model_never_reads_the_wall_clock(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import time

    def boom() -> float:
        raise AssertionError("the model read the wall clock")

    m = _model(machines=3)
    monkeypatch.setattr(time, "time", boom)
    monkeypatch.setattr(time, "monotonic", boom)
    _run(m, 30)
