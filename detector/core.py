"""The pure detector core: events, health and ticks in, alerts out. No I/O, no wall clock.

The live service, replay, evaluation and benchmarks all drive this same class. Time only
comes from the events themselves and from the `now` passed to `tick`.

>>> from datetime import UTC, datetime
>>> from detector.config import DetectorConfig
>>> detector = Detector(DetectorConfig())
>>> detector.tick(datetime(2026, 1, 1, 12, tzinfo=UTC))
[]
>>> detector.learning_progress("hh-1")
0.0
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dagritme.models import (
    Alert,
    AlertType,
    Availability,
    DeviceHealth,
    Event,
    Evidence,
    Feedback,
    Resolution,
    Severity,
)
from dagritme.rhythm import minute_clock
from detector.alerts import Finding, duration, open_alert, resolved
from detector.config import DetectorConfig
from detector.learning import Home, is_away, learn_event, roll_day, settle_rising
from detector.norms import Norms, compute_norms, learning_progress
from detector.rules import AUTO_RESOLVE, EVENT_RULES, TICK_RULES, EventContext, TickContext
from detector.sensors import CHECK_EVERY_EVENTS, silent_finding, silent_sensors
from detector.state import ALERT_INDEX, HouseholdState, alert_key
from detector.trends import TREND_WEEKDAY, evaluate_trends

logger = logging.getLogger(__name__)

# ~0.3 ms each. All homes of a time zone roll at the same local midnight; refreshing 500 per
# tick keeps that tick well under 1 s, and 10,000 homes are fresh within 20 ticks (an event
# refreshes its home at once). Until then yesterday's norms apply, one day's decay apart.
NORM_REFRESHES_PER_TICK = 500
# Opening one of these marks the running silence as a deviation, not to be learned as normal.
SILENCE_ALERTS = frozenset({AlertType.INACTIVITY, AlertType.BATHROOM_LONG, AlertType.NOT_RETURNED})


@dataclass(frozen=True, slots=True)
class HouseholdStatus:
    household: str
    learning_progress: float
    last_activity: datetime | None
    away: bool
    usual_rising: str | None  # "07:40" once learned
    open_alerts: int


class Detector:
    """Per-household online rhythm models and alert rules."""

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self._th = config.thresholds
        self._homes: dict[str, Home] = {}
        self._dirty: set[str] = set()  # households changed since the last `take_dirty`

    # ----------------------------------------------------------------- households
    def households(self) -> list[str]:
        return list(self._homes)

    def take_dirty(self) -> list[str]:
        """Households whose state changed since the previous call (what to checkpoint)."""
        dirty = sorted(self._dirty)
        self._dirty.clear()
        return dirty

    def _home(self, household: str) -> Home:
        home = self._homes.get(household)
        if home is None:
            state = HouseholdState(household)
            home = Home(state, self.config.timezone_for(household), compute_norms(state, self._th))
            self._homes[household] = home
        return home

    def learning_progress(self, household: str) -> float:
        """0..1: how far the learning period is; 1 means learned norms are in use."""
        home = self._homes.get(household)
        return learning_progress(home.state, self._th) if home else 0.0

    def status(self, household: str) -> HouseholdStatus:
        """What a dashboard shows about a household (no personal data)."""
        norms = self.norms(household)
        state = self._home(household).state
        last = state.last_presence_ts
        return HouseholdStatus(
            household=household,
            learning_progress=norms.progress,
            last_activity=None if math.isnan(last) else datetime.fromtimestamp(last, UTC),
            away=is_away(state, self._th),
            usual_rising=(
                minute_clock(norms.rising[0].usual_minute)
                if norms.learned and norms.rising[0].usual_minute is not None
                else None
            ),
            open_alerts=len(state.open_alerts),
        )

    def norms(self, household: str) -> Norms:
        home = self._home(household)
        if home.norms_stale:
            self._refresh(home)
        return home.norms

    def open_alerts(self, household: str) -> list[Alert]:
        home = self._homes.get(household)
        return list(home.state.open_alerts.values()) if home else []

    def snapshot(self, household: str) -> bytes:
        return self._home(household).state.snapshot()

    def restore(self, household: str, data: bytes) -> None:
        """Replace a household's state with a snapshot (raises StateError when corrupt)."""
        state = HouseholdState.restore(household, data)
        home = Home(state, self.config.timezone_for(household), compute_norms(state, self._th))
        home.seen_ids.update(state.recent_ids)
        self._homes[household] = home
        self._dirty.discard(household)  # the snapshot it came from is the saved state

    # ----------------------------------------------------------------- alert lifecycle
    def _open(self, home: Home, finding: Finding, now: datetime) -> Alert | None:
        state = home.state
        key = alert_key(finding.type, finding.subtype)
        if key in state.open_alerts:
            return None
        alert = open_alert(state.household, key, finding, now)
        state.open_alerts[key] = alert
        self._dirty.add(state.household)
        if finding.type in SILENCE_ALERTS:
            state.gap_flagged = True
        elif finding.type is AlertType.NOT_UP:
            state.not_up_day = state.day_ordinal
            state.today.alerted = True
        logger.debug("alert %s opened (%s)", alert.alert_id, alert.type.value)
        return alert

    def _close(self, home: Home, key: str, now: datetime) -> Alert | None:
        alert = home.state.open_alerts.pop(key, None)
        if alert:
            self._dirty.add(home.state.household)
        return resolved(alert, now) if alert else None

    def _refresh(self, home: Home) -> None:
        home.norms = compute_norms(home.state, self._th)
        home.norms_stale = False

    def _roll(self, home: Home, ordinal: int, now: datetime) -> list[Alert]:
        roll_day(home, ordinal, self._th)
        out: list[Alert] = []
        closed = self._close(home, alert_key(AlertType.NIGHT_RESTLESS), now)
        if closed:
            out.append(closed)
        learned = learning_progress(home.state, self._th) >= 1.0
        if datetime.fromordinal(ordinal).weekday() == TREND_WEEKDAY and learned:
            for subtype, finding in evaluate_trends(home.state).items():
                if finding is None:
                    closed = self._close(home, alert_key(AlertType.TREND, subtype), now)
                    if closed:
                        out.append(closed)
                else:
                    opened = self._open(home, finding, now)
                    if opened:
                        out.append(opened)
        return out

    # ----------------------------------------------------------------- inputs
    def observe(self, event: Event) -> list[Alert]:
        """Learn from one event; return alerts it opens or auto-resolves."""
        home = self._home(event.household)
        if not home.first_sight(event.event_id):
            return []
        self._dirty.add(event.household)
        state = home.state
        local = event.ts.astimezone(home.tz)
        out: list[Alert] = []
        ordinal = local.toordinal()
        if ordinal > state.day_ordinal:
            out.extend(self._roll(home, ordinal, event.ts))
        if home.norms_stale:
            self._refresh(home)
        learn_event(home, event, event.ts.timestamp(), local, self._th)
        if state.open_alerts:
            for rule in AUTO_RESOLVE:
                key = rule.type.value
                if key in state.open_alerts and rule.when(event, state):
                    closed = self._close(home, key, event.ts)
                    if closed:
                        out.append(closed)
        out.extend(self._sensor_silence(home, event))
        context = EventContext(home, event, local, self._th)
        for event_rule in EVENT_RULES:
            finding = event_rule.check(context)
            if finding:
                opened = self._open(home, finding, event.ts)
                if opened:
                    out.append(opened)
        return out

    def _sensor_silence(self, home: Home, event: Event) -> list[Alert]:
        """A silent sensor that fires again is back; every few presence events, look for
        sensors mute while the home is active (amortised: not on every event or tick)."""
        state = home.state
        key = alert_key(AlertType.SENSOR_OFFLINE)
        if event.sensor in state.silent_sensors:
            state.silent_sensors.remove(event.sensor)
            if not state.silent_sensors and not state.offline_sensors:
                closed = self._close(home, key, event.ts)
                return [closed] if closed else []
            return []
        if state.presence_counter < state.next_sensor_check:
            return []
        state.next_sensor_check = state.presence_counter + CHECK_EVERY_EVENTS
        found = [
            silent
            for silent in silent_sensors(
                state.sensor_records,
                state.presence_counter,
                event.ts.timestamp(),
                self._th.learning_days,
            )
            if silent.sensor not in state.silent_sensors
        ]
        if not found:
            return []
        state.silent_sensors.extend(silent.sensor for silent in found)
        logger.info("%d sensor(s) silent while the home is active", len(found))
        if key in state.open_alerts:
            return []
        names = sorted({*state.silent_sensors, *state.offline_sensors})
        opened = self._open(home, silent_finding(found, names), event.ts)
        return [opened] if opened else []

    def tick(self, now: datetime) -> list[Alert]:
        """Run the time-based checks of every household at `now` (aware)."""
        if now.tzinfo is None:
            raise ValueError("tick needs a timezone-aware time")
        now_ts = now.timestamp()
        local_by_zone: dict[ZoneInfo, datetime] = {}
        out: list[Alert] = []
        refresh_budget = NORM_REFRESHES_PER_TICK
        for home in self._homes.values():
            local = local_by_zone.get(home.tz)
            if local is None:
                local = local_by_zone[home.tz] = now.astimezone(home.tz)
            state = home.state
            if state.day_ordinal < 0:
                continue  # nothing seen yet
            ordinal = local.toordinal()
            if ordinal > state.day_ordinal:
                out.extend(self._roll(home, ordinal, now))
                self._dirty.add(state.household)
            if home.norms_stale and refresh_budget > 0:
                self._refresh(home)  # spread over ticks: all homes roll at local midnight
                refresh_budget -= 1
            if settle_rising(state.today, now_ts):
                self._dirty.add(state.household)
            context = TickContext(
                home,
                now,
                now_ts,
                local,
                local.hour * 60 + local.minute,
                self._th,
                is_away(state, self._th),
                not math.isnan(state.gateway_offline_since),
            )
            for rule in TICK_RULES:
                if rule.type.value in state.open_alerts:
                    continue
                finding = rule.check(context)
                if finding:
                    opened = self._open(home, finding, now)
                    if opened:
                        out.append(opened)
        return out

    def observe_gateway(self, household: str, online: bool, ts: datetime) -> list[Alert]:
        """Gateway status (retained online/offline); silence during an outage is not learned."""
        state = self._home(household).state
        self._dirty.add(household)
        if state.day_ordinal < 0:
            state.day_ordinal = ts.astimezone(self._home(household).tz).toordinal()
        if not online:
            if math.isnan(state.gateway_offline_since):
                state.gateway_offline_since = ts.timestamp()
            return []
        if math.isnan(state.gateway_offline_since):
            return []
        state.gateway_offline_since = math.nan
        state.gap_flagged = True
        closed = self._close(self._home(household), alert_key(AlertType.GATEWAY_OFFLINE), ts)
        return [closed] if closed else []

    def observe_health(self, health: DeviceHealth) -> list[Alert]:
        """Device availability and battery -> sensor_offline / battery_low."""
        home = self._home(health.household)
        state = home.state
        self._dirty.add(health.household)
        out: list[Alert] = []
        offline = health.availability is Availability.OFFLINE
        out.extend(
            self._technical(
                home,
                AlertType.SENSOR_OFFLINE,
                state.offline_sensors,
                health,
                bad=offline,
                good=not offline,
            )
        )
        if health.battery is not None:
            out.extend(
                self._technical(
                    home,
                    AlertType.BATTERY_LOW,
                    state.low_battery_sensors,
                    health,
                    bad=health.battery <= self._th.battery_low_percent,
                    good=health.battery >= self._th.battery_ok_percent,
                )
            )
        return out

    def _technical(
        self,
        home: Home,
        kind: AlertType,
        sensors: list[str],
        health: DeviceHealth,
        *,
        bad: bool,
        good: bool,
    ) -> list[Alert]:
        if bad and health.sensor not in sensors:
            sensors.append(health.sensor)
        elif good and health.sensor in sensors:
            sensors.remove(health.sensor)
        key = alert_key(kind)
        still_silent = kind is AlertType.SENSOR_OFFLINE and home.state.silent_sensors
        if not sensors and not still_silent:
            closed = self._close(home, key, health.ts)
            return [closed] if closed else []
        if key in home.state.open_alerts or not sensors:
            return []
        opened = self._open(home, _technical_finding(kind, sensors, health), health.ts)
        return [opened] if opened else []

    def feedback(self, feedback: Feedback) -> None:
        """A carer's verdict moves this household's limit for that alert type."""
        home = self._home(feedback.household)
        state = home.state
        self._dirty.add(feedback.household)
        index = ALERT_INDEX[feedback.type]
        step, bound = self._th.feedback_step, self._th.feedback_max_factor
        factor = float(state.feedback_factor[index])
        if feedback.resolution is Resolution.FALSE_ALARM:
            factor = min(factor * step, bound)
            if feedback.type in SILENCE_ALERTS and alert_key(feedback.type) in state.open_alerts:
                state.gap_flagged = False  # the silence was normal after all: learn it
            if feedback.type is AlertType.NOT_UP:
                state.today.alerted = False
        elif feedback.resolution is Resolution.TRUE_ALARM:
            factor = max(factor / step, 1 / bound)
        else:
            return
        state.feedback_factor[index] = factor
        home.norms = compute_norms(state, self._th)


def _technical_finding(kind: AlertType, sensors: list[str], health: DeviceHealth) -> Finding:
    names = ", ".join(sensors)
    if kind is AlertType.BATTERY_LOW:
        usual = "Sensor batteries are normally above 25%"
        observed = f"battery low on {names}"
        if health.battery is not None:
            observed += f" ({health.battery:.0f}% on {health.sensor})"
        severity = Severity.INFO
    else:
        usual = "All sensors are normally online"
        observed = f"offline: {names}"
        if health.last_seen is not None:
            silent = (health.ts - health.last_seen).total_seconds() / 60
            observed += f" (last seen {duration(silent)} ago)"
        severity = Severity.WARNING
    return Finding(
        kind,
        severity,
        f"{usual}; {observed}. Replace or re-pair the sensor, or monitoring has blind spots.",
        Evidence(sensors=list(sensors), usual=usual, observed=observed),
    )


__all__ = ["Detector", "HouseholdStatus"]
