"""Who a role is, right now: the assigned planners in office hours, the centre otherwise.

In Seoul the household's 복지플래너 gets the alert on a work phone in office hours; nights,
weekends and public holidays go to the central monitoring centre. Pure: the caller passes
the time, the household's assignments and the calendar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import holidays

from alerts.policy import Role

CENTRE = "centre"
RESIDENT = "resident"


@dataclass(frozen=True, slots=True)
class OfficeCalendar:
    """Office hours of a district, in its time zone; Korean public holidays by default."""

    timezone: str = "Asia/Seoul"
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    workdays: frozenset[int] = frozenset(range(5))  # Monday..Friday
    country: str = "KR"
    #: extra closed days (a district's own, e.g. a foundation day)
    closed: frozenset[date] = frozenset()
    _cache: dict[int, holidays.HolidayBase] = field(default_factory=dict, compare=False)

    def is_office_hours(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        d = local.date()
        if local.weekday() not in self.workdays or d in self.closed or self.is_holiday(d):
            return False
        return self.opens <= local.time() < self.closes

    def is_holiday(self, d: date) -> bool:
        cal = self._cache.get(d.year)
        if cal is None:
            cal = holidays.country_holidays(self.country, years=d.year)
            self._cache[d.year] = cal
        return d in cal


@dataclass(frozen=True, slots=True)
class Assignment:
    primary: str | None
    backup: str | None = None
    team_lead: str | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    role: Role
    #: a staff id, CENTRE for the monitoring centre, or RESIDENT for the home's device
    target: str
    #: why this target (e.g. "after hours: centre instead of primary"), for the audit trail
    reason: str = ""


def recipients(roles: Iterable[Role], who: Assignment, office_hours: bool) -> list[Recipient]:
    """The targets for the roles, deduplicated, falling back to the centre where nobody is."""
    out: list[Recipient] = []
    seen: set[str] = set()

    def add(r: Recipient) -> None:
        if r.target not in seen:
            seen.add(r.target)
            out.append(r)

    staff = {Role.PRIMARY: who.primary, Role.BACKUP: who.backup, Role.TEAM_LEAD: who.team_lead}
    for role in roles:
        if role is Role.RESIDENT:
            add(Recipient(role, RESIDENT))
        elif role is Role.CENTRE:
            add(Recipient(role, CENTRE))
        elif not office_hours:
            add(Recipient(role, CENTRE, f"after hours: centre instead of {role.value}"))
        elif staff[role] is None:
            add(Recipient(role, CENTRE, f"no {role.value} assigned: centre"))
        else:
            add(Recipient(role, staff[role] or CENTRE))
    return out
