"""Households, staff, assignments and devices: the registry that readings are checked against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg


@dataclass(frozen=True, slots=True)
class DistrictRow:
    id: str
    name_ko: str
    name_en: str


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    id: str
    district_id: str
    dong: str
    display_name: str
    address: str = ""
    phone: str = ""
    birth_year: int | None = None
    risk_level: str = "medium"
    consent_monitoring: bool = True
    consent_emergency_share: bool = True
    monitoring_profile: str = "standard"


@dataclass(frozen=True, slots=True)
class StaffRow:
    id: str
    username: str
    display_name: str
    role: str
    district_id: str | None = None
    phone: str = ""
    email: str = ""
    password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceRow:
    household_id: str
    id: str
    kind: str
    room: str = ""
    exterior: bool = False
    label: str = ""


def upsert_districts(conn: psycopg.Connection[Any], rows: Iterable[DistrictRow]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO districts (id, name_ko, name_en) VALUES (%s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE"
            " SET name_ko = excluded.name_ko, name_en = excluded.name_en",
            [(r.id, r.name_ko, r.name_en) for r in rows],
        )


def upsert_households(conn: psycopg.Connection[Any], rows: Iterable[HouseholdRow]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO households (id, district_id, dong, display_name, address, phone,
                   birth_year, risk_level, consent_monitoring, consent_emergency_share,
                   consent_recorded_at, monitoring_profile)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now(), %s)
               ON CONFLICT (id) DO UPDATE SET district_id = excluded.district_id,
                   dong = excluded.dong, display_name = excluded.display_name,
                   address = excluded.address, phone = excluded.phone,
                   birth_year = excluded.birth_year, risk_level = excluded.risk_level,
                   monitoring_profile = excluded.monitoring_profile""",
            [
                (
                    r.id,
                    r.district_id,
                    r.dong,
                    r.display_name,
                    r.address,
                    r.phone,
                    r.birth_year,
                    r.risk_level,
                    r.consent_monitoring,
                    r.consent_emergency_share,
                    r.monitoring_profile,
                )
                for r in rows
            ],
        )


def upsert_staff(conn: psycopg.Connection[Any], rows: Iterable[StaffRow]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO staff (id, username, display_name, role, district_id, phone, email,
                   password_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                   role = excluded.role, district_id = excluded.district_id,
                   phone = excluded.phone, email = excluded.email,
                   password_hash = coalesce(excluded.password_hash, staff.password_hash)""",
            [
                (
                    r.id,
                    r.username,
                    r.display_name,
                    r.role,
                    r.district_id,
                    r.phone,
                    r.email,
                    r.password_hash,
                )
                for r in rows
            ],
        )


def assign(conn: psycopg.Connection[Any], household_id: str, staff_id: str, role: str) -> None:
    """Make staff_id the current `role` (primary/backup) planner, ending any previous one."""
    conn.execute(
        "UPDATE assignments SET ended_at = now()"
        " WHERE household_id = %s AND role = %s AND ended_at IS NULL AND staff_id <> %s",
        (household_id, role, staff_id),
    )
    conn.execute(
        "INSERT INTO assignments (household_id, staff_id, role) SELECT %s, %s, %s"
        " WHERE NOT EXISTS (SELECT 1 FROM assignments WHERE household_id = %s AND role = %s"
        " AND ended_at IS NULL)",
        (household_id, staff_id, role, household_id, role),
    )


def upsert_devices(conn: psycopg.Connection[Any], rows: Iterable[DeviceRow]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO devices (household_id, id, kind, room, exterior, label, provisional)
               VALUES (%s, %s, %s, %s, %s, %s, false)
               ON CONFLICT (household_id, id) DO UPDATE SET kind = excluded.kind,
                   room = excluded.room, exterior = excluded.exterior, label = excluded.label,
                   provisional = false""",
            [(r.household_id, r.id, r.kind, r.room, r.exterior, r.label) for r in rows],
        )
