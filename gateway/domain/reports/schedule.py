"""When officials' work reports are due, and whether each due report came on time, late, or not at all.

The rules, as this module computes them (all dates are local dates in the calendar's time zone):

- **Periods.** A `week` starts on a Monday and ends on the Sunday; a `month` starts on the 1st; a `year` on
  1 January. A report names its period by kind and start date; a start that is not aligned is refused.
- **Due dates** (defaults: SPEC "Work reports"):
  - weekly: the `weekly_grace_working_days`-th working day after the week's Sunday (default 1: the end of
    the next working day, normally the Monday after);
  - monthly: day `monthly_day` (default 5) of the next month;
  - yearly: day `yearly_day` (default 31) of January of the next year;
  - a monthly or yearly due date on a day off moves to the next working day (as appeals' due dates do).
  A report is on time when the local date it was received is on or before the due date.
- **Which reports are due.** Every period that lies wholly inside the official's service — the union of
  their memberships (posts held), contiguous memberships merged — and has begun by `now`. A period the
  official joined in the middle of (or left in the middle of) is not due; a report for it is still accepted
  and shown, it just is not required.
- **Status** of a due report, as of `now`: `on_time` (received by the due date), `late` (received after
  it), `missing` (not received, and the due date has passed), `pending` (not received yet, not due yet).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from gateway.domain.appeals.deadlines import DeadlinePolicy


class PeriodKind(StrEnum):
    week = "week"
    month = "month"
    year = "year"


class ReportStatus(StrEnum):
    on_time = "on_time"
    late = "late"
    missing = "missing"
    pending = "pending"


DECIDED = frozenset({ReportStatus.on_time, ReportStatus.late, ReportStatus.missing})


@dataclass(frozen=True)
class ReportSchedule:
    """When reports are due. `calendar` gives the time zone, the weekend and the holidays (the same as the
    appeals' deadlines by default)."""

    weekly_grace_working_days: int = 1
    monthly_day: int = 5
    yearly_day: int = 31  # of January
    move_off_day_to_next_working_day: bool = True
    calendar: DeadlinePolicy = field(default_factory=DeadlinePolicy)

    def __post_init__(self) -> None:
        if not _whole(self.weekly_grace_working_days) or self.weekly_grace_working_days < 1:
            raise ValueError("ReportSchedule.weekly_grace_working_days is a whole number ≥ 1")
        if not _whole(self.monthly_day) or not 1 <= self.monthly_day <= 28:
            raise ValueError("ReportSchedule.monthly_day is a day from 1 to 28 (every month has it)")
        if not _whole(self.yearly_day) or not 1 <= self.yearly_day <= 31:
            raise ValueError("ReportSchedule.yearly_day is a day of January, 1 to 31")

    def local_date(self, moment: datetime) -> date:
        return self.calendar.local_date(moment)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- periods ----------------------------------------------------------------------------------------------


def aligned(kind: PeriodKind | str, start: date) -> bool:
    """Whether `start` can begin a period of this kind: a Monday, the 1st of a month, 1 January."""
    kind = PeriodKind(kind)
    if kind is PeriodKind.week:
        return start.weekday() == 0
    if kind is PeriodKind.month:
        return start.day == 1
    return (start.month, start.day) == (1, 1)


def alignment_rule(kind: PeriodKind | str) -> str:
    return {"week": "a Monday", "month": "the 1st of a month", "year": "1 January"}[str(PeriodKind(kind))]


def period_end(kind: PeriodKind | str, start: date) -> date:
    """The last day of the period (inclusive)."""
    kind = PeriodKind(kind)
    if kind is PeriodKind.week:
        return start + timedelta(days=6)
    if kind is PeriodKind.month:
        return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    return date(start.year, 12, 31)


def next_start(kind: PeriodKind | str, start: date) -> date:
    return period_end(kind, start) + timedelta(days=1)


def first_start_on_or_after(kind: PeriodKind | str, day: date) -> date:
    kind = PeriodKind(kind)
    if kind is PeriodKind.week:
        return day + timedelta(days=(7 - day.weekday()) % 7)
    if kind is PeriodKind.month:
        if day.day == 1:
            return day
        return date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return day if (day.month, day.day) == (1, 1) else date(day.year + 1, 1, 1)


def period_label(kind: PeriodKind | str, start: date) -> str:
    """'2026-W05', '2026-03', '2026'."""
    kind = PeriodKind(kind)
    if kind is PeriodKind.week:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if kind is PeriodKind.month:
        return f"{start.year}-{start.month:02d}"
    return str(start.year)


# --- due dates --------------------------------------------------------------------------------------------


def due_date(kind: PeriodKind | str, start: date, schedule: ReportSchedule | None = None) -> date:
    """The last local date on which the report for this period is on time."""
    schedule = schedule or ReportSchedule()
    kind = PeriodKind(kind)
    cal = schedule.calendar
    if kind is PeriodKind.week:
        day, counted = period_end(kind, start), 0
        while counted < schedule.weekly_grace_working_days:
            day += timedelta(days=1)
            if cal.is_working_day(day):
                counted += 1
        return day
    if kind is PeriodKind.month:
        after = next_start(kind, start)
        day = date(after.year, after.month, schedule.monthly_day)
    else:
        day = date(start.year + 1, 1, schedule.yearly_day)
    if schedule.move_off_day_to_next_working_day:
        day = cal.next_working_day(day)
    return day


# --- an official's schedule -------------------------------------------------------------------------------

Service = tuple[date, date | None]  # a membership: first day, last day (inclusive; None: still serving)


@dataclass(frozen=True)
class ReceivedReport:
    kind: PeriodKind
    start: date
    received_at: datetime
    report_id: str | None = None


@dataclass(frozen=True)
class DueReport:
    kind: PeriodKind
    start: date
    end: date
    due: date
    status: ReportStatus
    received_at: datetime | None = None
    report_id: str | None = None

    @property
    def label(self) -> str:
        return period_label(self.kind, self.start)


def merge_service(memberships: Iterable[Service]) -> list[Service]:
    """Memberships merged into continuous spans of service (overlapping or back-to-back ones join)."""
    spans: list[list] = []
    for start, end in sorted(memberships, key=lambda m: m[0]):
        if spans and (spans[-1][1] is None or start <= spans[-1][1] + timedelta(days=1)):
            last = spans[-1]
            last[1] = None if last[1] is None or end is None else max(last[1], end)
        else:
            spans.append([start, end])
    return [(s, e) for s, e in spans]


def due_periods(
    kind: PeriodKind | str, memberships: Iterable[Service], today: date
) -> Iterator[tuple[date, date]]:
    """(start, end) of every period of this kind wholly inside the service and begun by `today`."""
    kind = PeriodKind(kind)
    for span_start, span_end in merge_service(memberships):
        start = first_start_on_or_after(kind, span_start)
        while start <= today:
            end = period_end(kind, start)
            if span_end is not None and end > span_end:
                break
            yield start, end
            start = end + timedelta(days=1)


def status_of(
    due: date, received_at: datetime | None, now: datetime, schedule: ReportSchedule
) -> ReportStatus:
    if received_at is not None:
        return ReportStatus.on_time if schedule.local_date(received_at) <= due else ReportStatus.late
    return ReportStatus.missing if schedule.local_date(now) > due else ReportStatus.pending


def official_schedule(
    memberships: Sequence[Service],
    received: Iterable[ReceivedReport],
    now: datetime,
    schedule: ReportSchedule | None = None,
    kinds: Sequence[PeriodKind | str] = tuple(PeriodKind),
) -> list[DueReport]:
    """Every report due from the official (see the module's docstring), oldest first, with its status as of
    `now`. Reports received at or after `now` are not seen (so the answer for a past moment never changes)."""
    schedule = schedule or ReportSchedule()
    by_period: Mapping[tuple[PeriodKind, date], ReceivedReport] = {
        (PeriodKind(r.kind), r.start): r for r in received if r.received_at < now
    }
    today = schedule.local_date(now)
    out: list[DueReport] = []
    for kind in (PeriodKind(k) for k in kinds):
        for start, end in due_periods(kind, memberships, today):
            report = by_period.get((kind, start))
            due = due_date(kind, start, schedule)
            at = report.received_at if report else None
            out.append(
                DueReport(
                    kind,
                    start,
                    end,
                    due,
                    status_of(due, at, now, schedule),
                    at,
                    report.report_id if report else None,
                )
            )
    out.sort(key=lambda d: (d.due, d.start, d.kind))
    return out
