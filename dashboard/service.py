"""The dashboard service: uvicorn and the broker bridge in one asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from dagritme.clock import Clock
from dagritme.models import Alert
from dashboard.app import create_app
from dashboard.config import DashboardConfig
from dashboard.db import Database
from dashboard.escalation import escalate
from dashboard.ingest import BrokerBridge
from dashboard.notify import Notifier
from dashboard.publisher import FeedbackQueue
from dashboard.summary import send_daily_summaries
from store.base import EventStore

logger = logging.getLogger(__name__)


class DashboardService:
    """Serves the web app and ingests alerts until cancelled (or `stop()`)."""

    def __init__(
        self,
        config: DashboardConfig,
        event_store: EventStore,
        clock: Clock,
        *,
        db: Database | None = None,
    ) -> None:
        self.config = config
        self.event_store = event_store
        self.clock = clock
        self.db = db or Database(config.database)
        self.feedback = FeedbackQueue(self.db)
        self.notifier = Notifier(config.notifications, self.db, clock)
        self.bridge = BrokerBridge(
            config.broker,
            self.db,
            clock,
            self.feedback,
            on_new_alert=self._on_new_alert,
            freshness_flush_s=config.freshness.flush_s,
        )
        self.app = create_app(
            config, db=self.db, event_store=event_store, clock=clock, publisher=self.feedback
        )
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=config.http.host,
                port=config.http.port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
        )
        self._started = asyncio.Event()

    async def _on_new_alert(self, alert: Alert) -> None:
        if self.config.notifications.enabled:
            await self.notifier.notify(alert)

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        for server in getattr(self.server, "servers", []):
            for sock in server.sockets:
                port: int = sock.getsockname()[1]
                return port
        return self.config.http.port

    async def wait_started(self) -> None:
        """Until the web server listens and the ingest has subscribed (wrap in a timeout)."""
        # uvicorn exposes only a flag, no event, for "started".
        while not self.server.started:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        await self.bridge.subscribed.wait()

    def stop(self) -> None:
        self.server.should_exit = True

    async def escalation_tick(self) -> None:
        settings = self.config.notifications
        try:
            await escalate(
                self.notifier,
                self.db,
                self.clock.now(),
                timedelta(minutes=settings.escalate_after_minutes),
            )
        except Exception:  # noqa: BLE001 - the top of a scheduled task: log, try next tick
            logger.exception("escalation tick failed")

    async def summary_tick(self) -> None:
        hour = self.config.notifications.daily_summary_hour
        if hour is None:
            return
        try:
            await send_daily_summaries(
                self.notifier, self.db, self.event_store, self.clock.now(), hour
            )
        except Exception:  # noqa: BLE001 - the top of a scheduled task: log, try next tick
            logger.exception("daily summary tick failed")

    async def run(self) -> None:
        logger.info("dashboard on http://%s:%s", self.config.http.host, self.config.http.port)
        bridge = asyncio.create_task(self.bridge.run(), name="dashboard-ingest")
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        if self.config.notifications.enabled:
            scheduler.add_job(
                self.escalation_tick,
                "interval",
                seconds=self.config.notifications.escalation_check_s,
                id="escalation",
                max_instances=1,
                coalesce=True,
            )
            if self.config.notifications.daily_summary_hour is not None:
                scheduler.add_job(
                    self.summary_tick,
                    "interval",
                    seconds=self.config.notifications.escalation_check_s,
                    id="daily-summary",
                    max_instances=1,
                    coalesce=True,
                )
        scheduler.start()
        try:
            await self.server.serve()
        finally:
            scheduler.shutdown(wait=False)
            bridge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bridge
            await self.notifier.drain()
