# ruff: noqa: F811  (pytest fixtures imported from test_api are parameters here)
"""The server-rendered pages on the real database: login redirects, scope, language, access log,
live pushes over Server-Sent Events, and escaping."""

from __future__ import annotations

import queue
import re
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient

from anbu.storage.db import connect
from dashboard import pages
from tests.integration.test_api import api, login  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}
NOW = datetime.now(UTC)


def household_ids(html: str) -> set[str]:
    return set(re.findall(r'<tr id="h-([^"]+)"', html))


def test_pages_need_a_login(api: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = api
    client.cookies.clear()
    for path in ("/", "/alerts", "/field", "/households/hh-1"):
        r = client.get(path, headers=HTML, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"] == f"/login?next={path}"
    r = client.get("/login")
    assert r.status_code == 200 and 'id="login-form"' in r.text


def test_board_shows_only_the_callers_households(
    api: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = api
    expected = {
        "planner1": {"hh-1"},
        "planner2": {"hh-2", "hh-9"},  # primary of hh-2, backup of hh-9
        "monitor1": {"hh-1", "hh-2"},  # district d1
        "monitor2": {"hh-9"},  # district d2
        "admin": {"hh-1", "hh-2", "hh-9"},
    }
    for user, ids in expected.items():
        login(client, user)
        r = client.get("/", headers=HTML)
        assert r.status_code == 200, r.text
        assert household_ids(r.text) == ids, user
        # every household has an open alarm: all rows are red-orange, in the alarm state
        assert r.text.count('data-state="alarm"') == len(ids)
    # a field worker has no board; they land on their own alerts
    login(client, "field1")
    r = client.get("/", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/field"


def test_pages_outside_scope_are_not_found(api: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = api
    login(client, "planner1")
    # every page route that names a household
    routes = [
        path for r in pages.router.routes if "{household_id}" in (path := getattr(r, "path", ""))
    ]
    assert set(routes) >= {"/households/{household_id}", "/board/row/{household_id}"}
    for path in routes:
        answers = {}
        for hid in ("hh-2", "hh-9", "no-such-home"):
            r = client.get(path.replace("{household_id}", hid), headers=HTML)
            assert r.status_code == 404, (path, hid)
            assert "박○○" not in r.text and "이○○" not in r.text
            answers[hid] = r.text.replace(hid, "ID")
        # an existing household outside scope is indistinguishable from none at all
        assert answers["hh-2"] == answers["hh-9"] == answers["no-such-home"]
        r = client.get(path.replace("{household_id}", "hh-1"), headers=HTML)
        assert r.status_code == 200, (path, r.text)


def test_queue_and_field_view_are_scoped(api: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = api
    login(client, "planner1")
    r = client.get("/alerts", headers=HTML)
    assert f'id="a-{ids["hh-1"]}"' in r.text
    assert f'id="a-{ids["hh-2"]}"' not in r.text and f'id="a-{ids["hh-9"]}"' not in r.text
    # the field worker sees nothing until an alert is handed to them, then exactly that one
    headers = login(client, "monitor1")
    login(client, "field1")
    assert 'class="card alert' not in client.get("/field", headers=HTML).text
    login(client, "monitor1")
    client.cookies.clear()
    headers = login(client, "monitor1")
    r = client.post(f"/api/alerts/{ids['hh-2']}/handoff", json={"staff_id": "f1"}, headers=headers)
    assert r.status_code == 204, r.text
    login(client, "field1")
    r = client.get("/field", headers=HTML)
    assert f'id="a-{ids["hh-2"]}"' in r.text and f'id="a-{ids["hh-1"]}"' not in r.text
    assert client.get("/households/hh-2", headers=HTML).status_code == 200
    assert client.get("/households/hh-1", headers=HTML).status_code == 404


def test_korean_by_default_and_english_on_request(
    api: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = api
    login(client, "planner1")
    r = client.get("/", headers=HTML)
    assert '<html lang="ko">' in r.text and "가구 현황" in r.text and "경보" in r.text
    r = client.get("/lang/en?next=/alerts", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/alerts"
    client.cookies.set("anbu_lang", r.cookies["anbu_lang"])
    r = client.get("/", headers=HTML)
    assert '<html lang="en">' in r.text and "Households" in r.text and "Alarm" in r.text
    assert "가구 현황" not in r.text
    # a login link cannot send staff to another site
    r = client.get("/lang/ko?next=//evil.example/", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_household_page_is_logged_and_escapes_names(
    api: tuple[TestClient, dict[str, int]],
    database_url: str,
) -> None:
    client, _ = api
    with connect(database_url) as conn:
        conn.execute(
            "UPDATE households SET display_name = %s WHERE id = 'hh-1'",
            ("</script><script>alert(1)</script>",),
        )
        conn.commit()
    login(client, "planner1")
    r = client.get("/households/hh-1", headers=HTML)
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in r.text
    for section in ("profile", "away", "alerts", "devices", "chart-timeline", "chart-heatmap"):
        assert f'id="{section}"' in r.text, section
    with connect(database_url) as conn:
        row = conn.execute(
            "SELECT staff_id, action FROM access_log WHERE household_id = 'hh-1'"
            " AND action = 'view_household'"
        ).fetchone()
    assert row == ("p1", "view_household")


def test_bad_filters_are_a_4xx(api: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = api
    login(client, "monitor1")
    r = client.get("/?state=exploded", headers=HTML)
    assert r.status_code == 422 and "state" in r.json()["detail"]
    r = client.get("/?q=" + "x" * 500, headers=HTML)
    assert r.status_code == 422
    r = client.get("/?q=%25_%5C", headers=HTML)  # LIKE wildcards are searched for literally
    assert r.status_code == 200 and household_ids(r.text) == set()
    r = client.get("/?q=마장", headers=HTML)
    assert household_ids(r.text) == {"hh-1"}


def test_live_events_reach_only_households_in_scope(database_url: str) -> None:
    """Two staff listen on /events; alerts in two districts reach each only within scope."""
    import threading

    import httpx2

    from alerts.model import Finding, Severity
    from alerts.policy import default_policy
    from alerts.service import AlertService
    from dashboard.app import create_app
    from dashboard.sample import DEMO_PASSWORD, seed_sample
    from tests.helpers import serve

    with connect(database_url) as conn:
        seed_sample(conn, 8, NOW)
        conn.execute("INSERT INTO districts (id, name_ko) VALUES ('d2', '중구')")
        conn.execute(
            "INSERT INTO households (id, district_id, display_name) VALUES ('far-1', 'd2', '남○○')"
        )
        conn.commit()
        mine = {
            r[0]
            for r in conn.execute(
                "SELECT household_id FROM assignments a JOIN staff s ON s.id = a.staff_id"
                " WHERE s.username = 'planner1' AND a.ended_at IS NULL"
            )
        }
    other = sorted({f"hh-{i:04d}" for i in range(1, 9)} - mine)[0]
    svc = AlertService(default_policy(ask_first=False))
    received: dict[str, queue.Queue[dict[str, object]]] = {}

    def listen(base: str, user: str, ready: threading.Event) -> None:
        with httpx2.Client(base_url=base, timeout=30) as c:
            r = c.post("/api/login", json={"username": user, "password": DEMO_PASSWORD})
            assert r.status_code == 200
            try:
                with c.stream("GET", "/events") as s:
                    event = ""
                    for line in s.iter_lines():
                        if line.startswith("event:"):
                            event = line[6:].strip()
                            if event == "hello":
                                ready.set()
                        elif line.startswith("data:") and event == "board":
                            received[user].put(orjson.loads(line[5:]))
            except httpx2.TransportError:
                pass  # the server stopped at the end of the test

    with serve(create_app(database_url, alerts=svc)) as base:
        for user in ("planner1", "monitor1"):
            received[user] = queue.Queue()
            ready = threading.Event()
            threading.Thread(target=listen, args=(base, user, ready), daemon=True).start()
            assert ready.wait(15), f"{user} got no hello"
        with connect(database_url) as conn:
            for hid in ("far-1", other, sorted(mine)[0]):
                svc.handle(conn, Finding(hid, "inactivity", Severity.ALARM, NOW, "silent"))
                conn.commit()
        # the planner hears of their own household only; monitoring staff of district 11200
        # of both of theirs, never of the household in another district (an alert's later
        # updates, e.g. its first notification, are announced too)
        got = {user: drain(q) for user, q in received.items()}
        assert {e["household_id"] for e in got["planner1"]} == {sorted(mine)[0]}
        assert {e["household_id"] for e in got["monitor1"]} == {other, sorted(mine)[0]}
        first = got["planner1"][0]
        assert first["raised"] is True and first["severity"] == "alarm"
        assert first["name"] and first["kind"] == "inactivity"


def drain(q: queue.Queue[dict[str, object]], quiet: float = 1.5) -> list[dict[str, object]]:
    out = [q.get(timeout=10)]
    while True:
        try:
            out.append(q.get(timeout=quiet))
        except queue.Empty:
            return out


def test_password_guessing_is_slowed_down(api: tuple[TestClient, dict[str, int]]) -> None:
    from tests.integration.test_api import PASSWORD

    client, _ = api
    client.cookies.clear()
    for _ in range(5):
        r = client.post("/api/login", json={"username": "planner1", "password": "guess"})
        assert r.status_code == 401
    # locked now, even with the right password; the answer says for how long
    r = client.post("/api/login", json={"username": "planner1", "password": PASSWORD})
    assert r.status_code == 429 and "try again in 15 min" in r.json()["detail"]
    assert r.headers["retry-after"] == "900"
    # other staff are not affected, and unknown usernames are throttled the same way
    assert login(client, "planner2")
    for _ in range(6):
        r = client.post("/api/login", json={"username": "nobody", "password": "x"})
    assert r.status_code == 429


def test_a_failed_delivery_is_shown(
    api: tuple[TestClient, dict[str, int]], database_url: str
) -> None:
    client, ids = api
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO outbox (alert_id, channel, recipient, address, payload, idempotency_key,"
            " status, attempts, next_attempt_at, last_error, created_at) VALUES"
            " (%s, 'webhook', 'p1', 'http://x.invalid/', '{}', 'k-1', 'failed', 3, now(),"
            " 'permanent: HTTP 410', now())",
            (ids["hh-1"],),
        )
        conn.commit()
    login(client, "planner1")
    queue = client.get("/alerts", headers=HTML).text
    assert "전달 실패: p1 (webhook)" in queue and "permanent: HTTP 410" in queue
    page = client.get("/households/hh-1", headers=HTML).text
    assert '<li class="delivery-failed">p1 · webhook · <b>전달 실패</b>' in page
    assert "http://x.invalid" not in page  # addresses can carry tokens: never shown


def test_admins_and_team_leads_see_who_viewed_a_household(
    api: tuple[TestClient, dict[str, int]], database_url: str
) -> None:
    client, _ = api
    login(client, "planner1")
    client.get("/households/hh-1", headers=HTML)
    assert 'id="access-log"' not in client.get("/households/hh-1", headers=HTML).text
    assert client.get("/api/households/hh-1/access-log").status_code == 403
    login(client, "admin")
    entries = client.get("/api/households/hh-1/access-log").json()["entries"]
    assert [e["staff_name"] for e in entries if e["action"] == "view_household"][:2] == [
        "최유진",
        "최유진",
    ]
    page = client.get("/households/hh-1", headers=HTML).text
    assert 'id="access-log"' in page and "view_access_log" in page


def test_health_check_needs_no_login_and_tells_nothing_private(
    api: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = api
    client.cookies.clear()
    import time

    deadline = time.monotonic() + 10
    r = client.get("/healthz")
    while r.status_code != 200 and time.monotonic() < deadline:  # the listener connects
        time.sleep(0.1)
        r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"database": True, "live": True}


def test_the_board_asks_for_newer_signs_of_life_within_scope(
    api: tuple[TestClient, dict[str, int]], database_url: str
) -> None:
    from tests.integration.test_api import NOW as API_NOW

    with connect(database_url) as conn:
        for hid, minutes in (("hh-1", 1), ("hh-2", 2), ("hh-9", 3)):
            conn.execute(
                "INSERT INTO detector_state (household_id, timezone, last_sign_at, format, profile)"
                " VALUES (%s, 'Asia/Seoul', %s::timestamptz - %s * interval '1 minute', 0, '')",
                (hid, API_NOW, minutes),
            )
        conn.commit()
    client, _ = api
    login(client, "monitor1")  # district d1: hh-1 and hh-2
    r = client.get("/board/signs", params={"since": (API_NOW - timedelta(seconds=150)).isoformat()})
    assert r.status_code == 200
    assert set(r.json()["signs"]) == {"hh-1", "hh-2"}  # hh-9 is in another district
    r = client.get("/board/signs", params={"since": (API_NOW - timedelta(seconds=90)).isoformat()})
    assert set(r.json()["signs"]) == {"hh-1"}  # only what is newer
    # a time without its zone is a 4xx, not a guess
    assert client.get("/board/signs", params={"since": "2026-11-23T01:00:00"}).status_code == 422
