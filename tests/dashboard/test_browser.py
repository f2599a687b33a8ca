"""In real Chromium: log in, see the overview, open a household, acknowledge an alert.

Screenshots go to the artifacts folder so a person can look at the pages.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser

from dagritme.dataset import Dataset
from dagritme.models import Severity
from dashboard.alert_store import get_alert, upsert_alert
from store.base import batched
from tests.dashboard.conftest import PASSWORD, START, World, make_alert, make_events

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_nurse_logs_in_and_acknowledges(
    world: World, live_url: str, browser: Browser, artifacts_dir: Path
) -> None:
    world.store.write(make_events("hh-a", START - timedelta(days=27), 28))
    upsert_alert(world.db, make_alert("hh-a", "alert-a-1", Severity.URGENT), START)
    upsert_alert(world.db, make_alert("hh-b", "alert-b-1", Severity.WARNING), START)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_url}/login")
    page.screenshot(path=str(artifacts_dir / "dashboard-login.png"))
    page.get_by_label("User name").fill("nurse")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_url}/")
    rows = page.locator("table.caseload tbody tr")
    assert rows.count() == 2
    assert "Mrs Jansen" in rows.nth(0).inner_text()  # urgent first
    page.screenshot(path=str(artifacts_dir / "dashboard-overview.png"), full_page=True)

    page.get_by_role("link", name="Mrs Jansen").click()
    page.wait_for_url(f"{live_url}/households/hh-a")
    assert page.locator("svg.heatmap").count() == 1
    page.get_by_label("Note").fill("I called, she is fine")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("text=acknowledged by nurse")
    page.screenshot(path=str(artifacts_dir / "dashboard-household.png"), full_page=True)
    stored = get_alert(world.db, "alert-a-1")
    assert stored is not None
    assert stored.ack_note == "I called, she is fine"


def test_resident_page_at_200_percent_zoom(
    world: World, live_url: str, browser: Browser, artifacts_dir: Path
) -> None:
    # 200% zoom: half the CSS width; the page must reflow without horizontal scrolling.
    page = browser.new_page(viewport={"width": 640, "height": 900}, device_scale_factor=2)
    page.goto(f"{live_url}/login?lang=nl")
    page.get_by_label("Gebruikersnaam").fill("resident-a")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"{live_url}/me")
    page.screenshot(path=str(artifacts_dir / "dashboard-resident.png"), full_page=True)
    # The language picked on the login page sticks to the account.
    assert page.get_by_text("Vandaag ziet alles er gewoon uit.").count() == 1
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Naar de inhoud" in focused


def test_household_page_with_a_real_dataset(
    world: World, live_url: str, browser: Browser, artifacts_dir: Path, datasets_dir: Path
) -> None:
    dataset = Dataset.load(datasets_dir / "casas-al-smarthome")
    recorded = list(dataset.events("hh-a", ZoneInfo("Europe/Amsterdam")))
    # Move the recording forward by whole weeks so that it ends just before "now" and keeps
    # its weekdays and times of day.
    weeks = (START - max(e.ts for e in recorded)).days // 7
    events = [e.model_copy(update={"ts": e.ts + timedelta(weeks=weeks)}) for e in recorded]
    for batch in batched(events, 5000):
        world.store.write(batch)
    world.clock.set(max(max(e.ts for e in events), START) + timedelta(minutes=5))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_url}/login")
    page.get_by_label("User name").fill("nurse")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_url}/")
    page.goto(f"{live_url}/households/hh-a")
    page.screenshot(path=str(artifacts_dir / "dashboard-household-casas.png"), full_page=True)
    # no detector status in this test: the dashboard's own estimate, labelled as one
    needed = world.config.learning_days
    estimate = f"Estimate: {needed} of {needed} days with sensor data"
    assert page.get_by_text(estimate).count() == 1
    cells = page.locator("svg.heatmap rect")
    assert cells.count() == 28 * 24
    trends = page.locator("section:has(h2:text('Trends')) tbody tr")
    assert trends.count() == 4
