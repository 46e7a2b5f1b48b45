"""``concilia new-plugin`` / ``new-district``: the generated packages install and load for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from core import create_app
from tests.conftest import base_config
from tests.plugins.helpers import concilia_command, concilia_env

REGISTRY_SNIPPET = """
import json
from core import create_app
host = create_app().extensions["concilia"]
print(json.dumps({"categories": sorted(host.categories), "districts": sorted(host.districts),
                  "failures": host.failures}))
"""


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command and fail the test with its output if it fails."""
    completed = subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


@pytest.mark.parametrize(
    ("command", "name", "kind", "registry"),
    [
        ("new-plugin", "wellness-plus", "category", "categories"),
        ("new-district", "borgo-nuovo", "district", "districts"),
    ],
)
def test_a_scaffolded_package_installs_and_loads(
    tmp_path: Path, command: str, name: str, kind: str, registry: str
) -> None:
    # Scaffolding needs no database: one run, not one per database backend.
    app = create_app(base_config("sqlite://", tmp_path / "instance"))
    result = app.test_cli_runner().invoke(args=[command, name, "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    package = tmp_path / f"concilia-{name}"
    module = "concilia_" + name.replace("-", "_")
    for relative in (
        "pyproject.toml",
        "README.md",
        f"tests/test_{module}.py",
        f"{module}/__init__.py",
        f"{module}/translations/messages.pot",
        f"{module}/translations/it/LC_MESSAGES/messages.po",
        f"{module}/translations/en/LC_MESSAGES/messages.mo",
    ):
        assert (package / relative).is_file(), relative
    assert f'{name} = "{module}"' in (package / "pyproject.toml").read_text()
    assert "pip install -e ." in (package / "README.md").read_text()

    target = tmp_path / "site"
    env = concilia_env(tmp_path)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--target",
            str(target),
            str(package),
        ],
        env,
        tmp_path,
    )
    env["PYTHONPATH"] = str(target)
    listing = json.loads(
        run([concilia_command(), "plugins", "list", "--json"], env, tmp_path).stdout
    )
    entry = next(e for e in listing if e["name"] == name)
    assert entry["kind"] == kind and entry["version"] == "0.1.0" and entry["module"] == module

    registered = json.loads(run([sys.executable, "-c", REGISTRY_SNIPPET], env, tmp_path).stdout)
    assert name in registered[registry]
    assert registered["failures"] == {}

    # The test file it ships passes against the installed package.
    run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        env,
        tmp_path,
    )


def test_scaffold_refuses_bad_names_and_existing_folders(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["new-plugin", "Bad_Name", "--dir", str(tmp_path)])
    assert bad.exit_code == 2 and "lower-case" in bad.output
    assert not any(tmp_path.iterdir())
    assert runner.invoke(args=["new-district", "borgo", "--dir", str(tmp_path)]).exit_code == 0
    again = runner.invoke(args=["new-district", "borgo", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output
