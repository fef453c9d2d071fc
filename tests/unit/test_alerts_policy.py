"""Escalation policies: validation, and the schedule a custom policy gives. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from alerts.model import Finding, acknowledge, on_finding
from alerts.policy import (
    EscalationPlan,
    Policy,
    Role,
    adopt,
    default_policy,
    due,
    mark_notified,
    next_due_at,
    plan_of,
)
from anbu.domain import Severity

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul
M = timedelta(minutes=1)


def finding(sev: Severity = Severity.ALARM, kind: str = "inactivity", at: datetime = T0) -> Finding:
    return Finding("hh-1", kind, sev, at, "text")


def doc(**over: Any) -> dict[str, Any]:
    """A valid policy document (as the API takes it), with `over` replacing severities."""
    base: dict[str, Any] = {
        "caution": {"steps": [{"after_minutes": 0, "notify": ["primary"]}]},
        "alarm": {
            "steps": [
                {"after_minutes": 0, "notify": ["primary"]},
                {"after_minutes": 5, "notify": ["centre"]},
            ],
            "reminder_minutes": 5,
            "ask_first": {"enabled": True, "timeout_minutes": 3},
        },
        "danger": {"steps": [{"after_minutes": 0, "notify": ["centre"]}]},
    }
    return base | over


def schedule(p: Policy, sev: Severity, kind: str = "inactivity") -> list[tuple[int, list[str]]]:
    """(minutes after the alert opened, roles) of each step, walked through `due` one by one."""
    a = on_finding(None, finding(sev, kind)).alert
    out: list[tuple[int, list[str]]] = []
    while (at := next_due_at(p, a)) is not None:
        assert due(p, a, at - timedelta(seconds=1)) == []  # never early
        [d] = due(p, a, at)
        if d.reminder:
            break
        out.append((int((at - T0) / M), [r.value for r in d.roles]))
        a = mark_notified(a, d, at).alert
    return out


@pytest.mark.parametrize(
    ("ask_first", "sev", "want"),
    [
        (True, Severity.CAUTION, [(0, ["resident"]), (10, ["primary"])]),
        (
            True,
            Severity.ALARM,
            [(0, ["resident"]), (10, ["primary"]), (25, ["backup", "team_lead"]), (40, ["centre"])],
        ),
        (True, Severity.DANGER, [(0, ["centre", "primary"]), (15, ["backup", "team_lead"])]),
        (False, Severity.CAUTION, [(0, ["primary"])]),
        (
            False,
            Severity.ALARM,
            [(0, ["primary"]), (15, ["backup", "team_lead"]), (30, ["centre"])],
        ),
    ],
)
def test_the_built_in_default_keeps_the_documented_schedule(
    ask_first: bool, sev: Severity, want: list[tuple[int, list[str]]]
) -> None:
    p = default_policy(ask_first)
    assert schedule(p, sev) == want
    assert p.plan(sev).reminder_minutes == 15


def test_a_custom_policy_escalates_on_its_own_schedule_with_its_own_reminders() -> None:
    p = Policy.model_validate(doc())
    assert schedule(p, Severity.ALARM) == [(0, ["resident"]), (3, ["primary"]), (8, ["centre"])]
    a = on_finding(None, finding()).alert
    for at in (T0, T0 + 3 * M, T0 + 8 * M):
        [d] = due(p, a, at)
        a = mark_notified(a, d, at).alert
    assert due(p, a, T0 + 12 * M) == []
    [r] = due(p, a, T0 + 13 * M)  # every 5 minutes, not the default 15
    assert r.reminder and r.roles == (Role.CENTRE,)
    assert due(p, acknowledge(a, "p1", T0 + 13 * M).alert, T0 + 60 * M) == []


def test_sos_never_waits_for_the_resident_even_where_its_severity_would() -> None:
    p = Policy.model_validate(doc())
    assert schedule(p, Severity.ALARM, kind="sos") == [(0, ["primary"]), (5, ["centre"])]


def test_an_alert_follows_the_plan_it_started_with_not_the_current_policy() -> None:
    old, new = default_policy(ask_first=False), Policy.model_validate(doc())
    t = adopt(on_finding(None, finding()), old.alarm, "district:d1")
    a = t.alert
    assert a.policy == old.alarm and plan_of(new, a) == old.alarm
    [opened] = t.events
    assert opened.detail["policy_source"] == "district:d1"
    assert EscalationPlan.model_validate(opened.detail["policy"]) == old.alarm
    a = mark_notified(a, due(new, a, T0)[0], T0).alert
    assert due(new, a, T0 + 14 * M) == [] and next_due_at(new, a) == T0 + 15 * M
    # a rise starts a new escalation, whose plan the service fixes anew
    risen = on_finding(a, finding(Severity.DANGER, at=T0 + 20 * M)).alert
    assert risen.policy is None and plan_of(new, risen) == new.danger


def test_a_policy_survives_a_json_round_trip() -> None:
    p = Policy.model_validate(doc())
    assert Policy.model_validate_json(p.model_dump_json()) == p
    assert Policy.model_validate(default_policy().model_dump(mode="json")) == default_policy()


def step(after: object, *notify: object) -> dict[str, object]:
    return {"after_minutes": after, "notify": list(notify)}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"caution": {"steps": [step(-5, "primary")]}}, "greater than or equal to 0"),
        (
            {"alarm": {"steps": [step(0, "primary"), step(30, "centre"), step(15, "backup")]}},
            "step 3 \\(after 15 min\\) does not come after step 2 \\(after 30 min\\)",
        ),
        ({"alarm": {"steps": [step(0, "primary"), step(0, "backup")]}}, "in order of time"),
        ({"caution": {"steps": [step(0)]}}, "at least 1 item"),
        ({"caution": {"steps": []}}, "at least 1 item"),
        ({"caution": {"steps": [step(0, "mayor")]}}, "'primary', 'backup', 'team_lead' or"),
        ({"caution": {"steps": [step(0, "resident")]}}, "'primary', 'backup', 'team_lead' or"),
        ({"caution": {"steps": [step(0, "centre", "centre")]}}, "names centre more than once"),
        ({"caution": {"steps": [step(0, "primary")], "reminder_minutes": 0}}, "greater than or"),
        (
            {
                "caution": {
                    "steps": [step(0, "primary")],
                    "ask_first": {"enabled": True, "timeout_minutes": 0},
                }
            },
            "greater than or equal to 1",
        ),
        (
            {"danger": {"steps": [step(0, "centre")], "ask_first": {"enabled": True}}},
            "danger never waits for the resident",
        ),
        ({"danger": {"steps": [step(5, "centre")]}}, "first step must be after 0 min"),
        ({"caution": {"steps": [{"after": 0, "notify": ["primary"]}]}}, "Field required"),
        ({"caution": {"steps": [step("soon", "primary")]}}, "valid integer"),
        ({"caution": {"steps": [step(0, "primary")], "repeat": 5}}, "Extra inputs"),
    ],
)
def test_validation_rejects_nonsense_with_a_clear_message(
    bad: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Policy.model_validate(doc(**bad))


def test_a_policy_needs_all_three_severities() -> None:
    d = doc()
    del d["danger"]
    with pytest.raises(ValidationError, match="danger\n  Field required"):
        Policy.model_validate(d)


def test_a_policy_is_immutable() -> None:
    p = default_policy()
    with pytest.raises(ValidationError, match="frozen"):
        p.alarm.reminder_minutes = 1
