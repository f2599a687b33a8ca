"""Server-rendered pages: login, overview, household, resident page, form posts, language."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from dashboard.alert_store import get_alert, upsert_alert
from dashboard.consent import household_records, paused_until
from dashboard.db import to_db_ts
from dashboard.notify import add_contact
from tests.dashboard.conftest import PASSWORD, START, World, make_alert, make_events


def form_login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": username, "password": password, "login_token": token.group(1)},
        follow_redirects=False,
    )
    if response.status_code != 303:
        return ""
    home = client.get(response.headers["location"])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf is not None
    return csrf.group(1)


def test_login_page_renders_in_both_languages(app_client: TestClient) -> None:
    english = app_client.get("/login")
    assert english.status_code == 200
    assert '<label for="username">User name</label>' in english.text
    dutch = app_client.get("/login?lang=nl")
    assert '<html lang="nl">' in dutch.text
    assert "Gebruikersnaam" in dutch.text


def test_wrong_password_shows_message(app_client: TestClient) -> None:
    assert form_login(app_client, "nurse", "wrong password") == ""
    page = app_client.get("/")
    assert page.url.path == "/login"


def test_login_without_form_token_is_refused(app_client: TestClient) -> None:
    response = app_client.post("/login", data={"username": "nurse", "password": PASSWORD})
    assert response.status_code == 401
    assert "expired" in response.text


def test_nurse_overview_and_household_page(app_client: TestClient, world: World) -> None:
    world.store.write(make_events("hh-a", START - timedelta(days=27), 27))
    upsert_alert(world.db, make_alert("hh-b", "alert-b-1"), START)
    form_login(app_client, "nurse")
    overview = app_client.get("/")
    assert overview.status_code == 200
    assert overview.text.index("Mr de Vries") < overview.text.index("Mrs Jansen")
    assert 'class="light red"' in overview.text
    page = app_client.get("/households/hh-a")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "Daily rhythm" in page.text
    assert "Kitchen" in page.text
    assert "7 of 7 days" in page.text


def test_carer_without_timeline_gets_no_heatmap(app_client: TestClient, world: World) -> None:
    world.store.write(make_events("hh-a", START - timedelta(days=3), 3))
    form_login(app_client, "carer")
    page = app_client.get("/households/hh-a")
    assert page.status_code == 200
    assert "<svg" not in page.text
    assert app_client.get("/households/hh-b").status_code == 404


def test_acknowledge_and_resolve_by_form(app_client: TestClient, world: World) -> None:
    upsert_alert(world.db, make_alert(), START)
    csrf = form_login(app_client, "carer")
    page = app_client.get("/households/hh-a")
    assert "Usually up by 07:40" in page.text
    bad = app_client.post("/alerts/alert-0001/ack", data={"csrf_token": "nope", "note": "x"})
    assert bad.status_code == 403
    ok = app_client.post(
        "/alerts/alert-0001/ack", data={"csrf_token": csrf, "note": "I called, she is fine"}
    )
    assert ok.status_code == 200
    assert "Acknowledged by carer" in ok.text
    app_client.post(
        "/alerts/alert-0001/resolve", data={"csrf_token": csrf, "outcome": "false_alarm"}
    )
    stored = get_alert(world.db, "alert-0001")
    assert stored is not None
    assert stored.resolution is not None
    assert stored.resolution.value == "false_alarm"


def test_resident_page_pause_and_revoke(app_client: TestClient, world: World) -> None:
    csrf = form_login(app_client, "resident-a")
    page = app_client.get("/me")
    assert "Today everything looks as usual." in page.text
    assert "carer" in page.text
    assert "nurse" in page.text
    app_client.post(
        "/households/hh-a/consents",
        data={"csrf_token": csrf, "action": "pause", "pause_hours": "4"},
    )
    paused = paused_until(household_records(world.db, "hh-a"), world.clock.now())
    assert paused == world.clock.now() + timedelta(hours=4)
    assert "Monitoring is paused until" in app_client.get("/me").text
    app_client.post(
        "/households/hh-a/consents",
        data={"csrf_token": csrf, "action": "revoke", "username": "carer"},
    )
    assert "Stop sharing with carer" not in app_client.get("/me").text
    # The resident cannot manage another household.
    other = app_client.post(
        "/households/hh-b/consents", data={"csrf_token": csrf, "action": "resume"}
    )
    assert other.status_code == 404


def test_language_choice_is_remembered(app_client: TestClient) -> None:
    csrf = form_login(app_client, "nurse")
    app_client.post("/language", data={"csrf_token": csrf, "language": "nl"})
    assert "Overzicht" in app_client.get("/").text
    assert "Uitloggen" in app_client.get("/").text


def test_logout_by_form(app_client: TestClient) -> None:
    csrf = form_login(app_client, "nurse")
    app_client.post("/logout", data={"csrf_token": csrf})
    assert app_client.get("/api/v1/me").status_code == 401


def test_failed_notifications_are_visible(app_client: TestClient, world: World) -> None:
    upsert_alert(world.db, make_alert(), START)
    contact = add_contact(world.db, "hh-a", world.ids["carer"], "json://127.0.0.1:9/", START)
    world.db.execute(
        "INSERT INTO notifications (alert_id, household, contact_id, status, attempts,"
        " last_error, created_ts, updated_ts) VALUES (?, ?, ?, 'failed', 3, ?, ?, ?)",
        ("alert-0001", "hh-a", contact.id, "connection refused", to_db_ts(START), to_db_ts(START)),
    )
    form_login(app_client, "carer")
    page = app_client.get("/households/hh-a")
    assert "Notifications that could not be delivered" in page.text
    assert "connection refused" in page.text


def test_resident_sees_who_looked_in_plain_words(app_client: TestClient) -> None:
    nurse = TestClient(app_client.app)
    form_login(nurse, "nurse")
    nurse.get("/households/hh-a")
    form_login(app_client, "resident-a")
    page = app_client.get("/me")
    assert "nurse (nurse)" in page.text
    assert "looked at the daily summary" in page.text


def test_language_switch_does_not_redirect_off_site(app_client: TestClient) -> None:
    csrf = form_login(app_client, "nurse")
    for referer in ("https://evil.example/x", "//evil.example/x"):
        response = app_client.post(
            "/language",
            data={"csrf_token": csrf, "language": "en"},
            headers={"referer": referer},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


def test_heatmap_day_names_follow_the_language(app_client: TestClient, world: World) -> None:
    csrf = form_login(app_client, "nurse")
    app_client.post("/language", data={"csrf_token": csrf, "language": "nl"})
    page = app_client.get("/households/hh-a")
    assert ">ma 02-03<" in page.text  # 2 March 2026 is a Monday
