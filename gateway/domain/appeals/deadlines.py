"""Deadlines of an appeal. Defaults follow Belarus' law on appeals; everything is configurable per deployment.

The rules, as this module computes them (all dates are local dates in `DeadlinePolicy.timezone`):

- **Reply due date** = the local date of receipt + `reply_calendar_days` calendar days, + the paused days;
  if that date is not a working day (weekend or public holiday) and `move_off_day_to_next_working_day`, the
  next working day.
- **Paused days** = for every interval the appeal spent in `more_info_required` (from the request to the
  citizen's supplement, or the withdrawal that ended it), the number of calendar days between the local date
  the request was made and the local date it ended: `(end.date() - start.date()).days`. So a request answered
  the same day pauses nothing, one made on the 25th and answered on the 28th pauses 3 days. A pause still open
  counts up to `now` (by default the `now` the state was folded at, else its last event).
- **Extension**: the official names a new due date (with a reason). It must be after the current due date and
  at most `extension_max_months` calendar months after the date of receipt plus the paused days so far (moved
  to the next working day like any due date). After an extension the due date is the extended date, plus the
  days of pauses that began after the extension, moved off a day off in the same way.
- **Forwarding due date** = the `forward_working_days`-th working day after the local date of receipt (the day
  of receipt itself does not count).
- **Overdue** is computed, never stored, and only while the appeal waits for a reply (received, forwarded,
  in process, more information required): `overdue` from the day after the due date, `very_overdue` when the
  local date is more than `very_overdue_days` past the due date.
"""

from __future__ import annotations

import calendar
import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from gateway.domain.appeals.events import Event
    from gateway.domain.appeals.lifecycle import AppealState

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --- holidays ----------------------------------------------------------------------------------------------


def orthodox_easter(year: int) -> date:
    """Orthodox Easter Sunday as a Gregorian date: Meeus' Julian algorithm, + 13 days (valid 1900–2099)."""
    if not 1900 <= year <= 2099:
        raise ValueError(f"Orthodox Easter is computed for 1900–2099 only, not {year}")
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month, day = divmod(d + e + 114, 31)
    return date(year, month, day + 1) + timedelta(days=13)


_BELARUS_FIXED = (
    (1, 1, "New Year's Day"),
    (1, 2, "New Year holiday"),
    (1, 7, "Orthodox Christmas"),
    (3, 8, "Women's Day"),
    (5, 1, "Labour Day"),
    (5, 9, "Victory Day"),
    (7, 3, "Independence Day"),
    (11, 7, "October Revolution Day"),
    (12, 25, "Catholic Christmas"),
)


