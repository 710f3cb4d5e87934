"""The fault matrix: what the MQTT -> collector -> InfluxDB pipeline survives, counted.

A deterministic publisher (:mod:`reliability.load`) sends contract messages that carry a
sequence number; the harness (:mod:`reliability.harness`) runs a private Mosquitto, influxd
and a ``factory-collector`` subprocess; each case (:mod:`reliability.cases`) applies one
fault under load and counts, from InfluxDB itself, what was stored, lost and doubled
(:mod:`reliability.count`). ``python -m reliability`` (``make reliability``) runs the
matrix and prints the table for docs/reliability.md.
"""
