"""The issue's "done when": a consented carer gets the fall alert of the demo by e-mail and
acknowledges it in the browser; a carer without consent gets nothing.

Everything is real: mosquitto, the whole system of dagritme.system on an accelerated clock
(simulated home -> gateway -> broker -> detector -> dashboard), Apprise sending e-mail to an
aiosmtpd server on loopback, and Chromium driving the dashboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from dagritme import system
from dagritme.mqtt import BrokerSettings
from dagritme.servers import free_port
from dashboard.accounts import Role, create_user
from tests.dashboard.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD
from tests.dashboard.smtp import Inbox, ReceivedMail

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TZ = ZoneInfo("Europe/Amsterdam")
HOUSEHOLD = "hh-fall"
RESIDENT_NAME = "Mrs Test-Resident"
RESIDENT = f"resident-{HOUSEHOLD}"
CARER_MAIL = "bram@carer.invalid"
OUTSIDER_MAIL = "kees@outsider.invalid"
NOTE = "I called, she fell but is OK; neighbour is with her"


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run scripts/install-system-deps.sh")
    return CHROMIUM


@pytest.fixture
async def async_browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def _register_contacts(running: system.RunningSystem, inbox: Inbox) -> None:
    """The resident adds both e-mail contacts through the dashboard's own JSON API."""
    transport = httpx.ASGITransport(app=running.dashboard.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as client:
        login = await client.post(
            "/api/v1/login", json={"username": RESIDENT, "password": running.logins[RESIDENT]}
        )
        login.raise_for_status()
        url = f"/api/v1/households/{HOUSEHOLD}/contacts"
        # Both on the first step of the chain: only consent decides who is told.
        for username, address in [("carer", CARER_MAIL), ("outsider", OUTSIDER_MAIL)]:
            created = await client.post(
                url,
                json={"username": username, "apprise_url": inbox.apprise_url(address)},
            )
            assert created.status_code == 201, created.text
            assert created.json()["notified"] is (username == "carer")


async def _first_mail(inbox: Inbox, address: str, timeout_s: float) -> ReceivedMail:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        mails = inbox.to(address)
        if mails:
            return mails[0]
        await asyncio.sleep(0.2)
    pytest.fail(f"no e-mail within {timeout_s} s")


# Every table's right edge minus its card's right edge, in CSS pixels (> 0: it sticks out).
TABLE_OVERFLOW_JS = """() => Array.from(document.querySelectorAll('.card table')).map(table => {
    const card = table.closest('.card').getBoundingClientRect();
    return table.getBoundingClientRect().right - card.right;
})"""


async def _check_layout(page: Page, artifacts_dir: Path) -> None:
    """The household page reads well at 1280 px, at 200% zoom and on a phone (390 px)."""
    for name, width in [("1280", 1280), ("zoom200", 640), ("phone", 390)]:
        await page.set_viewport_size({"width": width, "height": 900})
        await page.reload()
        overflows = await page.evaluate(TABLE_OVERFLOW_JS)
        assert overflows, "the household page shows no tables"
        assert max(overflows) <= 0.5, f"a table sticks out of its card at {name}: {overflows}"
        page_overflow = await page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth"
        )
        assert page_overflow <= 0, f"the page scrolls sideways at {name}"
        await page.screenshot(
            path=str(artifacts_dir / f"dashboard-household-{name}.png"), full_page=True
        )


async def test_consented_carer_gets_the_fall_by_mail_and_acknowledges_it(
    broker: BrokerSettings,
    tmp_path: Path,
    smtp_inbox: Inbox,
    async_browser: Browser,
    artifacts_dir: Path,
) -> None:
    spec = system.SystemSpec(
        homes=(system.HomeSpec(HOUSEHOLD, RESIDENT_NAME, "typical", ("fall@0T09:00",)),),
        start=datetime(2026, 11, 10, 8, 45, tzinfo=TZ),
        speed=900.0,  # fifteen data minutes a second: the silence alert comes within seconds
        data_dir=tmp_path,
        http_port=free_port(),
        warmup_days=14,
    )
    running = system.build(spec, broker)
    now = running.clock.now()
    # A second carer who has an e-mail contact but no consent from the resident.
    create_user(
        running.dashboard.db, username="outsider", password=PASSWORD, role=Role.CARER, now=now
    )
    await _register_contacts(running, smtp_inbox)

    task = asyncio.create_task(system.run(running))
    try:
        mail = await _first_mail(smtp_inbox, CARER_MAIL, timeout_s=60)
        text = mail.body.lower()
        assert "silence" in mail.subject.lower()
        assert "usual" in text  # what is usual ...
        assert "no movement" in text or "since" in text  # ... and what happened
        assert f"{running.dashboard_url}/households/{HOUSEHOLD}" in mail.body
        # No more personal data than needed: no name, no other person, no contact address.
        assert RESIDENT_NAME.lower() not in mail.raw.lower()
        assert OUTSIDER_MAIL not in mail.raw
        assert mail.recipients == (CARER_MAIL,)

        page = await async_browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(f"{running.dashboard_url}/login")
        await page.get_by_label("User name").fill("carer")
        await page.get_by_label("Password").fill(running.logins["carer"])
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(f"{running.dashboard_url}/")
        await page.get_by_role("link", name=RESIDENT_NAME).click()
        await page.wait_for_url(f"{running.dashboard_url}/households/{HOUSEHOLD}")
        alert = page.locator("article.alert", has_text="Unusually long silence").first
        alert_id = (await alert.get_attribute("id") or "").removeprefix("alert-")
        await alert.get_by_label("Note").fill(NOTE)
        await alert.get_by_role("button", name="Acknowledge").click()
        await page.wait_for_selector("text=Acknowledged by Carer Bram")
        await page.screenshot(
            path=str(artifacts_dir / "dashboard-carer-acknowledged.png"), full_page=True
        )

        async with httpx.AsyncClient(base_url=running.dashboard_url, timeout=5) as client:
            login = await client.post(
                "/api/v1/login", json={"username": "carer", "password": running.logins["carer"]}
            )
            login.raise_for_status()
            stored = (await client.get(f"/api/v1/alerts/{alert_id}")).json()
        assert stored["type"] == "inactivity"
        assert stored["status"] in ("acknowledged", "resolved")
        assert stored["ack_by"] == "Carer Bram"
        assert stored["ack_note"] == NOTE
        await _check_layout(page, artifacts_dir)
        await running.dashboard.notifier.drain()
        assert smtp_inbox.to(OUTSIDER_MAIL) == []
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        system.close(running)
