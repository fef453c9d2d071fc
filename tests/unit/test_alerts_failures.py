"""Deliveries that failed for good: what the alert does about them, and how a check-in that
could not reach the resident moves the staff steps. Pure, with exact expectations."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alerts.channels import text
from alerts.failures import Failure, Response, failed_event, respond
from alerts.model import (
    Alert,
    Finding,
    Outcome,
    State,
    acknowledge,
    on_finding,
    resolve,
)
from alerts.policy import Role, check_in_failed, default_policy, due, mark_notified, next_due_at
from alerts.routing import CENTRE, RESIDENT
from anbu.domain import Severity

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul
M = timedelta(minutes=1)
ASK = default_policy(ask_first=True)  # alarm: check-in 10 min, then 0 / 15 / 30 min


def opened(sev: Severity = Severity.ALARM, kind: str = "inactivity") -> Alert:
    return on_finding(None, Finding("hh-1", kind, sev, T0, "x")).alert


def failure(recipient: str, channel: str = "webhook", created_at: datetime = T0) -> Failure:
    return Failure(7, 1, channel, recipient, "permanent: HTTP 400", 1, created_at)


def asked(a: Alert) -> Alert:
    """The check-in (step 1) was handed to the outbox at T0."""
    [d] = due(ASK, a, T0)
    assert d.roles == (Role.RESIDENT,)
    return mark_notified(a, d, T0).alert


def test_a_staff_member_not_reached_about_an_open_alert_escalates_to_the_centre() -> None:
    a = opened()
    for who in ("p1", "p2", "lead"):
        assert respond(a, failure(who)) is Response.NOTIFY_CENTRE
    assert respond(a, failure("p1", "email")) is Response.NOTIFY_CENTRE


def test_once_somebody_acknowledged_or_resolved_a_failure_is_only_recorded() -> None:
    ack = acknowledge(opened(), "p1", T0 + M).alert
    done = resolve(ack, "p1", T0 + 2 * M, Outcome.RESIDENT_FINE).alert
    for a in (ack, done):
        assert respond(a, failure("p2")) is Response.RECORD_ONLY
        assert respond(a, failure(RESIDENT, "device")) is Response.RECORD_ONLY


def test_the_centre_not_reached_has_nobody_further_whatever_the_state() -> None:
    a = opened()
    assert respond(a, failure(CENTRE)) is Response.CENTRE_UNREACHABLE
    ack = acknowledge(a, "p1", T0 + M).alert
    assert respond(ack, failure(CENTRE, "email")) is Response.CENTRE_UNREACHABLE


def test_a_check_in_of_the_current_escalation_that_failed_lets_staff_steps_follow() -> None:
    a = asked(opened())
    assert respond(a, failure(RESIDENT, "device")) is Response.STAFF_STEPS_NOW
    # a check-in from before a severity rise belongs to an escalation that is over
    risen = on_finding(a, Finding("hh-1", "inactivity", Severity.DANGER, T0 + 5 * M, "y")).alert
    assert respond(risen, failure(RESIDENT, "device")) is Response.RECORD_ONLY
    # the staff are already being told (step 2 reached), or a failure already counted
    later = replace(a, escalation_step=2)
    assert respond(later, failure(RESIDENT, "device")) is Response.RECORD_ONLY
    counted = check_in_failed(a, T0 + M)
    assert respond(counted, failure(RESIDENT, "device")) is Response.RECORD_ONLY


def test_the_event_says_which_delivery_failed_and_what_followed() -> None:
    a = opened()
    f = Failure(42, 1, "webhook", "p1", "retryable: HTTP 503", 25, T0)
    e = failed_event(a, f, Response.NOTIFY_CENTRE, T0 + 24 * 60 * M)
    assert (e.action, e.actor, e.from_state, e.to_state) == (
        "delivery_failed",
        "system",
        State.OPEN,
        State.OPEN,
    )
    assert dict(e.detail) == {
        "outbox_id": 42,
        "recipient": "p1",
        "channel": "webhook",
        "error": "retryable: HTTP 503",
        "attempts": 25,
        "response": "notify_centre",
    }


def test_without_a_failure_the_staff_wait_for_the_whole_check_in_timeout() -> None:
    a = asked(opened())
    assert due(ASK, a, T0 + 9 * M) == []
    [d] = due(ASK, a, T0 + 10 * M)
    assert (d.step, d.roles) == (2, (Role.PRIMARY,))


def test_a_failed_check_in_ends_the_residents_time_and_later_steps_count_from_it() -> None:
    a = check_in_failed(asked(opened()), T0 + 2 * M)
    assert a.check_in_failed_at == T0 + 2 * M
    assert next_due_at(ASK, a) == T0 + 2 * M
    [d] = due(ASK, a, T0 + 2 * M)
    assert (d.step, d.roles) == (2, (Role.PRIMARY,))
    b = mark_notified(a, d, T0 + 2 * M).alert
    # backup and team lead 15 min after the primary step, the centre 30 min after
    assert next_due_at(ASK, b) == T0 + 17 * M
    assert due(ASK, b, T0 + 16 * M) == []
    [d3] = due(ASK, b, T0 + 17 * M)
    assert d3.roles == (Role.BACKUP, Role.TEAM_LEAD)


def test_a_failure_after_the_timeout_moves_nothing_and_the_first_failure_counts() -> None:
    a = asked(opened())
    late = check_in_failed(a, T0 + 30 * M)
    assert next_due_at(ASK, late) == T0 + 10 * M
    first = check_in_failed(check_in_failed(a, T0 + 3 * M), T0 + 5 * M)
    assert first.check_in_failed_at == T0 + 3 * M


@pytest.mark.parametrize(
    ("sev", "kind"), [(Severity.DANGER, "inactivity"), (Severity.ALARM, "sos")]
)
def test_a_schedule_without_a_check_in_is_not_moved(sev: Severity, kind: str) -> None:
    a = opened(sev, kind)
    moved = check_in_failed(a, T0 + M)  # no check-in in the schedule: nothing to cut short
    assert next_due_at(ASK, moved) == next_due_at(ASK, a) == T0


def test_a_severity_rise_starts_a_new_escalation_with_a_new_check_in() -> None:
    a = check_in_failed(asked(opened(Severity.CAUTION)), T0 + M)
    risen = on_finding(a, Finding("hh-1", "inactivity", Severity.ALARM, T0 + 20 * M, "y")).alert
    assert risen.check_in_failed_at is None and risen.escalation_step == 0


def test_the_centres_mail_names_the_failed_delivery() -> None:
    body = text(
        {
            "severity": "alarm",
            "kind": "inactivity",
            "household_id": "hh-1",
            "step": 1,
            "routing": "delivery to p1 (webhook) failed: centre",
            "delivery_failed": {
                "recipient": "p1",
                "channel": "webhook",
                "attempts": 1,
                "error": "permanent: HTTP 400",
            },
        }
    )
    assert "delivery to p1 (webhook) failed: centre" in body
    assert "전달 실패/delivery failed: p1 (webhook), 1회/attempts: permanent: HTTP 400" in body
