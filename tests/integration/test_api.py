"""The JSON API on the real database: logins, scopes, CSRF, the access log, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from alerts.model import Finding
from alerts.policy import default_policy
from alerts.service import AlertService
from anbu.domain import Severity
from anbu.storage import registry
from anbu.storage.db import connect
from dashboard.app import create_app
from dashboard.auth import hash_password

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def api(database_url: str) -> Iterator[tuple[TestClient, dict[str, int]]]:
    pw = hash_password(PASSWORD)
    with connect(database_url) as conn:
        registry.upsert_districts(
            conn,
            [
                registry.DistrictRow("d1", "성동구", "Seongdong-gu"),
                registry.DistrictRow("d2", "중구", "Jung-gu"),
            ],
        )
        registry.upsert_staff(
            conn,
            [
                registry.StaffRow("p1", "planner1", "최유진", "planner", "d1", password_hash=pw),
                registry.StaffRow("p2", "planner2", "정다은", "planner", "d1", password_hash=pw),
                registry.StaffRow("m1", "monitor1", "김민지", "monitoring", "d1", password_hash=pw),
                registry.StaffRow("m2", "monitor2", "이준호", "monitoring", "d2", password_hash=pw),
                registry.StaffRow("f1", "field1", "윤미경", "field_worker", "d1", password_hash=pw),
                registry.StaffRow("ad", "admin", "관리자", "admin", None, password_hash=pw),
            ],
        )
        registry.upsert_households(
            conn,
            [
                registry.HouseholdRow("hh-1", "d1", "마장동", "김○○"),
                registry.HouseholdRow("hh-2", "d1", "옥수동", "박○○"),
                registry.HouseholdRow("hh-9", "d2", "명동", "이○○"),
            ],
        )
        registry.assign(conn, "hh-1", "p1", "primary")
        registry.assign(conn, "hh-2", "p2", "primary")
        registry.assign(conn, "hh-9", "p2", "backup")
        conn.commit()
        svc = AlertService(default_policy(ask_first=False))
        ids = {
            h: svc.handle(conn, Finding(h, "inactivity", Severity.ALARM, NOW, "silent")).id
            for h in ("hh-1", "hh-2", "hh-9")
        }
    app = create_app(database_url, alerts=svc, clock=FixedClock())
    with TestClient(app) as client:
        yield client, ids  # type: ignore[misc]


def login(client: TestClient, username: str) -> dict[str, str]:
    client.cookies.clear()
    r = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def test_login_rejects_wrong_passwords_and_unknown_users(
    api: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = api
    for body in (
        {"username": "planner1", "password": "nope"},
        {"username": "nobody", "password": PASSWORD},
    ):
        r = client.post("/api/login", json=body)
        assert r.status_code == 401 and r.json()["detail"] == "wrong username or password"
    assert client.get("/api/alerts").status_code == 401
    r = client.post("/api/login", json={"username": "planner1", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_each_role_sees_its_own_scope(api: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = api
    expect = {
        "planner1": {"hh-1"},
        "planner2": {"hh-2", "hh-9"},
        "monitor1": {"hh-1", "hh-2"},
        "monitor2": {"hh-9"},
        "field1": set(),
        "admin": {"hh-1", "hh-2", "hh-9"},
    }
    for user, households in expect.items():
        login(client, user)
        seen = {a["household_id"] for a in client.get("/api/alerts").json()["alerts"]}
        assert seen == households, user
        for h, alert_id in ids.items():
            want = 200 if h in households else 404
            assert client.get(f"/api/alerts/{alert_id}").status_code == want, (user, h)
            assert client.get(f"/api/households/{h}").status_code == want, (user, h)


def test_field_worker_sees_an_alert_once_handed_to_them(
    api: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = api
    csrf = login(client, "planner1")
    assert (
        client.post(
            f"/api/alerts/{ids['hh-1']}/handoff", json={"staff_id": "f1"}, headers=csrf
        ).status_code
        == 204
    )
    login(client, "field1")
    assert [a["household_id"] for a in client.get("/api/alerts").json()["alerts"]] == ["hh-1"]
    csrf = login(client, "field1")
    r = client.post(f"/api/alerts/{ids['hh-1']}/handoff", json={"staff_id": "p2"}, headers=csrf)
    assert r.status_code == 403  # field workers do not hand alerts on


def test_acknowledge_and_resolve_need_csrf_and_follow_the_lifecycle(
    api: tuple[TestClient, dict[str, int]], database_url: str
) -> None:
    client, ids = api
    csrf = login(client, "planner1")
    url = f"/api/alerts/{ids['hh-1']}"
    assert client.post(f"{url}/acknowledge").status_code == 403
    assert client.post(f"{url}/acknowledge", headers={"X-CSRF-Token": "forged"}).status_code == 403
    r = client.post(f"{url}/acknowledge", headers=csrf)
    assert r.status_code == 200 and r.json()["alert"]["state"] == "acknowledged"
    r = client.post(f"{url}/acknowledge", headers=csrf)
    assert r.status_code == 409 and "only an open alert" in r.json()["detail"]
    assert client.post(f"{url}/notes", json={"text": "방문 예정"}, headers=csrf).status_code == 200
    r = client.post(f"{url}/resolve", json={"outcome": "auto_resolved"}, headers=csrf)
    assert r.status_code == 422 and r.json()["detail"].startswith("outcome:")
    r = client.post(
        f"{url}/resolve", json={"outcome": "resident_fine", "note": "asleep"}, headers=csrf
    )
    assert r.status_code == 200 and r.json()["alert"]["outcome"] == "resident_fine"
    events = [e["action"] for e in client.get(url).json()["events"]]
    assert events == ["opened", "escalated", "acknowledged", "note", "resolved"]
    with connect(database_url) as conn:
        logged = [
            r[0]
            for r in conn.execute("SELECT action FROM access_log WHERE staff_id = 'p1' ORDER BY id")
        ]
    assert logged == ["login", "acknowledge", "note", "resolve", "view_alert"]


def test_bad_requests_get_a_4xx_with_a_message(api: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = api
    csrf = login(client, "planner1")
    cases = [
        client.post(
            "/api/login", content=b"{not json", headers={"content-type": "application/json"}
        ),
        client.get("/api/alerts/abc"),
        client.get("/api/alerts", params={"severity": "apocalypse"}),
        client.get("/api/alerts", params={"limit": 0}),
        client.post(
            "/api/households/hh-1/away",
            headers=csrf,
            json={
                "reason": "away",
                "starts_at": "2026-11-24T00:00:00+09:00",
                "ends_at": "2026-11-23T00:00:00+09:00",
            },
        ),
        client.post(
            "/api/households/hh-1/away",
            headers=csrf,
            json={"reason": "away", "starts_at": "2026-11-24T00:00:00"},
        ),  # no offset
        client.post("/api/alerts/999999/acknowledge", headers=csrf),
        client.post("/api/households/hh-1/away/424242/end", headers=csrf),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.json()["detail"], r.text


def test_away_mode_can_be_set_and_ended_within_scope(
    api: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = api
    csrf = login(client, "planner1")
    start = (NOW - timedelta(hours=1)).isoformat()
    r = client.post(
        "/api/households/hh-1/away",
        headers=csrf,
        json={"reason": "hospital", "starts_at": start, "note": "입원"},
    )
    assert r.status_code == 201
    away_id = r.json()["id"]
    assert [a["reason"] for a in client.get("/api/households/hh-1").json()["away"]] == ["hospital"]
    assert (
        client.post(
            "/api/households/hh-2/away", headers=csrf, json={"reason": "away", "starts_at": start}
        ).status_code
        == 404
    )
    assert client.post(f"/api/households/hh-1/away/{away_id}/end", headers=csrf).status_code == 204


def test_every_route_with_a_household_or_alert_is_closed_to_outsiders(
    api: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = api
    # every documented route, from the OpenAPI schema (so a new route is covered by default)
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = [
        (p, m.upper())
        for p, ops in paths.items()
        for m in ops
        if "{household_id}" in p or "{alert_id}" in p
    ]
    assert len(routes) >= 8
    csrf = login(client, "planner1")  # hh-2 and its alert are outside planner1's scope
    for template, method in routes:
        path = (
            template.replace("{household_id}", "hh-2")
            .replace("{alert_id}", str(ids["hh-2"]))
            .replace("{away_id}", "1")
        )
        body = {
            "outcome": "other",
            "text": "x",
            "staff_id": "p1",
            "reason": "away",
            "starts_at": NOW.isoformat(),
        }
        r = client.request(method, path, headers=csrf, json=body)
        assert r.status_code in (403, 404), (method, path, r.status_code, r.text)


def test_a_district_starts_from_csv_files_all_or_nothing(
    api: tuple[TestClient, dict[str, int]], database_url: str
) -> None:
    client, _ = api
    csrf = login(client, "admin")
    hdr = {**csrf, "content-type": "text/csv"}
    households = (
        "id,district_id,dong,display_name,risk_level\n"
        "hh-100,d1,마장동,한○○,high\nhh-101,d1,사근동,오○○,low\n"
    )
    assert client.post(
        "/api/import/households", content=households.encode(), headers=hdr
    ).json() == {"imported": 2}
    staff = "id,username,display_name,role,district_id\np7,planner7,서○○,planner,d1\n"
    assert client.post("/api/import/staff", content=staff.encode(), headers=hdr).json() == {
        "imported": 1
    }
    # one unknown household: nothing of the file is imported
    bad = "household_id,staff_id,role\nhh-100,p7,primary\nhh-404,p7,primary\n"
    r = client.post("/api/import/assignments", content=bad.encode(), headers=hdr)
    assert r.status_code == 422 and "nothing was imported" in r.json()["detail"]
    good = "household_id,staff_id,role\nhh-100,p7,primary\nhh-101,p7,backup\n"
    assert client.post("/api/import/assignments", content=good.encode(), headers=hdr).json() == {
        "imported": 2
    }
    r = client.post(
        "/api/import/households", content=b"id,district_id\nx,d1\n", headers=hdr
    )
    assert r.status_code == 422 and r.json()["detail"]["errors"] == [
        "line 1: missing columns: dong, display_name"
    ]
    r = client.post("/api/import/households", content=b"\xff\xfe", headers=hdr)
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]
    # the new planner can log in once an admin sets a password, and sees only their homes
    assert (
        client.post("/api/staff/p7/password", json={"password": PASSWORD}, headers=csrf).status_code
        == 204
    )
    login(client, "planner7")
    r = client.get("/api/households/hh-100")
    assert r.status_code == 200 and r.json()["planners"][0]["id"] == "p7"
    assert client.get("/api/households/hh-1").status_code == 404
    csrf = login(client, "planner1")
    assert (
        client.post(
            "/api/import/staff",
            content=staff.encode(),
            headers={**csrf, "content-type": "text/csv"},
        ).status_code
        == 403
    )


def test_monitoring_staff_reassign_planners_in_their_district(
    api: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = api
    csrf = login(client, "monitor1")
    r = client.put(
        "/api/households/hh-1/assignments", json={"primary": "p2", "backup": "p1"}, headers=csrf
    )
    assert r.status_code == 200
    assert (
        client.put(
            "/api/households/hh-9/assignments", json={"primary": "p2"}, headers=csrf
        ).status_code
        == 404
    )  # another district
    r = client.put("/api/households/hh-1/assignments", json={"primary": "m1"}, headers=csrf)
    assert r.status_code == 422 and "not an active planner" in r.json()["detail"]
    login(client, "planner2")
    assert client.get("/api/households/hh-1").status_code == 200


def test_every_route_with_a_district_is_closed_to_outsiders(
    api: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = api
    # every documented route, from the OpenAPI schema (so a new district route is covered)
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = [(p, m.upper()) for p, ops in paths.items() for m in ops if "{district_id}" in p]
    assert len(routes) >= 4
    body = default_policy().model_dump(mode="json")
    # planners and field workers have no district scope; monitor2 is in d2, not d1
    for user in ("planner1", "field1", "monitor2"):
        csrf = login(client, user)
        for template, method in routes:
            path = template.replace("{district_id}", "d1")
            r = client.request(method, path, headers=csrf, json=body)
            assert r.status_code in (403, 404), (user, method, path, r.status_code, r.text)
    # monitoring staff read their own district's policy but change nothing, anywhere
    csrf = login(client, "monitor1")
    for template, method in routes:
        r = client.request(method, template.replace("{district_id}", "d1"), headers=csrf, json=body)
        assert r.status_code == (200 if method == "GET" else 403), (method, template, r.text)
    for method in ("PUT", "DELETE"):
        r = client.request(method, "/api/escalation-policy", headers=csrf, json=body)
        assert r.status_code == 403, (method, r.text)
