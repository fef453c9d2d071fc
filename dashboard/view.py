"""Pure helpers for the pages: a household's board state and row, a resident's own range."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from markupsafe import Markup, escape

from dashboard.i18n import Translator
from detectors.vitals import CLINICAL

__all__ = [
    "CLINICAL",
    "STATES",
    "BoardRows",
    "board_row",
    "board_state",
    "own_range",
    "pct",
    "trend_chart",
    "trend_weeks",
]

#: board states, most urgent first
STATES = ("danger", "alarm", "caution", "device", "away", "normal")
_RANK = {3: "danger", 2: "alarm", 1: "caution"}


def board_state(person_rank: int | None, device_alerts: int | None, away: str | None) -> str:
    """What the board shows for a household.

    A person alert (not suppressed) outranks everything, then a device problem (a dead gateway
    must be seen, and must not look like a dead person), then an away window, then normal.
    """
    if person_rank:
        return _RANK[min(person_rank, 3)]
    if device_alerts:
        return "device"
    if away:
        return "away"
    return "normal"


def own_range(values: Sequence[float], min_n: int = 5) -> tuple[float, float] | None:
    """The resident's usual range of a measurement: mean ± 2 standard deviations."""
    if len(values) < min_n:
        return None
    mean = statistics.fmean(values)
    sd = statistics.stdev(values)
    return (round(mean - 2 * sd, 1), round(mean + 2 * sd, 1))


class BoardRows:
    """The board's rows as HTML, for one request (one language, one "now").

    Written out here rather than in a template: the board of a large district has ten
    thousand rows, and a Jinja macro call per row costs several times this (measured with
    `anbu bench dashboard`). The fixed parts of a row (labels per state, risk and presence)
    are made once per request. Names, 동 and planners are escaped; household ids are not
    (the database admits only `[A-Za-z0-9_.-]` in them), nor are states, risk levels and
    presence (closed sets, checked by the database too).
    """

    def __init__(self, t: Translator, now: datetime) -> None:
        self.t, self.now = t, now
        self.state = {
            s: f'<td><span class="pill s-{s}">{escape(t("state." + s))}</span></td>' for s in STATES
        }
        self.risk = {
            r: f'<td class="risk-{r}">{escape(t("risk." + r))}</td>'
            for r in ("low", "medium", "high")
        }
        self.presence = {
            p: f' <small class="muted">{escape(t("presence." + p))}</small>'
            for p in ("asleep", "away", "unknown")
        }
        # a case-management marker for the weekly review, not a state: no colour of alarm
        label = escape(t("board.declining"))
        self.declining = f' <span class="trend-mark" title="{label}">↘ {label}</span>'

    def row(self, h: Mapping[str, Any]) -> str:
        hid = h["id"]
        state = h["state"]
        last = h["last_sign_at"]
        n = h["open_alerts"]
        return (
            f'<tr id="h-{hid}" class="s-{state}" data-id="{hid}" data-state="{state}">'
            f"{self.state[state]}"
            f'<td><a href="/households/{hid}">{escape(h["display_name"])}</a>'
            f' <small class="muted">{hid}</small>'
            f"{self.declining if h.get('declining') else ''}</td>"
            f"<td>{escape(h['dong'])}</td>{self.risk[h['risk_level']]}"
            f"<td>{escape(h['planner_name'] or '—')}</td>"
            f'<td><span data-ago="{last.isoformat() if last else ""}">'
            f"{escape(self.t.ago(last, self.now))}</span>"
            f"{self.presence.get(h['presence'], '')}</td>"
            + (
                f'<td><a href="/alerts#h-{hid}">{n}</a></td></tr>\n'
                if n
                else '<td><span class="muted">0</span></td></tr>\n'
            )
        )

    def all(self, rows: Sequence[Mapping[str, Any]]) -> Markup:
        return Markup("".join(map(self.row, rows)))


def board_row(h: Mapping[str, Any], t: Translator, now: datetime) -> Markup:
    """One household's row of the board, as HTML (see `BoardRows`)."""
    return Markup(BoardRows(t, now).row(h))


def pct(change: float | None) -> str:
    """A relative change as a signed whole percentage ("−25 %", "+3 %"), "—" without one."""
    if change is None:
        return "—"
    n = round(change * 100)
    return f"{'−' if n < 0 else '+' if n > 0 else '±'}{abs(n)} %"


def trend_weeks(weeks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A stored report's weeks (`weekly_trends.weeks`) with their start as a date."""
    return [{**w, "start": date.fromisoformat(w["start"])} for w in weeks]


def trend_chart(
    report: Mapping[str, Any] | None, label: Callable[[date], str] = date.isoformat
) -> dict[str, list[Any]]:
    """What the weekly activity chart plots: per week (labelled by its first day, as the
    table below it is), signs of life and active hours a day."""
    weeks = report["weeks"] if report else []
    return {
        "weeks": [w["start"].isoformat() for w in weeks],
        "labels": [label(w["start"]) for w in weeks],
        "signs": [w["signs_per_day"] for w in weeks],
        "hours": [w["active_hours_per_day"] for w in weeks],
    }
