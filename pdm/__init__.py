"""Predictive maintenance on the stored telemetry (docs/pdm.md).

Modules follow the data's path: features (stored telemetry and state -> running-only
feature windows) -> detector (per-machine baseline, EWMA, trend, score, reason) ->
influx_io / live (``factory-pdm run``: read InfluxDB, write ``prediction`` and
``pdm_score``) and backtest + scoring (``factory-pdm backtest``: the same path on the
simulator, scored against its labels).
"""
