"""Escalation policies: who is told, and when, until somebody acknowledges.

A policy is a list of steps per severity, each `after` a delay from the start of the
escalation, naming the roles to notify; after the last step, reminders repeat to the last
step's roles every `repeat_every` until acknowledged. Pure: `due(...)` answers what should
happen at a given time.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alerts.model import SYSTEM, Alert, AlertEvent, Severity, State, Transition


class Role(enum.StrEnum):
    #: the resident, asked first through the home's device ("ask first" check-in)
    RESIDENT = "resident"
    PRIMARY = "primary"  # the household's assigned planner
    BACKUP = "backup"  # the backup planner
    TEAM_LEAD = "team_lead"
    CENTRE = "centre"  # the monitoring centre (nights, holidays, danger)


@dataclass(frozen=True, slots=True)
class Step:
    after: timedelta
    roles: tuple[Role, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    steps: dict[Severity, tuple[Step, ...]]
    repeat_every: timedelta = timedelta(minutes=15)
    #: how long the resident has to answer a check-in before staff are told
    ask_first_for: timedelta = timedelta(minutes=10)

    def steps_for(self, severity: Severity) -> tuple[Step, ...]:
        return self.steps[severity]


def default_policy(ask_first: bool = True) -> Policy:
    """What a district gets unless it configures its own (see docs)."""
    first = (Step(timedelta(0), (Role.RESIDENT,)),) if ask_first else ()
    lag = timedelta(minutes=10) if ask_first else timedelta(0)
    return Policy(
        {
            Severity.CAUTION: (*first, Step(lag, (Role.PRIMARY,))),
            Severity.ALARM: (
                *first,
                Step(lag, (Role.PRIMARY,)),
                Step(lag + timedelta(minutes=15), (Role.BACKUP, Role.TEAM_LEAD)),
                Step(lag + timedelta(minutes=30), (Role.CENTRE,)),
            ),
            # danger goes to the centre at once, and never waits for a check-in
            Severity.DANGER: (
                Step(timedelta(0), (Role.CENTRE, Role.PRIMARY)),
                Step(timedelta(minutes=15), (Role.BACKUP, Role.TEAM_LEAD)),
            ),
        }
    )


@dataclass(frozen=True, slots=True)
class Due:
    """Roles to notify now, and whether this is a reminder of an earlier step."""

    step: int  # the escalation step reached (1-based) after this notification
    roles: tuple[Role, ...]
    reminder: bool = False
    detail: dict[str, str] = field(default_factory=dict)


def due(policy: Policy, alert: Alert, now: datetime) -> list[Due]:
    """What should be notified at `now` for this alert, given the steps already done.

    Steps whose time has passed while anbu was down are all due at once (in order), so no
    escalation is lost across a restart. An acknowledged or resolved alert escalates no further.
    """
    if alert.state is not State.OPEN:
        return []
    steps = policy.steps_for(alert.escalation_severity or alert.severity)
    base = _escalation_start(alert)
    out: list[Due] = []
    done = alert.escalation_step
    for i, s in enumerate(steps[done:], start=done + 1):
        if base + s.after <= now:
            out.append(Due(i, s.roles))
        else:
            break
    last = alert.last_notified_at
    if not out and done >= len(steps) and last is not None and now - last >= policy.repeat_every:
        out.append(Due(done, steps[-1].roles, reminder=True))
    return out


def _escalation_start(alert: Alert) -> datetime:
    return alert.escalation_started_at or alert.opened_at


def next_due_at(policy: Policy, alert: Alert) -> datetime | None:
    """When `due` will next have something for this alert (for scheduling and the dashboard)."""
    if alert.state is not State.OPEN:
        return None
    steps: Sequence[Step] = policy.steps_for(alert.escalation_severity or alert.severity)
    if alert.escalation_step < len(steps):
        return _escalation_start(alert) + steps[alert.escalation_step].after
    if alert.last_notified_at is not None:
        return alert.last_notified_at + policy.repeat_every
    return None


def mark_notified(alert: Alert, d: Due, now: datetime) -> Transition:
    """Record that `d` was handed to the outbox (its deliveries are audited separately)."""
    b = replace(alert, escalation_step=d.step, last_notified_at=now)
    action = "reminded" if d.reminder else "escalated"
    return Transition(
        b,
        (
            AlertEvent(
                now,
                SYSTEM,
                action,
                alert.state,
                alert.state,
                alert.severity,
                {"step": str(d.step), "roles": ",".join(r.value for r in d.roles)},
            ),
        ),
    )
