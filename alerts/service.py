"""Alerts on the database: findings in, audited alert changes and outbox rows out.

Each call runs in one transaction that holds the alert's row lock: the alert change, its audit
events and the deliveries it causes commit together (the transactional outbox), so a crash
never leaves an alert without its notifications or a notification without its alert.
Stages, in order: dedup (the alert's identity) -> suppress (away mode, visits, maintenance;
never SOS) -> escalate (the policy's due steps) -> route (planner, backup, centre by office
hours) -> outbox (one row per recipient channel). Delivery is the outbox worker's job.

Deliveries that fail for good come back from the outbox worker (`delivery_failed`), in the
transaction that marks them failed: each is recorded as an alert event and escalated
(`alerts.failures`): the centre is told when a staff member was not reached, and a check-in
that could not reach the resident lets the staff steps follow at once.

Policy: when an escalation starts (an alert opens, or its severity rises) the plan of the
household's district is read in the same transaction (else the stored service-wide default,
else `policy`, the built-in) and fixed on the alert, recorded in the event that started it. A
policy changed at runtime so applies to every escalation that starts afterwards; one already
under way keeps the plan it started with.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import psycopg

from alerts.failures import Failure, Response, centre_reason, failed_event, respond
from alerts.model import (
    SYSTEM,
    Alert,
    AlertEvent,
    Finding,
    Outcome,
    Transition,
    acknowledge,
    add_note,
    auto_resolve,
    on_finding,
    resolve,
)
from alerts.policy import (
    Due,
    Policy,
    Role,
    adopt,
    check_in_failed,
    default_policy,
    due,
    mark_notified,
)
from alerts.routing import CENTRE, RESIDENT, OfficeCalendar, Recipient, recipients
from anbu.storage import alerts as store
from anbu.storage import policies

log = logging.getLogger(__name__)

#: findings that are never suppressed: a person pressed the button
NEVER_SUPPRESSED = frozenset({"sos"})
#: finding kinds that signs of life end (auto-resolution before anyone acknowledged)
ENDED_BY_LIFE = frozenset({"inactivity", "overdue_return", "power_anomaly"})


@dataclass(slots=True)
class AlertService:
    #: the built-in policy: for districts and severities without a stored plan
    policy: Policy = field(default_factory=default_policy)
    calendar: OfficeCalendar = field(default_factory=OfficeCalendar)
    #: where staff open an alert, put in notifications
    dashboard_url: str = ""

    def handle(self, conn: psycopg.Connection[Any], f: Finding) -> Alert:
        """A detector's finding: open or update the alert, notify what is due now."""
        with conn.transaction():
            current = store.load_active(conn, f.household_id, f.kind)
            t = on_finding(current, f)
            if current is not None and not t.changed:
                store.save(conn, t.alert)
                return t.alert
            if t.alert.policy is None:  # an escalation starts: fix the plan it follows
                t = self._adopt(conn, t)
            suppressed = (
                None
                if f.kind in NEVER_SUPPRESSED
                else store.suppression(conn, f.household_id, f.at)
            )
            alert = self._store(conn, t, suppressed)
            if suppressed:
                assert alert.id is not None
                store.append_events(
                    conn,
                    alert.id,
                    [
                        AlertEvent(
                            f.at,
                            "system",
                            "suppressed",
                            alert.state,
                            alert.state,
                            alert.severity,
                            {"reason": suppressed},
                        )
                    ],
                )
                return alert
            return self._escalate(conn, alert, f.at)

    def tick(self, conn: psycopg.Connection[Any], now: datetime) -> int:
        """Escalate every active alert whose next step is due; returns how many moved."""
        moved = 0
        for a in store.active(conn, notifiable_only=True):
            if not due(self.policy, a, now):
                continue
            with conn.transaction():
                locked = store.load(conn, a.id, lock=True) if a.id is not None else None
                if locked is not None and locked.active:
                    self._escalate(conn, locked, now)
                    moved += 1
        return moved

    def acknowledge(
        self, conn: psycopg.Connection[Any], alert_id: int, actor: str, now: datetime
    ) -> Alert:
        return self._apply(conn, alert_id, lambda a: acknowledge(a, actor, now))

    def resolve(
        self,
        conn: psycopg.Connection[Any],
        alert_id: int,
        actor: str,
        now: datetime,
        outcome: Outcome,
        note: str = "",
    ) -> Alert:
        return self._apply(conn, alert_id, lambda a: resolve(a, actor, now, outcome, note))

    def note(
        self, conn: psycopg.Connection[Any], alert_id: int, actor: str, now: datetime, text: str
    ) -> Alert:
        return self._apply(conn, alert_id, lambda a: add_note(a, actor, now, text))

    def signs_of_life(
        self,
        conn: psycopg.Connection[Any],
        household_id: str,
        now: datetime,
        what: str,
        resident_answered: bool = False,
        kinds: frozenset[str] = ENDED_BY_LIFE,
    ) -> list[Alert]:
        """Life returned: end the household's unacknowledged alerts of these kinds (all of
        them when the resident answered a check-in)."""
        out = []
        with conn.transaction():
            for a in store.active(conn, household_id):
                if a.kind not in kinds and not resident_answered:
                    continue
                t = (
                    resolve(a, "system", now, Outcome.RESIDENT_ANSWERED, what)
                    if resident_answered and a.state.value == "open"
                    else auto_resolve(a, now, what)
                )
                if t.changed:
                    out.append(self._store(conn, t, None))
        return out

    def delivery_failed(
        self, conn: psycopg.Connection[Any], failed: Sequence[Failure], now: datetime
    ) -> None:
        """Deliveries that failed for good: record each as an alert event and escalate it.

        Runs in the caller's transaction, the one that marks the outbox rows failed, so each
        failure is handled exactly once. Alerts are locked in id order, so that workers holding
        different outbox rows of the same alerts never wait on each other in a cycle."""
        for f in sorted(failed, key=lambda f: (f.alert_id, f.outbox_id)):
            a = store.load(conn, f.alert_id, lock=True)
            assert a is not None and a.id is not None  # an outbox row references its alert
            response = respond(a, f)
            store.append_events(conn, a.id, [failed_event(a, f, response, now)])
            if response is Response.NOTIFY_CENTRE:
                self._tell_centre(conn, a, f, now)
            elif response is Response.CENTRE_UNREACHABLE:
                log.error(
                    "alert %s: delivery %s to the monitoring centre (%s) failed for good: %s",
                    a.id,
                    f.outbox_id,
                    f.channel,
                    f.error,
                )
            elif response is Response.STAFF_STEPS_NOW:
                log.warning(
                    "alert %s: the check-in could not reach the resident (%s); staff steps follow",
                    a.id,
                    f.error,
                )
                b = check_in_failed(a, now)
                store.save(conn, b)
                self._escalate(conn, b, now)

    # -- internals -------------------------------------------------------------------------

    def _tell_centre(
        self, conn: psycopg.Connection[Any], a: Alert, f: Failure, now: datetime
    ) -> None:
        """The monitoring centre, at once, on each of its channels: which delivery failed."""
        assert a.id is not None
        r = Recipient(Role.CENTRE, CENTRE, centre_reason(f))
        payload = self._payload(a, Due(a.escalation_step, (Role.CENTRE,)), r)
        payload["delivery_failed"] = f.describe()
        targets = store.channels(conn, [CENTRE])[CENTRE]
        if not targets:
            log.error(
                "alert %s: delivery %s failed and the centre has no channel", a.id, f.outbox_id
            )
        for channel, address in targets:
            # one key per failed row: the centre hears of each failure once, whatever happens
            key = f"anbu-{a.id}-failed{f.outbox_id}-{CENTRE}-{channel}-{address}"
            store.enqueue(conn, a.id, channel, CENTRE, address, payload, key, now)

    def _apply(self, conn: psycopg.Connection[Any], alert_id: int, step: Any) -> Alert:
        with conn.transaction():
            a = store.load(conn, alert_id, lock=True)
            if a is None:
                raise LookupError(f"no alert {alert_id}")
            return self._store(conn, step(a), None)

    def _adopt(self, conn: psycopg.Connection[Any], t: Transition) -> Transition:
        a = t.alert
        sev = a.escalation_severity or a.severity
        found = policies.for_household(conn, a.household_id, sev)
        if found is None:
            return adopt(t, self.policy.plan(sev), "built-in")
        return adopt(t, found.plan, found.source)

    def _store(self, conn: psycopg.Connection[Any], t: Transition, suppressed: str | None) -> Alert:
        alert_id = store.save(conn, t.alert, suppressed_by=suppressed)
        store.append_events(conn, alert_id, t.events)
        return t.alert if t.alert.id is not None else replace(t.alert, id=alert_id)

    def _escalate(self, conn: psycopg.Connection[Any], alert: Alert, now: datetime) -> Alert:
        assert alert.id is not None
        unreachable = False
        for d in due(self.policy, alert, now):
            t = mark_notified(alert, d, now)
            store.save(conn, t.alert)
            [event_id] = store.append_events(conn, alert.id, t.events)
            who = store.assignment(conn, alert.household_id)
            for r in recipients(d.roles, who, self.calendar.is_office_hours(now)):
                unreachable |= not self._enqueue(conn, t.alert, d, r, event_id, now)
            alert = t.alert
        if unreachable and alert.check_in_failed_at is None:
            # no gateway to ask the resident: nobody can answer, so staff are not kept waiting
            # for the check-in's timeout (the same rule as a check-in that failed for good)
            alert = check_in_failed(alert, now)
            assert alert.id is not None
            store.save(conn, alert)
            store.append_events(
                conn,
                alert.id,
                [
                    AlertEvent(
                        now,
                        SYSTEM,
                        "check_in_unreachable",
                        alert.state,
                        alert.state,
                        alert.severity,
                        {"reason": "no gateway in the home"},
                    )
                ],
            )
            return self._escalate(conn, alert, now)
        return alert

    def _enqueue(
        self,
        conn: psycopg.Connection[Any],
        a: Alert,
        d: Due,
        r: Recipient,
        event_id: int,
        now: datetime,
    ) -> bool:
        """Queue the deliveries to one recipient; False when the resident cannot be asked."""
        assert a.id is not None
        payload = self._payload(a, d, r)
        if r.target == RESIDENT:
            device = store.gateway(conn, a.household_id)
            if device is None:
                log.info("alert %s: no gateway to ask the resident; staff steps follow", a.id)
                return False
            topic = f"anbu/v1/{a.household_id}/{device}/command"
            payload = {"command": "checkin", "alert_id": a.id, "reply": "button action ok"}
            targets = [("device", topic)]
        else:
            targets = store.channels(conn, [r.target])[r.target]
            if not targets:
                log.warning("alert %s: %s has no delivery channel", a.id, r.target)
        for channel, address in targets:
            key = f"anbu-{a.id}-{event_id}-{r.target}-{channel}-{address}"
            store.enqueue(conn, a.id, channel, r.target, address, payload, key, now)
        return True

    def _payload(self, a: Alert, d: Due, r: Recipient) -> dict[str, Any]:
        return {
            "alert_id": a.id,
            "household_id": a.household_id,
            "kind": a.kind,
            "severity": a.severity.label,
            "state": a.state.value,
            "opened_at": a.opened_at.isoformat(),
            "explanation": a.explanation,
            "evidence": dict(a.evidence),
            "step": d.step,
            "reminder": d.reminder,
            "role": r.role.value,
            "recipient": r.target,
            "routing": r.reason,
            "url": f"{self.dashboard_url.rstrip('/')}/alerts/{a.id}" if self.dashboard_url else "",
        }
