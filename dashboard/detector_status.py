"""The detector's own learning status per household: the latest one kept, older ones refused.

The detector publishes it retained on `dagritme/v1/<household>/detector/status`; the dashboard
shows it instead of its own estimate from days with data, because the detector counts only
the lived-in days its norms actually learned from.
"""

from __future__ import annotations

import json

from dagritme.models import DetectorStatus
from dashboard.db import Database, from_db_ts, to_db_ts


def store_detector_status(db: Database, status: DetectorStatus) -> bool:
    """Keep `status` unless a newer one is stored (a retained copy may come late); True if
    kept. Statuses of an erased household are not kept: its data is gone for good."""
    with db.transaction() as conn:
        erased = conn.execute(
            "SELECT 1 FROM households WHERE id = ? AND erased_ts IS NOT NULL", (status.household,)
        ).fetchone()
        if erased:
            return False
        cursor = conn.execute(
            "INSERT INTO detector_status (household, ts, learning_days_seen,"
            " learning_days_needed, progress, learned, usual_json) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (household) DO UPDATE SET ts = excluded.ts,"
            " learning_days_seen = excluded.learning_days_seen,"
            " learning_days_needed = excluded.learning_days_needed,"
            " progress = excluded.progress, learned = excluded.learned,"
            " usual_json = excluded.usual_json"
            " WHERE excluded.ts >= detector_status.ts",
            (
                status.household,
                to_db_ts(status.ts),
                status.learning_days_seen,
                status.learning_days_needed,
                status.progress,
                int(status.learned),
                json.dumps(status.usual),
            ),
        )
        return cursor.rowcount > 0


def clear_detector_status(db: Database, household: str) -> int:
    """Forget a household's status (an empty retained message clears it on the broker)."""
    return db.execute("DELETE FROM detector_status WHERE household = ?", (household,)).rowcount


def get_detector_status(db: Database, household: str) -> DetectorStatus | None:
    row = db.query_one("SELECT * FROM detector_status WHERE household = ?", (household,))
    if row is None:
        return None
    return DetectorStatus(
        household=row["household"],
        ts=from_db_ts(row["ts"]),
        learning_days_seen=row["learning_days_seen"],
        learning_days_needed=row["learning_days_needed"],
        progress=row["progress"],
        learned=bool(row["learned"]),
        usual=json.loads(row["usual_json"]),
    )
