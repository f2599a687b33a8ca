"""The JSON API: authentication, consent (404 without it), alert lifecycle, access log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dagritme.models import AlertStatus, Resolution, Severity
from dashboard.alert_store import upsert_alert
from dashboard.ingest import handle_message
from tests.dashboard.conftest import PASSWORD, START, World, login, make_alert, make_events

HOUSEHOLD_ROUTES = [
    ("GET", "/api/v1/households/{hh}"),
    ("GET", "/api/v1/households/{hh}/alerts"),
    ("GET", "/api/v1/households/{hh}/consents"),
    ("GET", "/api/v1/households/{hh}/access-log"),
    ("GET", "/api/v1/households/{hh}/export"),
    ("GET", "/api/v1/households/{hh}/trends"),
    ("GET", "/api/v1/households/{hh}/contacts"),
    ("GET", "/api/v1/households/{hh}/notifications"),
    ("POST", "/api/v1/households/{hh}/invites"),
    ("DELETE", "/api/v1/households/{hh}/data"),
    ("GET", "/households/{hh}"),
]


def test_healthz_and_openapi(app_client: TestClient) -> None:
    assert app_client.get("/healthz").json() == {"status": "ok"}
    spec = app_client.get("/openapi.json").json()
    for path in (
        "/api/v1/households",
        "/api/v1/households/{household_id}",
        "/api/v1/alerts/{alert_id}/ack",
        "/api/v1/alerts/{alert_id}/resolve",
        "/api/v1/households/{household_id}/consents",
        "/api/v1/households/{household_id}/access-log",
        "/api/v1/households/{household_id}/export",
    ):
        assert path in spec["paths"], path


@pytest.mark.parametrize(("method", "route"), HOUSEHOLD_ROUTES)
def test_unauthenticated_api_is_401(app_client: TestClient, method: str, route: str) -> None:
    response = app_client.request(method, route.format(hh="hh-a"), follow_redirects=False)
    if route.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 303
        assert response.headers["location"] == "/login"


def test_unauthenticated_alert_actions_are_401(app_client: TestClient, world: World) -> None:
    upsert_alert(world.db, make_alert(), START)
    assert app_client.get("/api/v1/households").status_code == 401
    assert app_client.post("/api/v1/alerts/alert-0001/ack", json={}).status_code == 401
    assert (
        app_client.post(
            "/api/v1/alerts/alert-0001/resolve", json={"outcome": "false_alarm"}
        ).status_code
        == 401
    )


@pytest.mark.parametrize(("method", "route"), HOUSEHOLD_ROUTES)
@pytest.mark.parametrize("household", ["hh-a", "hh-b", "hh-missing"])
def test_carer_without_consent_reaches_nothing(
    app_client: TestClient, method: str, route: str, household: str
) -> None:
    login(app_client, "stranger")
    body = {"scopes": ["alerts"]} if route.endswith("/invites") else {}
    response = app_client.request(method, route.format(hh=household), json=body)
    assert response.status_code == 404
    assert "Mrs Jansen" not in response.text


def test_stranger_cannot_touch_alerts(app_client: TestClient, world: World) -> None:
    upsert_alert(world.db, make_alert(), START)
    login(app_client, "stranger")
    assert app_client.get("/api/v1/households").json() == []
    assert app_client.get("/api/v1/alerts/alert-0001").status_code == 404
    assert app_client.post("/api/v1/alerts/alert-0001/ack", json={"note": "x"}).status_code == 404
    assert (
        app_client.post(
            "/api/v1/alerts/alert-0001/resolve", json={"outcome": "false_alarm"}
        ).status_code
        == 404
    )
    assert app_client.post("/alerts/alert-0001/ack", data={"csrf_token": "x"}).status_code == 403


def test_wrong_password_and_rate_limit(app_client: TestClient) -> None:
    for _ in range(5):
        response = app_client.post("/api/v1/login", json={"username": "nurse", "password": "no"})
        assert response.status_code == 401
    blocked = app_client.post("/api/v1/login", json={"username": "nurse", "password": PASSWORD})
    assert blocked.status_code == 429


def test_session_cookie_flags_and_logout(app_client: TestClient) -> None:
    response = app_client.post("/api/v1/login", json={"username": "nurse", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert app_client.get("/api/v1/me").json()["username"] == "nurse"
    assert app_client.post("/api/v1/logout", json={}).status_code == 204
    assert app_client.get("/api/v1/me").status_code == 401


def test_nurse_overview_is_ordered_by_urgency(app_client: TestClient, world: World) -> None:
    upsert_alert(world.db, make_alert("hh-b", "alert-b-1", Severity.URGENT), START)
    upsert_alert(world.db, make_alert("hh-a", "alert-a-1", Severity.WARNING), START)
    login(app_client, "nurse")
    rows = app_client.get("/api/v1/households").json()
    assert [(r["id"], r["status"], r["open_alerts"]) for r in rows] == [
        ("hh-b", "red", 1),
        ("hh-a", "amber", 1),
    ]


def test_carer_sees_only_consented_household(app_client: TestClient) -> None:
    login(app_client, "carer")
    rows = app_client.get("/api/v1/households").json()
    assert [r["id"] for r in rows] == ["hh-a"]
    assert sorted(rows[0]["scopes"]) == ["alerts", "summary"]
    assert app_client.get("/api/v1/households/hh-b").status_code == 404
    # Consents are the resident's business, not the carer's.
    assert app_client.get("/api/v1/households/hh-a/consents").status_code == 404


def test_admin_manages_but_reads_no_health_data(app_client: TestClient, world: World) -> None:
    upsert_alert(world.db, make_alert(), START)
    login(app_client, "admin")
    rows = app_client.get("/api/v1/households").json()
    assert {r["id"] for r in rows} == {"hh-a", "hh-b"}
    assert all(r["status"] is None and r["open_alerts"] is None for r in rows)
    assert app_client.get("/api/v1/households/hh-a").status_code == 404
    assert app_client.get("/api/v1/households/hh-a/alerts").status_code == 404
    assert app_client.get("/api/v1/households/hh-a/export").status_code == 403
    assert app_client.get("/api/v1/households/hh-a/consents").status_code == 200


def test_household_detail_shows_activity_and_learning(app_client: TestClient, world: World) -> None:
    world.store.write(make_events("hh-a", START - timedelta(days=20), 20))
    login(app_client, "nurse")
    detail = app_client.get("/api/v1/households/hh-a").json()
    assert detail["status"] == "green"
    assert detail["learning"]["days_with_data"] >= 14
    assert detail["learning"]["learned"] is True
    assert detail["last_activity"].startswith((START - timedelta(days=1)).date().isoformat())
    assert {r["room"] for r in detail["rooms"]} == {"kitchen", "bedroom"}


def test_acknowledge_then_resolve_publishes_feedback(app_client: TestClient, world: World) -> None:
    upsert_alert(world.db, make_alert(), START)
    login(app_client, "carer")
    acked = app_client.post("/api/v1/alerts/alert-0001/ack", json={"note": "I called, she is fine"})
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["ack_note"] == "I called, she is fine"
    resolved = app_client.post(
        "/api/v1/alerts/alert-0001/resolve", json={"outcome": "resident_ok", "note": "ok"}
    )
    assert resolved.json()["status"] == "resolved"
    pending = world.publisher.peek()
    assert pending is not None
    feedback = pending.feedback
    assert (feedback.alert_id, feedback.resolution) == ("alert-0001", Resolution.RESIDENT_OK)
    # Acknowledging a resolved alert is a conflict, not a silent change.
    again = app_client.post("/api/v1/alerts/alert-0001/ack", json={})
    assert again.status_code == 409


def test_unsafe_api_call_without_json_or_token_is_refused(
    app_client: TestClient, world: World
) -> None:
    upsert_alert(world.db, make_alert(), START)
    token = login(app_client, "carer")
    form = app_client.post("/api/v1/alerts/alert-0001/ack", data={"note": "x"})
    assert form.status_code == 403
    bad = app_client.post(
        "/api/v1/alerts/alert-0001/ack", json={}, headers={"X-CSRF-Token": "wrong"}
    )
    assert bad.status_code == 403
    good = app_client.post(
        "/api/v1/alerts/alert-0001/ack", json={}, headers={"X-CSRF-Token": token}
    )
    assert good.status_code == 200


def test_auto_resolution_keeps_acknowledgement(app_client: TestClient, world: World) -> None:
    upsert_alert(world.db, make_alert(), START)
    login(app_client, "carer")
    app_client.post("/api/v1/alerts/alert-0001/ack", json={"note": "on my way"})
    auto = make_alert(
        status=AlertStatus.RESOLVED,
        resolution=Resolution.AUTO,
        resolved_ts=START + timedelta(minutes=20),
    )
    handled = handle_message(
        world.db, world.clock, "dagritme/v1/hh-a/alerts", auto.model_dump_json().encode()
    )
    assert handled.outcome.value == "updated_alert"
    alerts = app_client.get("/api/v1/households/hh-a/alerts").json()
    assert alerts[0]["status"] == "resolved"
    assert alerts[0]["resolution"] == "auto"
    assert alerts[0]["ack_note"] == "on my way"


def test_consent_grant_revoke_and_pause(app_client: TestClient, world: World) -> None:
    login(app_client, "resident-a")
    granted = app_client.post(
        "/api/v1/households/hh-a/consents",
        json={"action": "grant", "username": "stranger", "scope": "summary"},
    )
    assert granted.status_code == 201
    assert granted.json()["text_version"] == world.config.consent_text_version

    other = TestClient(app_client.app)
    login(other, "stranger")
    assert other.get("/api/v1/households/hh-a").status_code == 200
    assert other.get("/api/v1/households/hh-a/alerts").status_code == 404  # no alerts scope

    app_client.post(
        "/api/v1/households/hh-a/consents", json={"action": "revoke", "username": "stranger"}
    )
    assert other.get("/api/v1/households/hh-a").status_code == 404

    until = (world.clock.now() + timedelta(hours=2)).isoformat()
    assert (
        app_client.post(
            "/api/v1/households/hh-a/consents", json={"action": "pause", "until": until}
        ).status_code
        == 201
    )
    state = app_client.get("/api/v1/households/hh-a/consents").json()
    assert state["paused_until"] is not None
    assert "stranger" not in state["current"]
    assert [r["action"] for r in state["records"]][-3:] == ["grant", "revoke", "pause"]
    assert app_client.get("/api/v1/households/hh-a").json()["status"] == "grey"
    world.clock.advance(timedelta(hours=3))  # the pause ends by itself
    assert app_client.get("/api/v1/households/hh-a").json()["status"] == "green"


def test_consent_request_errors(app_client: TestClient) -> None:
    login(app_client, "resident-a")
    url = "/api/v1/households/hh-a/consents"
    assert (
        app_client.post(
            url, json={"action": "grant", "username": "nobody", "scope": "alerts"}
        ).status_code
        == 422
    )
    assert app_client.post(url, json={"action": "grant", "username": "carer"}).status_code == 422
    assert app_client.post(url, json={"action": "pause"}).status_code == 422
    assert (
        app_client.post(
            url, json={"action": "grant", "username": "resident-b", "scope": "alerts"}
        ).status_code
        == 422
    )


def test_every_household_read_is_logged(app_client: TestClient) -> None:
    login(app_client, "nurse")
    app_client.get("/api/v1/households/hh-a")
    app_client.get("/api/v1/households/hh-a/alerts")
    resident = TestClient(app_client.app)
    login(resident, "resident-a")
    entries = resident.get("/api/v1/households/hh-a/access-log").json()
    nurse_actions = [e["action"] for e in entries if e["username"] == "nurse"]
    assert "GET /api/v1/households/{household_id}" in nurse_actions
    assert "GET /api/v1/households/{household_id}/alerts" in nurse_actions
    assert all(e["ts"] for e in entries)
    assert {e["on_behalf_of"] for e in entries if e["username"] == "nurse"} == {"resident of hh-a"}


def test_weekly_trends(app_client: TestClient, world: World) -> None:
    world.store.write(make_events("hh-a", START - timedelta(days=30), 30))
    login(app_client, "nurse")
    weeks = app_client.get("/api/v1/households/hh-a/trends").json()
    assert len(weeks) == 4
    assert all(w["days_with_data"] == 7 for w in weeks)
    # Three presence events a day is a day spent away for the detector: no rising learned
    # (tests/dashboard/test_rising.py has lived-in days).
    assert {w["rising_time"] for w in weeks} == {None}
    assert {w["kitchen_per_day"] for w in weeks} == {2.0}
    assert {w["events_per_day"] for w in weeks} == {6.0}
    assert weeks[-1]["week_start"] == (START - timedelta(days=7)).date().isoformat()
    login(app_client, "stranger")
    assert app_client.get("/api/v1/households/hh-a/trends").status_code == 404


def test_acknowledged_urgent_alert_turns_amber(app_client: TestClient, world: World) -> None:
    upsert_alert(world.db, make_alert(), START)
    login(app_client, "nurse")
    assert app_client.get("/api/v1/households/hh-a").json()["status"] == "red"
    app_client.post("/api/v1/alerts/alert-0001/ack", json={"note": "calling now"})
    assert app_client.get("/api/v1/households/hh-a").json()["status"] == "amber"
