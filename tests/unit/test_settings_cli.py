from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from anbu.cli import _register, app
from anbu.settings import Settings


def test_settings_read_env_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANBU_DATABASE_URL", "postgresql://u@db:5432/anbu")
    monkeypatch.setenv("ANBU_MQTT_URL", "mqtt://u:pw-x7Qz9@broker:1883")
    monkeypatch.setenv("ANBU_WEBHOOK_SECRET", "hook-k3y-81")
    s = Settings()
    assert s.database_url is not None and "db:5432" in s.database_url.get_secret_value()
    assert "pw-x7Qz9" not in repr(s) and "hook-k3y-81" not in repr(s)  # secrets stay out of logs


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("ANBU_MQTT_URL", "http://x"),
        ("ANBU_DATABASE_URL", "not a = = url"),
        ("ANBU_INGEST_BATCH_MAX", "0"),
        ("ANBU_MQTT_PROTOCOL", "4"),
    ],
)
def test_bad_settings_fail_fast(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError):
        Settings()


def test_help_lists_every_subcommand() -> None:
    _register()
    out = CliRunner().invoke(app, ["--help"]).output
    for cmd in ("db", "ingest", "demo", "bench"):
        assert cmd in out
    assert "ingest" in CliRunner().invoke(app, ["bench", "--help"]).output
    assert "migrate" in CliRunner().invoke(app, ["db", "--help"]).output
