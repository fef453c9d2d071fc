"""The alert lifecycle, escalation schedule and routing: pure, with exact expectations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from alerts.model import (
    SYSTEM,
    Finding,
    Outcome,
    State,
    TransitionError,
    acknowledge,
    add_note,
    auto_resolve,
    on_finding,
    resolve,
)
from alerts.policy import Role, default_policy, due, mark_notified, next_due_at
from alerts.routing import CENTRE, RESIDENT, Assignment, OfficeCalendar, recipients
from anbu.domain import Severity

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul
M = timedelta(minutes=1)


def finding(sev: Severity = Severity.ALARM, at: datetime = T0, kind: str = "inactivity") -> Finding:
    return Finding("hh-1", kind, sev, at, f"{sev.label} text", {"silence_s": 1})


def test_a_finding_opens_one_alert_and_refiring_updates_it_without_events() -> None:
    t = on_finding(None, finding())
    a = t.alert
    assert (a.state, a.severity, a.fingerprint) == (State.OPEN, Severity.ALARM, "hh-1/inactivity")
    assert [e.action for e in t.events] == ["opened"]
    again = on_finding(a, finding(at=T0 + 5 * M))
    assert again.events == () and again.alert.updated_at == T0 + 5 * M
    lower = on_finding(a, finding(Severity.CAUTION, T0 + 6 * M))
    assert lower.alert.severity is Severity.ALARM and lower.events == ()


def test_rising_severity_reopens_an_acknowledged_alert_and_restarts_escalation() -> None:
    a = acknowledge(on_finding(None, finding()).alert, "st-planner1", T0 + M).alert
    t = on_finding(a, finding(Severity.DANGER, T0 + 60 * M))
    b = t.alert
    assert (b.state, b.severity, b.escalation_step) == (State.OPEN, Severity.DANGER, 0)
    assert b.escalation_started_at == T0 + 60 * M and b.acknowledged_by is None
    assert [e.action for e in t.events] == ["severity_raised"]
    assert t.events[0].detail["from"] == "alarm"


def test_acknowledge_resolve_and_their_guards() -> None:
    a = on_finding(None, finding()).alert
    ack = acknowledge(a, "st-planner1", T0 + M)
    assert ack.alert.acknowledged_by == "st-planner1"
    with pytest.raises(TransitionError):
        acknowledge(ack.alert, "st-planner2", T0 + 2 * M)
    done = resolve(ack.alert, "st-planner1", T0 + 9 * M, Outcome.RESIDENT_FINE, "was asleep")
    assert done.alert.state is State.RESOLVED and done.alert.outcome is Outcome.RESIDENT_FINE
    assert done.events[0].detail == {"outcome": "resident_fine", "note": "was asleep"}
    with pytest.raises(TransitionError):
        resolve(done.alert, "st-planner1", T0, Outcome.OTHER)
    with pytest.raises(TransitionError):
        resolve(a, "st-planner1", T0, Outcome.AUTO_RESOLVED)  # only anbu records that
    with pytest.raises(TransitionError):
        add_note(a, "st-planner1", T0, "   ")
    assert add_note(a, "st-planner1", T0, "called, no answer").events[0].action == "note"


def test_auto_resolve_only_before_anyone_acknowledged() -> None:
    a = on_finding(None, finding()).alert
    t = auto_resolve(a, T0 + 30 * M, "motion in kitchen")
    assert (t.alert.outcome, t.alert.resolved_by) == (Outcome.AUTO_RESOLVED, SYSTEM)
    acked = acknowledge(a, "st-planner1", T0 + M).alert
    assert auto_resolve(acked, T0 + 30 * M, "motion").events == ()


def test_alarm_escalates_on_schedule_after_asking_the_resident_first() -> None:
    p = default_policy(ask_first=True)
    a = on_finding(None, finding()).alert
    assert [d.roles for d in due(p, a, T0)] == [(Role.RESIDENT,)]
    a = mark_notified(a, due(p, a, T0)[0], T0).alert
    assert due(p, a, T0 + 9 * M) == []
    assert next_due_at(p, a) == T0 + 10 * M
    [d] = due(p, a, T0 + 10 * M)
    assert d.roles == (Role.PRIMARY,)
    a = mark_notified(a, d, T0 + 10 * M).alert
    assert due(p, a, T0 + 24 * M) == []
    [d] = due(p, a, T0 + 25 * M)
    assert d.roles == (Role.BACKUP, Role.TEAM_LEAD)
    a = mark_notified(a, d, T0 + 25 * M).alert
    [d] = due(p, a, T0 + 40 * M)
    assert d.roles == (Role.CENTRE,) and not d.reminder
    a = mark_notified(a, d, T0 + 40 * M).alert
    # then reminders to the last step's roles until somebody acknowledges
    assert due(p, a, T0 + 54 * M) == []
    [r] = due(p, a, T0 + 55 * M)
    assert r.reminder and r.roles == (Role.CENTRE,)
    acked = acknowledge(a, "st-monitor1", T0 + 56 * M).alert
    assert due(p, acked, T0 + 90 * M) == [] and next_due_at(p, acked) is None


def test_steps_missed_while_down_are_all_due_at_once_in_order() -> None:
    p = default_policy(ask_first=False)
    a = on_finding(None, finding()).alert
    assert [d.step for d in due(p, a, T0 + 2 * 60 * M)] == [1, 2, 3]


def test_danger_goes_to_the_centre_at_once_without_asking_first() -> None:
    p = default_policy(ask_first=True)
    a = on_finding(None, finding(Severity.DANGER, kind="sos")).alert
    assert due(p, a, T0)[0].roles == (Role.CENTRE, Role.PRIMARY)


CAL = OfficeCalendar()


@pytest.mark.parametrize(
    ("when", "open_"),
    [
        (datetime(2026, 11, 23, 1, 0, tzinfo=UTC), True),  # Monday 10:00 KST
        (datetime(2026, 11, 23, 9, 30, tzinfo=UTC), False),  # Monday 18:30 KST
        (datetime(2026, 11, 22, 1, 0, tzinfo=UTC), False),  # Sunday
        (datetime(2026, 9, 25, 1, 0, tzinfo=UTC), False),  # Chuseok (Friday)
        (datetime(2026, 10, 5, 1, 0, tzinfo=UTC), False),  # substitute holiday (Monday)
        (datetime(2026, 10, 6, 0, 0, tzinfo=UTC), True),  # Tuesday 09:00 KST
    ],
)
def test_office_hours_follow_seoul_time_and_korean_public_holidays(
    when: datetime, open_: bool
) -> None:
    assert CAL.is_office_hours(when) is open_


def test_district_closed_days_are_honoured() -> None:
    cal = OfficeCalendar(closed=frozenset({date(2026, 11, 23)}))
    assert not cal.is_office_hours(T0)


def test_recipients_in_office_hours_after_hours_and_without_assignment() -> None:
    who = Assignment("st-planner1", "st-planner2", "st-lead1")
    roles = (Role.RESIDENT, Role.PRIMARY, Role.BACKUP, Role.TEAM_LEAD)
    assert [r.target for r in recipients(roles, who, True)] == [
        RESIDENT,
        "st-planner1",
        "st-planner2",
        "st-lead1",
    ]
    night = recipients(roles, who, False)
    assert [r.target for r in night] == [RESIDENT, CENTRE]  # deduplicated
    assert night[1].reason == "after hours: centre instead of primary"
    alone = recipients((Role.PRIMARY, Role.BACKUP), Assignment("st-planner1"), True)
    assert [(r.target, r.reason) for r in alone] == [
        ("st-planner1", ""),
        (CENTRE, "no backup assigned: centre"),
    ]
