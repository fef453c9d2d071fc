"""A demo district: planners, staff and households with plausible (fictional) Korean details.

Pure and seeded: the same seed gives the same district. Names are masked the way staff screens
show them (김○○), addresses are fictional.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from anbu.storage.registry import DistrictRow, HouseholdRow, StaffRow

DISTRICT = DistrictRow("11200", "성동구", "Seongdong-gu")
DONGS = [
    "왕십리도선동",
    "마장동",
    "사근동",
    "행당1동",
    "응봉동",
    "금호1가동",
    "옥수동",
    "성수1가1동",
    "송정동",
    "용답동",
]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
#: demo logins: username -> (role, display name)
STAFF = [
    ("admin", "admin", "관리자"),
    ("monitor1", "monitoring", "관제 김민지"),
    ("monitor2", "monitoring", "관제 이준호"),
    ("lead1", "team_lead", "팀장 박성희"),
    ("planner1", "planner", "복지플래너 최유진"),
    ("planner2", "planner", "복지플래너 정다은"),
    ("planner3", "planner", "복지플래너 강현우"),
    ("planner4", "planner", "복지플래너 조서연"),
    ("field1", "field_worker", "방문간호사 윤미경"),
    ("field2", "field_worker", "명예사회복지공무원 장영수"),
]


@dataclass(frozen=True, slots=True)
class DemoDistrict:
    district: DistrictRow
    staff: list[StaffRow]
    households: list[HouseholdRow]
    #: (household_id, staff_id, "primary" | "backup")
    assignments: list[tuple[str, str, str]]


def household_id(i: int) -> str:
    return f"hh-{i + 1:04d}"


def demo_district(n_households: int = 60, seed: int = 1) -> DemoDistrict:
    rng = random.Random(seed)
    staff = [
        StaffRow(
            f"st-{u}",
            u,
            name,
            role,
            DISTRICT.id,
            phone=f"010-0000-{i:04d}",
            email=f"{u}@demo.anbu.invalid",
        )
        for i, (u, role, name) in enumerate(STAFF)
    ]
    planners = [s.id for s in staff if s.role == "planner"]
    households, assignments = [], []
    for i in range(n_households):
        hid = household_id(i)
        dong = DONGS[i % len(DONGS)]
        households.append(
            HouseholdRow(
                id=hid,
                district_id=DISTRICT.id,
                dong=dong,
                display_name=f"{rng.choice(SURNAMES)}○○",
                address=f"서울특별시 성동구 {dong} {rng.randint(1, 400)}-{rng.randint(1, 30)}",
                phone=f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                birth_year=rng.randint(1938, 1975),
                risk_level=rng.choices(["low", "medium", "high"], [2, 5, 3])[0],
            )
        )
        primary = planners[i % len(planners)]
        backup = planners[(i + 1) % len(planners)]
        assignments += [(hid, primary, "primary"), (hid, backup, "backup")]
    return DemoDistrict(DISTRICT, staff, households, assignments)


#: every demo login's password (the demo prints it; never use demo data in production)
DEMO_PASSWORD = "anbu-demo"


def seed(conn: object, d: DemoDistrict) -> None:
    """Write the district (idempotent) in the caller's transaction."""
    from dataclasses import replace

    from anbu.passwords import hash_password
    from anbu.storage import registry

    pw = hash_password(DEMO_PASSWORD)
    registry.upsert_districts(conn, [d.district])  # type: ignore[arg-type]
    registry.upsert_staff(conn, [replace(s, password_hash=pw) for s in d.staff])  # type: ignore[arg-type]
    registry.upsert_households(conn, d.households)  # type: ignore[arg-type]
    for hid, sid, role in d.assignments:
        registry.assign(conn, hid, sid, role)  # type: ignore[arg-type]
    # staff (and the monitoring centre) get their alerts on an MQTT topic, as a field app would
    for sid in [s.id for s in d.staff] + ["centre"]:
        conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO staff_channels (staff_id, channel, address) VALUES (%s, 'mqtt', %s)"
            " ON CONFLICT DO NOTHING",
            (sid, f"anbu/staff/{sid}/alerts"),
        )
