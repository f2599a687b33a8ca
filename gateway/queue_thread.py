"""The queue as the event loop sees it: all its I/O on one thread of its own, so that an
fsync never stalls MQTT, and the hand-off of what waits to go upstream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from dagritme.models import DetectorStatus, DeviceHealth
from gateway.outbox import Outbox

T = TypeVar("T")


class QueueThread:
    """Runs calls on the outbox one at a time, off the event loop."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gw-queue")

    async def call(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def shutdown(self) -> None:
        """Wait for the call in progress (a cancelled commit still completes) and stop."""
        self._executor.shutdown(wait=True)


class Handoff:
    """What the home side and the edge ticks hand the upstream side.

    Queued rows live in the outbox; `wakeup` says there may be new ones. Health is state, not
    history: only the latest report per sensor waits, in memory.
    """

    def __init__(self) -> None:
        self.wakeup = asyncio.Event()
        self.pending_health: dict[str, DeviceHealth] = {}
        # Edge mode: the home detector's learning status, sent retained once per session.
        self.detector_status: DetectorStatus | None = None
        self.status_unsent = False

    def health(self, report: DeviceHealth) -> None:
        self.pending_health[report.sensor] = report
        self.wakeup.set()

    def learning(self, status: DetectorStatus) -> None:
        self.detector_status = status
        self.status_unsent = True
        self.wakeup.set()

    def queued(self) -> None:
        self.wakeup.set()
