"""factory-pdm's command line: one-line errors for bad input, the backtest's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pdm.cli import main
from stack.services import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("argv", "message"), [
    (["backtest", "--days", "0"], "--days must be > 0"),
    (["backtest", "--days", "1", "--step-s", "7"], "--step-s 7 must divide"),
    (["backtest", "--days", "1", "--detector", "speed=3"], "KEY one of"),
    (["backtest", "--days", "1", "--detector", "fast_h=quick"], "is not a number"),
    (["backtest", "--days", "1", "--threshold", "2"], "threshold = 2.0"),
    (["backtest", "--days", "1", "--start", "yesterday"], "--start 'yesterday'"),
    (["backtest", "--days", "1", "--plant", "no-such-plant.yaml"], "no-such-plant.yaml"),
    (["run", "--plant", "no-such-plant.yaml"], "no-such-plant.yaml"),
    (["run", "--influx-api", "v2"], "needs a token"),
    (["run", "--window-h", "0"], "--window-h"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("factory-pdm: ") and message in err[0], err


def test_an_unreachable_database_is_one_line_and_exit_1(
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["run", "--influx-url", url, "--log-level", "WARNING"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"factory-pdm: InfluxDB at {url} is not reachable: start it or set "
                   "--influx-url / FACTORY_INFLUX_URL"]


def test_backtest_prints_its_figures_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--plant", str(ROOT / "docs/examples/acme-lyon.yaml"),
                 "--days", "0.6", "--seed", "2", "--detector", "warmup_h=2",
                 "--horizon-h", "6"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["plant"].endswith("acme-lyon.yaml") and out["days"] == 0.6
    assert out["machines"] == 14 and out["evaluations"] == int(0.6 * 288)  # complete windows
    assert out["detector"]["horizon_h"] == 6 and out["detector"]["warmup_h"] == 2
    for source in ("wear", "random"):
        assert {"precision", "recall", "median_lead_h", "failures", "hits", "alerts",
                "chance_recall"} <= set(out[source])
    assert "unpredictable" not in out["wear"] and "no warning" in out["random"]["note"]
    assert set(out["target_wear"]) == {"recall", "precision", "median_lead_h", "met"}
