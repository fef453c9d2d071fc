"""The ingester's decoder: topic + payload bytes -> COPY-ready rows and dead letters.

Same contract, same rows, same dead letters as the reference decoder (`ingest.decode.decode`),
several times cheaper per reading: at tens of thousands of readings a second, building a
pydantic model and a frozen `Reading` for each one was most of the ingester's CPU.

How it stays exact: the message-level checks are the reference's own (`open_message`). Each
item is then tried by a hand-written check of the common, well-formed case — plain JSON types,
every field in range — which yields a row. Anything it is not sure of (a string timestamp, a
`status`, a wrong type, an out-of-range value, a missing field, a name mismatch) goes through
the reference `decode_item`, so every dead letter, its reason and its detail, comes from one
place. The fast check may only ever say "valid, and here is the row the reference would make";
tests/unit/test_decode_rows.py holds it to that on generated messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from orjson import JSONDecodeError, loads

from anbu.contract import HEALTH_METRICS, ID_RE, parse_topic
from anbu.domain import DeadLetter, Kind, Reading, ReadingFlag
from anbu.storage.readings import Row, row_of
from ingest.decode import Limits, Reject, decode_item, open_message, skipped
from ingest.payloads import ENVELOPE

__all__ = [
    "Row",
    "Rows",
    "decode_rows",
    "decode_rows_us",
    "from_us",
    "reading_of",
    "row_of",
    "to_us",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DEFAULT_LIMITS = Limits()
_US = timedelta(microseconds=1)


def to_us(t: datetime) -> int:
    """An aware datetime -> integer microseconds since the epoch (exact)."""
    return (t - _EPOCH) // _US


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def reading_of(row: Row) -> Reading:
    h, d, k, us, seq, value, data, flags = row
    return Reading(h, d, k, from_us(us), seq, value, data, flags)


@dataclass(slots=True)
class Rows:
    """What one message (or several, in the writer) carries: rows to store, dead letters."""

    rows: list[Row] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)

    @property
    def readings(self) -> list[Reading]:
        return [reading_of(r) for r in self.rows]


def decode_rows(
    topic: str,
    payload: bytes,
    received_at: datetime,
    limits: Limits = _DEFAULT_LIMITS,
    retained: bool = False,
) -> Rows:
    """Decode one MQTT message; never raises for bad input (see `ingest.decode.decode`)."""
    row = _fast_message(topic, payload, to_us(received_at), limits)
    if row is not None:
        return Rows([row])
    return _decode_rows(topic, payload, received_at, limits, retained)


def decode_rows_us(
    topic: str,
    payload: bytes,
    received_us: int,
    limits: Limits = _DEFAULT_LIMITS,
    retained: bool = False,
) -> Rows:
    """`decode_rows` with the receive time as integer microseconds since the epoch: the
    subscriber's clock reading, cheaper per message than an aware datetime and its
    conversion; the datetime is made only for the reference path."""
    row = _fast_message(topic, payload, received_us, limits)
    if row is not None:
        return Rows([row])
    return _decode_rows(topic, payload, from_us(received_us), limits, retained)


def _fast_message(topic: str, payload: bytes, received_us: int, limits: Limits) -> Row | None:
    """The common message — one well-formed reading on a device topic — in one step.

    When the topic is a device's with a fast-checked kind, the payload is within the size
    limit, has no NUL and parses (orjson accepts valid UTF-8 only) to one object, every
    message-level check of the reference has passed; `_fast` then judges the reading. None
    when anything is not certain: the message then takes `_decode_rows`."""
    t = _device_topic(topic)
    if t is None or len(payload) > limits.max_payload_bytes or b"\\u0000" in payload:
        return None
    try:
        doc = loads(payload)
    except JSONDecodeError:
        return None
    if type(doc) is not dict:
        return None
    return _fast(t[0], t[1], t[2], doc, received_us, limits)


def _decode_rows(
    topic: str, payload: bytes, received_at: datetime, limits: Limits, retained: bool
) -> Rows:
    out = Rows()
    m = open_message(topic, payload, received_at, limits, out.dead)
    if m is None:
        return out
    rows = out.rows
    household, fixed_kind = m.household, m.fixed_kind
    received_us = to_us(received_at)
    for item in m.items:
        row = None
        if type(item) is dict:
            row = _fast(household, m.device, fixed_kind, item, received_us, limits)
        if row is None:
            try:
                r = decode_item(household, m.device, fixed_kind, item, received_at, limits)
            except Reject as e:
                m.reject(out.dead, item, e)
                continue
            if skipped(r, retained):
                continue
            row = row_of(r)
        rows.append(row)
    return out


# -- the fast check ------------------------------------------------------------------------
# Each kind's check returns the reading's primary value, or _NO when the reference must judge.
# They mirror ingest/payloads.py in strict mode: a bool is not a number, an int is a float.


class _No:
    pass


_NO = _No()
Check = Callable[[dict[str, Any]], "float | None | _No"]


def _opt_num(v: object, lo: float, hi: float) -> bool:
    return v is None or ((type(v) is float or type(v) is int) and lo <= v <= hi)


def _opt_label(v: object) -> bool:
    return v is None or (type(v) is str and len(v) <= 64)


def _binary(name: str, *labels: str) -> Check:
    def check(it: dict[str, Any]) -> float | None | _No:
        v = it.get(name)
        if type(v) is not bool:
            return _NO
        for label in labels:
            if not _opt_label(it.get(label)):
                return _NO
        return 1.0 if v else 0.0

    return check


def _door(it: dict[str, Any]) -> float | None | _No:
    v = it.get("open")
    if type(v) is not bool or type(it.get("exterior")) is not bool:
        return _NO
    return 1.0 if v else 0.0


_INF = float("inf")


def _power(it: dict[str, Any]) -> float | None | _No:
    w, wh = it.get("w"), it.get("wh")
    if (w is None and wh is None) or not _opt_num(w, 0, 100_000) or not _opt_num(wh, 0, _INF):
        return _NO
    if not _opt_label(it.get("appliance")):
        return _NO
    return None if w is None else float(w)


_WATER_EVENTS = frozenset({"flush", "tap", "shower"})


def _water(it: dict[str, Any]) -> float | None | _No:
    event, litres = it.get("event"), it.get("litres")
    if type(event) is not str or event not in _WATER_EVENTS or not _opt_num(litres, 0, 10_000):
        return _NO
    return 1.0 if litres is None else float(litres)


_ACTIONS = frozenset({"sos", "ok", "cancel"})


def _button(it: dict[str, Any]) -> float | None | _No:
    a = it.get("action")
    return 1.0 if type(a) is str and a in _ACTIONS else _NO


def _ranges(ranges: dict[str, tuple[float, float]], primary: str | None) -> Check:
    """Kinds of optional numbers, at least one present, each within its range."""
    items = tuple(ranges.items())

    def check(it: dict[str, Any]) -> float | None | _No:
        seen = False
        for name, (lo, hi) in items:
            v = it.get(name)
            if v is None:
                continue
            if not ((type(v) is float or type(v) is int) and lo <= v <= hi):
                return _NO
            seen = True
        if not seen:
            return _NO
        if primary is None:
            return None
        p = it.get(primary)
        return None if p is None else float(p)

    return check


_CHECKS: dict[str, tuple[Kind, Check]] = {
    "motion": (Kind.MOTION, _binary("motion")),
    "door": (Kind.DOOR, _door),
    "contact": (Kind.CONTACT, _binary("open", "target")),
    "power": (Kind.POWER, _power),
    "appliance": (Kind.APPLIANCE, _binary("on", "appliance")),
    "presence": (Kind.PRESENCE, _binary("occupied", "place")),
    "water": (Kind.WATER, _water),
    "health": (Kind.HEALTH, _ranges(HEALTH_METRICS, None)),
    "button": (Kind.BUTTON, _button),
    "env": (
        Kind.ENV,
        _ranges({"temp_c": (-50, 80), "humidity_pct": (0, 100), "lux": (0, 200_000)}, "temp_c"),
    ),
    # `status` (optional ts and seq, last wills, retained copies) always takes the reference
    # path: a few per device every ten minutes.
}


@lru_cache(maxsize=1 << 16)
def _device_topic(topic: str) -> tuple[str, str, str] | None:
    """(household, device, kind) of a device topic whose kind has a fast check, else None."""
    t = parse_topic(topic)
    if t is None or t.kind not in _CHECKS:
        return None
    return t.household_id, t.device_id, t.kind


@lru_cache(maxsize=1 << 16)
def _valid_id(s: str) -> bool:
    return ID_RE.match(s) is not None


_CLOCK_CORRECTED = int(ReadingFlag.CLOCK_CORRECTED)
_LATE = int(ReadingFlag.LATE)


def _fast(
    household: str,
    topic_device: str,
    fixed_kind: str | None,
    it: dict[str, Any],
    received_us: int,
    limits: Limits,
) -> Row | None:
    if fixed_kind is None:
        device, kind_s = it.get("device"), it.get("kind")
        if type(device) is not str or type(kind_s) is not str or not _valid_id(device):
            return None
    else:
        device, kind_s = topic_device, fixed_kind
        if it.get("device", device) != device or it.get("kind", kind_s) != kind_s:
            return None
    found = _CHECKS.get(kind_s)
    if found is None:
        return None
    kind, check = found
    ts, seq = it.get("ts"), it.get("seq")
    if type(seq) is not int or not 0 <= seq < 2**63:
        return None
    if type(ts) is float:
        if not 0 <= ts <= 1e11:
            return None
        # = the reference's `_EPOCH + timedelta(seconds=ts)` (its rounding: half to even)
        i = int(ts)
        us = i * 1_000_000 + round((ts - i) * 1e6)
    elif type(ts) is int:
        if not 0 <= ts <= 1e11:
            return None
        us = ts * 1_000_000
    else:
        return None
    value = check(it)
    if value is _NO:
        return None
    # `data` is the item without its envelope and its nulls (as the reference makes it). The
    # item is this message's own freshly parsed dict and is judged valid: it becomes `data`.
    if None in it.values():
        it = {k: v for k, v in it.items() if v is not None}
    data = it
    for k in ENVELOPE:
        if k in data:
            del data[k]
    # = the reference's `(when - received_at).total_seconds()`: exact microseconds, one division
    skew = (us - received_us) / 1e6
    flags = 0
    if skew > limits.max_future_s or -skew > limits.max_past_s:
        data["device_ts"] = from_us(us).isoformat()
        us = received_us
        flags = _CLOCK_CORRECTED
    elif -skew > limits.late_after_s:
        flags = _LATE
    return (household, device, kind, us, seq, value, data, flags)  # type: ignore[return-value]
