"""Event history: one `EventStore` interface, SQLite embedded or InfluxDB for deployments.

`open_store(settings)` is the one way other services get a store from their config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import EventStore
    from .config import StoreSettings

__all__ = ["open_store"]


def open_store(settings: StoreSettings) -> EventStore:
    """Open the configured backend (imported lazily: the Pi needs no HTTP client)."""
    if settings.backend == "influx":
        from .influx import InfluxEventStore

        return InfluxEventStore(settings.influx)
    from .sqlite import SqliteEventStore

    return SqliteEventStore(settings.sqlite.path)
