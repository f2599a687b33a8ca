"""Config validation, the command line, the deployment files, and the gateway's footprint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dagritme.config import ConfigError, load_config
from dagritme.servers import MosquittoServer, free_port
from gateway.config import GatewayConfig, Sharing
from tests.gateway.conftest import DEPLOY


def gateway_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60
    )


def test_the_deployment_example_is_valid() -> None:
    config = load_config(DEPLOY / "gateway.toml", GatewayConfig)
    assert config.household == "hh-0042"
    assert config.sharing is Sharing.EVENTS
    assert {device.room.value for device in config.devices} >= {"bedroom", "entrance"}
    assert config.central_broker.tls


def test_validate_config_prints_problems_with_their_location(tmp_path: Path) -> None:
    bad = tmp_path / "gateway.toml"
    bad.write_text(
        'household = "Mrs Jansen"\nsharing = "everything"\nqueue_pth = "q.db"\n'
        '[[devices]]\nfriendly_name = "hall"\nsensor = "M1"\nkind = "radar"\nroom = "hall"\n'
    )
    result = gateway_command("--config", str(bad), "--validate-config")
    assert result.returncode == 2
    for location in ("household", "sharing", "queue_pth", "devices.0.kind"):
        assert f"  {location}:" in result.stderr
    good = gateway_command("--config", str(DEPLOY / "gateway.toml"), "--validate-config")
    assert good.returncode == 0, good.stderr


def test_the_device_map_must_not_repeat_names_or_sensors() -> None:
    device = {"friendly_name": "hall", "sensor": "M1", "kind": "motion", "room": "hall"}
    with pytest.raises(ValueError, match="sensor used more than once: M1"):
        GatewayConfig.model_validate(
            {"household": "hh1", "devices": [device, {**device, "friendly_name": "hall2"}]}
        )


def test_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text('household = "hh1"\ntimezone = "Europe/Atlantis"\n')
    with pytest.raises(ConfigError, match="timezone"):
        load_config(path, GatewayConfig)


def test_the_gateway_imports_nothing_heavy() -> None:
    probe = (
        "import sys, gateway.__main__, gateway.service, gateway.cli, gateway.bench\n"
        "heavy = {'numpy', 'river', 'fastapi', 'starlette', 'uvicorn', 'jinja2', 'detector',"
        " 'dashboard', 'store'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.integration
def test_mosquitto_accepts_the_home_broker_snippet(tmp_path: Path) -> None:
    port = free_port()
    text = (DEPLOY / "mosquitto-home.conf").read_text()
    text = text.replace("listener 1883 127.0.0.1", "")
    text = text.replace("/var/lib/mosquitto/", f"{tmp_path}/")
    server = MosquittoServer(port=port, extra_config=text, workdir=tmp_path)
    server.start()
    server.close()
    assert "Error" not in server.log_text()