class HolidayCalendar:
    """Public holidays (date → name), and transferred working days that override weekends and holidays.

    Immutable and comparable by value. Build it with `belarus()`, `from_csv()` and `merged()`.
    """

    __slots__ = ("_holidays", "_working")

    def __init__(
        self, holidays: Mapping[date, str] | None = None, working_days: Mapping[date, str] | None = None
    ):
        self._holidays = MappingProxyType(dict(holidays or {}))
        self._working = MappingProxyType(dict(working_days or {}))

    @classmethod
    def belarus(cls, years: Iterable[int] = range(2000, 2100)) -> HolidayCalendar:
        """Belarus' public holidays: the fixed ones and Radunitsa (Orthodox Easter + 9 days)."""
        return _belarus(tuple(years))

    @classmethod
    def from_csv(cls, text: str) -> HolidayCalendar:
        """Lines `YYYY-MM-DD,name`; blank lines and lines starting with `#` are skipped; a name with commas is
        quoted ("..."). An optional third field `working` marks a transferred working day (a Saturday worked
        in exchange for a bridge day, say); `holiday` (the default) marks a day off. Later lines win."""
        holidays: dict[date, str] = {}
        working: dict[date, str] = {}
        for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = [f.strip() for f in next(csv.reader([line]))]
            if len(fields) > 3:
                raise ValueError(f"holiday calendar line {number}: expected 'YYYY-MM-DD,name[,working]'")
            try:
                day = date.fromisoformat(fields[0])
            except ValueError:
                raise ValueError(
                    f"holiday calendar line {number}: {fields[0]!r} is not a YYYY-MM-DD date"
                ) from None
            if len(fields[0]) != 10:
                raise ValueError(f"holiday calendar line {number}: {fields[0]!r} is not a YYYY-MM-DD date")
            name = fields[1] if len(fields) > 1 and fields[1] else "Public holiday"
            flag = fields[2].lower() if len(fields) > 2 and fields[2] else "holiday"
            if flag == "holiday":
                holidays[day] = name
                working.pop(day, None)
            elif flag == "working":
                working[day] = name
                holidays.pop(day, None)
            else:
                raise ValueError(f"holiday calendar line {number}: the third field is 'holiday' or 'working'")
        return cls(holidays, working)

    def to_csv(self) -> str:
        lines = [f"{d.isoformat()},{_csv_field(n)}" for d, n in sorted(self._holidays.items())]
        lines += [f"{d.isoformat()},{_csv_field(n)},working" for d, n in sorted(self._working.items())]
        return "".join(line + "\n" for line in sorted(lines))

    def merged(self, other: HolidayCalendar) -> HolidayCalendar:
        """Both calendars; where they disagree about a date, `other` wins."""
        holidays = {**self._holidays, **other._holidays}
        working = {**self._working, **other._working}
        for day in other._holidays:
            working.pop(day, None)
        for day in other._working:
            holidays.pop(day, None)
        return HolidayCalendar(holidays, working)

    @property
    def holidays(self) -> Mapping[date, str]:
        return self._holidays

    @property
    def working_days(self) -> Mapping[date, str]:
        return self._working

    def name(self, day: date) -> str | None:
        return self._holidays.get(day)

    def is_holiday(self, day: date) -> bool:
        return day in self._holidays

    def is_working_day(self, day: date, weekend: Sequence[int] = (5, 6)) -> bool:
        if day in self._working:
            return True
        return day not in self._holidays and day.weekday() not in weekend

    def __contains__(self, day: object) -> bool:
        return day in self._holidays

    def __iter__(self) -> Iterator[date]:
        return iter(sorted(self._holidays))

    def __len__(self) -> int:
        return len(self._holidays)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HolidayCalendar):
            return NotImplemented
        return dict(self._holidays) == dict(other._holidays) and dict(self._working) == dict(other._working)

    def __hash__(self) -> int:
        return hash((frozenset(self._holidays.items()), frozenset(self._working.items())))

    def __repr__(self) -> str:
        return f"HolidayCalendar({len(self._holidays)} holidays, {len(self._working)} working days)"


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"') else text


@lru_cache(maxsize=8)
def _belarus(years: tuple[int, ...]) -> HolidayCalendar:
    holidays: dict[date, str] = {}
    for year in years:
        for month, day, name in _BELARUS_FIXED:
            holidays[date(year, month, day)] = name
        holidays[orthodox_easter(year) + timedelta(days=9)] = "Radunitsa"
    return HolidayCalendar(holidays)


# --- the policy -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlinePolicy:
    reply_calendar_days: int = 15
    extension_max_months: int = 1
    forward_working_days: int = 5
    quiet_period_days: int = 30
    very_overdue_days: int = 15
    timezone: str = "Europe/Minsk"
    move_off_day_to_next_working_day: bool = True
    weekend: tuple[int, ...] = (5, 6)
    holidays: HolidayCalendar = field(default_factory=HolidayCalendar.belarus)

    def __post_init__(self) -> None:
        for name in (
            "reply_calendar_days",
            "extension_max_months",
            "forward_working_days",
            "quiet_period_days",
            "very_overdue_days",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"DeadlinePolicy.{name} is a whole number ≥ 0, not {value!r}")
        object.__setattr__(self, "weekend", tuple(self.weekend))
        if any(not 0 <= d <= 6 for d in self.weekend) or len(set(self.weekend)) > 6:
            raise ValueError("DeadlinePolicy.weekend lists weekdays 0 (Monday) to 6 (Sunday), not all seven")
        try:
            ZoneInfo(self.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"DeadlinePolicy.timezone: no time zone {self.timezone!r}") from None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def place(self) -> str:
        """'Minsk' for 'Europe/Minsk': how the steps name the clock."""
        return self.timezone.rsplit("/", 1)[-1].replace("_", " ")

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def is_working_day(self, day: date) -> bool:
        return self.holidays.is_working_day(day, self.weekend)

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        for _ in range(400):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no working day within 400 days: check the holiday calendar")

    def why_off(self, day: date) -> str:
        name = self.holidays.name(day)
        if name is not None:
            return f"a public holiday ({name})"
        return f"a {_WEEKDAYS[day.weekday()]}"


# --- due dates --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDate:
    """The reply due date and, in words for the citizen, how it was computed."""

    date: date
    steps: tuple[str, ...]


