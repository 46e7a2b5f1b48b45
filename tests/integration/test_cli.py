"""The ``concilia`` console script, run for real in a subprocess as a newcomer would."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CONCILIA = str(Path(sys.executable).with_name("concilia"))


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``concilia ARGS`` with its own instance folder and SQLite database."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CONCILIA_") and key != "FLASK_APP"
    }
    environment.update(
        CONCILIA_INSTANCE_PATH=str(tmp_path / "instance"),
        CONCILIA_MAIL_MODE="outbox",
        **env,
    )
    return subprocess.run(
        [CONCILIA, *args], capture_output=True, text=True, env=environment, timeout=120, check=False
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("run", "db", "demo", "plugins", "districts"):
        assert f"  {command}" in result.stdout


def test_db_upgrade_builds_an_empty_database_and_keeps_a_generated_secret(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path)
    assert result.returncode == 0, result.stderr
    database = tmp_path / "instance" / "concilia.sqlite"
    tables = {row[0] for row in sqlite3.connect(database).execute("SELECT name FROM sqlite_master")}
    assert {"user", "district", "service", "slot", "booking", "outbox_message"} <= tables
    assert len((tmp_path / "instance" / "secret_key").read_text()) >= 32
    again = run(["db", "upgrade"], tmp_path)  # safe on every deploy
    assert again.returncode == 0, again.stderr


def test_plugins_list_json(tmp_path: Path) -> None:
    result = run(["plugins", "list", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    plugins = json.loads(result.stdout)
    assert all({"name", "kind", "version"} <= set(p) for p in plugins)
    assert {p["kind"] for p in plugins} <= {"category", "district", "other"}
    assert "core-defaults" in {p["name"] for p in plugins}


def test_a_bad_setting_stops_with_one_line_naming_it(tmp_path: Path) -> None:
    result = run(["plugins", "list"], tmp_path, CONCILIA_MAIL_PORT="lots")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "CONCILIA_MAIL_PORT" in lines[0]


def test_a_broken_plugin_is_reported_by_name_and_the_app_still_runs(tmp_path: Path) -> None:
    package = tmp_path / "site"
    (package / "broken_plugin-0.1.dist-info").mkdir(parents=True)
    (package / "broken_plugin-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n"
    )
    (package / "broken_plugin-0.1.dist-info" / "entry_points.txt").write_text(
        "[concilia.plugins]\nbroken = broken_plugin\n"
    )
    (package / "broken_plugin.py").write_text("raise RuntimeError('cannot start')\n")
    result = run(["plugins", "list", "--json"], tmp_path, PYTHONPATH=str(package))
    assert result.returncode == 0, result.stderr
    assert "broken" not in {p["name"] for p in json.loads(result.stdout)}
    assert "failed to load: broken: RuntimeError: cannot start" in result.stderr


@pytest.mark.parametrize("command", [["demo", "load"], ["districts", "sync"]])
def test_demo_load_and_district_sync_are_idempotent(tmp_path: Path, command: list[str]) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    first = run(command, tmp_path)
    assert first.returncode == 0, first.stderr
    database = tmp_path / "instance" / "concilia.sqlite"

    def counts() -> dict[str, int]:
        connection = sqlite3.connect(database)
        names = [
            r[0]
            for r in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}

    before = counts()
    second = run(command, tmp_path)
    assert second.returncode == 0, second.stderr
    assert counts() == before


def test_demo_logins_prints_the_address(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    result = run(["demo", "logins"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:5000/" in result.stdout
