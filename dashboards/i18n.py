"""English and Chinese (zh-CN) from the same code: every label is written as a pair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from telemetry.contract import MachineState, WorkOrderStatus

LangCode = Literal["en", "zh"]
LANGS: tuple[LangCode, ...] = ("en", "zh")


@dataclass(frozen=True)
class Lang:
    """The language a dashboard set is built in; ``lang.t(en, zh)`` picks the label."""

    code: LangCode

    def __post_init__(self) -> None:
        if self.code not in LANGS:
            raise ValueError(f"language {self.code!r}: allowed {', '.join(LANGS)}")

    def t(self, en: str, zh: str) -> str:
        return en if self.code == "en" else zh

    @property
    def grafana_locale(self) -> str:
        return "en-US" if self.code == "en" else "zh-Hans"


STATE_NAMES: dict[MachineState, tuple[str, str]] = {
    MachineState.OFF: ("Off", "关机"),
    MachineState.IDLE: ("Idle", "待机"),
    MachineState.RUNNING: ("Running", "运行"),
    MachineState.SETUP: ("Setup", "换型调试"),
    MachineState.FAULT: ("Fault", "故障"),
    MachineState.MAINTENANCE: ("Maintenance", "检修"),
}

WORK_ORDER_NAMES: dict[WorkOrderStatus, tuple[str, str]] = {
    WorkOrderStatus.OPEN: ("Open", "待处理"),
    WorkOrderStatus.IN_PROGRESS: ("In progress", "进行中"),
    WorkOrderStatus.DONE: ("Done", "已完成"),
}

#: Labels of the state reasons (simulator.downtime.REASONS: the `reason` field of `state`
#: and the `reason` tag of `downtime`), and of the reasons the plant model may add (issue
#: 16: `micro-stop`, `waiting-parts`, `holiday`, `standby`). A fault code such as
#: LSR-CHILLER is shown as its message from the plant's types (dashboards.wall). The
#: dashboards never list the reasons themselves: :func:`reason_label` labels whatever
#: REASONS holds, and a unit test fails for a reason without a label in both languages.
REASON_NAMES: dict[str, tuple[str, str]] = {
    "producing": ("Producing", "生产"),
    "repair": ("Repair", "故障维修"),
    "changeover": ("Changeover", "换型"),
    "warm-up": ("Warm-up", "开机预热"),
    "starved": ("Starved", "待料"),
    "blocked": ("Blocked", "下游堵塞"),
    "charging": ("Charging", "充电"),
    "break": ("Break", "休息"),
    "no shift": ("No shift", "非生产时间"),
    "preventive": ("Preventive maintenance", "预防性维护"),
    "fault": ("Fault", "故障"),
    "micro-stop": ("Micro-stop", "短暂停机"),
    "waiting-parts": ("Waiting for parts", "等待备件"),
    "holiday": ("Holiday", "节假日"),
    "standby": ("Standby", "待命"),
}
#: Kept for callers of the old name.
DOWNTIME_REASON_NAMES = REASON_NAMES


def reason_label(reason: str, lang: Lang) -> str:
    """A state reason in `lang`; one without a label reads as words (``micro-stop`` ->
    "Micro stop"), never as a raw code."""
    if reason in REASON_NAMES:
        return lang.t(*REASON_NAMES[reason])
    words = reason.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


#: Failure sources of the predictive-maintenance scorecard (`pdm_score`'s `source` tag).
PDM_SOURCE_NAMES: dict[str, tuple[str, str]] = {
    "wear": ("Wear-driven", "磨损型故障"),
    "random": ("Random", "随机故障"),
}
#: A prediction's `mode` when the detector cannot tell which wear fault is coming.
PDM_UNKNOWN_MODE = ("wear", ("Wear, mode not identified", "磨损（故障模式未定）"))


def state_name(state: MachineState, lang: Lang) -> str:
    return lang.t(*STATE_NAMES[state])


def work_order_name(status: WorkOrderStatus, lang: Lang) -> str:
    return lang.t(*WORK_ORDER_NAMES[status])
