"""`dagritme simulate`: simulated homes to a real broker (accelerated) or to dataset folders.

dagritme simulate --households 3 --days 14 --scenario fall@13T10:30 --seed 7 --out DIR
dagritme simulate --households 1 --days 1 --speed 60 --mqtt mqtt://127.0.0.1:1883
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time as walltime
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from dagritme.clock import AcceleratedClock
from dagritme.config import ConfigError, add_config_arguments, format_validation_error, load_config
from dagritme.mqtt import BrokerSettings
from firmware_sim.config import SimulateConfig
from firmware_sim.fleet import first_day_for, make_homes
from firmware_sim.home import Noise, SimulatedHome
from firmware_sim.load import measure_generation, publish_fleet
from firmware_sim.output import write_homes
from firmware_sim.publisher import PublishError, publish_homes
from firmware_sim.scenarios import ScenarioError, write_ground_truth

DATASET_START = date(2026, 1, 5)  # a Monday: datasets are reproducible by default
BIG_FLEET = 200


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, "simulate config, flags override it")
    parser.add_argument("--households", type=int, help="number of homes (1)")
    parser.add_argument("--days", type=float, help="simulated days (14)")
    parser.add_argument("--speed", type=float, help="MQTT: simulated seconds per second (60)")
    parser.add_argument(
        "--scenario",
        action="append",
        dest="scenarios",
        metavar="NAME[@DAY[THH:MM]]",
        help="inject a scenario into every home (repeatable); DAY counts from 0",
    )
    parser.add_argument("--seed", type=int, help="random seed (1)")
    parser.add_argument("--persona", action="append", dest="personas", help="persona(s) in turn")
    parser.add_argument("--start", type=date.fromisoformat, help="first local day YYYY-MM-DD")
    parser.add_argument("--timezone", help="IANA time zone of the homes (Europe/Amsterdam)")
    parser.add_argument("--base-topic", help="Z2M base topic, '{household}' is replaced")
    parser.add_argument("--noise", type=float, help="duplicate, reorder and drop this share")
    parser.add_argument(
        "--ground-truth", type=Path, help="MQTT: also write the injections to this JSONL file"
    )
    parser.add_argument(
        "--workers", type=int, help="render in this many processes (default: 2+ for big fleets)"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--mqtt", metavar="URL", help="publish to this broker")
    target.add_argument("--out", type=Path, metavar="DIR", help="write datasets here")
    target.add_argument(
        "--bench", action="store_true", help="only generate, and print the timing as JSON"
    )


def _merge(config: SimulateConfig, args: argparse.Namespace) -> SimulateConfig:
    update: dict[str, Any] = {}
    for name in ("households", "days", "speed", "seed", "personas", "start", "scenarios", "out"):
        value = getattr(args, name, None)
        if value is not None:
            update[name] = value
    if args.timezone:
        update["timezone"] = args.timezone
    if args.base_topic:
        update["base_topic"] = args.base_topic
    if args.mqtt:
        update["mqtt"] = BrokerSettings(url=args.mqtt)
    if args.noise is not None:
        update["noise"] = {"duplicate_p": args.noise, "reorder_p": args.noise, "drop_p": args.noise}
    merged = {**config.model_dump(exclude_none=True), **update}
    if "mqtt" in merged and isinstance(merged["mqtt"], BrokerSettings):
        merged["mqtt"] = merged["mqtt"].model_dump()
    return SimulateConfig.model_validate(merged)


def _base_topic(config: SimulateConfig) -> str:
    if "{household}" in config.base_topic or config.households == 1:
        return config.base_topic
    if config.base_topic == "zigbee2mqtt":
        return "z2m-{household}"
    return config.base_topic + "-{household}"


def build(config: SimulateConfig, default_start: date) -> tuple[list[SimulatedHome], date]:
    tz = ZoneInfo(config.timezone)
    first = config.start or first_day_for(config.scenarios, default_start, config.days, tz)
    homes = make_homes(
        config.households,
        first_day=first,
        days=config.days,
        seed=config.seed,
        personas=config.personas,
        scenarios=config.scenarios,
        tz=tz,
        prefix=config.household_prefix,
        availability=config.availability,
        availability_timeout_s=config.availability_timeout_min * 60,
        noise=Noise(
            config.noise.duplicate_p,
            config.noise.reorder_p,
            config.noise.drop_p,
            config.noise.spurious_per_day,
        ),
        last_seen=config.last_seen,
    )
    return homes, first


def _local_start(first: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(first, time()).replace(tzinfo=tz).astimezone(UTC)


def run(args: argparse.Namespace) -> int:
    try:
        config = _merge(load_config(args.config, SimulateConfig), args)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, "command line")) from err
    if args.validate_config:
        print(f"{args.config or 'defaults'}: ok")
        return 0
    bench = bool(getattr(args, "bench", False))
    if not bench and (config.mqtt is None) == (config.out is None):
        print("simulate: give exactly one of --mqtt URL, --out DIR or --bench", file=sys.stderr)
        return 2
    workers = args.workers if args.workers is not None else _default_workers(config.households)
    try:
        tz = ZoneInfo(config.timezone)
        if bench:
            return _bench(config, workers)
        if config.out is not None:
            return _to_datasets(config, config.out)
        return _to_broker(config, tz, workers, getattr(args, "ground_truth", None))
    except (ScenarioError, ZoneInfoNotFoundError) as err:
        print(f"simulate: {err}", file=sys.stderr)
        return 2


def _to_datasets(config: SimulateConfig, out: Path) -> int:
    started = walltime.perf_counter()
    homes, first = build(config, DATASET_START)
    start = _local_start(first, homes[0].tz)
    end = start + timedelta(days=config.days)
    summary = write_homes(out, homes, start, end)
    elapsed = walltime.perf_counter() - started
    print(
        f"simulate: {summary.households} home(s), {config.days:g} day(s) from {first}, "
        f"{summary.events} events, {summary.injections} injection(s) -> {out} ({elapsed:.1f} s)"
    )
    return 0


def _default_workers(households: int) -> int:
    # Worker processes pay off once rendering outweighs their start-up and the pickling.
    return 0 if households < BIG_FLEET else max(2, os.cpu_count() or 2)


def _bench(config: SimulateConfig, workers: int) -> int:
    homes, first = build(config, DATASET_START)
    start = _local_start(first, homes[0].tz)
    figures = asyncio.run(measure_generation(homes, start, config.days, workers))
    print(json.dumps(figures.as_dict(), sort_keys=True))
    return 0


def _to_broker(
    config: SimulateConfig, tz: ZoneInfo, workers: int, ground_truth: Path | None
) -> int:
    assert config.mqtt is not None
    today = datetime.now(tz).date()
    homes, first = build(config, today)
    now = datetime.now(UTC)
    start = now if config.start is None else _local_start(first, tz)
    clock = AcceleratedClock(start, config.speed)
    until = start + timedelta(days=config.days)
    template = _base_topic(config)
    injections = [injection for home in homes for injection in home.injections]
    for injection in injections:
        record = injection.record()
        print(f"simulate: {record['scenario']} {record['household']} at {record['start']}")
    if ground_truth is not None:
        write_ground_truth(ground_truth, injections)
    try:
        if workers > 0:
            figures = asyncio.run(
                publish_fleet(
                    config.mqtt,
                    homes,
                    start,
                    config.speed,
                    until,
                    base_topic=template,
                    processes=workers,
                    add_last_seen=config.last_seen,
                )
            )
            published, lag = figures.published, figures.max_lag_s
        else:
            stats = asyncio.run(
                publish_homes(
                    config.mqtt,
                    homes,
                    clock,
                    lambda household: template.replace("{household}", household),
                    until,
                    add_last_seen=config.last_seen,
                )
            )
            published, lag = stats.published, stats.max_lag_s
    except PublishError as err:
        print(f"simulate: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(
        f"simulate: published {published} messages of {len(homes)} home(s); "
        f"largest lag {lag:.1f} simulated s"
    )
    return 0
