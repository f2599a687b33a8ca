"""`dagritme gateway --config FILE [--validate-config]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from dagritme.clock import WallClock
from dagritme.config import add_config_arguments, load_config
from gateway.config import GatewayConfig, Sharing
from gateway.edge import LearningReporter, LocalDetector
from gateway.service import Gateway

logger = logging.getLogger(__name__)


class EdgeModeError(RuntimeError):
    """Edge mode was asked for but no local detector can be built."""


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, "gateway config")


def load_local_detector(config: GatewayConfig) -> tuple[LocalDetector, LearningReporter]:
    """The detector package's core, for this home's time zone (edge mode only), and what
    reports its learning progress.

    Imported here, not at the top: a gateway that only forwards events never loads the
    detector's dependencies (numpy, river).
    """
    try:
        from detector.config import DetectorConfig
        from detector.core import Detector
        from detector.status import StatusTracker
    except ImportError as err:
        raise EdgeModeError(
            f"sharing={config.sharing.value} runs the detector in the home, but the detector "
            f"package is not installed (pip install 'dagritme[detector]'): {err}"
        ) from err
    detector = Detector(DetectorConfig(default_timezone=config.timezone))
    return detector, StatusTracker(detector)


async def _serve(gateway: Gateway) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
    try:
        await gateway.run()
    except asyncio.CancelledError:
        logger.info("gateway stopped")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, GatewayConfig)
    if args.validate_config:
        print(f"{args.config or 'defaults'}: ok ({len(config.devices)} device(s))")
        return 0
    detector, learning = None, None
    if config.sharing is not Sharing.EVENTS:
        try:
            detector, learning = load_local_detector(config)
        except EdgeModeError as err:
            print(err, file=sys.stderr)
            return 2
    asyncio.run(_serve(Gateway(config, WallClock(), detector, learning)))
    return 0
