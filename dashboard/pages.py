"""Server-rendered pages: the live board, the alert queue, a household, the field view, login.

Pages read through the same scope predicate as the API (`accounts.SCOPE`), answer 404 for a
household outside it, and write every household view to the access log. Changes go through
the JSON API (`/api/...`) from the page's script with the session's CSRF token, so there is
one implementation of each action. Korean is the default language; `/lang/en` switches.
"""

from __future__ import annotations

import importlib.util
import math
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from alerts.policy import next_due_at
from anbu.contract import HEALTH_METRICS
from anbu.storage import accounts
from anbu.storage import alerts as alert_store
from anbu.storage import board as store
from anbu.storage import trend as trend_store
from dashboard import view
from dashboard.auth import Conn, client_ip, session_of
from dashboard.i18n import LANGS, Translator, pick
from dashboard.view import CLINICAL, board_state, own_range

HERE = Path(__file__).parent
LANG_COOKIE = "anbu_lang"
HEATMAP_DAYS = 28
#: weekly reports listed on a household's page (the newest first)
TREND_HISTORY = 12
#: open alerts shown above the board (the queue page has them all)
BOARD_ALERTS = 20

templates = Jinja2Templates(directory=str(HERE / "templates"))


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no "</script>" or "<!--" can close it early."""
    text = orjson.dumps(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


templates.env.globals["json"] = _script_json
templates.env.globals["board_row"] = view.board_row
templates.env.globals["pct"] = view.pct

router = APIRouter(include_in_schema=False)

# "" is what an empty choice of the filter form submits: no filter
StateFilter = Literal["", "normal", "caution", "alarm", "danger", "device", "away"]
RiskFilter = Literal["", "low", "medium", "high"]
TrendFilter = Literal["", "declining"]


class LoginRequired(Exception):
    pass


def _viewer(request: Request, conn: Conn) -> tuple[accounts.StaffMember, str]:
    found = session_of(request, conn)
    if found is None:
        raise LoginRequired
    return found


Viewer = Annotated[tuple[accounts.StaffMember, str], Depends(_viewer)]


def language(request: Request, staff: accounts.StaffMember | None) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGS:
        return chosen
    return pick(staff.locale if staff else None)


def render(
    request: Request,
    name: str,
    viewer: tuple[accounts.StaffMember, str] | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    staff = viewer[0] if viewer else None
    lang = language(request, staff)
    t = Translator(lang)
    now: datetime = request.app.state.clock.now()
    return templates.TemplateResponse(
        request,
        name,
        {
            "t": t,
            "lang": lang,
            "staff": staff,
            "csrf": viewer[1] if viewer else "",
            "now": now,
            "now_iso": now.isoformat(),
            "client_messages": t.client_messages(),
            **context,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={target}", status_code=303)


# -- login and language -------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
    # only local paths: a login link must not send staff to another site
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return render(request, "login.html", None, next=target)


@router.get("/lang/{lang}")
def set_language(
    lang: Literal["ko", "en"], request: Request, next: Annotated[str, Query(max_length=500)] = "/"
) -> RedirectResponse:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/vendor/plotly.min.js")
def plotly_js() -> FileResponse:
    # the file the plotly wheel ships (found without importing plotly's Python side)
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise HTTPException(404, "the plotly package is not installed")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    return FileResponse(
        path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
    )


# -- the board ----------------------------------------------------------------------------


class BoardFilter(BaseModel):
    """The board's filters, as its form submits them ("" is no filter)."""

    model_config = ConfigDict(extra="ignore")

    dong: str = Field(default="", max_length=64)
    planner: str = Field(default="", max_length=64)
    state: StateFilter = ""
    risk: RiskFilter = ""
    #: "declining": homes whose latest weekly report shows a slow decline
    trend: TrendFilter = ""
    q: str = Field(default="", max_length=64)


Filters = Annotated[BoardFilter, Query()]


def _rows(
    conn: Conn,
    staff: accounts.StaffMember,
    now: datetime,
    f: BoardFilter | None = None,
    household_id: str | None = None,
) -> list[dict[str, Any]]:
    f = f or BoardFilter()
    rows = store.board_rows(
        conn,
        accounts.scope_params(staff),
        now,
        household_id=household_id,
        dong=f.dong or None,
        planner=f.planner or None,
        risk=f.risk or None,
        search=f.q or None,
        declining=f.trend == "declining",
    )
    out = []
    for r in rows:
        r["state"] = board_state(r["person_rank"], r["device_alerts"], r["away_reason"])
        if not f.state or r["state"] == f.state:
            out.append(r)
    return out


