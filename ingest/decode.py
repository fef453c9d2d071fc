"""Topic + payload bytes -> validated `Reading`s and `DeadLetter`s. Pure: no I/O, no clock.

Every way a message can be wrong has a stable reason code (docs/contract.md lists them) so that
dead letters can be counted and explained. A gateway batch is judged item by item: one bad item
goes to the dead letters, the good ones around it are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from pydantic import ValidationError

from anbu.contract import BATCH_KIND, COMMAND_KIND, ID_RE, parse_topic
from anbu.domain import DeadLetter, Kind, Reading, ReadingFlag
from ingest.payloads import ENVELOPE, MODELS


class Reason:
    BAD_TOPIC = "bad_topic"
    UNKNOWN_KIND = "unknown_kind"
    OVERSIZED = "oversized"
    BAD_UTF8 = "bad_utf8"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    INVALID = "invalid"
    BAD_TIMESTAMP = "bad_timestamp"
    DEVICE_MISMATCH = "device_mismatch"
    BATCH_TOO_LARGE = "batch_too_large"
    EMPTY_BATCH = "empty_batch"
    # decided at storage time, against the registry
    UNKNOWN_HOUSEHOLD = "unknown_household"
    UNKNOWN_DEVICE = "unknown_device"


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int = 65_536
    max_batch: int = 500
    #: a timestamp further ahead than this is a wrong device clock: use the receive time.
    max_future_s: float = 300.0
    #: a timestamp further back than this is a wrong clock too (a gateway may buffer for days).
    max_past_s: float = 7 * 86_400.0
    #: older than this on arrival counts as late (flag only; it is stored at its own time).
    late_after_s: float = 120.0


@dataclass(slots=True)
class Decoded:
    readings: list[Reading] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


class Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def decode(
    topic: str,
    payload: bytes,
    received_at: datetime,
    limits: Limits = Limits(),
    retained: bool = False,
) -> Decoded:
    """Decode one MQTT message. Never raises for bad input: that becomes a dead letter.

    A *retained* message without a timestamp (a gateway's last will, replayed by the broker on
    subscribe) cannot be placed in time and was stored when first published: it is skipped.

    This is the reference decoder (every item through its pydantic model). The ingester uses
    `ingest.rows.decode_rows`, which must give the same rows and dead letters, only faster.
    """
    out = Decoded()
    m = open_message(topic, payload, received_at, limits, out.dead)
    if m is None:
        return out
    for item in m.items:
        try:
            r = decode_item(m.household, m.device, m.fixed_kind, item, received_at, limits)
        except Reject as e:
            m.reject(out.dead, item, e)
            continue
        if not skipped(r, retained):
            out.readings.append(r)
    return out


@dataclass(slots=True)
class Message:
    """A message that passed the message-level checks: its topic parts and its items."""

    topic: str
    payload: bytes
    received_at: datetime
    limits: Limits
    household: str
    device: str
    #: the topic's kind; None on a gateway's `batch` topic (each item names its own)
    fixed_kind: str | None
    items: list[Any]
    #: one JSON object, not an array: a bad item dead-letters the payload as it came
    single: bool

    def reject(self, dead: list[DeadLetter], item: Any, e: Reject) -> None:
        raw = self.payload if self.single else orjson.dumps(item)
        dead.append(_letter(self.received_at, self.topic, raw, e.reason, e.detail, self.limits))


def open_message(
    topic: str,
    payload: bytes,
    received_at: datetime,
    limits: Limits,
    dead: list[DeadLetter],
) -> Message | None:
    """Check what applies to a whole message; None when it carries nothing to store (a dead
    letter for it is then in `dead`, unless it is a command we ignore)."""
    try:
        return _open(topic, payload, received_at, limits)
    except Reject as e:
        dead.append(_letter(received_at, topic, payload, e.reason, e.detail, limits))
        return None


def _open(topic: str, payload: bytes, received_at: datetime, limits: Limits) -> Message | None:
    t = _topic(topic)
    if t is None:
        raise Reject(Reason.BAD_TOPIC, "topic must be anbu/v1/{household}/{device}/{kind}")
    if t.kind == COMMAND_KIND:  # our own outgoing commands, if a broker echoes them
        return None
    if len(payload) > limits.max_payload_bytes:
        raise Reject(
            Reason.OVERSIZED, f"{len(payload)} bytes > limit of {limits.max_payload_bytes}"
        )
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Reject(Reason.BAD_UTF8, str(e)) from None
    if b"\\u0000" in payload:
        raise Reject(Reason.INVALID, "NUL characters (\\u0000) are not allowed in strings")
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise Reject(Reason.NOT_JSON, str(e)) from None

    if t.kind == BATCH_KIND:
        if not isinstance(doc, list):
            raise Reject(Reason.NOT_OBJECT, "a batch payload must be a JSON array of readings")
        items: list[Any] = doc
        fixed_kind: str | None = None
    else:
        if t.kind not in _KINDS:
            raise Reject(Reason.UNKNOWN_KIND, f"unknown kind {t.kind!r}")
        items = doc if isinstance(doc, list) else [doc]
        fixed_kind = t.kind
    if not items:
        raise Reject(Reason.EMPTY_BATCH, "an empty array carries no reading")
    if len(items) > limits.max_batch:
        raise Reject(Reason.BATCH_TOO_LARGE, f"{len(items)} items > limit of {limits.max_batch}")
    single = len(items) == 1 and not isinstance(doc, list)
    return Message(
        topic,
        payload,
        received_at,
        limits,
        t.household_id,
        t.device_id,
        fixed_kind,
        items,
        single,
    )


#: devices publish on the same topics again and again; parsing one costs a regex and an object
_topic = lru_cache(maxsize=1 << 16)(parse_topic)


def skipped(r: Reading, retained: bool) -> bool:
    """A retained copy of an undated status (a last will replayed on subscribe) is not stored."""
    return r.seq is None and retained and bool(r.flags & ReadingFlag.UNDATED)


def _letter(
    received_at: datetime, topic: str, raw: bytes, reason: str, detail: str, limits: Limits
) -> DeadLetter:
    return DeadLetter(received_at, topic, raw[: limits.max_payload_bytes], reason, detail, len(raw))


def decode_item(
    household: str,
    topic_device: str,
    fixed_kind: str | None,
    item: Any,
    received_at: datetime,
    limits: Limits,
) -> Reading:
    if not isinstance(item, dict):
        raise Reject(
            Reason.NOT_OBJECT, f"a reading must be a JSON object, got {type(item).__name__}"
        )
    if fixed_kind is None:  # gateway batch: each item names its device and kind
        device, kind_s = item.get("device"), item.get("kind")
        if not isinstance(device, str) or not ID_RE.match(device):
            raise Reject(Reason.INVALID, "a batch item needs a valid `device` id")
        if not isinstance(kind_s, str):
            raise Reject(Reason.INVALID, "a batch item needs a `kind`")
    else:
        device, kind_s = topic_device, fixed_kind
        if item.get("device", device) != device:
            raise Reject(
                Reason.DEVICE_MISMATCH, f"payload device {item.get('device')!r} != topic {device!r}"
            )
        if item.get("kind", kind_s) != kind_s:
            raise Reject(
                Reason.DEVICE_MISMATCH, f"payload kind {item.get('kind')!r} != topic {kind_s!r}"
            )
    kind = _KINDS.get(kind_s)
    if kind is None:
        raise Reject(Reason.UNKNOWN_KIND, f"unknown kind {kind_s!r}")
    try:
        model = MODELS[kind].model_validate(item)
    except ValidationError as e:
        raise Reject(Reason.INVALID, _explain(e)) from None

    # Validation is strict, so the validated values are the input's own: take `data` from the
    # input dict (iterating the model costs several times more than validating it).
    data = {k: v for k, v in item.items() if v is not None and k not in ENVELOPE}
    flags = 0
    if model.ts is None:
        when = received_at
        flags |= ReadingFlag.UNDATED
    else:
        when = parse_ts(model.ts)
        skew = (when - received_at).total_seconds()
        if skew > limits.max_future_s or -skew > limits.max_past_s:
            data["device_ts"] = when.isoformat()
            when = received_at
            flags |= ReadingFlag.CLOCK_CORRECTED
        elif -skew > limits.late_after_s:
            flags |= ReadingFlag.LATE
    return Reading(household, device, kind, when, model.seq, model.primary(), data, flags)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KINDS = {k.value: k for k in Kind}


def parse_ts(ts: float | str) -> datetime:
    """Epoch seconds or RFC 3339 with an offset -> aware UTC datetime (raises Reject)."""
    if isinstance(ts, str):
        try:
            d = datetime.fromisoformat(ts)
        except ValueError:
            raise Reject(Reason.BAD_TIMESTAMP, f"ts {ts!r} is not RFC 3339") from None
        if d.tzinfo is None:
            raise Reject(Reason.BAD_TIMESTAMP, f"ts {ts!r} has no UTC offset")
        return d.astimezone(UTC)
    if not math.isfinite(ts) or ts < 0:
        raise Reject(Reason.BAD_TIMESTAMP, f"ts {ts!r} is not a valid epoch time")
    if ts > 1e11:
        raise Reject(Reason.BAD_TIMESTAMP, f"ts {ts!r} looks like milliseconds; send seconds")
    return _EPOCH + timedelta(seconds=ts)


def _explain(e: ValidationError) -> str:
    parts = []
    for err in e.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
