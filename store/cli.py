"""`dagritme store`: persist events from the broker into the configured event store.

Also the two GDPR operations for administrators, without the dashboard:
`--export HOUSEHOLD` (JSON lines on stdout) and `--erase HOUSEHOLD`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from dagritme.config import add_config_arguments, load_config
from dagritme.models import payload_json

from . import open_store
from .base import EventStore, StoreError
from .config import StoreConfig
from .consumer import EventConsumer


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, "store config")
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--export", metavar="HOUSEHOLD", help="print every event of a household as JSON lines"
    )
    action.add_argument(
        "--erase", metavar="HOUSEHOLD", help="delete every event of a household (GDPR erasure)"
    )


def run(args: argparse.Namespace) -> int:
    # httpx logs every request at INFO: one line per batch written is noise in a service.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = load_config(args.config, StoreConfig)
    if args.validate_config:
        print(f"{args.config or 'defaults'}: config OK")
        return 0
    try:
        store = open_store(config.store)
    except StoreError as err:
        print(f"dagritme store: {err}", file=sys.stderr)
        return 1
    try:
        if args.export:
            return _export(store, args.export)
        if args.erase:
            removed = store.erase(args.erase)
            print(f"erased {removed} events")
            return 0
        consumer = EventConsumer(
            config.broker, store, config.consumer, retention_days=config.store.retention_days
        )
        asyncio.run(_serve(consumer))
        return 0
    except StoreError as err:
        print(f"dagritme store: {err}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _export(store: EventStore, household: str) -> int:
    out = sys.stdout.buffer
    for event in store.export(household):
        out.write(payload_json(event) + b"\n")
    out.flush()
    return 0


async def _serve(consumer: EventConsumer) -> None:
    task = asyncio.create_task(consumer.run())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
