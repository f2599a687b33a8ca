"""Feedback to the detector: what people decided about an alert.

Web requests run in worker threads; the broker client lives in the event loop. The
`FeedbackQueue` bridges them through a table of the dashboard database (an outbox): routes
call `publish` from any thread, which records the feedback at once; the ingest session
publishes the oldest entry (QoS 1) and deletes it only after the broker took it. So a
dashboard restart or a lost broker connection loses no feedback; a crash between the
publish and the delete can send one entry twice, which the detector must take as the same
verdict on the same alert (feedback is keyed by alert_id).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from dagritme.models import Feedback
from dashboard.db import Database, to_db_ts


class FeedbackPublisher(Protocol):
    def publish(self, feedback: Feedback) -> None: ...


@dataclass(frozen=True, slots=True)
class PendingFeedback:
    id: int
    feedback: Feedback


class FeedbackQueue:
    """Durable, thread-safe hand-over from web threads to the broker session."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        """The event the broker session waits on; set at once when entries are waiting."""
        self._loop = loop
        self._ready = asyncio.Event()
        if len(self):
            self._ready.set()
        return self._ready

    def publish(self, feedback: Feedback) -> None:
        self.db.execute(
            "INSERT INTO feedback_outbox (household, payload_json, created_ts) VALUES (?, ?, ?)",
            (feedback.household, feedback.model_dump_json(), to_db_ts(feedback.ts)),
        )
        if self._loop is not None and self._ready is not None:
            self._loop.call_soon_threadsafe(self._ready.set)

    def peek(self) -> PendingFeedback | None:
        """The oldest entry not yet handed to the broker; it stays until `remove`."""
        row = self.db.query_one("SELECT id, payload_json FROM feedback_outbox ORDER BY id LIMIT 1")
        if row is None:
            return None
        return PendingFeedback(row["id"], Feedback.model_validate_json(row["payload_json"]))

    def remove(self, entry_id: int) -> None:
        self.db.execute("DELETE FROM feedback_outbox WHERE id = ?", (entry_id,))

    def __len__(self) -> int:
        row = self.db.query_one("SELECT COUNT(*) AS n FROM feedback_outbox")
        return int(row["n"]) if row else 0
