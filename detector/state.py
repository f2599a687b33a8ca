"""Per-household detector state: fixed-size numpy arrays and a few scalars.

Everything the detector learns about one home lives in one `HouseholdState`, so it can be
checkpointed as a small blob (well under 64 KB) and restored after a restart without losing
what was learned or raising an open alert a second time.
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from dagritme.models import Alert, AlertType, Room

STATE_VERSION = 2  # 2: silences by 2-hour block (1: 3-hour blocks), see _from_v1

ROOMS: tuple[Room, ...] = tuple(Room)
ROOM_INDEX: dict[Room, int] = {room: i for i, room in enumerate(ROOMS)}
ALERT_TYPES: tuple[AlertType, ...] = tuple(AlertType)
ALERT_INDEX: dict[AlertType, int] = {kind: i for i, kind in enumerate(ALERT_TYPES)}

# Silences are learned per block of the day: 2 hours rather than 3 separates a late-morning
# stillness from an after-lunch nap, which shortened the fall median on casas-al-smarthome
# from 223 to 184 min (0 false alarms either way) and in 15 simulated homes from 214 to 207
# min, at 12 instead of 11 false alarms in 570 days (see detector/EVALUATION.md, round 4).
BLOCK_HOURS = 2
N_BLOCKS = 24 // BLOCK_HOURS
V1_BLOCK_HOURS = 3
# Lower edges (minutes) of the silence-length bins; the last bin is open-ended. Short gaps
# are the bulk of a dense home's events but never matter for a limit, so they share bin 0.
GAP_EDGES_MIN: npt.NDArray[np.float64] = np.array(
    [0, 5, 10, 15, 20, 30, 45, 60, 75, 90, 120, 150, 180, 240, 300, 360, 480, 600, 720, 960],
    dtype=np.float64,
)
N_BINS = len(GAP_EDGES_MIN)
SHORT_GAP_S = float(GAP_EDGES_MIN[1] * 60)
TAIL_BIN = 3  # silences from this bin on (15 min) feed the exponential tail model
TAIL_FROM_MIN = float(GAP_EDGES_MIN[TAIL_BIN])
HISTORY_DAYS = 28
AWAY_HISTORY = 32
RECENT_IDS = 256

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]

NAN = math.nan


def gap_bin(minutes: float) -> int:
    return int(np.searchsorted(GAP_EDGES_MIN, minutes, side="right")) - 1


def _zeros(*shape: int) -> FloatArray:
    return np.zeros(shape, dtype=np.float32)


def _ring(fill: int = -1) -> IntArray:
    return np.full(HISTORY_DAYS, fill, dtype=np.int32)


@dataclass(slots=True)
class DayCounters:
    """What is counted during the current local day; pushed into the history at midnight."""

    presence: int = 0
    kitchen: int = 0
    night_toilet: int = 0
    night_minutes: int = 0
    rising_minute: int = -1
    rising_candidate_ts: float = -1.0  # first activity outside bed/bath rooms, unconfirmed
    rising_candidate_minute: int = -1
    rising_count: int = 0
    door_hours: int = 0  # bitmask of local hours in which the exterior door opened
    awake_hours: int = 0  # bitmask of local hours with presence outside bed and bath rooms
    alerted: bool = False  # a deviation alert was raised: not learned as normal


@dataclass(slots=True)
class HouseholdState:
    """Everything known about one household. Times are UTC epoch seconds."""

    household: str
    # live situation
    last_presence_ts: float = NAN
    last_presence_room: int = -1
    last_presence_block: int = 0  # local BLOCK_HOURS block of the last presence
    last_presence_sensor: str = ""
    last_event_ts: float = NAN
    stay_room: int = -1
    stay_start_ts: float = NAN
    last_door_open_ts: float = NAN
    has_exterior_door: bool = False
    away_since_ts: float = NAN  # out of home since (confirmed by a silence after leaving)
    return_first_ts: float = NAN  # first event of a possible return home
    return_last_ts: float = NAN
    return_count: int = 0
    gap_flagged: bool = False  # the running silence raised an alert: do not learn it
    last_night_minute: int = -1
    gateway_offline_since: float = NAN
    # bedtime: the first bedroom presence of the evening after the last activity elsewhere
    bed_candidate_ts: float = NAN
    bed_candidate_minute: int = -1  # minutes after local noon of the evening (0..1439)
    bed_candidate_day: int = -1  # local day ordinal of that evening
    # calendar
    day_ordinal: int = -1
    days_seen: int = 0
    days_decayed: float = 0.0
    nights_decayed: float = 0.0
    ring_pos: int = 0
    not_up_day: int = -1
    today: DayCounters = field(default_factory=DayCounters)
    # learned
    gap_hist: FloatArray = field(default_factory=lambda: _zeros(N_BLOCKS, len(ROOMS), N_BINS))
    gap_excess: FloatArray = field(default_factory=lambda: _zeros(N_BLOCKS, len(ROOMS)))
    bathroom_hist: FloatArray = field(default_factory=lambda: _zeros(N_BINS))
    bathroom_excess: FloatArray = field(default_factory=lambda: _zeros(1))
    door_hour_hist: FloatArray = field(default_factory=lambda: _zeros(24))
    awake_hour_hist: FloatArray = field(default_factory=lambda: _zeros(24))
    away_minutes: FloatArray = field(default_factory=lambda: np.full(AWAY_HISTORY, np.nan, "f4"))
    away_pos: int = 0
    hist_presence: IntArray = field(default_factory=_ring)
    hist_kitchen: IntArray = field(default_factory=_ring)
    hist_night_toilet: IntArray = field(default_factory=_ring)
    hist_night_minutes: IntArray = field(default_factory=_ring)
    hist_rising: IntArray = field(default_factory=_ring)  # learned as normal (norms)
    hist_rising_seen: IntArray = field(default_factory=_ring)  # every rising (trends)
    hist_bedtime: IntArray = field(default_factory=_ring)  # minutes after noon of the evening
    hist_weekend: IntArray = field(default_factory=_ring)  # 1 Sat/Sun, 0 weekday, -1 none
    feedback_factor: FloatArray = field(default_factory=lambda: np.ones(len(ALERT_TYPES), "f4"))
    # technical
    sensor_records: dict[str, list[float]] = field(default_factory=dict)  # see sensors.py
    presence_counter: float = 0.0  # presence events ever seen (sensor silences count these)
    next_sensor_check: float = 0.0
    silent_sensors: list[str] = field(default_factory=list)  # mute while the home is active
    offline_sensors: list[str] = field(default_factory=list)
    low_battery_sensors: list[str] = field(default_factory=list)
    # alerts
    open_alerts: dict[str, Alert] = field(default_factory=dict)
    recent_ids: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_IDS))

    def snapshot(self) -> bytes:
        """A compact, pickle-free serialisation (zlib-compressed JSON, arrays as base64)."""
        scalars: dict[str, Any] = {}
        arrays: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, np.ndarray):
                arrays[item.name] = {
                    "dtype": str(value.dtype),
                    "shape": list(value.shape),
                    "data": base64.b64encode(value.tobytes()).decode(),
                }
            elif item.name == "today":
                scalars[item.name] = {f.name: getattr(value, f.name) for f in fields(value)}
            elif item.name == "open_alerts":
                scalars[item.name] = [a.model_dump(mode="json") for a in value.values()]
            elif item.name == "recent_ids":
                scalars[item.name] = list(value)
            elif isinstance(value, float) and math.isnan(value):
                scalars[item.name] = None
            else:
                scalars[item.name] = value
        doc = {"version": STATE_VERSION, "scalars": scalars, "arrays": arrays}
        return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 6)

    @classmethod
    def restore(cls, household: str, data: bytes) -> HouseholdState:
        """Inverse of `snapshot`; the blob may come from another id (benchmarks clone homes)."""
        try:
            doc = json.loads(zlib.decompress(data))
        except (zlib.error, ValueError) as err:
            raise StateError(f"not a detector state blob: {err}") from err
        if doc.get("version") == 1:
            doc = _from_v1(doc)
        if doc.get("version") != STATE_VERSION:
            raise StateError(f"unsupported state version {doc.get('version')!r}")
        state = cls(household)
        float_fields = {f.name for f in fields(cls) if f.type == "float"}
        try:
            for name, value in doc["scalars"].items():
                if name == "household":
                    continue
                if name == "today":
                    state.today = DayCounters(**value)
                elif name == "open_alerts":
                    alerts = [Alert.model_validate(a) for a in value]
                    state.open_alerts = {alert_key_of(a): a for a in alerts}
                elif name == "recent_ids":
                    state.recent_ids.extend(value)
                elif name in float_fields:
                    setattr(state, name, NAN if value is None else float(value))
                else:
                    setattr(state, name, value)
            for name, spec in doc["arrays"].items():
                raw = base64.b64decode(spec["data"])
                array = np.frombuffer(raw, dtype=spec["dtype"]).reshape(spec["shape"]).copy()
                if array.shape != getattr(state, name).shape:
                    raise StateError(f"array {name} has shape {array.shape}")
                setattr(state, name, array)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise StateError(f"corrupt detector state: {err}") from err
        if "hist_rising_seen" not in doc["arrays"]:  # written before that ring existed
            state.hist_rising_seen = state.hist_rising.copy()
        if household != state.household:
            state.open_alerts = {
                key: alert.model_copy(update={"household": household})
                for key, alert in state.open_alerts.items()
            }
        return state


class StateError(ValueError):
    """A state blob that cannot be restored."""


def _rebin_blocks(array: npt.NDArray[Any], old_hours: int) -> npt.NDArray[Any]:
    """Counts per `old_hours` block of the day -> per BLOCK_HOURS block, spread evenly over
    the hours of each old block (the total is kept)."""
    hourly = np.repeat(array / old_hours, old_hours, axis=0)
    rebinned: npt.NDArray[Any] = hourly.reshape(N_BLOCKS, BLOCK_HOURS, *array.shape[1:]).sum(axis=1)
    return rebinned.astype(array.dtype)


def _from_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """A version-1 checkpoint (3-hour blocks) in version-2 form, so an upgrade keeps what
    each household learned instead of starting its learning period again."""
    try:
        arrays = doc["arrays"]
        for name in ("gap_hist", "gap_excess"):
            spec = arrays[name]
            raw = base64.b64decode(spec["data"])
            old = np.frombuffer(raw, dtype=spec["dtype"]).reshape(spec["shape"])
            new = _rebin_blocks(old, V1_BLOCK_HOURS)
            arrays[name] = {
                "dtype": str(new.dtype),
                "shape": list(new.shape),
                "data": base64.b64encode(new.tobytes()).decode(),
            }
        scalars = doc["scalars"]
        middle_hour = int(scalars.get("last_presence_block", 0)) * V1_BLOCK_HOURS + 1
        scalars["last_presence_block"] = middle_hour // BLOCK_HOURS
    except (KeyError, TypeError, ValueError) as err:
        raise StateError(f"corrupt version-1 detector state: {err}") from err
    return {**doc, "version": 2}


def alert_key(kind: AlertType, subtype: str | None = None) -> str:
    """One open alert per type per household (per subtype for trends)."""
    return f"{kind.value}:{subtype}" if subtype else kind.value


def alert_key_of(alert: Alert) -> str:
    return alert_key(alert.type, alert.subtype)
