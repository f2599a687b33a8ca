"""The dashboard: a consent-first web app and JSON API for residents, carers and nurses.

Composition: `dashboard.app.create_app(config, db=..., event_store=..., clock=...)` builds the
FastAPI app; `dashboard.service.DashboardService(config, event_store, clock).run()` serves
it with uvicorn and ingests alerts, device health and gateway status from the broker in the
same asyncio loop. State lives in SQLite (`dashboard.db.Database`); raw sensor history is
read only through `store.base.EventStore`.

Example `dashboard.toml`::

    secret_key = "a-long-random-string-of-at-least-32-characters"
    database = "var/dashboard.sqlite3"
    default_language = "nl"

    [http]
    host = "127.0.0.1"
    port = 8000

    [broker]
    url = "mqtt://127.0.0.1:1883"
    client_id = "dagritme-dashboard"

    [store]
    backend = "sqlite"
    [store.sqlite]
    path = "var/events.sqlite"

    [notifications]
    attempts = 3
    escalate_after_minutes = 15
    daily_summary_hour = 20
    base_url = "https://dagritme.example.org"

    [freshness]            # "no data since ..." instead of green when data stops
    event_hours = 12       # no sensor event for this long
    heartbeat_minutes = 10 # or no gateway heartbeat for this long (and 3 of its intervals)
    missed_heartbeats = 3
"""
