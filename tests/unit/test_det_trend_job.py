"""Pure parts of the weekly trend job: which day is due, local days as UTC spans, runs of
days, stored rows back to days, the report's row; and the dashboard's formatting of it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from anbu.domain import Kind, Reading
from dashboard import view
from dashboard.i18n import Translator
from detectors import trend
from detectors.trend_job import day_row, day_span, days_of, last_due_day, report_row, runs

SEOUL = ZoneInfo("Asia/Seoul")
NY = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def test_a_day_is_due_after_its_local_midnight_and_the_grace() -> None:
    at = datetime(2026, 7, 2, 0, 59, tzinfo=SEOUL)
    assert last_due_day(at, SEOUL, HOUR) == date(2026, 6, 30)
    assert last_due_day(at + timedelta(minutes=1), SEOUL, HOUR) == date(2026, 7, 1)
    # the same instant is still 1 July in New York (11:59 the day before)
    assert last_due_day(at, NY, HOUR) == date(2026, 6, 30)
    assert last_due_day(datetime(2026, 7, 2, 5, 0, tzinfo=UTC), NY, HOUR) == date(2026, 7, 1)


def test_local_days_as_utc_spans_across_daylight_saving() -> None:
    a, b = day_span(date(2026, 3, 8), NY)  # clocks go forward: 23 hours
    assert (a, b - a) == (datetime(2026, 3, 8, 5, tzinfo=UTC), timedelta(hours=23))
    a, b = day_span(date(2026, 11, 1), NY)  # and back: 25 hours
    assert b - a == timedelta(hours=25)
    a, b = day_span(date(2026, 7, 1), SEOUL)
    assert (a, b) == (datetime(2026, 6, 30, 15, tzinfo=UTC), datetime(2026, 7, 1, 15, tzinfo=UTC))


def test_runs_of_consecutive_days() -> None:
    d = date(2026, 7, 1)
    days = [d + timedelta(days=k) for k in (5, 0, 1, 2, 7, 8, 2)]
    assert runs(days) == [(d, d + timedelta(days=2)), (d + timedelta(days=5),) * 2,
                          (d + timedelta(days=7), d + timedelta(days=8))]
    assert runs([]) == []


def test_stored_rows_give_back_the_days_the_report_uses() -> None:
    act = trend.DailyActivity({"hh-1": "Asia/Seoul"})
    t0 = datetime(2026, 7, 1, 9, tzinfo=SEOUL)
    act.observe([Reading("hh-1", "door-1", Kind.DOOR, (t0 + k * HOUR).astimezone(UTC), k, 1.0,
                         {"open": True, "exterior": True}) for k in range(3)])
    d = date(2026, 7, 1)
    row = day_row("hh-1", d, "Asia/Seoul", act.days["hh-1"].get(d))
    assert (row.signs, row.reliable, row.active_hours, row.exits) == (3, 3, 3, 3)
    assert row.hours_reliable[9:12] == (1, 1, 1) and sum(row.hours_noisy) == 0
    empty = day_row("hh-1", d + timedelta(days=1), "Asia/Seoul", None)
    assert empty.signs == 0 and len(empty.hours_reliable) == 24
    back = days_of([row, empty])
    assert list(back) == [d]  # a day without a sign is unobserved, as in memory
    assert back[d].active_hours() == 3 and back[d].exits == 3


def test_the_report_row_is_the_week_of_its_last_day() -> None:
    through = date(2026, 7, 30)  # a Thursday
    r = report_row("hh-1", {}, through)
    assert r.week == date(2026, 7, 27) and r.through == through
    assert not r.declining and r.reasons == () and r.weeks == []
    assert r.text.startswith("추세를 보기에 기록이 부족합니다")


def test_percentages_and_the_chart_of_a_report() -> None:
    assert [view.pct(x) for x in (-0.333, 0.031, 0.0, None)] == ["−33 %", "+3 %", "±0 %", "—"]
    weeks = view.trend_weeks([{"start": "2026-06-01", "days": 7, "signs_per_day": 60.0,
                               "active_hours_per_day": 12.0, "exits": 7.0}])
    assert weeks[0]["start"] == date(2026, 6, 1)
    assert view.trend_chart({"weeks": weeks}, Translator("ko").day) == {
        "weeks": ["2026-06-01"], "labels": ["6월 1일"], "signs": [60.0], "hours": [12.0]}
    assert view.trend_chart(None) == {"weeks": [], "labels": [], "signs": [], "hours": []}
