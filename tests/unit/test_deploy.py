"""docker-compose.yml stays consistent with the settings and the broker configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from anbu.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_every_anbu_variable_in_compose_is_a_setting_and_the_required_ones_are_set() -> None:
    fields = {f"ANBU_{name.upper()}" for name in Settings.model_fields}
    anbu_services = {
        n: s for n, s in _compose()["services"].items() if str(s.get("command", [""])[0]) == "anbu"
    }
    assert {"migrate", "app"} <= set(anbu_services)
    assert anbu_services["app"]["command"] == ["anbu", "run"]
    for name, svc in anbu_services.items():
        env = svc["environment"]
        unknown = {k for k in env if k.startswith("ANBU_")} - fields
        assert not unknown, f"{name}: {unknown} are not settings"
        assert env["ANBU_DATABASE_URL"].startswith("postgresql://")
        assert env["ANBU_MQTT_URL"].startswith("mqtt://")
        assert "@db:5432/" in env["ANBU_DATABASE_URL"]
        assert "@mosquitto:1883" in env["ANBU_MQTT_URL"]


def test_database_is_timescale_and_broker_requires_authentication() -> None:
    svc = _compose()["services"]
    assert svc["db"]["image"].startswith("timescale/timescaledb")
    conf = (ROOT / "deploy" / "mosquitto.conf").read_text().splitlines()
    assert "allow_anonymous false" in conf
    assert any(line.startswith("password_file") for line in conf)
    # deep queues: the default of 1000 would drop readings while an ingester restarts
    queued = next(int(line.split()[1]) for line in conf if line.startswith("max_queued_messages"))
    assert queued >= 100_000
    size_limit = next(
        int(line.split()[1]) for line in conf if line.startswith("message_size_limit")
    )
    assert size_limit >= Settings().ingest_max_payload_bytes
