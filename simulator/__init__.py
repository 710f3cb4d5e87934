"""The factory simulator: a deterministic, vectorised plant model publishing the
telemetry contract (docs/contract.md) over MQTT, to stdout, or straight to InfluxDB.

Modules follow the data's path: plant (YAML -> validated plant) -> model (numpy state
machine, signals, production, faults, work orders, energy, sales) -> encode (contract
messages) -> sinks / publish (stdout, MQTT) or backfill (InfluxDB line protocol).
"""

__version__ = "0.1.0"
