"""A running anbu web application on a seeded database, and a real headless Chromium.

Chromium is Debian's (`apt-get install chromium`), driven by Playwright through
`executable_path`; set ANBU_CHROMIUM to use another binary. Without one the browser tests skip
and say why. Each test saves a screenshot under tests/browser/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from anbu.storage.db import connect
from tests.conftest import fresh_database
from tests.helpers import serve

SHOTS = Path(__file__).parent / "screenshots"


def chromium_path() -> str | None:
    return (
        os.environ.get("ANBU_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@dataclass
class Site:
    url: str
    database_url: str
    alerts: Any
    #: household id -> its primary planner's username
    planner_of: dict[str, str]


@pytest.fixture(scope="module")
def site(pg_server: str) -> Iterator[Site]:
    from alerts.policy import default_policy
    from alerts.service import AlertService
    from dashboard.app import create_app
    from dashboard.sample import seed_sample

    with fresh_database(pg_server) as url:
        with connect(url) as conn:
            seed_sample(conn, 12, datetime.now(UTC), history=2, days=14)
            planner_of = {
                r[0]: r[1]
                for r in conn.execute(
                    "SELECT a.household_id, s.username FROM assignments a JOIN staff s"
                    " ON s.id = a.staff_id WHERE a.role = 'primary' AND a.ended_at IS NULL"
                )
            }
        svc = AlertService(default_policy(ask_first=False))
        with serve(create_app(url, alerts=svc)) as base:
            yield Site(base, url, svc, planner_of)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium: install Debian's `chromium` package (or set ANBU_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    pg = context.new_page()
    yield pg
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
