"""Every test that starts a service carries the integration marker (`-m "not integration"`
must run no service), and no unit test starts one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
#: What starting a service looks like in a test: the service fixtures of tests/conftest.py
#: and the classes of stack/services.py.
SERVICE_FIXTURES = {"mosquitto", "influxd", "mqtt_url", "influx_url", "influx_db",
                    "fresh_mosquitto", "fresh_influxd"}
SERVICE_NAMES = {"Mosquitto", "Influxd"}


def marked_module(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            return "integration" in ast.unparse(node.value)
    return False


def starts_a_service(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            used = {a.arg for a in node.args.args} & SERVICE_FIXTURES
            if used:
                found.append(f"{node.name} uses {sorted(used)}")
        if isinstance(node, ast.ImportFrom) and node.module == "stack.services":
            names = {a.name for a in node.names} & SERVICE_NAMES
            if names:
                found.append(f"imports {sorted(names)}")
    return found


def test_every_integration_test_module_is_marked() -> None:
    unmarked = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "tests/integration").rglob(
        "test_*.py")) if not marked_module(ast.parse(p.read_text()))]
    assert unmarked == []


def test_no_unit_test_starts_a_service() -> None:
    offenders = {str(p.relative_to(ROOT)): hits for p in sorted((ROOT / "tests/unit").rglob(
        "test_*.py")) if (hits := starts_a_service(ast.parse(p.read_text())))}
    # This module names the fixtures it looks for; the compose test builds (never starts)
    # a native broker config to compare its limits.
    offenders.pop("tests/unit/deploy/test_deploy_compose.py", None)
    assert offenders == {}