def add_months(day: date, months: int) -> date:
    """Calendar months later; the day is clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _state(
    subject: AppealState | Sequence[Event], policy: DeadlinePolicy, now: datetime | None
) -> AppealState:
    if isinstance(subject, Sequence):
        from gateway.domain.appeals.lifecycle import fold

        return fold(subject, now=now, policy=policy)
    return subject


def _until(state: AppealState, now: datetime | None) -> datetime:
    return now or state.as_of or state.last_event_at or state.received_at


def paused_days(
    state: AppealState, policy: DeadlinePolicy, *, now: datetime | None = None, since: datetime | None = None
) -> int:
    """Whole calendar days spent waiting for the citizen (see the module's docstring); only the pauses that
    began at or after `since` when it is given. An open pause counts up to `now`."""
    until = _until(state, now)
    total = 0
    for start, end in state.pauses:
        if since is not None and start < since:
            continue
        total += max(0, (policy.local_date(end or until) - policy.local_date(start)).days)
    return total


def _move_off_day(day: date, policy: DeadlinePolicy, steps: list[str]) -> date:
    if not policy.move_off_day_to_next_working_day or policy.is_working_day(day):
        return day
    moved = policy.next_working_day(day)
    steps.append(
        f"{day.isoformat()} is {policy.why_off(day)}: moved to the next working day {moved.isoformat()}"
    )
    return moved


def due_date(
    subject: AppealState | Sequence[Event],
    policy: DeadlinePolicy | None = None,
    *,
    now: datetime | None = None,
) -> DueDate:
    """The reply due date of an appeal (a folded state, or its events) with the steps that explain it."""
    policy = policy or DeadlinePolicy()
    state = _state(subject, policy, now)
    received = policy.local_date(state.received_at)
    steps = [f"Received on {received.isoformat()} ({policy.place} time)"]
    if state.extended_due_date is not None:
        day = state.extended_due_date
        # The reason is the official's free text: it stays in the signed document, off this public account.
        steps.append(f"Extended by the official to {day.isoformat()}")
        since = state.extended_at
    else:
        day = received + timedelta(days=policy.reply_calendar_days)
        steps.append(f"+{policy.reply_calendar_days} calendar days: {day.isoformat()}")
        since = None
    paused = paused_days(state, policy, now=now, since=since)
    if paused:
        day += timedelta(days=paused)
        still = ""
        if state.pauses and state.pauses[-1][1] is None:
            still = f" (still waiting; counted up to {policy.local_date(_until(state, now)).isoformat()})"
        plural = "day" if paused == 1 else "days"
        steps.append(
            f"+{paused} {plural} paused while waiting for your information{still}: {day.isoformat()}"
        )
    day = _move_off_day(day, policy, steps)
    return DueDate(day, tuple(steps))


def latest_extension(state: AppealState, policy: DeadlinePolicy, *, now: datetime | None = None) -> date:
    """The latest due date an official may extend to: `extension_max_months` after the date of receipt, plus
    the paused days so far, moved off a day off like any due date."""
    day = add_months(policy.local_date(state.received_at), policy.extension_max_months)
    day += timedelta(days=paused_days(state, policy, now=now))
    return _move_off_day(day, policy, [])


def forward_due(received_at: datetime, policy: DeadlinePolicy | None = None) -> date:
    """The day by which an appeal must reach the competent official: the `forward_working_days`-th working day
    after the local date of receipt."""
    policy = policy or DeadlinePolicy()
    day = policy.local_date(received_at)
    counted = 0
    while counted < policy.forward_working_days:
        day += timedelta(days=1)
        if policy.is_working_day(day):
            counted += 1
    return day


_AWAITING_REPLY = frozenset({"received", "forwarded", "in_process", "more_info_required"})

Overdue = Literal["on_time", "overdue", "very_overdue"]


def overdue(state: AppealState, now: datetime, policy: DeadlinePolicy | None = None) -> Overdue:
    """`overdue` from the day after the due date, `very_overdue` more than `very_overdue_days` past it; an
    appeal that no longer waits for a reply (replied, closed, withdrawn, left) is `on_time` here — see
    `replied_on_time` for whether its reply was."""
    policy = policy or DeadlinePolicy()
    if str(state.status) not in _AWAITING_REPLY:
        return "on_time"
    late = (policy.local_date(now) - due_date(state, policy, now=now).date).days
    if late > policy.very_overdue_days:
        return "very_overdue"
    if late > 0:
        return "overdue"
    return "on_time"


def replied_on_time(state: AppealState, policy: DeadlinePolicy | None = None) -> bool | None:
    """Whether the reply was sent by the due date (local dates); None when there is no reply."""
    policy = policy or DeadlinePolicy()
    if state.replied_at is None:
        return None
    return policy.local_date(state.replied_at) <= due_date(state, policy, now=state.replied_at).date
