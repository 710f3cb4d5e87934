"""The wire contract: topic shapes, kinds, measurement names and field types.

Everything the simulator publishes and the collector maps is described here, once.
See docs/contract.md for the human-readable version with examples.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

FieldType = Literal["float", "int", "bool", "str"]

#: Payload key that carries the timestamp, epoch milliseconds (int).
TS_KEY = "ts"

#: Topic level names used as InfluxDB tags, in topic order.
MACHINE_LEVELS = ("enterprise", "site", "area", "line", "machine")
AREA_LEVELS = ("enterprise", "site", "area")
SITE_LEVELS = ("enterprise", "site")

#: Reserved topic segments (never valid as area/line/machine ids).
AREA_SEGMENT = "_area"
SITE_SEGMENT = "_site"
CONTROL_SEGMENT = "_control"


class MachineState(enum.IntEnum):
    """Machine states; the integer is the `state_code` field written to InfluxDB."""

    OFF = 0
    IDLE = 1
    RUNNING = 2
    SETUP = 3
    FAULT = 4
    MAINTENANCE = 5


#: Colours for dashboards and the terminal overview (Grafana named colours).
STATE_COLOURS: dict[MachineState, str] = {
    MachineState.OFF: "#5a5a5a",
    MachineState.IDLE: "#f2cc0c",
    MachineState.RUNNING: "#56a64b",
    MachineState.SETUP: "#3274d9",
    MachineState.FAULT: "#e02f44",
    MachineState.MAINTENANCE: "#ff780a",
}


class WorkOrderStatus(enum.IntEnum):
    """Maintenance work-order lifecycle; the integer is the `status_code` field."""

    OPEN = 0
    IN_PROGRESS = 1
    DONE = 2


#: The demo plant's sales regions and channels (a plant file sets its own: business:).
SALES_REGIONS = (
    "East China",
    "South China",
    "North China",
    "Central China",
    "Southwest China",
    "Northwest China",
    "Northeast China",
    "Overseas",
)
SALES_CHANNELS = ("dealer", "online", "live-stream", "cross-border")
ALARM_SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Kind:
    """One message kind: its topic level, measurement and field types.

    `fields` lists every field a payload of this kind may carry and its InfluxDB type;
    fields not listed default to float in the collector. `payload_tags` are payload keys
    written as tags (string values) rather than fields.
    """

    name: str
    scope: Literal["machine", "area", "site"]
    fields: dict[str, FieldType]
    payload_tags: tuple[str, ...] = ()
    retained: bool = False
    description: str = ""
    required: tuple[str, ...] = field(default=())

    @property
    def measurement(self) -> str:
        return self.name

    @property
    def levels(self) -> tuple[str, ...]:
        return {"machine": MACHINE_LEVELS, "area": AREA_LEVELS, "site": SITE_LEVELS}[self.scope]


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "state",
            "machine",
            {"state": "str", "state_code": "int", "running": "int", "planned": "int",
             "reason": "str"},
            required=("state", "state_code"),
            description="Machine state, on change and every state interval.",
        ),
        Kind(
            "telemetry",
            "machine",
            {"temp_c": "float", "vibration_mm_s": "float", "vibration_crest": "float",
             "power_kw": "float", "current_a": "float", "load_pct": "float",
             "spindle_rpm": "float",
             "tonnage_t": "float", "oven_temp_c": "float", "pressure_bar": "float",
             "speed_m_min": "float", "battery_pct": "float", "flow_m3_min": "float"},
            description="Physical signals every telemetry interval; which ones depends on type.",
        ),
        Kind(
            "counts",
            "machine",
            {"good": "int", "scrap": "int", "good_total": "int", "scrap_total": "int",
             "run_s": "float", "planned_s": "float", "ideal_s": "float",
             "cycle_time_s": "float"},
            required=("good", "scrap"),
            description="Production in the interval since the previous counts message (deltas) "
            "plus running totals; OEE is computed from the deltas.",
        ),
        Kind(
            "downtime",
            "machine",
            {"duration_s": "float", "state": "str"},
            payload_tags=("reason",),
            required=("duration_s", "state"),
            description="Planned downtime in the interval since the previous counts message, "
            "one message per (machine, reason): seconds of planned, not-running time in the "
            "given state. Σduration_s = Σplanned_s - Σrun_s of the counts.",
        ),
        Kind(
            "alarm",
            "machine",
            {"code": "str", "active": "bool", "message": "str", "message_zh": "str",
             "wo_id": "str"},
            payload_tags=("severity",),
            required=("code", "active"),
            description="Alarm raised (active=true) or cleared (active=false).",
        ),
        Kind(
            "workorder",
            "machine",
            {"status": "str", "status_code": "int", "progress_pct": "float",
             "technician": "str", "technician_zh": "str", "fault_code": "str",
             "opened_ts": "int"},
            payload_tags=("wo_id",),
            required=("status", "status_code", "progress_pct"),
            description="Maintenance work order update: open -> in_progress -> done.",
        ),
        Kind(
            "energy",
            "area",
            {"kwh_total": "float", "power_kw": "float", "kwh": "float"},
            required=("kwh_total",),
            description="Energy meter of one area: cumulative kWh, interval kWh, power.",
        ),
        Kind(
            "sales",
            "site",
            {"order_id": "str", "units": "int", "amount_cny": "float", "product": "str"},
            payload_tags=("region", "channel"),
            required=("units", "amount_cny"),
            description="One sales order.",
        ),
        Kind(
            "meta",
            "machine",
            {"type": "str", "type_name": "str", "type_name_zh": "str", "ideal_cycle_s": "float",
             "online": "bool"},
            retained=True,
            description="Retained birth/metadata message per machine (also its last will).",
        ),
    )
}

#: The measurements the collector writes about itself (tag `collector` = its client id).
#: collector_stats fields: msgs_in, points_written, dead_letters, retries, reconnects,
#: collisions (int totals since start), spool_depth, spool_bytes (int), spool_oldest_age_s,
#: msgs_per_s, points_per_s, write_latency_p50_ms, write_latency_p99_ms, lag_p50_ms,
#: lag_p99_ms (float), paused (int 0/1: intake paused because the spool is full),
#: write_blocked (int 0/1: 401/403), write_failing (int 0/1: writes failing now, any
#: cause), write_errors (int total of write requests not accepted).
COLLECTOR_STATS = "collector_stats"
#: One point per dead-letter reason: tags collector, reason; field count (int total).
COLLECTOR_DEADLETTERS = "collector_deadletters"

#: Default plant identity (simulator/data/plant.yaml); dashboards default to these.
DEFAULT_ENTERPRISE = "hearth"
DEFAULT_SITE = "shengzhou"
#: The hardware (sheet-metal) workshop area id: the 五金车间 of the equipment-status screen.
HARDWARE_AREA = "hardware"


class ContractError(ValueError):
    """A topic or payload that does not follow the contract."""
