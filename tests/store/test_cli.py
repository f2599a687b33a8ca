"""`dagritme store`: config validation, the factory, and the GDPR commands end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dagritme.cli import main
from dagritme.config import ConfigError, load_config
from store import open_store
from store.config import StoreConfig, StoreSettings
from store.influx import InfluxEventStore
from store.influx_server import InfluxServer
from store.sqlite import SqliteEventStore

from .factories import event

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

GOOD = """
[broker]
url = "mqtt://127.0.0.1:1883"
client_id = "dagritme-store"

[store]
backend = "sqlite"
retention_days = 730

[store.sqlite]
path = "{path}"

[consumer]
batch_size = 500
flush_interval_s = 0.5
"""


def test_validate_config_accepts_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "store.toml"
    config.write_text(GOOD.format(path=tmp_path / "e.sqlite"))
    assert main(["store", "--config", str(config), "--validate-config"]) == 0
    assert "config OK" in capsys.readouterr().out


def test_validate_config_names_each_problem_with_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "store.toml"
    config.write_text(
        '[store]\nbackend = "mongo"\n[store.influx]\nurl = "ftp://x"\ntoken = "t"\n'
        'username = "u"\npassword = "p"\n[consumer]\nbatch_sise = 5\n'
    )
    assert main(["store", "--config", str(config), "--validate-config"]) == 2
    err = capsys.readouterr().err
    assert "store.backend" in err
    assert "store.influx.url" in err
    assert "consumer.batch_sise" in err


def test_influx_settings_refuse_two_kinds_of_auth(tmp_path: Path) -> None:
    config = tmp_path / "store.toml"
    config.write_text(
        '[store]\nbackend = "influx"\n[store.influx]\ntoken = "t"\nusername = "u"\npassword = "p"\n'
    )
    with pytest.raises(ConfigError, match="either token or username/password"):
        load_config(config, StoreConfig)


def test_defaults_are_a_working_embedded_config() -> None:
    config = load_config(None, StoreConfig)
    assert config.store.backend == "sqlite"
    assert config.broker.client_id == "dagritme-store"


def test_open_store_gives_the_configured_backend(
    tmp_path: Path, influx_server: InfluxServer, influx_database: str
) -> None:
    sqlite = open_store(StoreSettings.model_validate({"sqlite": {"path": tmp_path / "x.db"}}))
    assert isinstance(sqlite, SqliteEventStore)
    sqlite.close()
    influx = open_store(
        StoreSettings.model_validate(
            {"backend": "influx", "influx": {"url": influx_server.url, "database": influx_database}}
        )
    )
    assert isinstance(influx, InfluxEventStore)
    influx.write([event(T0)])
    assert len(list(influx.export("hh-1"))) == 1
    influx.close()


def test_export_and_erase_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "e.sqlite"
    store = SqliteEventStore(db)
    store.write([event(T0 + timedelta(minutes=i), seq=i) for i in range(3)])
    store.write([event(T0, household="hh-2")])
    store.close()
    config = tmp_path / "store.toml"
    config.write_text(GOOD.format(path=db))

    assert main(["store", "--config", str(config), "--export", "hh-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [0, 1, 2]

    assert main(["store", "--config", str(config), "--erase", "hh-1"]) == 0
    assert "erased 3 events" in capsys.readouterr().out
    reopened = SqliteEventStore(db)
    assert reopened.count("hh-1") == 0
    assert reopened.count("hh-2") == 1
    reopened.close()
