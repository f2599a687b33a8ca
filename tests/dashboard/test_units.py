"""Small pure parts: traffic light, message catalogues, heatmap, config, seed, CLI."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dagritme.cli import main
from dagritme.config import ConfigError, load_config
from dagritme.models import Severity
from dashboard.accounts import authenticate
from dashboard.config import DashboardConfig
from dashboard.consent import Scope, household_records, scopes_of
from dashboard.db import Database
from dashboard.heatmap import heatmap_svg, rhythm_grid
from dashboard.i18n import LANGUAGES, catalogue, translate
from dashboard.seed import seed_demo
from dashboard.status import Light, traffic_light, urgency_key
from dashboard.web.render import ACCESS_WORDS, access_words
from tests.dashboard.conftest import START, World, make_events

TEMPLATES = Path(__file__).resolve().parents[2] / "dashboard" / "templates"


def test_traffic_light_rules() -> None:
    assert traffic_light(Severity.URGENT, True, paused=False) is Light.RED
    assert traffic_light(Severity.WARNING, True, paused=False) is Light.AMBER
    assert traffic_light(None, False, paused=False) is Light.AMBER
    assert traffic_light(None, None, paused=False) is Light.GREEN
    assert traffic_light(Severity.URGENT, True, paused=True) is Light.GREY
    newer = datetime(2026, 1, 2, tzinfo=UTC)
    older = datetime(2026, 1, 1, tzinfo=UTC)
    ordered = sorted(
        [(Light.GREEN, None, "a"), (Light.RED, older, "b"), (Light.RED, newer, "c")],
        key=lambda r: urgency_key(*r),
    )
    assert [r[2] for r in ordered] == ["c", "b", "a"]


def test_catalogues_have_the_same_keys() -> None:
    assert set(catalogue("nl")) == set(catalogue("en"))
    assert translate("nl", "resident.all_well") == "Vandaag ziet alles er gewoon uit."
    assert translate("de", "resident.all_well") == "Today everything looks as usual."


def test_every_template_string_is_in_the_catalogue() -> None:
    keys: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        keys.update(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_]+)["']""", template.read_text()))
    assert keys, "no translatable strings found"
    for language in LANGUAGES:
        missing = keys - set(catalogue(language))
        assert not missing, f"{language}: {sorted(missing)}"


def test_heatmap_counts_presence_per_local_hour(world: World) -> None:
    world.store.write(make_events("hh-a", START - timedelta(days=6), 6))
    grid = rhythm_grid(world.store, "hh-a", "Europe/Amsterdam", START, days=28)
    assert len(grid.days) == 28
    assert grid.days[-1] == START.date()
    # Events at 08:00 UTC are 09:00 in Amsterdam in winter: one 'on' per day.
    assert [row[9] for row in grid.counts[-7:-1]] == [1] * 6
    assert sum(map(sum, grid.counts)) == 18
    svg = heatmap_svg(grid, "Rhythm", "movements")
    assert svg.count("<rect") == 28 * 24
    assert "<title" in svg


def test_config_refuses_placeholder_secret_outside_development(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        load_config(None, DashboardConfig)
    short = tmp_path / "short.toml"
    short.write_text('secret_key = "too-short"\n')
    with pytest.raises(ConfigError, match="at least 32"):
        load_config(short, DashboardConfig)
    good = tmp_path / "good.toml"
    good.write_text('secret_key = "' + "x7" * 20 + '"\n[http]\nport = 8080\n')
    config = load_config(good, DashboardConfig)
    assert config.http.port == 8080
    assert config.secure_cookies is True
    dev = DashboardConfig(environment="development")
    assert dev.secure_cookies is False


def test_validate_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('environment = "development"\n[http]\nprot = 1\n')
    assert main(["dashboard", "--config", str(bad), "--validate-config"]) == 2
    assert "http.prot" in capsys.readouterr().err
    good = tmp_path / "good.toml"
    good.write_text('environment = "development"\n')
    assert main(["dashboard", "--config", str(good), "--validate-config"]) == 0


def test_seed_demo_creates_working_logins(tmp_path: Path) -> None:
    db = Database(tmp_path / "seed.sqlite3")
    households = [("hh-001", "Mrs Jansen", "Europe/Amsterdam"), ("hh-002", "Mr B", "UTC")]
    logins = seed_demo(db, households)
    assert set(logins) == {"admin", "nurse", "carer", "resident-hh-001", "resident-hh-002"}
    nurse = authenticate(db, "nurse", logins["nurse"])
    assert nurse is not None
    assert scopes_of(household_records(db, "hh-001"), nurse.id) == set(Scope)
    before = len(household_records(db, "hh-001"))
    assert seed_demo(db, households) == {}  # idempotent: nothing new
    assert len(household_records(db, "hh-001")) == before
    db.close()


def test_access_log_words_are_translated() -> None:
    keys = {key for _, key in ACCESS_WORDS} | {"access.summary"}
    for language in LANGUAGES:
        assert keys <= set(catalogue(language))
    assert access_words("GET /api/v1/households/{household_id}/alerts") == "access.alerts"
    assert access_words("GET /households/{household_id}") == "access.summary"
