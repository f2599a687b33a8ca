"""`dagritme detector --config FILE [--validate-config]`: the live detector service."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from dagritme.clock import WallClock
from dagritme.config import add_config_arguments, load_config
from detector.config import DetectorConfig
from detector.service import DetectorService


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, "detector config")


async def _serve(service: DetectorService) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        if task is not None:
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await service.run()


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, DetectorConfig)
    if args.validate_config:
        print(f"{args.config or 'defaults'}: configuration is valid")
        return 0
    asyncio.run(_serve(DetectorService(config, WallClock())))
    return 0
