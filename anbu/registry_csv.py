"""Bulk import of a district's households, staff and assignments from CSV: how a district starts.

Pure: text in, rows or line-numbered errors out. A file with any bad row imports nothing (the
caller writes all rows in one transaction only when there are no errors), so a district never
ends up half-imported.

Columns (a header row is required; extra columns are an error, to catch typos):
- households: id, district_id, dong, display_name[, address, phone, birth_year, risk_level,
  consent_monitoring, consent_emergency_share, monitoring_profile]
- staff: id, username, display_name, role[, district_id, phone, email]
- assignments: household_id, staff_id, role (primary | backup)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from anbu.contract import ID_RE
from anbu.storage.registry import HouseholdRow, StaffRow

T = TypeVar("T")

ROLES = ("admin", "monitoring", "team_lead", "planner", "field_worker")
RISK = ("low", "medium", "high")
TRUE = {"1", "true", "yes", "y", "예", "동의"}
FALSE = {"0", "false", "no", "n", "아니오", "미동의", ""}


@dataclass(frozen=True, slots=True)
class Assignment:
    household_id: str
    staff_id: str
    role: str


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    rows: list[T]
    #: "line N: what is wrong" (line 1 is the header)
    errors: list[str]


class _Bad(ValueError):
    pass


def _parse(
    text: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    build: Callable[[dict[str, str]], T],
) -> Parsed[T]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown columns: {', '.join(unknown)}")
        return Parsed([], [f"line 1: {'; '.join(problems)}"])
    rows, errors = [], []
    for n, raw in enumerate(reader, start=2):
        rec = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:  # more cells than columns
            errors.append(f"line {n}: more values than columns")
            continue
        try:
            for c in required:
                if not rec.get(c):
                    raise _Bad(f"{c} is empty")
            rows.append(build(rec))
        except _Bad as e:
            errors.append(f"line {n}: {e}")
    return Parsed(rows, errors)


def _id(rec: dict[str, str], col: str) -> str:
    v = rec[col]
    if not ID_RE.match(v):
        raise _Bad(f"{col} {v!r} must be 1-64 letters, digits, '_', '.', '-'")
    return v


def _bool(rec: dict[str, str], col: str, default: bool) -> bool:
    v = rec.get(col, "").lower()
    if col not in rec:
        return default
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise _Bad(f"{col} {rec[col]!r} is not yes/no")


def _choice(rec: dict[str, str], col: str, options: tuple[str, ...], default: str) -> str:
    v = rec.get(col) or default
    if v not in options:
        raise _Bad(f"{col} {v!r} is not one of {', '.join(options)}")
    return v


def households(text: str) -> Parsed[HouseholdRow]:
    def build(r: dict[str, str]) -> HouseholdRow:
        year: int | None = None
        if r.get("birth_year"):
            try:
                year = int(r["birth_year"])
            except ValueError:
                raise _Bad(f"birth_year {r['birth_year']!r} is not a year") from None
            if not 1900 <= year <= 2025:
                raise _Bad(f"birth_year {year} is out of range")
        return HouseholdRow(
            id=_id(r, "id"),
            district_id=_id(r, "district_id"),
            dong=r["dong"],
            display_name=r["display_name"],
            address=r.get("address", ""),
            phone=r.get("phone", ""),
            birth_year=year,
            risk_level=_choice(r, "risk_level", RISK, "medium"),
            consent_monitoring=_bool(r, "consent_monitoring", False),
            consent_emergency_share=_bool(r, "consent_emergency_share", False),
            monitoring_profile=r.get("monitoring_profile") or "standard",
        )

    return _dedup(
        _parse(
            text,
            ("id", "district_id", "dong", "display_name"),
            (
                "address",
                "phone",
                "birth_year",
                "risk_level",
                "consent_monitoring",
                "consent_emergency_share",
                "monitoring_profile",
            ),
            build,
        ),
        lambda h: h.id,
    )


def staff(text: str) -> Parsed[StaffRow]:
    def build(r: dict[str, str]) -> StaffRow:
        district = _id(r, "district_id") if r.get("district_id") else None
        role = _choice(r, "role", ROLES, "")
        if role in ("monitoring", "team_lead", "planner", "field_worker") and district is None:
            raise _Bad(f"a {role} needs a district_id")
        return StaffRow(
            id=_id(r, "id"),
            username=_id(r, "username"),
            display_name=r["display_name"],
            role=role,
            district_id=district,
            phone=r.get("phone", ""),
            email=r.get("email", ""),
        )

    return _dedup(
        _parse(
            text,
            ("id", "username", "display_name", "role"),
            ("district_id", "phone", "email"),
            build,
        ),
        lambda s: s.id,
    )


def assignments(text: str) -> Parsed[Assignment]:
    def build(r: dict[str, str]) -> Assignment:
        return Assignment(
            _id(r, "household_id"),
            _id(r, "staff_id"),
            _choice(r, "role", ("primary", "backup"), ""),
        )

    return _dedup(
        _parse(text, ("household_id", "staff_id", "role"), (), build),
        lambda a: (a.household_id, a.role),
    )


def _dedup(p: Parsed[T], key: Callable[[T], Any]) -> Parsed[T]:
    seen: dict[Any, int] = {}
    errors = list(p.errors)
    for i, row in enumerate(p.rows):
        k = key(row)
        if k in seen:
            errors.append(f"row {i + 1}: {k!r} appears twice (first as row {seen[k] + 1})")
        seen.setdefault(k, i)
    return Parsed(p.rows, errors)
