"""The daily-rhythm heatmap: presence events per local hour (columns) and day (rows),
over four weeks, as a server-rendered SVG (no JavaScript, readable by screen readers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape
from zoneinfo import ZoneInfo

from store.base import EventStore

CELL = 16
LABEL_W = 84
HEADER_H = 20


@dataclass(frozen=True, slots=True)
class RhythmGrid:
    days: list[date]  # oldest first
    counts: list[list[int]]  # [day][hour]

    @property
    def peak(self) -> int:
        return max((max(row) for row in self.counts), default=0)


def rhythm_grid(
    store: EventStore, household: str, tz: str, now: datetime, days: int = 28
) -> RhythmGrid:
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    day_list = [first + timedelta(days=i) for i in range(days)]
    index = {day: i for i, day in enumerate(day_list)}
    counts = [[0] * 24 for _ in day_list]
    for bucket in store.activity(household, start, end, timedelta(hours=1)):
        local = bucket.start.astimezone(zone)
        row = index.get(local.date())
        if row is not None:
            counts[row][local.hour] += bucket.count
    return RhythmGrid(day_list, counts)


def heatmap_svg(
    grid: RhythmGrid, title: str, hour_label: str, weekdays: list[str] | None = None
) -> str:
    """An SVG with a <title> per cell; darker blue is more activity.

    `weekdays` are the short day names Monday first, in the reader's language.
    """
    names = weekdays or ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    width = LABEL_W + 24 * CELL
    height = HEADER_H + len(grid.days) * CELL
    peak = grid.peak or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="hm-title"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="heatmap">',
        f'<title id="hm-title">{escape(title)}</title>',
    ]
    for hour in range(0, 24, 3):
        x = LABEL_W + hour * CELL + 2
        parts.append(f'<text x="{x}" y="14" font-size="11">{hour:02d}</text>')
    for row, day in enumerate(grid.days):
        y = HEADER_H + row * CELL
        label = f"{names[day.weekday()]} {day.strftime('%d-%m')}"
        parts.append(f'<text x="0" y="{y + 12}" font-size="11">{escape(label)}</text>')
        for hour, count in enumerate(grid.counts[row]):
            # Lightness from 97% (none) to 25% (the busiest hour) keeps contrast readable.
            lightness = 97 - round(72 * count / peak)
            label = f"{day.isoformat()} {hour:02d}:00 {hour_label}: {count}"
            parts.append(
                f'<rect x="{LABEL_W + hour * CELL}" y="{y}" width="{CELL - 1}"'
                f' height="{CELL - 1}" fill="hsl(210,70%,{lightness}%)">'
                f"<title>{escape(label)}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)
