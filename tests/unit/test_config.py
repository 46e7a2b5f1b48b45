"""Settings: defaults, parsing, and one-line errors that name the bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_settings


def test_defaults_use_sqlite_in_the_instance_folder_and_a_stored_secret(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'concilia.sqlite'}"
    stored = (tmp_path / "secret_key").read_text()
    assert settings["SECRET_KEY"] == stored and len(stored) >= 32
    assert load_settings(tmp_path, {})["SECRET_KEY"] == stored  # kept across restarts
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_two_instances_get_different_generated_secrets(tmp_path: Path) -> None:
    first = load_settings(tmp_path / "a", {})["SECRET_KEY"]
    second = load_settings(tmp_path / "b", {})["SECRET_KEY"]
    assert first != second


def test_environment_values_are_parsed(tmp_path: Path) -> None:
    settings = load_settings(
        tmp_path,
        {
            "CONCILIA_MAIL_PORT": "2525",
            "CONCILIA_MAIL_USE_TLS": "yes",
            "CONCILIA_PLUGINS": "health, family",
            "CONCILIA_DISABLED_PLUGINS": "work",
            "CONCILIA_DATABASE_URL": "postgresql+psycopg://u@h/db",
        },
    )
    assert settings["CONCILIA_MAIL_PORT"] == 2525
    assert settings["CONCILIA_MAIL_USE_TLS"] is True
    assert settings["CONCILIA_PLUGINS"] == ["health", "family"]
    assert settings["CONCILIA_DISABLED_PLUGINS"] == ["work"]
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONCILIA_MAIL_PORT", "seventy"),
        ("CONCILIA_MAIL_PORT", "70000"),
        ("CONCILIA_MAIL_USE_TLS", "maybe"),
        ("CONCILIA_DATABASE_URL", "mysql://x"),
        ("CONCILIA_DEFAULT_LOCALE", "fr"),
        ("CONCILIA_MAIL_MODE", "pigeon"),
        ("CONCILIA_SECRET_KEY", "short"),
        ("CONCILIA_ENV", "staging"),
        ("CONCILIA_API_RATE_LIMIT", "lots"),
        ("CONCILIA_BOOKING_RATE_LIMIT", "30 per fortnight"),
        ("CONCILIA_OPEN_DATA_MIN_COUNT", "0"),
    ],
)
def test_a_bad_setting_stops_with_a_message_naming_it(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_settings(tmp_path, {name: value})
    message = str(excinfo.value)
    assert name in message
    assert "\n" not in message
