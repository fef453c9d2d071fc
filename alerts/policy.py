"""Escalation policies: who is told, and when, until somebody acknowledges.

A `Policy` has, per severity, an `EscalationPlan`: ordered steps (`after_minutes`, whom to
`notify`), a reminder interval that repeats the last step until somebody acknowledges, and an
optional "ask first" check-in with the resident. Districts may have their own; the service-wide
default applies otherwise (`anbu/storage/policies.py`). An alert keeps the plan it started its
escalation with (`Alert.policy`), so changing a policy affects alerts raised afterwards only.

The policy is a document that crosses the API and the database, so it is a frozen pydantic model
(validation is the point of it) rather than a dataclass; what `due` walks is the compiled
`Step` tuple. Pure: `due(...)` answers what should happen at a given time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.model import SYSTEM, Alert, AlertEvent, State, Transition
from anbu.domain import Severity


class Role(enum.StrEnum):
    #: the resident, asked first through the home's device ("ask first" check-in)
    RESIDENT = "resident"
    PRIMARY = "primary"  # the household's assigned planner
    BACKUP = "backup"  # the backup planner
    TEAM_LEAD = "team_lead"
    CENTRE = "centre"  # the monitoring centre (nights, holidays, danger)


#: whom a step may notify: staff roles (the resident is asked through `ask_first`)
Target = Literal["primary", "backup", "team_lead", "centre"]
#: finding kinds that never wait for a check-in, whatever their severity: a person pressed SOS
NEVER_ASK_FIRST = frozenset({"sos"})

WEEK_MINUTES = 7 * 24 * 60


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PolicyStep(_Doc):
    """Notify `notify` once `after_minutes` have passed without an acknowledgement."""

    after_minutes: Annotated[int, Field(ge=0, le=WEEK_MINUTES)]
    notify: Annotated[tuple[Target, ...], Field(min_length=1, max_length=4)]

    @model_validator(mode="after")
    def _distinct(self) -> PolicyStep:
        twice = sorted({t for t in self.notify if self.notify.count(t) > 1})
        if twice:
            raise ValueError(f"notify names {', '.join(twice)} more than once")
        return self


class AskFirst(_Doc):
    """Send the resident a check-in first; staff steps start when `timeout_minutes` ran out."""

    enabled: bool = False
    timeout_minutes: Annotated[int, Field(ge=1, le=120)] = 10


class EscalationPlan(_Doc):
    """One severity's escalation. With ask-first on, `after_minutes` counts from the end of the
    resident's time to answer; otherwise from when the escalation started."""

    steps: Annotated[tuple[PolicyStep, ...], Field(min_length=1, max_length=10)]
    reminder_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    ask_first: AskFirst = AskFirst()

    @model_validator(mode="after")
    def _in_order(self) -> EscalationPlan:
        for i, (a, b) in enumerate(zip(self.steps, self.steps[1:], strict=False), start=2):
            if b.after_minutes <= a.after_minutes:
                raise ValueError(
                    f"steps must be in order of time: step {i} (after {b.after_minutes} min)"
                    f" does not come after step {i - 1} (after {a.after_minutes} min)"
                )
        return self

    @property
    def repeat_every(self) -> timedelta:
        return timedelta(minutes=self.reminder_minutes)

    def schedule(self, ask_first: bool = True) -> tuple[Step, ...]:
        """The steps `due` walks: the check-in (when on and allowed), then the staff steps."""
        if not (ask_first and self.ask_first.enabled):
            return tuple(
                Step(timedelta(minutes=s.after_minutes), tuple(map(Role, s.notify)))
                for s in self.steps
            )
        lag = timedelta(minutes=self.ask_first.timeout_minutes)
        return (Step(timedelta(0), (Role.RESIDENT,)),) + tuple(
            Step(lag + timedelta(minutes=s.after_minutes), tuple(map(Role, s.notify)))
            for s in self.steps
        )


class Policy(_Doc):
    """An escalation policy: one plan per severity."""

    caution: EscalationPlan
    alarm: EscalationPlan
    danger: EscalationPlan

    @model_validator(mode="after")
    def _danger_acts_now(self) -> Policy:
        if self.danger.ask_first.enabled:
            raise ValueError("danger never waits for the resident: ask_first must be off")
        if self.danger.steps[0].after_minutes != 0:
            raise ValueError("danger is acted on at once: its first step must be after 0 min")
        return self

    def plan(self, severity: Severity) -> EscalationPlan:
        plan: EscalationPlan = getattr(self, severity.label)
        return plan


