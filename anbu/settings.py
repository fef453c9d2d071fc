"""One settings class, read once from the environment (prefix ANBU_) by the composition root.

Plain values are passed down from here; detectors never see settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANBU_", env_file=None, extra="ignore")

    #: postgresql://user@host:port/db. Unset: an embedded PostgreSQL under `data_dir`.
    database_url: SecretStr | None = None
    #: mqtt://[user:password@]host[:port].
    #: Unset: a local mosquitto binary, else an in-process broker.
    mqtt_url: SecretStr | None = None
    #: "auto" tries MQTT 5 and falls back to 3.1.1.
    mqtt_protocol: Literal["auto", "5", "3.1.1"] = "auto"
    #: a stable id per ingest worker: the broker keeps its session (and unacked messages) by it.
    mqtt_client_id: str = "anbu-ingest-1"
    #: MQTT 5 shared-subscription group; workers in one group split the stream. Empty: no sharing.
    mqtt_share_group: str = "anbu-ingest"
    #: how long the broker keeps a disconnected worker's session (MQTT 5 session expiry).
    mqtt_session_expiry_s: int = Field(default=7 * 86_400, ge=0)
    data_dir: Path = Path(".anbu")

    ingest_batch_max: int = Field(default=5_000, ge=1, le=100_000)
    ingest_batch_ms: int = Field(default=50, ge=1, le=10_000)
    #: bounded queue between the MQTT callback and the writer; also the MQTT 5 receive maximum.
    ingest_queue_max: int = Field(default=20_000, ge=100, le=65_535)
    ingest_max_payload_bytes: int = Field(default=65_536, ge=256)
    ingest_max_batch: int = Field(default=500, ge=1)
    ingest_max_future_s: float = Field(default=300.0, gt=0)
    ingest_max_past_s: float = Field(default=7 * 86_400.0, gt=0)
    ingest_unknown_devices: Literal["register", "reject"] = "register"

    #: alerts: ask the resident first (a check-in on the home's gateway) before telling staff
    alerts_ask_first: bool = True
    #: HMAC key for webhook signatures (share it with the receiving systems)
    webhook_secret: SecretStr | None = None
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65_535)
    smtp_sender: str = "anbu@localhost"
    #: where staff reach the dashboard, for links in notifications
    dashboard_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65_535)
    #: mark session cookies Secure (behind HTTPS, as in any real deployment)
    secure_cookies: bool = False

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("database_url")
    @classmethod
    def _pg_url(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return v
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(v.get_secret_value())
        except Exception as e:  # psycopg raises ProgrammingError for a malformed string
            raise ValueError(
                "ANBU_DATABASE_URL must be a postgresql://user@host:port/db URL"
            ) from e
        return v

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            u = urlsplit(v.get_secret_value())
            if u.scheme not in ("mqtt", "mqtts") or not u.hostname:
                raise ValueError("ANBU_MQTT_URL must look like mqtt://host:1883")
        return v
