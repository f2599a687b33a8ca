"""Feedback to the detector: what people decided about an alert.

Web requests run in worker threads; the broker client lives in the event loop. The
`FeedbackQueue` bridges them: routes call `publish` from any thread and the ingest session
drains the queue onto the broker (QoS 1), keeping what it could not send for the next
connection.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Protocol

from dagritme.models import Feedback


class FeedbackPublisher(Protocol):
    def publish(self, feedback: Feedback) -> None: ...


class FeedbackQueue:
    """Thread-safe hand-over from web threads to the broker session."""

    def __init__(self) -> None:
        self._items: deque[Feedback] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        self._loop = loop
        self._ready = asyncio.Event()
        if self._items:
            self._ready.set()
        return self._ready

    def publish(self, feedback: Feedback) -> None:
        with self._lock:
            self._items.append(feedback)
        if self._loop is not None and self._ready is not None:
            self._loop.call_soon_threadsafe(self._ready.set)

    def take(self) -> Feedback | None:
        with self._lock:
            return self._items.popleft() if self._items else None

    def put_back(self, feedback: Feedback) -> None:
        with self._lock:
            self._items.appendleft(feedback)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
