"""Where the database and the broker come from: the settings, or embedded ones."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anbu.settings import Settings

if TYPE_CHECKING:
    from ingest.service import IngestConfig

log = logging.getLogger(__name__)


LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_MQTT = "mqtt://127.0.0.1:1883"


@dataclass(frozen=True, slots=True)
class Endpoints:
    database_url: str
    mqtt_url: str
    embedded_database: bool
    embedded_broker: bool


@contextlib.contextmanager
def endpoints(
    settings: Settings, *, broker: bool = True, prefer_local: bool = False
) -> Iterator[Endpoints]:
    """The configured database and broker, or embedded ones for whatever is unset.

    With prefer_local (benchmarks, tests), a PostgreSQL or MQTT broker already listening on
    127.0.0.1 at its standard port is used before starting an embedded one.
    """
    from anbu import embedded

    with contextlib.ExitStack() as stack:
        if settings.database_url is not None:
            db = settings.database_url.get_secret_value()
        elif prefer_local and embedded.reachable("127.0.0.1", 5432):
            db = LOCAL_POSTGRES
        else:
            db = embedded.start_postgres(settings.data_dir)
            log.info("embedded PostgreSQL: %s", db)
        if settings.mqtt_url is not None:
            mq = settings.mqtt_url.get_secret_value()
        elif not broker:
            mq = ""
        elif prefer_local and embedded.reachable("127.0.0.1", 1883):
            mq = LOCAL_MQTT
        else:
            mq = stack.enter_context(embedded.local_broker())
            log.info("embedded MQTT broker: %s", mq)
        yield Endpoints(db, mq, settings.database_url is None, settings.mqtt_url is None)


def ingest_config(settings: Settings, database_url: str, mqtt_url: str) -> IngestConfig:
    """Plain values for the ingester, from the one settings object."""
    from anbu.mqtt import parse_url
    from ingest.decode import Limits
    from ingest.service import IngestConfig

    return IngestConfig(
        database_url=database_url,
        broker=parse_url(mqtt_url),
        protocol=settings.mqtt_protocol,
        client_id=settings.mqtt_client_id,
        share_group=settings.mqtt_share_group,
        session_expiry_s=settings.mqtt_session_expiry_s,
        limits=Limits(
            max_payload_bytes=settings.ingest_max_payload_bytes,
            max_batch=settings.ingest_max_batch,
            max_future_s=settings.ingest_max_future_s,
            max_past_s=settings.ingest_max_past_s,
        ),
        batch_max=settings.ingest_batch_max,
        batch_ms=settings.ingest_batch_ms,
        queue_max=settings.ingest_queue_max,
        unknown_devices=settings.ingest_unknown_devices,
    )
