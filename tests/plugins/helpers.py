"""Helpers for running the installed ``concilia`` command in a subprocess."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def concilia_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for running the ``concilia`` command in a subprocess, in a scratch instance."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCILIA_")}
    env.update(
        CONCILIA_INSTANCE_PATH=str(tmp_path / "instance"),
        CONCILIA_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite'}",
        CONCILIA_SECRET_KEY="subprocess-secret-key-for-tests",
        **extra,
    )
    return env


def concilia_command() -> str:
    """The ``concilia`` script of the running virtualenv."""
    return str(Path(sys.executable).parent / "concilia")
