"""Pydantic models of the contract payloads, one per kind (docs/contract.md).

Strict: a string is not a number and 1 is not `true`. Extra fields are kept (firmware may add
some) and travel in the reading's `data`.

The ingester's fast path (`ingest/rows.py`) restates these rules for well-formed readings: a
change here needs the same change there (tests/unit/test_decode_rows.py compares the two).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from anbu.contract import HEALTH_METRICS
from anbu.domain import Kind

Seq = Annotated[int, Field(ge=0, lt=2**63)]
Ts = float | str


class _Base(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)

    ts: Ts
    seq: Seq
    #: optional in a device's own message (must then match the topic); required in a gateway batch.
    device: str | None = None
    kind: str | None = None

    def primary(self) -> float | None:
        return None


class Motion(_Base):
    motion: bool

    def primary(self) -> float | None:
        return 1.0 if self.motion else 0.0


class Door(_Base):
    open: bool
    exterior: bool

    def primary(self) -> float | None:
        return 1.0 if self.open else 0.0


class Contact(_Base):
    open: bool
    target: str | None = Field(default=None, max_length=64)

    def primary(self) -> float | None:
        return 1.0 if self.open else 0.0


class Power(_Base):
    w: Annotated[float, Field(ge=0, le=100_000)] | None = None
    wh: Annotated[float, Field(ge=0)] | None = None
    appliance: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_of(self) -> Power:
        if self.w is None and self.wh is None:
            raise ValueError("power needs `w` (watts) and/or `wh` (cumulative watt-hours)")
        return self

    def primary(self) -> float | None:
        return self.w


class Appliance(_Base):
    on: bool
    appliance: str | None = Field(default=None, max_length=64)

    def primary(self) -> float | None:
        return 1.0 if self.on else 0.0


class Presence(_Base):
    occupied: bool
    place: str | None = Field(default=None, max_length=64)

    def primary(self) -> float | None:
        return 1.0 if self.occupied else 0.0


class Water(_Base):
    event: Literal["flush", "tap", "shower"]
    litres: Annotated[float, Field(ge=0, le=10_000)] | None = None

    def primary(self) -> float | None:
        return self.litres if self.litres is not None else 1.0


class Health(_Base):
    systolic_mmhg: float | None = None
    diastolic_mmhg: float | None = None
    pulse_bpm: float | None = None
    spo2_pct: float | None = None
    glucose_mg_dl: float | None = None
    weight_kg: float | None = None
    body_temp_c: float | None = None

    @model_validator(mode="after")
    def _plausible(self) -> Health:
        seen = 0
        for name, (lo, hi) in HEALTH_METRICS.items():
            v = getattr(self, name)
            if v is None:
                continue
            seen += 1
            if not lo <= v <= hi:
                raise ValueError(f"{name}={v} is outside the plausible range {lo}..{hi}")
        if seen == 0:
            raise ValueError(f"health needs at least one of {', '.join(HEALTH_METRICS)}")
        return self


class Button(_Base):
    action: Literal["sos", "ok", "cancel"]

    def primary(self) -> float | None:
        return 1.0


class Env(_Base):
    temp_c: Annotated[float, Field(ge=-50, le=80)] | None = None
    humidity_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    lux: Annotated[float, Field(ge=0, le=200_000)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Env:
        if self.temp_c is None and self.humidity_pct is None and self.lux is None:
            raise ValueError("env needs at least one of temp_c, humidity_pct, lux")
        return self

    def primary(self) -> float | None:
        return self.temp_c


class Status(_Base):
    # A gateway's last-will message is set at connect time, so it cannot carry a fresh
    # timestamp or sequence number: both are optional here (the receive time is used).
    ts: Ts | None = None  # type: ignore[assignment]
    seq: Seq | None = None  # type: ignore[assignment]
    online: bool = True
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    rssi_dbm: Annotated[float, Field(ge=-150, le=20)] | None = None
    firmware: str | None = Field(default=None, max_length=64)
    uptime_s: Annotated[float, Field(ge=0)] | None = None
    role: Literal["gateway", "device"] | None = None

    def primary(self) -> float | None:
        return self.battery_pct


MODELS: dict[Kind, type[_Base]] = {
    Kind.MOTION: Motion,
    Kind.DOOR: Door,
    Kind.CONTACT: Contact,
    Kind.POWER: Power,
    Kind.APPLIANCE: Appliance,
    Kind.PRESENCE: Presence,
    Kind.WATER: Water,
    Kind.HEALTH: Health,
    Kind.BUTTON: Button,
    Kind.ENV: Env,
    Kind.STATUS: Status,
}

#: fields that become columns of the reading, not part of its `data`.
ENVELOPE = frozenset({"ts", "seq", "device", "kind"})
