"""ISO weeks, the unit of ratings: "2026-W05" runs from Monday 00:00 to the next Monday 00:00, local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError:
            raise ValueError(f"no ISO week {self.year}-W{self.week:02d}") from None

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK.fullmatch(text.strip())
        if not match:
            raise ValueError(f"an ISO week is written YYYY-Www (e.g. 2026-W05), not {text!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, day: date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def last_complete(cls, now: datetime, timezone: str) -> IsoWeek:
        """The week before the one `now` falls in (local time): the latest week that has ended."""
        return cls.containing(now.astimezone(ZoneInfo(timezone)).date()).previous()

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def previous(self) -> IsoWeek:
        return IsoWeek.containing(self.monday - timedelta(days=7))

    def next(self) -> IsoWeek:
        return IsoWeek.containing(self.monday + timedelta(days=7))

    def start(self, timezone: str) -> datetime:
        """Monday 00:00 local time, as an aware datetime."""
        return datetime.combine(self.monday, time(0), ZoneInfo(timezone))

    def end(self, timezone: str) -> datetime:
        """The next Monday 00:00 local time: the week holds the moments before it (the `as of` of ratings)."""
        return datetime.combine(self.monday + timedelta(days=7), time(0), ZoneInfo(timezone))
