"""Escalation policies per district on the real database: each district's schedule, the
fallbacks, policies changed at runtime, and the append-only history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from alerts.model import Finding, Outcome
from alerts.policy import Policy, default_policy
from alerts.service import AlertService
from anbu.domain import Severity
from anbu.storage import alerts as store
from anbu.storage import policies
from anbu.storage.db import connect
from anbu.storage.registry import (
    DistrictRow,
    HouseholdRow,
    StaffRow,
    assign,
    upsert_districts,
    upsert_households,
    upsert_staff,
)

pytestmark = pytest.mark.integration

MON_10 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul: office hours
M = timedelta(minutes=1)

#: d1's own policy: alarm goes to the planner, then the centre after 5 min, reminders every 5
FAST = Policy.model_validate(
    {
        "caution": {"steps": [{"after_minutes": 0, "notify": ["primary"]}]},
        "alarm": {
            "steps": [
                {"after_minutes": 0, "notify": ["primary"]},
                {"after_minutes": 5, "notify": ["centre"]},
            ],
            "reminder_minutes": 5,
        },
        "danger": {
            "steps": [
                {"after_minutes": 0, "notify": ["centre"]},
                {"after_minutes": 2, "notify": ["team_lead"]},
            ]
        },
    }
)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """Two districts with a planner each and a household each; every target has a webhook."""
    with connect(database_url) as c:
        upsert_districts(c, [DistrictRow("d1", "성동구", ""), DistrictRow("d2", "중구", "")])
        upsert_staff(
            c,
            [
                StaffRow("p1", "planner1", "최유진", "planner", "d1"),
                StaffRow("p2", "planner2", "정다은", "planner", "d2"),
                StaffRow("lead1", "lead1", "박성희", "team_lead", "d1"),
            ],
        )
        upsert_households(
            c,
            [
                HouseholdRow("hh-1", "d1", "마장동", "김○○"),
                HouseholdRow("hh-3", "d1", "사근동", "한○○"),
                HouseholdRow("hh-2", "d2", "명동", "이○○"),
            ],
        )
        for h, p in (("hh-1", "p1"), ("hh-3", "p1"), ("hh-2", "p2")):
            assign(c, h, p, "primary")
        for staff in ("p1", "p2", "lead1", "centre"):
            c.execute(
                "INSERT INTO staff_channels (staff_id, channel, address)"
                " VALUES (%s, 'webhook', %s)",
                (staff, f"http://receiver.invalid/{staff}"),
            )
        c.commit()
        yield c


def collapse(household: str, at: datetime, sev: Severity = Severity.ALARM) -> Finding:
    return Finding(household, "inactivity", sev, at, "no sign of life")


def told(conn: psycopg.Connection[Any], alert_id: int | None) -> list[tuple[int, str]]:
    """(minutes after MON_10, recipient) of every delivery queued for the alert, in order."""
    rows = conn.execute(
        "SELECT created_at, recipient FROM outbox WHERE alert_id = %s ORDER BY id", (alert_id,)
    ).fetchall()
    return [(int((at - MON_10) / M), who) for at, who in rows]


def run(svc: AlertService, conn: psycopg.Connection[Any], minutes: int) -> None:
    """Tick the escalator once a minute, as the runner would with a fast clock."""
    for i in range(minutes + 1):
        svc.tick(conn, MON_10 + i * M)


def test_a_district_with_its_own_policy_escalates_on_it_while_another_keeps_the_default(
    conn: psycopg.Connection[Any],
) -> None:
    with conn.transaction():
        policies.replace_plans(conn, "d1", {s: FAST.plan(s) for s in Severity}, "ad", MON_10)
    svc = AlertService(default_policy(ask_first=False))
    custom = svc.handle(conn, collapse("hh-1", MON_10))
    default = svc.handle(conn, collapse("hh-2", MON_10))
    run(svc, conn, 31)
    assert told(conn, custom.id) == [
        (0, "p1"),
        (5, "centre"),
        (10, "centre"),  # reminders every 5 minutes
        (15, "centre"),
        (20, "centre"),
        (25, "centre"),
        (30, "centre"),
    ]
    assert told(conn, default.id) == [(0, "p2"), (15, "centre"), (30, "centre")]
    # (d2 has no backup or team lead: the centre, deduplicated; the default's centre step at 30)
    assert custom.id is not None and default.id is not None
    opened = store.events(conn, custom.id)[0]
    assert opened["detail"]["policy_source"] == "district:d1"
    assert opened["detail"]["policy"] == FAST.alarm.model_dump(mode="json")
    assert store.events(conn, default.id)[0]["detail"]["policy_source"] == "built-in"


def test_a_policy_changed_at_runtime_applies_to_alerts_raised_afterwards_only(
    conn: psycopg.Connection[Any],
) -> None:
    svc = AlertService(default_policy(ask_first=False))
    before = svc.handle(conn, collapse("hh-1", MON_10))
    with conn.transaction():
        policies.replace_plans(conn, "d1", {s: FAST.plan(s) for s in Severity}, "ad", MON_10 + M)
    after = svc.handle(conn, collapse("hh-3", MON_10 + 2 * M))
    run(svc, conn, 16)
    # the open alert keeps the default it started with (backup and team lead at 15, no
    # backup assigned: the centre; not the centre at 5)
    assert told(conn, before.id) == [(0, "p1"), (15, "centre"), (15, "lead1")]
    assert told(conn, after.id) == [(2, "p1"), (7, "centre"), (12, "centre")]
    # a rise starts a new escalation, which takes the district's plan as it is now
    risen = svc.handle(conn, collapse("hh-1", MON_10 + 20 * M, Severity.DANGER))
    assert risen.policy == FAST.danger
    svc.tick(conn, MON_10 + 22 * M)
    assert told(conn, before.id)[3:] == [(20, "centre"), (22, "lead1")]
    assert before.id is not None
    [raised] = [e for e in store.events(conn, before.id) if e["action"] == "severity_raised"]
    assert raised["detail"]["policy_source"] == "district:d1"
    # the schedule is kept across a restart: a new service instance reads it from the alert
    again = store.load(conn, before.id)
    assert again is not None and again.policy == FAST.danger


def test_the_fallbacks_district_then_stored_default_then_built_in(
    conn: psycopg.Connection[Any],
) -> None:
    built_in = default_policy(ask_first=False)
    stored_default = built_in.model_copy(
        update={"alarm": FAST.alarm.model_copy(update={"reminder_minutes": 60})}
    )
    with conn.transaction():
        policies.replace_plans(conn, None, {Severity.ALARM: stored_default.alarm}, "ad", MON_10)
        policies.replace_plans(conn, "d1", {Severity.ALARM: FAST.alarm}, "ad", MON_10)

    def plan_for(household: str, sev: Severity = Severity.ALARM) -> tuple[Any, str] | None:
        found = policies.for_household(conn, household, sev)
        return (found.plan, found.source) if found else None

    assert plan_for("hh-1") == (FAST.alarm, "district:d1")
    assert plan_for("hh-2") == (stored_default.alarm, "default")
    assert plan_for("hh-1", Severity.CAUTION) is None  # neither stored: the built-in
    with conn.transaction():
        assert policies.delete_plans(conn, "d1", "ad") == 1
    assert plan_for("hh-1") == (stored_default.alarm, "default")
    with conn.transaction():
        policies.delete_plans(conn, None, "ad")
    svc = AlertService(built_in)
    a = svc.handle(conn, collapse("hh-1", MON_10))
    assert a.policy == built_in.alarm
    assert a.id is not None
    assert store.events(conn, a.id)[0]["detail"]["policy_source"] == "built-in"


def test_a_stored_plan_that_no_longer_validates_falls_back_and_the_alert_is_raised(
    conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    conn.execute(
        "INSERT INTO escalation_policies (district_id, severity, plan, updated_by)"
        " VALUES ('d1', 'alarm', '{\"steps\": []}', 'psql')"
    )
    conn.commit()
    svc = AlertService(default_policy(ask_first=False))
    a = svc.handle(conn, collapse("hh-1", MON_10))
    assert a.policy == svc.policy.alarm and told(conn, a.id) == [(0, "p1")]
    assert "ignoring the invalid escalation plan of district:d1/alarm" in caplog.text


def test_every_policy_change_is_in_an_append_only_history(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        policies.replace_plans(conn, "d1", {Severity.ALARM: FAST.alarm}, "ad", MON_10)
    with conn.transaction():  # the same again: nothing changed, nothing recorded
        policies.replace_plans(conn, "d1", {Severity.ALARM: FAST.alarm}, "ad2", MON_10)
    slower = FAST.alarm.model_copy(update={"reminder_minutes": 30})
    with conn.transaction():
        policies.replace_plans(conn, "d1", {Severity.ALARM: slower}, "ad2", MON_10)
    with conn.transaction():
        policies.delete_plans(conn, "d1", "ad")
    # a change made by hand, outside anbu, is recorded too, under the database user
    conn.execute(
        "INSERT INTO escalation_policies (district_id, severity, plan, updated_by)"
        " VALUES ('d1', 'caution', %s, 'psql')",
        (psycopg.types.json.Jsonb(FAST.caution.model_dump(mode="json")),),
    )
    conn.commit()
    fast, slow = FAST.alarm.model_dump(mode="json"), slower.model_dump(mode="json")
    assert [
        (h["actor"], h["severity"], h["old_plan"], h["new_plan"])
        for h in reversed(policies.history(conn, "d1"))
    ] == [
        ("ad", "alarm", None, fast),
        ("ad2", "alarm", fast, slow),
        ("ad", "alarm", slow, None),
        (conn.info.user, "caution", None, FAST.caution.model_dump(mode="json")),
    ]
    assert policies.history(conn, None) == []
    for sql in (
        "UPDATE escalation_policy_changes SET actor = 'me'",
        "DELETE FROM escalation_policy_changes",
        "TRUNCATE escalation_policy_changes",
    ):
        with pytest.raises(psycopg.Error):
            conn.execute(sql)
        conn.rollback()
    assert len(policies.history(conn, "d1")) == 4


def test_resolved_and_reopened_alerts_take_the_current_policy(
    conn: psycopg.Connection[Any],
) -> None:
    svc = AlertService(default_policy(ask_first=False))
    first = svc.handle(conn, collapse("hh-1", MON_10))
    assert first.id is not None
    svc.resolve(conn, first.id, "p1", MON_10 + M, Outcome.RESIDENT_FINE)
    with conn.transaction():
        policies.replace_plans(conn, "d1", {s: FAST.plan(s) for s in Severity}, "ad", MON_10)
    second = svc.handle(conn, collapse("hh-1", MON_10 + 2 * M))
    assert second.id != first.id and second.policy == FAST.alarm
