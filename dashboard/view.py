"""Pure helpers for the pages: a household's board state and row, a resident's own range."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from dashboard.i18n import Translator
from detectors.vitals import CLINICAL

__all__ = ["CLINICAL", "STATES", "board_row", "board_state", "own_range"]

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


def board_row(h: Mapping[str, Any], t: Translator, now: datetime) -> Markup:
    """One household's row of the board, as HTML.

    Written out here rather than in a template: the board of a large district has ten
    thousand rows, and a Jinja macro call per row costs several times this (measured with
    `anbu bench dashboard`). Every value from the database is escaped.
    """
    hid = escape(h["id"])
    state = h["state"]
    name = escape(h["display_name"])
    last = h["last_sign_at"]
    presence = h["presence"]
    extra = (
        f' <small class="muted">{escape(t("presence." + presence))}</small>'
        if presence and presence != "home"
        else ""
    )
    n = h["open_alerts"]
    alerts = f'<a href="/alerts#h-{hid}">{n}</a>' if n else '<span class="muted">0</span>'
    return Markup(
        f'<tr id="h-{hid}" class="s-{state}" data-id="{hid}" data-state="{state}">'
        f'<td><span class="pill s-{state}">{escape(t("state." + state))}</span></td>'
        f'<td><a href="/households/{hid}">{name}</a> <small class="muted">{hid}</small></td>'
        f"<td>{escape(h['dong'])}</td>"
        f'<td class="risk-{escape(h["risk_level"])}">{escape(t("risk." + h["risk_level"]))}</td>'
        f"<td>{escape(h['planner_name'] or '—')}</td>"
        f'<td><span data-ago="{last.isoformat() if last else ""}">{escape(t.ago(last, now))}'
        f"</span>{extra}</td><td>{alerts}</td></tr>\n"
    )