def default_policy(ask_first: bool = True) -> Policy:
    """The built-in default: what applies unless a district or the service configures its own."""
    check_in = AskFirst(enabled=ask_first, timeout_minutes=10)

    def step(after: int, *notify: Target) -> PolicyStep:
        return PolicyStep(after_minutes=after, notify=notify)

    return Policy(
        caution=EscalationPlan(steps=(step(0, "primary"),), ask_first=check_in),
        alarm=EscalationPlan(
            steps=(step(0, "primary"), step(15, "backup", "team_lead"), step(30, "centre")),
            ask_first=check_in,
        ),
        # danger goes to the centre at once, and never waits for a check-in
        danger=EscalationPlan(
            steps=(step(0, "centre", "primary"), step(15, "backup", "team_lead"))
        ),
    )


@dataclass(frozen=True, slots=True)
class Step:
    """A compiled step: `after` the start of the escalation, notify `roles`."""

    after: timedelta
    roles: tuple[Role, ...]


@dataclass(frozen=True, slots=True)
class Due:
    """Roles to notify now, and whether this is a reminder of an earlier step."""

    step: int  # the escalation step reached (1-based) after this notification
    roles: tuple[Role, ...]
    reminder: bool = False
    detail: dict[str, str] = field(default_factory=dict)


def plan_of(policy: Policy, alert: Alert) -> EscalationPlan:
    """The plan the alert's escalation follows: its own, fixed when the escalation started
    (see `adopt`), else the policy's for its severity (alerts from before per-district plans)."""
    return alert.policy or policy.plan(_severity(alert))


def _severity(alert: Alert) -> Severity:
    return alert.escalation_severity or alert.severity


def _asks_first(policy: Policy, alert: Alert) -> bool:
    """Whether this alert's escalation starts with a check-in with the resident."""
    sev = _severity(alert)
    allowed = sev is not Severity.DANGER and alert.kind not in NEVER_ASK_FIRST
    return allowed and plan_of(policy, alert).ask_first.enabled


def _steps(policy: Policy, alert: Alert) -> tuple[Step, ...]:
    return plan_of(policy, alert).schedule(_asks_first(policy, alert))


def adopt(t: Transition, plan: EscalationPlan, source: str) -> Transition:
    """Fix the plan of an escalation that starts with this transition (an alert opened, or its
    severity rose) and record it, and where it came from, in the event that started it."""
    events = tuple(
        replace(
            e,
            detail={
                **e.detail,
                "policy_source": source,
                "policy": plan.model_dump(mode="json"),
            },
        )
        if e.action in ("opened", "severity_raised")
        else e
        for e in t.events
    )
    return Transition(replace(t.alert, policy=plan), events)


def due(policy: Policy, alert: Alert, now: datetime) -> list[Due]:
    """What should be notified at `now` for this alert, given the steps already done.

    Steps whose time has passed while anbu was down are all due at once (in order), so no
    escalation is lost across a restart. An acknowledged or resolved alert escalates no further.
    """
    if alert.state is not State.OPEN:
        return []
    steps = _steps(policy, alert)
    base = _escalation_start(policy, alert)
    out: list[Due] = []
    done = alert.escalation_step
    for i, s in enumerate(steps[done:], start=done + 1):
        if base + s.after <= now:
            out.append(Due(i, s.roles))
        else:
            break
    last = alert.last_notified_at
    every = plan_of(policy, alert).repeat_every
    if not out and done >= len(steps) and last is not None and now - last >= every:
        out.append(Due(done, steps[-1].roles, reminder=True))
    return out


def _escalation_start(policy: Policy, alert: Alert) -> datetime:
    """Where the schedule's times count from. Normally when the escalation started; when its
    check-in could not be delivered, early enough that the staff steps count from the failure
    (the resident's time to answer ended then), never later than the start."""
    start = alert.escalation_started_at or alert.opened_at
    failed = alert.check_in_failed_at
    if failed is None or failed < start or not _asks_first(policy, alert):
        return start
    lag = timedelta(minutes=plan_of(policy, alert).ask_first.timeout_minutes)
    return min(start, failed - lag)


def check_in_failed(alert: Alert, at: datetime) -> Alert:
    """The check-in with the resident could not be delivered (for good): nobody can answer it,
    so the resident's time to answer ends `at` and the staff steps count from then, as they
    would from the end of the timeout. The first failure counts; the caller makes sure the
    check-in belongs to the current escalation (`alerts.failures`)."""
    if alert.check_in_failed_at is not None:
        return alert
    return replace(alert, check_in_failed_at=at)


def next_due_at(policy: Policy, alert: Alert) -> datetime | None:
    """When `due` will next have something for this alert (for scheduling and the dashboard)."""
    if alert.state is not State.OPEN:
        return None
    steps = _steps(policy, alert)
    if alert.escalation_step < len(steps):
        return _escalation_start(policy, alert) + steps[alert.escalation_step].after
    if alert.last_notified_at is not None:
        return alert.last_notified_at + plan_of(policy, alert).repeat_every
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
