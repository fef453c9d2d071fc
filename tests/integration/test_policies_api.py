"""The escalation-policy API on the real database: roles and scopes, CSRF, bad input, the
history, and a change taking effect for alerts raised afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

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
D1 = "/api/districts/d1/escalation-policy"

CUSTOM: dict[str, Any] = {
    "caution": {"steps": [{"after_minutes": 0, "notify": ["primary"]}]},
    "alarm": {
        "steps": [
            {"after_minutes": 0, "notify": ["primary"]},
            {"after_minutes": 5, "notify": ["centre"]},
        ],
        "reminder_minutes": 5,
        "ask_first": {"enabled": True, "timeout_minutes": 3},
    },
    "danger": {"steps": [{"after_minutes": 0, "notify": ["centre", "team_lead"]}]},
}


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    pw = hash_password(PASSWORD)
    with connect(database_url) as conn:
        registry.upsert_districts(
            conn, [registry.DistrictRow("d1", "성동구", ""), registry.DistrictRow("d2", "중구", "")]
        )
        registry.upsert_staff(
            conn,
            [
                registry.StaffRow(sid, sid, sid, role, district, password_hash=pw)
                for sid, role, district in (
                    ("ad", "admin", None),
                    ("m1", "monitoring", "d1"),
                    ("m2", "monitoring", "d2"),
                    ("lead1", "team_lead", "d1"),
                    ("p1", "planner", "d1"),
                    ("f1", "field_worker", "d1"),
                )
            ],
        )
        registry.upsert_households(
            conn,
            [
                registry.HouseholdRow("hh-1", "d1", "", "김○○"),
                registry.HouseholdRow("hh-2", "d1", "", "박○○"),
            ],
        )
        registry.assign(conn, "hh-1", "p1", "primary")
        registry.assign(conn, "hh-2", "p1", "primary")
        conn.commit()
    app = create_app(
        database_url, alerts=AlertService(default_policy(ask_first=False)), clock=FixedClock()
    )
    with TestClient(app) as c:
        yield c


def login(client: TestClient, username: str) -> dict[str, str]:
    client.cookies.clear()
    r = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def test_admins_replace_a_districts_policy_and_delete_it_to_fall_back(client: TestClient) -> None:
    csrf = login(client, "ad")
    r = client.get(D1)
    assert r.status_code == 200
    assert r.json()["policy"] == default_policy(ask_first=False).model_dump(mode="json")
    assert r.json()["sources"] == {"caution": "built-in", "alarm": "built-in", "danger": "built-in"}
    r = client.put(D1, json=CUSTOM, headers=csrf)
    assert r.status_code == 200, r.text
    assert r.json()["policy"]["alarm"]["steps"] == CUSTOM["alarm"]["steps"]
    assert set(r.json()["sources"].values()) == {"district:d1"}
    assert client.get(D1).json() == r.json()
    # another district is untouched
    assert set(client.get("/api/districts/d2/escalation-policy").json()["sources"].values()) == {
        "built-in"
    }
    # a stored service-wide default is what a district without its own falls back to
    default = default_policy(ask_first=True).model_dump(mode="json")
    assert client.put("/api/escalation-policy", json=default, headers=csrf).status_code == 200
    r = client.get("/api/districts/d2/escalation-policy")
    assert r.json()["policy"] == default and set(r.json()["sources"].values()) == {"default"}
    r = client.delete(D1, headers=csrf)
    assert r.status_code == 200 and set(r.json()["sources"].values()) == {"default"}
    r = client.delete("/api/escalation-policy", headers=csrf)
    assert set(r.json()["sources"].values()) == {"built-in"}
    history = client.get(f"{D1}/history").json()["changes"]
    assert [
        (c["actor"], c["severity"], c["old_plan"] is None, c["new_plan"] is None) for c in history
    ] == [("ad", s, False, True) for s in ("danger", "alarm", "caution")] + [
        ("ad", s, True, False) for s in ("danger", "alarm", "caution")
    ]
    assert history[4]["new_plan"] == CUSTOM["alarm"]
    assert len(client.get("/api/escalation-policy/history").json()["changes"]) == 6


def test_a_policy_put_through_the_api_governs_alerts_raised_afterwards(client: TestClient) -> None:
    svc: AlertService = client.app.state.alerts  # type: ignore[attr-defined]
    csrf = login(client, "ad")
    with client.app.state.pool.connection() as conn:  # type: ignore[attr-defined]
        before = svc.handle(conn, Finding("hh-1", "inactivity", Severity.ALARM, NOW, "silent"))
        assert client.put(D1, json=CUSTOM, headers=csrf).status_code == 200
        # a home with a gateway can be asked first (without one, staff are told at once)
        conn.execute(
            "INSERT INTO device_status (household_id, device_id, online, role, status_at)"
            " VALUES ('hh-2', 'gw-1', true, 'gateway', %s)",
            (NOW,),
        )
        after = svc.handle(conn, Finding("hh-2", "inactivity", Severity.ALARM, NOW, "silent"))
    assert before.policy == default_policy(ask_first=False).alarm
    assert after.policy is not None and after.policy.model_dump(mode="json") == CUSTOM["alarm"]
    login(client, "m1")
    events = client.get(f"/api/alerts/{after.id}").json()["events"]
    assert events[0]["detail"]["policy_source"] == "district:d1"
    assert [e["detail"].get("roles") for e in events[1:]] == ["resident"]  # asked first


def test_who_may_read_and_who_may_change(client: TestClient) -> None:
    for user in ("m1", "lead1"):  # their own district: read, not change
        csrf = login(client, user)
        assert client.get(D1).status_code == 200
        assert client.get(f"{D1}/history").status_code == 200
        assert client.get("/api/escalation-policy").status_code == 200
        assert client.put(D1, json=CUSTOM, headers=csrf).status_code == 403
        assert client.delete(D1, headers=csrf).status_code == 403
        assert client.put("/api/escalation-policy", json=CUSTOM, headers=csrf).status_code == 403
    login(client, "m2")  # another district: as if it did not exist
    assert client.get(D1).status_code == 404
    assert client.get(f"{D1}/history").status_code == 404
    for user in ("p1", "f1"):  # planners and field workers: not at all
        login(client, user)
        assert client.get(D1).status_code == 403
        assert client.get("/api/escalation-policy").status_code == 403
    client.cookies.clear()
    assert client.get(D1).status_code == 401
    csrf = login(client, "ad")
    assert client.put(D1, json=CUSTOM).status_code == 403  # no CSRF token
    assert client.put(D1, json=CUSTOM, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.delete(D1).status_code == 403
    assert client.get("/api/districts/d9/escalation-policy").status_code == 404
    assert (
        client.put("/api/districts/d9/escalation-policy", json=CUSTOM, headers=csrf).status_code
        == 404
    )
    assert client.get(f"{D1}/history").json()["changes"] == []  # nothing was changed


def with_alarm(**plan: Any) -> dict[str, Any]:
    return CUSTOM | {"alarm": CUSTOM["alarm"] | plan}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            with_alarm(
                steps=[
                    {"after_minutes": 9, "notify": ["primary"]},
                    {"after_minutes": 5, "notify": ["centre"]},
                ]
            ),
            "alarm: Value error, steps must be in order of time: step 2 (after 5 min) does not"
            " come after step 1 (after 9 min)",
        ),
        (
            with_alarm(steps=[{"after_minutes": -1, "notify": ["primary"]}]),
            "alarm.steps.0.after_minutes: Input should be greater than or equal to 0",
        ),
        (
            with_alarm(steps=[{"after_minutes": 0, "notify": []}]),
            "alarm.steps.0.notify: Tuple should have at least 1 item after validation, not 0",
        ),
        (
            with_alarm(steps=[{"after_minutes": 0, "notify": ["neighbour"]}]),
            "alarm.steps.0.notify.0: Input should be 'primary', 'backup', 'team_lead' or 'centre'",
        ),
        (
            CUSTOM | {"danger": CUSTOM["danger"] | {"ask_first": {"enabled": True}}},
            ": Value error, danger never waits for the resident: ask_first must be off",
        ),
        (with_alarm(reminder_minutes=0), "alarm.reminder_minutes: Input should be greater than"),
        ({"alarm": CUSTOM["alarm"]}, "caution: Field required"),
        (with_alarm(every=5), "alarm.every: Extra inputs are not permitted"),
        ([1, 2], ": Input should be a valid dictionary or object"),
    ],
)
def test_bad_policies_get_a_422_with_a_one_line_message(
    client: TestClient, body: Any, detail: str
) -> None:
    csrf = login(client, "ad")
    for url in (D1, "/api/escalation-policy"):
        r = client.put(url, json=body, headers=csrf)
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith(detail) and "\n" not in r.json()["detail"], r.text
    assert client.get(f"{D1}/history").json()["changes"] == []
    r = client.put(D1, content=b"{not json", headers={**csrf, "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]
    assert client.get(f"{D1}/history", params={"limit": 0}).status_code == 422


def test_the_routes_and_the_policy_are_documented_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ops = {(p, m) for p, item in schema["paths"].items() for m in item if "escalation-policy" in p}
    assert ops == {
        ("/api/districts/{district_id}/escalation-policy", "get"),
        ("/api/districts/{district_id}/escalation-policy", "put"),
        ("/api/districts/{district_id}/escalation-policy", "delete"),
        ("/api/districts/{district_id}/escalation-policy/history", "get"),
        ("/api/escalation-policy", "get"),
        ("/api/escalation-policy", "put"),
        ("/api/escalation-policy", "delete"),
        ("/api/escalation-policy/history", "get"),
    }
    put = schema["paths"]["/api/districts/{district_id}/escalation-policy"]["put"]
    ref = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/Policy")
    step = schema["components"]["schemas"]["PolicyStep"]["properties"]
    assert step["after_minutes"]["minimum"] == 0
    assert step["notify"]["items"]["enum"] == ["primary", "backup", "team_lead", "centre"]
