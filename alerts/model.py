"""The alert and its lifecycle, as pure transitions.

An alert has an identity: household + kind (its fingerprint). A finding that keeps firing
updates the open alert, raising its severity if it rose, instead of opening another. States go
open -> acknowledged -> resolved; every transition yields an `AlertEvent` (who, when, what) for
the audit log. Nothing here does I/O or reads a clock: time and actor come in as arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from anbu.domain import Severity

if TYPE_CHECKING:
    from alerts.policy import EscalationPlan


class State(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Outcome(enum.StrEnum):
    RESIDENT_FINE = "resident_fine"
    RESIDENT_HELPED = "resident_helped"
    HOSPITALISED = "hospitalised"
    FOUND_DECEASED = "found_deceased"
    FALSE_ALARM_SENSOR = "false_alarm_sensor"
    FALSE_ALARM_AWAY = "false_alarm_away"
    OTHER = "other"
    #: signs of life returned before anyone acknowledged (recorded as such, never silent)
    AUTO_RESOLVED = "auto_resolved"
    #: the resident answered the automatic check-in ("ask first")
    RESIDENT_ANSWERED = "resident_answered"


#: the actor recorded for transitions that anbu makes itself
SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector reports; the alerts side's view of it (detectors may carry more)."""

    household_id: str
    kind: str
    severity: Severity
    at: datetime
    explanation: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)


def fingerprint(household_id: str, kind: str) -> str:
    return f"{household_id}/{kind}"


@dataclass(frozen=True, slots=True)
class Alert:
    id: int | None
    household_id: str
    kind: str
    severity: Severity
    state: State
    opened_at: datetime
    updated_at: datetime
    explanation: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    outcome: Outcome | None = None
    #: how many escalation steps have been notified (0 = none yet)
    escalation_step: int = 0
    #: the severity and time at which the current escalation started (a rise restarts it)
    escalation_severity: Severity | None = None
    escalation_started_at: datetime | None = None
    last_notified_at: datetime | None = None
    #: the escalation plan the current escalation follows, fixed when it started (a policy
    #: changed later applies to later escalations); None until the service sets it
    policy: EscalationPlan | None = None
    #: when a check-in of the current escalation could not be delivered: the resident's time
    #: to answer ended then, and the staff steps count from it (see `alerts.policy`)
    check_in_failed_at: datetime | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.household_id, self.kind)

    @property
    def active(self) -> bool:
        return self.state is not State.RESOLVED


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One line of the audit trail."""

    at: datetime
    actor: str
    # opened, severity_raised, escalated, reminded, acknowledged, resolved, note, suppressed,
    # delivery_failed
    action: str
    from_state: State | None
    to_state: State
    severity: Severity
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transition:
    alert: Alert
    events: tuple[AlertEvent, ...]

    @property
    def changed(self) -> bool:
        return bool(self.events)


class TransitionError(ValueError):
    """A transition that the alert's state does not allow (the API answers 409)."""


def on_finding(current: Alert | None, f: Finding) -> Transition:
    """Open an alert for the finding, or update the active one with the same identity."""
    if current is None or not current.active:
        a = Alert(
            None,
            f.household_id,
            f.kind,
            f.severity,
            State.OPEN,
            f.at,
            f.at,
            f.explanation,
            f.evidence,
            escalation_severity=f.severity,
            escalation_started_at=f.at,
        )
        return Transition(
            a,
            (
                AlertEvent(
                    f.at,
                    SYSTEM,
                    "opened",
                    None,
                    State.OPEN,
                    f.severity,
                    {"explanation": f.explanation},
                ),
            ),
        )
    if f.severity <= current.severity:
        # the same condition still holds: refresh the evidence, no new event
        a = replace(
            current,
            updated_at=f.at,
            explanation=f.explanation or current.explanation,
            evidence=f.evidence or current.evidence,
        )
        return Transition(a, ())
    # severity rose: an acknowledged alert is open again, escalation restarts at the new level
    a = replace(
        current,
        severity=f.severity,
        state=State.OPEN,
        updated_at=f.at,
        explanation=f.explanation,
        evidence=f.evidence,
        escalation_step=0,
        escalation_severity=f.severity,
        escalation_started_at=f.at,
        policy=None,  # the service fixes the plan for the new severity
        check_in_failed_at=None,  # a new escalation, a new check-in
        acknowledged_at=None,
        acknowledged_by=None,
    )
    return Transition(
        a,
        (
            AlertEvent(
                f.at,
                SYSTEM,
                "severity_raised",
                current.state,
                State.OPEN,
                f.severity,
                {"from": current.severity.label, "explanation": f.explanation},
            ),
        ),
    )


def acknowledge(a: Alert, actor: str, at: datetime) -> Transition:
    if a.state is not State.OPEN:
        raise TransitionError(f"alert is {a.state}, only an open alert can be acknowledged")
    b = replace(
        a, state=State.ACKNOWLEDGED, acknowledged_at=at, acknowledged_by=actor, updated_at=at
    )
    return Transition(b, (AlertEvent(at, actor, "acknowledged", a.state, b.state, a.severity),))


def resolve(a: Alert, actor: str, at: datetime, outcome: Outcome, note: str = "") -> Transition:
    if a.state is State.RESOLVED:
        raise TransitionError("alert is already resolved")
    if outcome in (Outcome.AUTO_RESOLVED, Outcome.RESIDENT_ANSWERED) and actor != SYSTEM:
        raise TransitionError(f"outcome {outcome} is recorded by anbu itself, not by staff")
    b = replace(
        a, state=State.RESOLVED, resolved_at=at, resolved_by=actor, outcome=outcome, updated_at=at
    )
    return Transition(
        b,
        (
            AlertEvent(
                at,
                actor,
                "resolved",
                a.state,
                b.state,
                a.severity,
                {"outcome": outcome.value, "note": note},
            ),
        ),
    )


def auto_resolve(a: Alert, at: datetime, reason: str) -> Transition:
    """Signs of life came back. Only before anyone acknowledged: once a person is on the case,
    they close it with an outcome."""
    if a.state is not State.OPEN:
        return Transition(a, ())
    return resolve(a, SYSTEM, at, Outcome.AUTO_RESOLVED, reason)


def add_note(a: Alert, actor: str, at: datetime, note: str) -> Transition:
    if not note.strip():
        raise TransitionError("a note needs text")
    return Transition(
        replace(a, updated_at=at),
        (AlertEvent(at, actor, "note", a.state, a.state, a.severity, {"note": note}),),
    )
