"""Admins manage accounts and households; residents invite new carers with a link."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.dashboard.conftest import PASSWORD, World, login
from tests.dashboard.test_pages import form_login


def test_admin_creates_household_and_resident(app_client: TestClient) -> None:
    login(app_client, "admin")
    created = app_client.post(
        "/api/v1/admin/households", json={"id": "hh-c", "display_name": "Mrs C"}
    )
    assert created.status_code == 201
    bad_id = app_client.post(
        "/api/v1/admin/households", json={"id": "Mrs C Street 1", "display_name": "x"}
    )
    assert bad_id.status_code == 422
    resident = app_client.post(
        "/api/v1/admin/users",
        json={
            "username": "resident-c",
            "password": PASSWORD,
            "role": "resident",
            "household": "hh-c",
        },
    )
    assert resident.status_code == 201
    homeless = app_client.post(
        "/api/v1/admin/users",
        json={"username": "resident-d", "password": PASSWORD, "role": "resident"},
    )
    assert homeless.status_code == 422
    assert "resident-c" in {u["username"] for u in app_client.get("/api/v1/admin/users").json()}
    other = TestClient(app_client.app)
    login(other, "resident-c")
    assert other.get("/api/v1/households/hh-c").status_code == 200


def test_only_admins_reach_admin_routes(app_client: TestClient) -> None:
    login(app_client, "nurse")
    assert app_client.get("/api/v1/admin/users").status_code == 403
    assert (
        app_client.post(
            "/api/v1/admin/households", json={"id": "hh-x", "display_name": "x"}
        ).status_code
        == 403
    )


def test_invited_carer_gets_exactly_the_invited_scopes(
    app_client: TestClient, world: World
) -> None:
    login(app_client, "resident-a")
    invite = app_client.post("/api/v1/households/hh-a/invites", json={"scopes": ["summary"]})
    assert invite.status_code == 201
    path = invite.json()["url"].split("127.0.0.1:8000", 1)[1]

    guest = TestClient(app_client.app)
    page = guest.get(path)
    assert page.status_code == 200
    assert "daily summary" in page.text
    accepted = guest.post(
        path,
        data={"username": "daughter", "password": PASSWORD, "display_name": "Els"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert guest.get("/api/v1/households/hh-a").status_code == 200
    assert guest.get("/api/v1/households/hh-a/alerts").status_code == 404  # not invited to
    assert guest.get("/api/v1/households/hh-b").status_code == 404
    state = app_client.get("/api/v1/households/hh-a/consents").json()
    assert state["current"]["daughter"] == ["summary"]
    assert state["records"][-1]["recorded_by"] == "resident-a"

    again = TestClient(app_client.app).post(
        path, data={"username": "someone", "password": PASSWORD}
    )
    assert again.status_code == 422
    assert "used already" in again.text


def test_invites_expire_and_cannot_be_forged(app_client: TestClient, world: World) -> None:
    login(app_client, "resident-a")
    url = app_client.post("/api/v1/households/hh-a/invites", json={"scopes": ["alerts"]}).json()
    path = url["url"].split("127.0.0.1:8000", 1)[1]
    assert app_client.get(path + "x").status_code == 404
    world.clock.advance(timedelta(days=8))
    assert app_client.get(path).status_code == 404
    assert TestClient(app_client.app).get("/invite/not-a-token").status_code == 404


def test_resident_makes_invite_from_the_page(app_client: TestClient) -> None:
    csrf = form_login(app_client, "resident-a")
    made = app_client.post(
        "/households/hh-a/invite", data={"csrf_token": csrf, "scope": ["alerts", "summary"]}
    )
    assert made.status_code == 200
    link = re.search(r'value="(http[^"]+/invite/[^"]+)"', made.text)
    assert link is not None
    stranger = TestClient(app_client.app)
    login(stranger, "stranger")
    assert (
        stranger.post(
            "/households/hh-a/invite", data={"csrf_token": "x", "scope": ["alerts"]}
        ).status_code
        == 404
    )
