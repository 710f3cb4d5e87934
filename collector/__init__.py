"""MQTT -> InfluxDB collector: subscribe -> map -> spool -> write.

Modules follow the data's path: :mod:`collector.intake` (MQTT, ack after spooling),
:mod:`collector.mapping` (topic/payload -> line protocol, pure), :mod:`collector.spool`
(durable SQLite spool), :mod:`collector.writer` (batches, every write outcome handled),
:mod:`collector.deadletter`, :mod:`collector.metrics`, wired by :mod:`collector.service`.
"""
