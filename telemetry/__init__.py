"""The shared wire contract between the simulator and the collector.

Topic scheme (:mod:`telemetry.topics`), kinds, measurements and field types
(:mod:`telemetry.contract`), line-protocol encoding (:mod:`telemetry.lineprotocol`),
the default message -> point mapping (:mod:`telemetry.points`), and the endpoint
settings and transports both services use (:mod:`telemetry.endpoints`,
:mod:`telemetry.influx`, :mod:`telemetry.mqtt`).
"""

from telemetry.contract import KINDS, ContractError, Kind, MachineState, WorkOrderStatus
from telemetry.lineprotocol import LineProtocolError, encode_point
from telemetry.points import MappingError, to_line
from telemetry.topics import Topic, parse

__all__ = [
    "KINDS",
    "ContractError",
    "Kind",
    "LineProtocolError",
    "MachineState",
    "MappingError",
    "Topic",
    "WorkOrderStatus",
    "encode_point",
    "parse",
    "to_line",
]
