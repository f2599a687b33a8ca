"""The escalation chain: the contacts API and page (resident, nurse with consent), CSRF,
both languages, and that the order set here is the order notifications follow."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from dashboard.config import NotificationSettings
from dashboard.notify import Notifier, contacts, redact_url
from tests.dashboard.conftest import PASSWORD, World, login, make_alert

API = "/api/v1/households/hh-a/contacts"
PAGE = "/households/hh-a/contacts"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def test_nurse_with_consent_manages_the_chain_through_the_api(app_client: TestClient) -> None:
    login(app_client, "nurse")
    first = app_client.post(API, json={"username": "carer", "apprise_url": "json://127.0.0.1:9/c"})
    second = app_client.post(
        API, json={"username": "nurse", "apprise_url": "json://127.0.0.1:9/n", "position": 1}
    )
    assert (first.status_code, second.status_code) == (201, 201)
    moved = app_client.patch(f"{API}/{second.json()['id']}", json={"position": 0})
    assert moved.status_code == 200
    assert moved.json()["position"] == 0
    assert [c["position"] for c in app_client.get(API).json()] == [0, 0]
    token = login(app_client, "nurse")
    removed = app_client.delete(f"{API}/{first.json()['id']}", headers={"X-CSRF-Token": token})
    assert removed.status_code == 204
    assert [c["username"] for c in app_client.get(API).json()] == ["nurse"]
    assert app_client.delete(f"{API}/999", headers={"X-CSRF-Token": token}).status_code == 404


def test_only_resident_nurse_with_consent_and_admin_manage_contacts(
    app_client: TestClient,
) -> None:
    for username, expected in [
        ("carer", 404),  # has the alerts consent, but is not a nurse
        ("stranger", 404),
        ("resident-b", 404),
        ("nurse", 200),
        ("resident-a", 200),
        ("admin", 200),
    ]:
        login(app_client, username)
        assert app_client.get(API).status_code == expected, username
        assert app_client.get(PAGE).status_code == expected, username
    app_client.cookies.clear()
    assert app_client.get(API).status_code == 401


def test_unsafe_calls_need_csrf(app_client: TestClient, world: World) -> None:
    login(app_client, "resident-a")
    created = app_client.post(API, json={"username": "carer", "apprise_url": "json://h/x"})
    contact_id = created.json()["id"]
    assert app_client.delete(f"{API}/{contact_id}").status_code == 403
    assert (
        app_client.delete(f"{API}/{contact_id}", headers={"X-CSRF-Token": "x"}).status_code == 403
    )
    form = {"username": "carer", "apprise_url": "json://h/y", "step": "1"}
    assert app_client.post(PAGE, data={**form, "csrf_token": "forged"}).status_code == 403
    assert app_client.post(f"{PAGE}/{contact_id}/remove", data={"csrf_token": ""}).status_code in (
        403,
        422,
    )
    assert len(contacts(world.db, "hh-a")) == 1


async def test_page_sets_the_order_that_notifications_follow(
    app_client: TestClient, world: World, webhook: tuple[list[dict[str, Any]], int]
) -> None:
    hooks, port = webhook
    login(app_client, "resident-a")
    page = app_client.get(PAGE)
    assert page.status_code == 200
    token = csrf_of(page.text)
    # Only people the resident shares with are offered.
    assert 'value="carer"' in page.text
    assert 'value="stranger"' not in page.text
    for username, step in [("carer", 1), ("nurse", 2)]:
        added = app_client.post(
            PAGE,
            data={
                "csrf_token": token,
                "username": username,
                "apprise_url": f"json://127.0.0.1:{port}/{username}",
                "step": str(step),
            },
            follow_redirects=False,
        )
        assert added.status_code == 303
    chain = contacts(world.db, "hh-a")
    assert [(c.position, c.apprise_url.rsplit("/", 1)[1]) for c in chain] == [
        (0, "carer"),
        (1, "nurse"),
    ]
    nurse = chain[1]
    moved = app_client.post(
        f"{PAGE}/{nurse.id}/move", data={"csrf_token": token, "direction": "earlier"}
    )
    assert moved.status_code == 200  # redirected back to the page
    notifier = Notifier(NotificationSettings(attempts=1), world.db, world.clock)
    assert await notifier.notify(make_alert()) == 2  # both on step 1 now: told together
    await notifier.drain()
    assert sorted(h["_path"] for h in hooks) == ["/carer", "/nurse"]

    app_client.post(f"{PAGE}/{chain[0].id}/remove", data={"csrf_token": token})
    assert [c.id for c in contacts(world.db, "hh-a")] == [nurse.id]


def test_bad_address_is_explained_in_the_users_language(app_client: TestClient) -> None:
    login(app_client, "resident-a")
    app_client.post(
        "/language", data={"csrf_token": csrf_of(app_client.get(PAGE).text), "language": "nl"}
    )
    page = app_client.get(PAGE)
    assert "Wie wordt gewaarschuwd, en in welke volgorde" in page.text
    refused = app_client.post(
        PAGE,
        data={
            "csrf_token": csrf_of(page.text),
            "username": "carer",
            "apprise_url": "nonsense",
            "step": "1",
        },
    )
    assert refused.status_code == 422
    assert "Dit adres wordt niet begrepen" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'role="alert"' in refused.text


def test_secrets_in_addresses_are_never_shown(app_client: TestClient) -> None:
    login(app_client, "resident-a")
    app_client.post(
        API, json={"username": "carer", "apprise_url": "mailtos://bram:s3cret@mail.example.org"}
    )
    page = app_client.get(PAGE).text
    assert "s3cret" not in page
    assert "mail.example.org" in page
    # Addresses in the query string are not shown either.
    smtp = "mailto://127.0.0.1:2525?to=bram@carer.invalid&from=alerts@dagritme.invalid"
    assert redact_url(smtp) == "mailto://127.0.0.1:2525/…"


@pytest.mark.integration
@pytest.mark.browser
def test_contacts_page_in_chromium(
    world: World, live_url: str, browser: Browser, artifacts_dir: Path
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_url}/login")
    page.get_by_label("User name").fill("resident-a")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_url}/me")
    page.get_by_role("link", name="Who is alerted, and in which order").click()
    page.get_by_label("Person").select_option("carer")
    page.get_by_label("Where to send it").fill(
        "mailto://127.0.0.1:2525?to=bram@carer.invalid&from=alerts@dagritme.invalid"
    )
    page.get_by_label("Step").fill("1")
    with page.expect_navigation():
        page.get_by_role("button", name="Add").click()
    row = page.locator("table.chain tbody tr")
    assert row.count() == 1
    assert "yes" in row.first.inner_text()
    # Buttons say what they do to whom, for screen readers; step 1 cannot move earlier.
    assert page.get_by_role("button", name="Move carer one step earlier (now step 1)").is_disabled()
    with page.expect_navigation():
        page.get_by_role("button", name="Move carer one step later (now step 1)").click()
    assert row.first.locator("td").first.inner_text() == "2"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.screenshot(path=str(artifacts_dir / "dashboard-contacts-phone.png"), full_page=True)
