"""The dashboard in a real headless Chromium: scope, live updates, actions, language, phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from alerts.model import Finding
from anbu.domain import Severity
from anbu.storage.db import connect
from dashboard.sample import DEMO_PASSWORD
from tests.browser.conftest import SHOTS, Site

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def log_in(page: Any, site: Site, username: str, path: str = "/") -> None:
    page.goto(f"{site.url}{path}")
    page.wait_for_url(re.compile(r"/login"))
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{site.url}{path}")


def raise_alert(site: Site, household: str, severity: Severity, kind: str = "inactivity") -> int:
    """What the detectors hand the alert service when a resident stops showing signs of life."""
    with connect(site.database_url) as conn:
        a = site.alerts.handle(
            conn,
            Finding(
                household,
                kind,
                severity,
                datetime.now(UTC),
                "생활 신호 없음 3시간 10분\nno sign of life for 3 h 10 min",
            ),
        )
        conn.commit()
    return int(a.id)


def test_planner_sees_only_their_households(page: Any, site: Site) -> None:
    log_in(page, site, "planner1")
    ids = set(
        page.locator("#board tbody tr[data-id]").evaluate_all("rs => rs.map(r => r.dataset.id)")
    )
    mine = {h for h, u in site.planner_of.items() if u == "planner1"}
    assert mine and ids == mine | _backups(site, "planner1")
    # and a household of someone else is not found by URL either
    other = next(h for h, u in site.planner_of.items() if h not in ids)
    response = page.goto(f"{site.url}/households/{other}")
    assert response.status == 404


def _backups(site: Site, username: str) -> set[str]:
    with connect(site.database_url) as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT a.household_id FROM assignments a JOIN staff s ON s.id = a.staff_id"
                " WHERE s.username = %s AND a.ended_at IS NULL",
                (username,),
            )
        }


def test_collapse_turns_the_household_red_live_then_acknowledge_and_resolve(
    page: Any, site: Site
) -> None:
    log_in(page, site, "monitor1")
    page.wait_for_selector("body[data-live='1']")
    household = "hh-0001"  # it has two weeks of simulated readings: the charts draw
    row = page.locator(f"#h-{household}")
    assert row.get_attribute("data-state") == "normal"
    page.evaluate("window.__notReloaded = true")

    raise_alert(site, household, Severity.DANGER)

    page.wait_for_selector(f"#h-{household}[data-state='danger']", timeout=5000)
    banner = page.locator("#banner")
    banner.wait_for(state="visible", timeout=5000)
    name = row.locator("td a").first.inner_text()
    assert name and name in banner.inner_text()
    assert "위험" in banner.inner_text()
    assert page.evaluate("window.__notReloaded") is True  # changed in place, no reload
    assert page.locator("#board tbody tr").first.get_attribute("data-id") == household
    # the board's short queue shows it too, ready to acknowledge
    queued = page.locator(f"#board-alerts tr[data-household='{household}']")
    queued.wait_for()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "board-danger.png"), full_page=False)

    # acknowledge from the board's queue, then add a note and resolve on the household page
    queued.locator("[data-action='acknowledge']").click()
    page.wait_for_selector(f"#board-alerts tr.st-acknowledged[data-household='{household}']")
    page.click("#banner-link")
    page.wait_for_url(re.compile(f"/households/{household}$"))
    page.wait_for_selector("#chart-heatmap .main-svg")  # plotly drew the rhythm
    page.wait_for_selector("#chart-power .main-svg")
    page.screenshot(path=str(SHOTS / "household-ko.png"), full_page=True)
    card = page.locator("#alerts article.st-acknowledged").first
    card.locator("input[name='text']").fill("전화 연결됨, 방문 예정")
    card.locator("form.note button").click()
    page.wait_for_selector("#alerts .note-line >> text=전화 연결됨")
    card = page.locator("#alerts article.st-acknowledged").first
    card.locator("[data-action='resolve-start']").click()
    card.locator("[data-action='resolve'][data-outcome='resident_fine']").click()
    page.wait_for_selector("#alerts article.st-resolved >> text=이상 없음")
    with connect(site.database_url) as conn:
        state, outcome = conn.execute(
            "SELECT state, outcome FROM alerts WHERE household_id = %s ORDER BY id DESC LIMIT 1",
            (household,),
        ).fetchone()  # type: ignore[misc]
    assert (state, outcome) == ("resolved", "resident_fine")
    # back on the board the household is normal again
    page.goto(site.url + "/")
    assert page.locator(f"#h-{household}").get_attribute("data-state") == "normal"


def test_switch_to_english(page: Any, site: Site) -> None:
    log_in(page, site, "monitor1")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert "가구 현황" in page.inner_text("h1")
    page.click("#lang-switch")
    page.wait_for_selector("html[lang='en']")
    assert "Households" in page.inner_text("h1")
    assert re.search(r"(\d+ (hr|min)|just now)", page.inner_text("#board tbody"))
    page.goto(site.url + "/households/hh-0001")
    assert "Rhythm" in page.inner_text("main")
    page.wait_for_selector("#chart-timeline .main-svg")


def test_phone_view_acknowledge_and_resolve_in_two_taps(
    page: Any, browser: Any, site: Site
) -> None:
    household = "hh-0003"
    planner = site.planner_of[household]
    alert_id = raise_alert(site, household, Severity.ALARM)
    # the planner hands the alert to a visiting nurse from the household page
    log_in(page, site, planner, f"/households/{household}")
    form = page.locator(f"#a-{alert_id} form.handoff")
    form.locator("select").select_option("st-field1")
    form.locator("button").click()
    page.wait_for_selector(f"#a-{alert_id} >> text=현장 인계함")
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="ko-KR",
    )
    phone = context.new_page()
    try:
        log_in(phone, site, "field1", "/field")
        card = phone.locator(f"#a-{alert_id}")
        card.wait_for()
        # the address and a call button that dials the resident
        assert card.locator(".addr").inner_text().startswith("서울특별시 성동구")
        assert card.locator("a.call").get_attribute("href").startswith("tel:010")
        # nothing is wider than the phone
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        SHOTS.mkdir(exist_ok=True)
        phone.screenshot(path=str(SHOTS / "field-phone.png"), full_page=True)
        card.locator("[data-action='acknowledge']").tap()  # one tap
        phone.wait_for_selector(f"#a-{alert_id} >> text=확인됨")
        card = phone.locator(f"#a-{alert_id}")
        card.locator("[data-action='resolve-start']").tap()  # two taps to resolve
        card.locator("[data-action='resolve'][data-outcome='resident_helped']").tap()
        phone.wait_for_selector(f"#a-{alert_id}", state="detached")
        phone.screenshot(path=str(SHOTS / "field-phone-done.png"), full_page=True)
    finally:
        context.close()
    with connect(site.database_url) as conn:
        assert conn.execute("SELECT outcome FROM alerts WHERE id = %s", (alert_id,)).fetchone() == (
            "resident_helped",
        )


def test_weekly_activity_shows_the_chart_and_a_calm_notice(page: Any, site: Site) -> None:
    """A declining home's weekly report (as the job stores it): the chart draws, the notice
    asks for a look at the next visit, and nothing alarms (no banner, the state unchanged)."""
    from datetime import timedelta

    from anbu.storage import trend as trend_store
    from detectors.trend_job import report_row
    from tests.helpers import weekly_days

    household = "hh-0002"
    through = datetime.now(UTC).date() - timedelta(days=1)
    with connect(site.database_url) as conn:
        trend_store.save_reports(
            conn, [report_row(household, weekly_days(through, [12, 12, 11, 10, 10, 9, 8, 8]),
                              through)])
        conn.commit()
    try:
        log_in(page, site, "monitor1", "/?trend=declining")
        assert page.locator("#board tbody tr[data-id]").count() == 1
        row = page.locator(f"#h-{household}")
        assert row.locator(".trend-mark").inner_text().strip() == "↘ 활동 감소 추세"
        assert row.get_attribute("data-state") == "normal"
        row.locator("td a").first.click()
        page.wait_for_url(re.compile(f"/households/{household}$"))
        page.wait_for_selector("#chart-trend .main-svg")  # plotly drew the weekly chart
        notice = page.locator("#trend-notice")
        assert notice.is_visible() and "다음 방문 때 확인해 주세요" in notice.inner_text()
        assert page.locator("#trend-weeks tbody tr").count() == 8
        assert not page.locator("#banner").is_visible()
        page.locator("#trend").scroll_into_view_if_needed()
        SHOTS.mkdir(exist_ok=True)
        page.locator("#trend").screenshot(path=str(SHOTS / "household-trend.png"))
    finally:
        with connect(site.database_url) as conn:
            conn.execute("DELETE FROM weekly_trends WHERE household_id = %s", (household,))
            conn.commit()
