"""The shipped example config loads and equals the defaults it claims to restate."""

from __future__ import annotations

from pathlib import Path

from collector.config import load
from collector.mapping import MappingConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "collector" / "collector.example.yaml"


def test_example_config_is_valid_and_restates_the_defaults() -> None:
    cfg = load(None, env={}, config_path=str(EXAMPLE))
    default = load(None, env={})
    assert cfg.mapping.templates == MappingConfig().templates
    assert cfg.mapping == default.mapping
    for key in ("topics", "qos", "session_expiry_s", "spool_max_mb", "batch_max_points",
                "batch_max_wait_s", "metrics_port", "metrics_bind", "stats_interval_s"):
        assert getattr(cfg, key) == getattr(default, key), key
