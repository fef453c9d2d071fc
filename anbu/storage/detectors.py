"""Detector state and findings in PostgreSQL (migration 0004_detectors.sql).

The engine (`detectors.engine.Engine`) packs each household's state into bytes
(`Engine.export`) and loads it back (`Engine.adopt`); this module stores those rows, the
findings, and a checkpoint, and reads back the readings stored since the checkpoint so that a
restarted engine catches up before its first evaluation. The kernel does not import
`detectors`: states are passed as any object with the fields of `StoredState`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson
import psycopg
from psycopg.types.json import Jsonb

from anbu.domain import Kind, Reading


class PackedState(Protocol):
    @property
    def household_id(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def household(self) -> bytes: ...
    @property
    def device_ids(self) -> tuple[str, ...]: ...
    @property
    def device_kinds(self) -> tuple[str, ...]: ...
    @property
    def devices(self) -> bytes: ...
    @property
    def last_sign(self) -> float | None: ...
    @property
    def last_heard(self) -> float | None: ...
    @property
    def state(self) -> str: ...


@dataclass(frozen=True, slots=True)
class StoredState:
    household_id: str
    timezone: str
    household: bytes
    device_ids: tuple[str, ...]
    device_kinds: tuple[str, ...]
    devices: bytes
    last_sign: float | None
    last_heard: float | None
    state: str
    #: the layout the state was packed with (`Engine.state_format` when it was saved)
    format: int | None = None


class StoredFinding(Protocol):
    """What is stored of a `detectors.findings.Finding`."""

    @property
    def household_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def evidence(self) -> Mapping[str, Any]: ...


def _ts(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


_SAVE = """
INSERT INTO detector_state AS d (household_id, timezone, last_sign_at, last_heard_at, state,
    format, profile, device_ids, device_kinds, devices, saved_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (household_id) DO UPDATE SET timezone = excluded.timezone,
    last_sign_at = excluded.last_sign_at, last_heard_at = excluded.last_heard_at,
    state = excluded.state, format = excluded.format, profile = excluded.profile,
    device_ids = excluded.device_ids, device_kinds = excluded.device_kinds,
    devices = excluded.devices, saved_at = excluded.saved_at
"""


def save_states(
    conn: psycopg.Connection[Any],
    states: Iterable[PackedState],
    fmt: int,
    checkpoint: datetime | None = None,
) -> int:
    """Upsert the states (one statement, pipelined) and, if given, the checkpoint time.
    The caller commits: state and checkpoint move together."""
    rows = [
        (
            s.household_id,
            s.timezone,
            _ts(s.last_sign),
            _ts(s.last_heard),
            s.state,
            fmt,
            s.household,
            list(s.device_ids),
            list(s.device_kinds),
            s.devices,
        )
        for s in states
    ]
    with conn.cursor() as cur:
        if rows:
            cur.executemany(_SAVE, rows)
        if checkpoint is not None:
            cur.execute(
                "INSERT INTO detector_checkpoint (id, saved_at, evaluated_at)"
                " VALUES (true, now(), %s) ON CONFLICT (id) DO UPDATE"
                " SET saved_at = excluded.saved_at, evaluated_at = excluded.evaluated_at",
                (checkpoint,),
            )
    return len(rows)


def load_states(
    conn: psycopg.Connection[Any], fmt: int, accept: Callable[[int], bool] | None = None
) -> tuple[list[StoredState], int]:
    """The stored states of layout `fmt`, and of any other layout `accept` says the engine
    can adopt (an older one after an upgrade: each state carries its `format`), and how many
    rows of a layout it cannot read were skipped."""
    out: list[StoredState] = []
    skipped = 0
    rows = conn.execute(
        "SELECT household_id, timezone, format, profile, device_ids, device_kinds, devices,"
        " last_sign_at, last_heard_at, state FROM detector_state ORDER BY household_id"
    )
    for hid, tz, f, prof, dids, dkinds, devs, last_sign, last_heard, state in rows:
        if f != fmt and (accept is None or not accept(f)):
            skipped += 1
            continue
        out.append(
            StoredState(
                hid,
                tz,
                bytes(prof),
                tuple(dids),
                tuple(dkinds),
                bytes(devs),
                last_sign.timestamp() if last_sign else None,
                last_heard.timestamp() if last_heard else None,
                state,
                f,
            )
        )
    return out, skipped


def load_checkpoint(conn: psycopg.Connection[Any]) -> tuple[datetime, datetime | None] | None:
    """(saved_at, evaluated_at) of the last save, or None."""
    row = conn.execute("SELECT saved_at, evaluated_at FROM detector_checkpoint").fetchone()
    return None if row is None else (row[0], row[1])


#: readings stored this long before a checkpoint are replayed too: a transaction that began
#: before the save may commit after it (replaying a reading the engine saw is harmless)
REPLAY_MARGIN = timedelta(minutes=5)


def readings_since(
    conn: psycopg.Connection[Any], stored_after: datetime, households: Sequence[str] | None = None
) -> list[Reading]:
    """Readings stored after `stored_after` (less `REPLAY_MARGIN`), in time order."""
    sql = (
        "SELECT household_id, device_id, kind, time, seq, value, data, flags FROM readings"
        " WHERE stored_at > %s"
    )
    params: list[Any] = [stored_after - REPLAY_MARGIN]
    if households is not None:
        sql += " AND household_id = ANY(%s)"
        params.append(list(households))
    sql += " ORDER BY time"
    return [
        Reading(h, d, Kind(k), t, seq, v, data, fl)
        for h, d, k, t, seq, v, data, fl in conn.execute(sql, params)
    ]


_FINDING = """
INSERT INTO findings (household_id, kind, severity, at, device_id, explanation, explanation_ko,
    message_key, message_params, evidence)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


def save_findings(conn: psycopg.Connection[Any], findings: Iterable[Any]) -> int:
    """Store `detectors.findings.Finding`s (explanation in both languages, key and params)."""
    rows = []
    for f in findings:
        ex = f.explanation
        rows.append(
            (
                f.household_id,
                f.kind,
                f.severity.label,
                f.at,
                f.evidence.get("device"),
                ex.en,
                ex.ko,
                ex.key,
                Jsonb(_jsonable(ex.params)),
                Jsonb(_jsonable(f.evidence)),
            )
        )
    if rows:
        with conn.cursor() as cur:
            cur.executemany(_FINDING, rows)
    return len(rows)


def _jsonable(m: Mapping[str, Any]) -> Any:
    return orjson.loads(orjson.dumps(dict(m), option=orjson.OPT_SERIALIZE_NUMPY, default=str))


@dataclass(frozen=True, slots=True)
class FindingRow:
    household_id: str
    kind: str
    severity: str
    at: datetime
    device_id: str | None
    explanation: str
    explanation_ko: str
    message_key: str
    evidence: dict[str, Any]


def load_findings(
    conn: psycopg.Connection[Any], household_id: str | None = None, since: datetime | None = None
) -> list[FindingRow]:
    sql = (
        "SELECT household_id, kind, severity, at, device_id, explanation, explanation_ko,"
        " message_key, evidence FROM findings WHERE true"
    )
    params: list[Any] = []
    if household_id is not None:
        sql += " AND household_id = %s"
        params.append(household_id)
    if since is not None:
        sql += " AND at >= %s"
        params.append(since)
    sql += " ORDER BY at, id"
    return [FindingRow(*r) for r in conn.execute(sql, params)]


def note_last_signs(conn: psycopg.Connection[Any], signs: Sequence[tuple[str, float]]) -> None:
    """Move the summary column `last_sign_at` forward for these households (epoch seconds),
    between full saves of the state; never backward. The caller commits."""
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE detector_state SET last_sign_at = to_timestamp(%s)"
            " WHERE household_id = %s"
            " AND (last_sign_at IS NULL OR last_sign_at < to_timestamp(%s))",
            [(t, h, t) for h, t in signs],
        )
