"""Domain values that travel between ingest, detectors, alerts and the dashboard.

All are frozen, slotted dataclasses with UTC-aware timestamps. Pydantic lives only at the
edges (MQTT payloads, API bodies, settings); nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Kind(enum.StrEnum):
    """What a reading reports: the last level of the MQTT topic (see docs/contract.md)."""

    MOTION = "motion"
    DOOR = "door"
    CONTACT = "contact"
    POWER = "power"
    APPLIANCE = "appliance"
    PRESENCE = "presence"
    WATER = "water"
    HEALTH = "health"
    BUTTON = "button"
    ENV = "env"
    STATUS = "status"


class ReadingFlag(enum.IntFlag):
    """Bits stored with a reading to say how it was treated on the way in."""

    NONE = 0
    #: the device clock was too far off; `time` is the broker receive time, the device's own
    #: timestamp is kept in `data["device_ts"]`.
    CLOCK_CORRECTED = 1
    #: the reading arrived more than `late_after` seconds after its timestamp (buffered by a
    #: gateway, or delayed): detectors must not treat its absence earlier as silence.
    LATE = 2
    #: the message carried no timestamp (a status or last will): `time` is the receive time.
    UNDATED = 4


@dataclass(frozen=True, slots=True)
class Reading:
    """One validated reading from one device.

    `value` is the kind's primary number (1/0 for binary sensors, W for power, battery % for
    status, °C for env) so that common queries need no JSON; everything else is in `data`.
    """

    household_id: str
    device_id: str
    kind: Kind
    time: datetime
    seq: int | None
    value: float | None
    data: Mapping[str, Any] = field(default_factory=dict)
    flags: int = 0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message (or one item of a batch) that could not be accepted, kept with its reason."""

    received_at: datetime
    topic: str
    payload: bytes
    reason: str
    detail: str = ""
    size: int = 0


class Severity(enum.IntEnum):
    """How urgent a finding or alert is: the tiers of the Korean district systems.

    `caution` (주의) is a soft check (an automatic check-in the resident can answer); `alarm`
    (경보: a planner must act) and `danger` (위험: act now, the monitoring centre at once) are
    *escalated*: they count against the false-alarm budget. Ordered: an open alert's severity
    can rise, never fall. The one type for detectors, alerts and storage.
    """

    CAUTION = 1
    ALARM = 2
    DANGER = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def label_ko(self) -> str:
        return ("주의", "경보", "위험")[self - 1]

    @property
    def escalated(self) -> bool:
        return self >= Severity.ALARM

    @classmethod
    def parse(cls, s: str) -> Severity:
        try:
            return cls[s.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {s!r} (caution, alarm, danger)") from None


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    MONITORING = "monitoring"
    TEAM_LEAD = "team_lead"
    PLANNER = "planner"
    FIELD_WORKER = "field_worker"


@dataclass(frozen=True, slots=True)
class Household:
    id: str
    district_id: str
    dong: str
    display_name: str
    risk_level: RiskLevel = RiskLevel.MEDIUM
    timezone: str = "Asia/Seoul"
