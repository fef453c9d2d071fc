# ruff: noqa: F811  (pytest fixtures imported from test_api are parameters here)
"""The weekly slow-decline report on the dashboard: the household page's section in Korean and
English, the board's marker and filter, and the JSON API with its scope."""

from __future__ import annotations

import re
from datetime import date, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient

from anbu.storage import trend as store
from anbu.storage.db import connect
from detectors.trend import Day
from detectors.trend_job import report_row
from tests.helpers import weekly_days
from tests.integration.test_api import api, login  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
THROUGH = date(2026, 11, 22)  # a Sunday, the day before the api fixture's clock


def _days(levels: list[int]) -> dict[date, Day]:
    return weekly_days(THROUGH, levels)


@pytest.fixture
def reports(api: tuple[TestClient, dict[str, int]], database_url: str) -> TestClient:
    client, _ = api
    client.database_url = database_url  # type: ignore[attr-defined]
    with connect(database_url) as conn:
        store.save_reports(conn, [
            # hh-1 slowly does less; hh-2 (outside planner1's scope) is steady
            report_row("hh-1", _days([12, 12, 11, 10, 10, 9, 8, 8]), THROUGH),
            report_row("hh-2", _days([10] * 8), THROUGH),
        ])
        # and a week earlier, hh-1 was still steady (history)
        store.save_reports(conn, [report_row(
            "hh-1", _days([12, 12, 12, 12, 12, 12, 11, 11]), THROUGH - timedelta(days=7))])
        conn.commit()
    return client


def test_the_household_page_shows_the_weekly_activity_in_korean_and_english(
    reports: TestClient,
) -> None:
    client = reports
    login(client, "planner1")
    r = client.get("/households/hh-1", headers=HTML)
    assert r.status_code == 200, r.text
    section = r.text.split('id="trend"', 1)[1].split("</section>", 1)[0]
    assert "주간 활동 (최근 8주)" in section
    assert "활동 감소 — 다음 방문 때 확인해 주세요" in section and 'id="trend-notice"' in section
    assert "활동 시간 감소" in section and "생활 신호 감소" in section
    # 8 → 12 signs and active hours a day: the last 2 weeks are a third below the first 2
    assert "하루 활동 시간 −33 %, 하루 생활 신호 −33 %" in section
    rows = re.findall(r"<tr><td>(\d+월 \d+일)</td><td>(\d)</td><td>([\d.]+)</td>",
                      section.split('id="trend-weeks"')[1].split("</table>")[0])
    assert len(rows) == 8 and rows[0] == ("9월 28일", "7", "12.0") and rows[-1][2] == "8.0"
    # the history: this week's report, and last week's (not flagged then)
    history = section.split('id="trend-history"')[1]
    assert history.count("<tr><td>") == 2 and "유지" in history and "감소" in history
    data = orjson.loads(r.text.split('<script id="chart-data" type="application/json">')[1]
                        .split("</script>")[0])
    assert data["trend"]["signs"] == [12.0, 12.0, 11.0, 10.0, 10.0, 9.0, 8.0, 8.0]
    assert data["trend"]["weeks"][0] == "2026-09-28"
    # a signal for the next visit, not an alarm: the household's state is unchanged by it
    assert 'id="hh-state">경보' in r.text  # the fixture's open inactivity alarm, nothing more

    r = client.get("/lang/en?next=/households/hh-1", follow_redirects=False)
    client.cookies.set("anbu_lang", r.cookies["anbu_lang"])
    section = client.get("/households/hh-1", headers=HTML).text.split('id="trend"', 1)[1]
    section = section.split("</section>", 1)[0]
    assert "Weekly activity (last 8 weeks)" in section
    assert "Declining — review at the next visit" in section and "not an alarm" in section
    assert "active hours a day −33 %, signs of life a day −33 %" in section
    assert "Sep 28" in section and "주간" not in section


def test_a_steady_home_and_a_home_without_a_report(reports: TestClient) -> None:
    client = reports
    login(client, "planner2")
    section = client.get("/households/hh-2", headers=HTML).text.split('id="trend"', 1)[1]
    assert "뚜렷한 활동 감소는 없습니다." in section.split("</section>")[0]
    assert "trend-notice" not in section.split("</section>")[0]
    section = client.get("/households/hh-9", headers=HTML).text.split('id="trend"', 1)[1]
    assert "아직 주간 활동 보고가 없습니다" in section.split("</section>")[0]


def test_the_board_marks_and_filters_the_declining_homes(reports: TestClient) -> None:
    client = reports
    login(client, "monitor1")
    page = client.get("/", headers=HTML).text
    rows = dict(re.findall(r'<tr id="h-([^"]+)"(.*?)</tr>', page))
    assert set(rows) == {"hh-1", "hh-2"}
    assert "trend-mark" in rows["hh-1"] and "trend-mark" not in rows["hh-2"]
    assert re.search(r'data-count="declining"[^>]*>[^<]*<b>1</b>', page)
    page = client.get("/?trend=declining", headers=HTML).text
    assert set(re.findall(r'<tr id="h-([^"]+)"', page)) == {"hh-1"}
    assert '<option value="declining" selected>' in page
    # with other filters: hh-1 is in 마장동, so 옥수동's declining homes are none
    page = client.get("/?trend=declining&dong=옥수동", headers=HTML).text
    assert not re.findall(r'<tr id="h-([^"]+)"', page)
    assert client.get("/?trend=rising", headers=HTML).status_code == 422
    # the live row of a household follows the same filter (204: it no longer matches)
    assert client.get("/board/row/hh-2?trend=declining", headers=HTML).status_code == 204
    assert "trend-mark" in client.get("/board/row/hh-1?trend=declining", headers=HTML).text


def test_the_trend_api_obeys_the_scope_and_rejects_bad_parameters(reports: TestClient) -> None:
    client = reports
    login(client, "planner1")
    r = client.get("/api/households/hh-1/trend")
    assert r.status_code == 200, r.text
    body = r.json()
    latest = body["latest"]
    assert latest["declining"] is True and latest["through"] == "2026-11-22"
    assert latest["week"] == "2026-11-16" and len(latest["weeks"]) == 8
    assert latest["active_hours_change"] == -0.333 and set(latest["reasons"]) == {
        "active_hours", "signs"}
    assert [h["through"] for h in body["history"]] == ["2026-11-22", "2026-11-15"]
    assert len(client.get("/api/households/hh-1/trend?history=1").json()["history"]) == 1
    # outside the scope: the same answer as for a household that does not exist
    outside = client.get("/api/households/hh-2/trend")
    missing = client.get("/api/households/no-such-home/trend")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()
    for bad in ("history=0", "history=105", "history=many", "history=1.5"):
        assert client.get(f"/api/households/hh-1/trend?{bad}").status_code == 422, bad
    # before any report, `latest` is null (not an error)
    login(client, "monitor2")
    r = client.get("/api/households/hh-9/trend")
    assert r.status_code == 200 and r.json() == {
        "household_id": "hh-9", "latest": None, "history": []}
    with connect(client.database_url) as conn:  # type: ignore[attr-defined]
        views = conn.execute(
            "SELECT count(*) FROM access_log WHERE action = 'view_trend'").fetchone()
    assert views == (3,)
