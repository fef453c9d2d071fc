"""The simulator's shared vocabulary: messages, causes, labels, activities and places.

`Message` is what every layer above the device models passes around: the publish time `t`
(epoch seconds, the virtual clock), the MQTT topic, the payload bytes exactly as they go on the
wire, and the *cause* — whether a living person made it happen. The cause never travels over
MQTT; it is kept in recordings as a per-line marker so that an evaluation harness can remove
what a person caused after a chosen moment (`simulators.incidents.strip_person_after`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import NamedTuple
from zoneinfo import ZoneInfo


class Cause(enum.IntEnum):
    """Who made a message happen (internal; never part of the MQTT payload)."""

    #: unknown (a recording imported from real data): decide by kind, see incidents.is_person.
    UNKNOWN = -1
    #: the home goes on without the person: heartbeats, standby power, fridge, temperature,
    #: appliances switching themselves off (kettle, microwave timer, rice cooker keep-warm).
    BACKGROUND = 0
    #: only a living, moving person causes it.
    PERSON = 1
    #: an injected device fault (a pet or sunlight on a PIR, a stuck sensor).
    FAULT = 2


CAUSE_NAMES: dict[int, str] = {
    Cause.BACKGROUND: "background",
    Cause.PERSON: "person",
    Cause.FAULT: "fault",
}
CAUSE_BY_NAME: dict[str, int] = {v: k for k, v in CAUSE_NAMES.items()}


class Message(NamedTuple):
    """One MQTT message as published (a tuple: sorts by `t` first)."""

    t: float
    topic: str
    payload: bytes
    cause: int = Cause.UNKNOWN


class Act(enum.IntEnum):
    """What the person is doing during an episode."""

    SLEEP = 0
    NAP = 1
    TOILET = 2
    WASH = 3
    SHOWER = 4
    COOK = 5
    EAT = 6
    TV = 7
    REST = 8
    CHORES = 9
    OUT = 10
    #: hall/entrance: putting shoes on, coming home.
    DOORWAY = 11
    #: an incident: no movement at all (collapse, death).
    DOWN = 12
    #: a fall: on the floor, moving weakly for a while.
    DOWN_MOVING = 13


class Place(enum.IntEnum):
    """Logical places; a floor plan maps them to its rooms (a one-room flat maps several to one)."""

    BEDROOM = 0
    LIVING = 1
    KITCHEN = 2
    BATHROOM = 3
    HALL = 4
    AWAY = 5


PLACE_NAMES = ("bedroom", "living", "kitchen", "bathroom", "hall", "away")


@dataclass(frozen=True, slots=True)
class Label:
    """Ground truth for one incident or device fault in one household."""

    household: str
    kind: str
    start: float
    end: float | None = None
    device: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "household": self.household,
            "kind": self.kind,
            "start": rfc3339(self.start),
            "end": None if self.end is None else rfc3339(self.end),
        }
        if self.device is not None:
            out["device"] = self.device
        return out


def rfc3339(t: float) -> str:
    """Epoch seconds -> RFC 3339 in UTC with millisecond precision."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


def parse_time(s: str) -> float:
    """RFC 3339 / ISO 8601 with an offset -> epoch seconds (naive times are refused)."""
    d = datetime.fromisoformat(s)
    if d.tzinfo is None:
        raise ValueError(f"time {s!r} needs a UTC offset, e.g. {s}+09:00")
    return d.timestamp()


class LocalCalendar:
    """Local dates and midnights of one time zone (cached; DST days are 23 or 25 h long)."""

    def __init__(self, timezone: str) -> None:
        self.tz = ZoneInfo(timezone)
        self._midnights: dict[date, float] = {}

    def date_of(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.tz).date()

    def midnight(self, d: date) -> float:
        m = self._midnights.get(d)
        if m is None:
            m = datetime.combine(d, time(0), self.tz).timestamp()
            self._midnights[d] = m
        return m

    def hour(self, t: float) -> float:
        """Local clock hour (0..24) of an epoch time."""
        return (t - self.midnight(self.date_of(t))) / 3600.0
