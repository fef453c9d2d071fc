"""The device contract in code: topic grammar, kinds, limits (docs/contract.md is the prose).

Pure: no I/O. Ingest enforces it; simulators and importers build topics with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from anbu.domain import Kind

TOPIC_ROOT = "anbu/v1"
#: the subscription a single ingester uses; several workers share it (see docs/scaling.md).
SUBSCRIPTION = f"{TOPIC_ROOT}/+/+/+"
#: a gateway may batch readings of several devices in one message on this pseudo-kind.
BATCH_KIND = "batch"
#: staff -> device commands (check-in prompts); never ingested as readings.
COMMAND_KIND = "command"

_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
ID_RE = re.compile(rf"^{_ID}\Z")  # \Z: "$" would let a trailing newline through
_TOPIC_RE = re.compile(rf"^anbu/v1/({_ID})/({_ID})/([a-z_]+)\Z")

#: kinds that only a living person causes, in the order detectors weigh them.
PERSON_KINDS = frozenset(
    {
        Kind.MOTION,
        Kind.DOOR,
        Kind.CONTACT,
        Kind.APPLIANCE,
        Kind.PRESENCE,
        Kind.WATER,
        Kind.HEALTH,
        Kind.BUTTON,
    }
)

HEALTH_METRICS: dict[str, tuple[float, float]] = {
    # field: (lowest, highest) physically plausible value; outside is a device error.
    "systolic_mmhg": (40, 300),
    "diastolic_mmhg": (20, 200),
    "pulse_bpm": (20, 250),
    "spo2_pct": (50, 100),
    "glucose_mg_dl": (10, 1000),
    "weight_kg": (10, 400),
    "body_temp_c": (25, 45),
}


@dataclass(frozen=True, slots=True)
class Topic:
    household_id: str
    device_id: str
    kind: str


def parse_topic(topic: str) -> Topic | None:
    """Split `anbu/v1/{household}/{device}/{kind}`; None when it does not match the grammar."""
    m = _TOPIC_RE.match(topic)
    if m is None:
        return None
    return Topic(m.group(1), m.group(2), m.group(3))


def topic_for(household_id: str, device_id: str, kind: str) -> str:
    return f"{TOPIC_ROOT}/{household_id}/{device_id}/{kind}"