@router.get("/", response_class=HTMLResponse)
def board(request: Request, conn: Conn, viewer: Viewer, f: Filters) -> Response:
    staff = viewer[0]
    if staff.role == "field_worker":
        return RedirectResponse("/field", status_code=303)
    now = request.app.state.clock.now()
    rows = _rows(conn, staff, now, f)
    total = conn.execute(
        f"SELECT count(*) FROM households h WHERE h.active AND {accounts.SCOPE}",
        accounts.scope_params(staff),
    ).fetchone()
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["state"]] += 1
        counts["declining"] += r["declining"]
    choices = store.filter_choices(conn, accounts.scope_params(staff))
    urgent = _queue(conn, staff, request.app.state.alerts.policy, BOARD_ALERTS)
    accounts.log_access(conn, staff.id, "view_board", str(request.url.path), client_ip(request))
    conn.commit()
    t = Translator(language(request, staff))
    return render(
        request,
        "board.html",
        viewer,
        rows=rows,
        alerts=urgent,
        board_alerts=BOARD_ALERTS,
        # one string for all rows: the loop in Python, not in the template (10,000 rows)
        rows_html=view.BoardRows(t, now).all(rows),
        total=total[0] if total else 0,
        counts=counts,
        choices=choices,
        f=f,
    )


@router.get("/board/row/{household_id}", response_class=HTMLResponse)
def board_row(
    household_id: str, request: Request, conn: Conn, viewer: Viewer, f: Filters
) -> Response:
    """One board row, for live updates; 204 when the household no longer matches the filter."""
    staff = viewer[0]
    if not accounts.can_see(conn, staff, household_id):
        raise HTTPException(404, "no such household")
    rows = _rows(conn, staff, request.app.state.clock.now(), f, household_id)
    conn.commit()
    if not rows:
        return Response(status_code=204)
    return render(request, "_row_one.html", viewer, h=rows[0])


@router.get("/board/signs")
def board_signs(
    request: Request, conn: Conn, viewer: Viewer, since: AwareDatetime
) -> dict[str, Any]:
    """Last signs of life newer than `since`, for the open board to refresh its times."""
    now: datetime = request.app.state.clock.now()
    signs = store.signs_since(conn, accounts.scope_params(viewer[0]), since)
    conn.commit()
    return {"now": now.isoformat(), "signs": {h: t.isoformat() for h, t in signs.items()}}


# -- the alert queue ----------------------------------------------------------------------


def _queue(
    conn: Conn, staff: accounts.StaffMember, policy: Any, limit: int = 1000
) -> list[dict[str, Any]]:
    """Open alerts in scope, most severe and oldest first, with when each escalates next."""
    rows = alert_store.list_in_scope(conn, accounts.scope_params(staff), limit=limit)
    # the schedule needs the full alerts (their plans): one query for all active ones
    ids = [r["id"] for r in rows]
    full = {a.id: a for a in alert_store.active(conn, ids=ids)} if rows else {}
    sent = alert_store.deliveries(conn, ids)
    for r in rows:
        a = full.get(r["id"])
        r["next_due_at"] = next_due_at(policy, a) if a is not None else None
        r["failed_deliveries"] = [d for d in sent[r["id"]] if d["status"] == "failed"]
    return rows


