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

#: The `downtime` kind's reasons other than fault codes (docs/contract.md); a fault code
#: such as LSR-CHILLER is shown as its message from the plant's types (dashboards.wall).
DOWNTIME_REASON_NAMES: dict[str, tuple[str, str]] = {
    "repair": ("Repair", "故障维修"),
    "changeover": ("Changeover", "换型"),
    "warm-up": ("Warm-up", "开机预热"),
    "starved": ("Starved", "待料"),
    "blocked": ("Blocked", "下游堵塞"),
    "charging": ("Charging", "充电"),
}


def state_name(state: MachineState, lang: Lang) -> str:
    return lang.t(*STATE_NAMES[state])


def work_order_name(status: WorkOrderStatus, lang: Lang) -> str:
    return lang.t(*WORK_ORDER_NAMES[status])
