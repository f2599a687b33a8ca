"""Per-sensor activity: a sensor that goes quiet while the home is active is reported.

A dead battery without a last health message, or a sensor that lost its pairing, simply
stops sending. That must never look like a resident who stopped moving, so every sensor's
silence is measured in the *home's* presence events that happened since it last fired, not
in minutes: a night's sleep or a day out adds nothing, while a resident walking about the
home while one sensor stays mute adds quickly. A sensor is reported when that count runs well
beyond the longest one it normally shows.

The daily activation count of each sensor, and the share of lived-in days it fires on, are
exponentially weighted means, updated once a local day with the recurrence of
`river.stats.EWMean` (`mean += DAILY_FADING * (x - mean)`, the first day sets it). It is one
line of arithmetic on the stored mean rather than an estimator object per sensor and home:
at local midnight every home rolls its day in the same tick, and 10,000 homes x ~20 sensors
of river objects cost more than half a second there. The tests check it against river.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dagritme.models import AlertType, Event, Evidence, Severity
from detector.alerts import Finding, duration

MAX_TRACKED_SENSORS = 48  # bounds the state size; later sensors are not monitored
DAILY_FADING = 0.1  # EWMean weight of the newest day: about a 10-day memory
GAP_DECAY_PER_DAY = 0.97  # the longest normal silence slowly forgets an old outlier
MIN_DAILY_ACTIVATIONS = 2.0  # sensors used less than this are not monitored
SILENCE_FACTOR = 3.0  # silent for this times its longest normal silence (in home events)
MIN_OTHER_EVENTS = 100.0  # and at least this many home presence events
MIN_SILENT_S = 6 * 3600.0  # and at least this long in time
CHECK_EVERY_EVENTS = 25  # the check runs once per this many presence events

# Indexes into one sensor's record (a short list of floats keeps the state JSON-friendly).
LAST_TS, DAILY_MEAN, LONGEST_GAP, TODAY, AT_COUNTER, DAYS, ACTIVE_SHARE = range(7)
MIN_ACTIVE_SHARE = 0.9  # monitored only when it fires on nearly every lived-in day


@dataclass(frozen=True, slots=True)
class SilentSensor:
    sensor: str
    silent_s: float
    other_events: float
    usual_daily: float


def new_record() -> list[float]:
    return [math.nan, math.nan, 0.0, 0.0, 0.0, 0.0, math.nan]


def faded_mean(mean: float, x: float) -> float:
    """`river.stats.EWMean(DAILY_FADING)` after one more update, from its current mean."""
    if math.isnan(mean):
        return x
    return mean + DAILY_FADING * (x - mean)


def learn_sensor(
    records: dict[str, list[float]], sensor: str, ts: float, counter: float, alerted: bool
) -> None:
    """One event of `sensor`; `counter` is the home's presence count so far."""
    record = records.get(sensor)
    if record is None:
        if len(records) >= MAX_TRACKED_SENSORS:
            return
        record = records[sensor] = new_record()
    elif not alerted:  # a gap that raised sensor_offline is not a normal one
        record[LONGEST_GAP] = max(record[LONGEST_GAP], counter - record[AT_COUNTER])
    if math.isnan(record[LAST_TS]) or ts >= record[LAST_TS]:
        record[LAST_TS] = ts
    record[AT_COUNTER] = counter
    record[TODAY] += 1.0


def roll_sensors(records: dict[str, list[float]], lived_in: bool) -> None:
    """Close a local day: each sensor's daily count and whether it fired update their
    weighted means. A day spent away (too few presence events) says nothing about sensors."""
    for record in records.values():
        if lived_in:
            today = record[TODAY]
            record[DAILY_MEAN] = faded_mean(record[DAILY_MEAN], today)
            record[ACTIVE_SHARE] = faded_mean(record[ACTIVE_SHARE], float(today > 0))
            record[DAYS] += 1.0
            record[LONGEST_GAP] *= GAP_DECAY_PER_DAY
        record[TODAY] = 0.0


def silent_sensors(
    records: dict[str, list[float]], counter: float, now_ts: float, min_days: int
) -> list[SilentSensor]:
    """Monitored sensors that stayed mute far longer than usual while the home was active."""
    found = []
    for sensor, record in records.items():
        if (
            record[DAYS] < min_days
            or not record[DAILY_MEAN] >= MIN_DAILY_ACTIVATIONS
            or not record[ACTIVE_SHARE] >= MIN_ACTIVE_SHARE
        ):
            continue
        others = counter - record[AT_COUNTER]
        silent = now_ts - record[LAST_TS]
        limit = max(SILENCE_FACTOR * record[LONGEST_GAP], MIN_OTHER_EVENTS)
        if others >= limit and silent >= MIN_SILENT_S:
            found.append(SilentSensor(sensor, silent, others, record[DAILY_MEAN]))
    return found


def silent_finding(silent: list[SilentSensor], all_names: list[str]) -> Finding:
    first = silent[0]
    names = ", ".join(all_names)
    usual = f"Sensor {first.sensor} usually reports about {first.usual_daily:.0f} times a day"
    observed = (
        f"silent for {duration(first.silent_s / 60)} while other sensors saw "
        f"{first.other_events:.0f} movements (silent: {names})"
    )
    return Finding(
        AlertType.SENSOR_OFFLINE,
        Severity.WARNING,
        f"{usual}; {observed}. Check its battery and pairing: activity there is not seen.",
        Evidence(
            sensors=list(all_names),
            usual=usual,
            observed=observed,
            figures={"silent_min": round(first.silent_s / 60, 1), "others": first.other_events},
        ),
    )


def fired_again(event: Event, silent: list[str]) -> bool:
    return event.sensor in silent


__all__ = [
    "MAX_TRACKED_SENSORS",
    "SilentSensor",
    "learn_sensor",
    "faded_mean",
    "roll_sensors",
    "silent_finding",
    "silent_sensors",
]
