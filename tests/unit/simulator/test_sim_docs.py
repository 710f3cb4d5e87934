"""Runnable examples in docs/simulator.md and docs/booth.md stay runnable ("examples are
tests")."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "simulator.md"
DOCS = (DOC, ROOT / "docs" / "booth.md")


def _console_commands() -> list[str]:
    blocks = [b for doc in DOCS
              for b in re.findall(r"```console\n(.*?)```", doc.read_text(), flags=re.S)]
    return [line[2:].strip() for b in blocks for line in b.splitlines()
            if line.startswith("$ factory-sim ")]


def test_doc_has_examples() -> None:
    cmds = _console_commands()
    assert any("validate" in c for c in cmds)
    assert "factory-sim run --seed 7 --duration 10m --speed max --sink stdout" in cmds


@pytest.mark.parametrize("cmd", _console_commands())
def test_console_example_runs(cmd: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    argv = shlex.split(cmd)[1:]
    assert "mqtt" not in argv or "--sink" in argv, "console examples must not need a broker"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        argv = [str(tmp_path / a) if a.endswith(".json") else a for a in argv]
        assert main(argv) == 0
    finally:
        os.chdir(cwd)
    capsys.readouterr()


def test_sample_output_in_the_doc_is_real(capsys: pytest.CaptureFixture[str]) -> None:
    sample = re.search(r"```json\n(\{\"topic\".*?)\n```", DOC.read_text(), flags=re.S)
    assert sample is not None
    assert main(["run", "--seed", "7", "--duration", "10m", "--speed", "max", "--sink",
                 "stdout", "--log-level", "WARNING"]) == 0
    assert sample.group(1) in capsys.readouterr().out.splitlines()