@router.get("/alerts", response_class=HTMLResponse)
def queue(
    request: Request,
    conn: Conn,
    viewer: Viewer,
    fragment: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> Response:
    staff = viewer[0]
    rows = _queue(conn, staff, request.app.state.alerts.policy, limit)
    accounts.log_access(conn, staff.id, "view_queue", str(request.url.path), client_ip(request))
    conn.commit()
    return render(request, "_queue.html" if fragment else "alerts.html", viewer, alerts=rows)


# -- the field view -----------------------------------------------------------------------


@router.get("/field", response_class=HTMLResponse)
def field(request: Request, conn: Conn, viewer: Viewer, fragment: bool = False) -> Response:
    staff = viewer[0]
    # "my" alerts: a field worker's are those handed to them, a planner's those of the homes
    # they are primary or backup for: exactly their scope
    rows = alert_store.list_in_scope(conn, accounts.scope_params(staff), limit=200)
    ids = sorted({r["household_id"] for r in rows})
    contacts = {
        r[0]: {"address": r[1], "phone": r[2]}
        for r in conn.execute(
            "SELECT id, address, phone FROM households WHERE id = ANY(%s)", (ids,)
        )
    }
    for r in rows:
        r.update(contacts.get(r["household_id"], {"address": "", "phone": ""}))
    accounts.log_access(conn, staff.id, "view_field", str(request.url.path), client_ip(request))
    conn.commit()
    return render(request, "_field.html" if fragment else "field.html", viewer, alerts=rows)


# -- one household ------------------------------------------------------------------------


@router.get("/households/{household_id}", response_class=HTMLResponse)
def household(household_id: str, request: Request, conn: Conn, viewer: Viewer) -> Response:
    staff = viewer[0]
    if not accounts.can_see(conn, staff, household_id):
        raise HTTPException(404, "no such household")
    now: datetime = request.app.state.clock.now()
    h = store.profile(conn, household_id)
    assert h is not None  # can_see found it
    tz = ZoneInfo(h["timezone"])
    charts = _charts(conn, household_id, now, tz)
    trend = _trend(conn, household_id)
    charts["trend"] = view.trend_chart(
        trend["latest"] if trend else None, Translator(language(request, staff)).day
    )
    context = {
        "h": h,
        "planners": store.planners(conn, household_id),
        "devices": store.devices(conn, household_id),
        "history": _with_deliveries(conn, store.alert_history(conn, household_id)),
        "away": store.away_windows(conn, household_id, now),
        # who saw this household's data: for admins and team leads (audits under PIPA)
        "access": (
            accounts.access_history(conn, household_id, 20)
            if staff.role in ("admin", "team_lead")
            else None
        ),
        "field_workers": (
            store.field_workers(conn, h["district_id"])
            if staff.role in ("admin", "monitoring", "team_lead", "planner")
            else []
        ),
        "charts": charts,
        "trend": trend,
        "tz": h["timezone"],
        "heatmap_days": HEATMAP_DAYS,
        "rows": _rows(conn, staff, now, household_id=household_id),
    }
    accounts.log_access(
        conn, staff.id, "view_household", str(request.url.path), client_ip(request), household_id
    )
    conn.commit()
    return render(request, "household.html", viewer, **context)


def _trend(conn: Conn, household_id: str) -> dict[str, Any] | None:
    """The weekly slow-decline report: the latest, and the weeks before it (history)."""
    rows = trend_store.reports(conn, household_id, TREND_HISTORY)
    if not rows:
        return None
    for r in rows:
        r["weeks"] = view.trend_weeks(r["weeks"])
    return {"latest": rows[0], "history": rows}


def _with_deliveries(conn: Conn, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sent = alert_store.deliveries(conn, [a["id"] for a in alerts])
    for a in alerts:
        a["deliveries"] = sent[a["id"]]
    return alerts


def _charts(conn: Conn, household_id: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    day = timedelta(days=1)
    signs = store.timeline(conn, household_id, now - day, now)
    timeline = {
        "t": [s["time"].astimezone(tz).isoformat() for s in signs],
        "room": [s["room"] for s in signs],
        "kind": [s["kind"] for s in signs],
    }
    # the rhythm: local days x 24 hours, the oldest day first and today last
    today = now.astimezone(tz).date()
    days = [today - timedelta(days=i) for i in range(HEATMAP_DAYS - 1, -1, -1)]
    start = datetime.combine(days[0], datetime.min.time(), tz)
    grid = {d: [0] * 24 for d in days}
    for hour, n in store.hourly_signs(conn, household_id, start, now, str(tz)):
        if hour.date() in grid:
            grid[hour.date()][hour.hour] = n
    past = [grid[d] for d in days[:-1]]
    usual = (
        [round(statistics.fmean(col), 2) if past else 0.0 for col in zip(*past, strict=True)]
        if past
        else [0.0] * 24
    )
    heatmap = {
        "days": [d.isoformat() for d in days],
        "z": [grid[d] for d in days],
        "usual": usual,
        "today": grid[today],
        "hour_now": now.astimezone(tz).hour,
    }
    watts = store.power(conn, household_id, now - 7 * day, now)
    power = {"t": [w[0].astimezone(tz).isoformat() for w in watts], "w": [w[1] for w in watts]}
    metrics: dict[str, dict[str, Any]] = {}
    for r in store.health(conn, household_id, now - 180 * day):
        for name in HEALTH_METRICS:
            v = r["data"].get(name)
            if isinstance(v, int | float) and not math.isnan(v):
                m = metrics.setdefault(name, {"t": [], "v": []})
                m["t"].append(r["time"].astimezone(tz).isoformat())
                m["v"].append(v)
    for name, m in metrics.items():
        m["clinical"] = CLINICAL.get(name, (None, None))
        m["own"] = own_range(m["v"])
    return {"timeline": timeline, "heatmap": heatmap, "power": power, "health": metrics}


# -- errors -------------------------------------------------------------------------------


def not_found_page(request: Request) -> HTMLResponse:
    return render(request, "not_found.html", None, status_code=404)
