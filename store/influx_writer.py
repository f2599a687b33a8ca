"""The write path to InfluxDB: a bounded buffer drained by one sender thread.

`add()` only queues encoded points and wakes the sender, so the caller encodes the next
batch while InfluxDB ingests the previous one (the two cores work at once). The sender
retries with backoff when InfluxDB is unreachable; points wait in the buffer, which is
bounded: when it is full, `add()` first tries a synchronous flush and then refuses the
batch with `StoreUnavailable`, so the caller keeps it and nothing is silently dropped.

Locks: `_buffer_lock` guards the deque for short moments; `_send_lock` is held for a whole
send, so `purge()` (GDPR erasure) and reads (`settle()`) never overlap a send in flight.
Points leave the buffer only after InfluxDB acknowledged them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import NamedTuple

from .base import StoreError
from .config import InfluxSettings
from .influx_http import InfluxBadData, InfluxHttp, InfluxRejected, InfluxUnavailable

logger = logging.getLogger(__name__)

IDLE_WAKEUP_S = 1.0


class StoreUnavailable(StoreError):
    """The backend is down and the write buffer is full: keep the batch and retry later."""


class PendingPoint(NamedTuple):
    household: str
    ts_ns: int
    line: str


class InfluxWriter:
    """Buffered, retrying, background writer of line-protocol points."""

    def __init__(
        self,
        http: InfluxHttp,
        settings: InfluxSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self.settings = settings
        self._sleep = sleep
        self._monotonic = monotonic
        self._pending: deque[PendingPoint] = deque()
        self._buffer_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._wakeup = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._next_attempt = 0.0
        self._backoff = settings.retry_backoff_s
        self._down = False
        self.rejected_points = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, points: list[PendingPoint]) -> None:
        """Queue points for sending; raises StoreUnavailable when the buffer cannot take them."""
        limit = self.settings.buffer_max_points
        with self._buffer_lock:
            fits = len(self._pending) + len(points) <= limit
            if fits:
                self._pending.extend(points)
        if not fits:
            self.flush()
            with self._buffer_lock:
                if len(self._pending) + len(points) > limit:
                    raise StoreUnavailable(
                        f"InfluxDB unreachable and {len(self._pending)} points buffered"
                    )
                self._pending.extend(points)
        self._start_sender()
        self._wakeup.set()

    def flush(self) -> bool:
        """Send everything buffered now, backoff or not; True when nothing is left waiting."""
        with self._send_lock:
            return self._send_pending(force=True)

    def settle(self) -> None:
        """Before a read: wait for sends in flight and send the rest, unless backing off."""
        with self._send_lock:
            self._send_pending(force=False)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """No send is in flight inside this block (for erasure and retention)."""
        with self._send_lock:
            yield

    def purge(self, keep: Callable[[PendingPoint], bool]) -> int:
        """Drop buffered points that `keep` rejects; returns how many. Use in `exclusive()`."""
        with self._buffer_lock:
            before = len(self._pending)
            self._pending = deque(p for p in self._pending if keep(p))
            return before - len(self._pending)

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.timeout_s * 2)
        try:
            flushed = self.flush()
        except StoreError as err:
            logger.error("InfluxDB refused the last writes on close: %s", err)
            flushed = False
        if not flushed:
            logger.error("closing with %d events not written to InfluxDB", len(self._pending))

    # -- sending -----------------------------------------------------------------------------

    def _start_sender(self) -> None:
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(
                target=self._sender_loop, name="influx-writer", daemon=True
            )
            self._thread.start()

    def _sender_loop(self) -> None:
        while not self._closed:
            self._wakeup.wait(timeout=self._wait_s())
            self._wakeup.clear()
            if self._closed:
                return
            try:
                with self._send_lock:
                    self._send_pending(force=False)
            except InfluxRejected as err:
                # Auth or a missing database: an operator must act; keep the points.
                self._mark_down(err)
            except Exception:  # the sender must outlive one bad send
                logger.exception("InfluxDB sender failed")

    def _wait_s(self) -> float:
        if self._down:
            return max(0.01, self._next_attempt - self._monotonic())
        return IDLE_WAKEUP_S

    def _send_pending(self, *, force: bool) -> bool:
        """Send buffered points in chunks; hold `_send_lock` when calling."""
        if not force and self._pending and self._monotonic() < self._next_attempt:
            return False
        while True:
            with self._buffer_lock:
                if not self._pending:
                    return True
                chunk = [p.line for p in islice(self._pending, self.settings.batch_size)]
            try:
                if not self._send_with_retries("\n".join(chunk).encode()):
                    return False
            except InfluxBadData as err:
                # Retrying points InfluxDB cannot parse or place would block all behind them.
                self.rejected_points += len(chunk)
                logger.error("InfluxDB rejected %d points, dropped: %s", len(chunk), err)
            with self._buffer_lock:
                for _ in chunk:
                    self._pending.popleft()

    def _send_with_retries(self, body: bytes) -> bool:
        wait = self.settings.retry_backoff_s
        for attempt in range(1, self.settings.retry_attempts + 1):
            try:
                self._http.write(body)
            except InfluxUnavailable as err:
                if attempt < self.settings.retry_attempts:
                    self._sleep(wait)
                    wait *= 2
                    continue
                self._mark_down(err)
                return False
            self._mark_up()
            return True
        return False

    def _mark_down(self, err: StoreError) -> None:
        if not self._down:
            logger.warning("InfluxDB unavailable (%s); buffering writes", err)
            self._down = True
        self._next_attempt = self._monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self.settings.retry_backoff_max_s)

    def _mark_up(self) -> None:
        if self._down:
            logger.info("InfluxDB reachable again; %d points buffered", len(self._pending))
            self._down = False
        self._backoff = self.settings.retry_backoff_s
        self._next_attempt = 0.0
