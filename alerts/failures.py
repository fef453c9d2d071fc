"""What a delivery that failed for good means for its alert. Pure: no I/O, no clock.

The outbox worker gives up on a delivery after a permanent error (a 4xx, a refused mailbox, no
notifier for its channel) or after `Backoff.give_up_after` of retrying. Somebody was then not
told, so the failure is never silent:

- it is an alert event (`delivery_failed`), written in the transaction that marks the outbox
  row failed, which also announces it on the live board; the row goes from pending to failed
  once, so each failure is recorded and escalated once, across restarts and crashes;
- a staff member (planner, backup, team lead) not reached about an **open** alert: the
  monitoring centre is told at once, with which delivery failed;
- the centre itself not reached: an error in the log, and the board shows it (there is nobody
  further to escalate to);
- the resident's check-in not delivered, in the escalation under way: nobody can answer it, so
  the resident's time to answer ends now and the staff steps follow from now
  (`alerts.policy.check_in_failed`) instead of after the full check-in timeout;
- anything else (the alert was acknowledged or resolved meanwhile, or the check-in belonged to
  an escalation that a severity rise has since replaced) is recorded and shown, nothing more.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from alerts.model import SYSTEM, Alert, AlertEvent, State
from alerts.routing import CENTRE, RESIDENT


@dataclass(frozen=True, slots=True)
class Failure:
    """One outbox row that failed for good."""

    outbox_id: int
    alert_id: int
    channel: str
    #: a staff id, CENTRE, or RESIDENT (the check-in on the home's device)
    recipient: str
    #: the last attempt's error, e.g. "permanent: HTTP 400"
    error: str
    #: attempts made, the last one included
    attempts: int
    #: when the delivery was queued (which escalation it belongs to)
    created_at: datetime

    def describe(self) -> dict[str, object]:
        """The failure as it appears in the audit trail and in the centre's notification."""
        return {
            "outbox_id": self.outbox_id,
            "recipient": self.recipient,
            "channel": self.channel,
            "error": self.error,
            "attempts": self.attempts,
        }


class Response(enum.StrEnum):
    #: a staff member was not reached about an open alert: tell the monitoring centre at once
    NOTIFY_CENTRE = "notify_centre"
    #: the centre itself was not reached: log an error (the board shows the failure)
    CENTRE_UNREACHABLE = "centre_unreachable"
    #: the resident could not be asked: the staff steps follow from now
    STAFF_STEPS_NOW = "staff_steps_now"
    #: recorded and shown, nothing more (alert no longer open, or an earlier escalation's check-in)
    RECORD_ONLY = "record_only"


def respond(alert: Alert, f: Failure) -> Response:
    """What the alert does about the failed delivery `f`."""
    if f.recipient == CENTRE:
        return Response.CENTRE_UNREACHABLE
    if alert.state is not State.OPEN:
        # somebody acknowledged (or resolved) it: escalation has stopped, as for the steps
        return Response.RECORD_ONLY
    if f.recipient == RESIDENT:
        # only while the escalation under way still waits for the resident: its check-in is
        # step 1, so a later step means the staff are already being told
        started = alert.escalation_started_at or alert.opened_at
        waiting = alert.escalation_step <= 1 and alert.check_in_failed_at is None
        if waiting and f.created_at >= started:
            return Response.STAFF_STEPS_NOW
        return Response.RECORD_ONLY
    return Response.NOTIFY_CENTRE


def failed_event(alert: Alert, f: Failure, response: Response, at: datetime) -> AlertEvent:
    """The audit event of the failure (its `outbox_id` makes it unique, see migration 0009)."""
    return AlertEvent(
        at,
        SYSTEM,
        "delivery_failed",
        alert.state,
        alert.state,
        alert.severity,
        {**f.describe(), "response": response.value},
    )


def centre_reason(f: Failure) -> str:
    """The routing reason on the centre's notification, as in `alerts.routing`."""
    return f"delivery to {f.recipient} ({f.channel}) failed: centre"
