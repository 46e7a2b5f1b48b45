"""``concilia plugins list --json`` shows the built-in area plugins and the Isola district."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from flask import Flask

from tests.plugins.helpers import concilia_command, concilia_env

AREAS = {"health", "family", "leisure", "work"}


def by_name(listing: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in listing}


def test_plugins_list_json_through_the_cli_runner(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    plugins = by_name(json.loads(result.stdout))
    for name in AREAS:
        assert plugins[name]["kind"] == "category"
        assert plugins[name]["version"] == "1.0.0"
        assert "register_categories" in plugins[name]["hooks"]
    isola = plugins["isola-garibaldi"]
    assert isola["kind"] == "district" and isola["version"] == "1.0.0"
    assert isola["module"] == "districts.isola_garibaldi"
    assert {"register_districts", "eligibility", "demo_data"} <= set(isola["hooks"])


def test_plugins_list_json_of_the_installed_command(tmp_path: Path) -> None:
    completed = subprocess.run(
        [concilia_command(), "plugins", "list", "--json"],
        capture_output=True,
        text=True,
        env=concilia_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    listing = json.loads(completed.stdout)
    kinds = {entry["name"]: entry["kind"] for entry in listing}
    assert {name for name, kind in kinds.items() if kind == "category"} == AREAS
    assert {name for name, kind in kinds.items() if kind == "district"} == {"isola-garibaldi"}
    assert all(entry["version"] for entry in listing)
    assert "failed to load" not in completed.stderr
