"""When work reports are due, and the status of each report due from an official (hand-checked dates)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.domain.reports.schedule import (
    PeriodKind,
    ReceivedReport,
    ReportSchedule,
    ReportStatus,
    aligned,
    due_date,
    due_periods,
    merge_service,
    official_schedule,
    period_end,
    period_label,
)

MINSK = ZoneInfo("Europe/Minsk")


def minsk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MINSK)


def test_periods_begin_on_a_monday_the_first_and_1_january():
    assert aligned("week", date(2026, 11, 16))  # a Monday
    assert not aligned("week", date(2026, 11, 17))
    assert aligned("month", date(2026, 2, 1)) and not aligned("month", date(2026, 2, 2))
    assert aligned("year", date(2026, 1, 1)) and not aligned("year", date(2026, 2, 1))
    assert period_end("week", date(2026, 11, 16)) == date(2026, 11, 22)
    assert period_end("month", date(2024, 2, 1)) == date(2024, 2, 29)  # a leap year
    assert period_end("year", date(2026, 1, 1)) == date(2026, 12, 31)
    assert [period_label(k, d) for k, d in [("week", date(2026, 2, 2)), ("month", date(2026, 3, 1))]] == [
        "2026-W06",
        "2026-03",
    ]
    assert period_label("year", date(2026, 1, 1)) == "2026"


@pytest.mark.parametrize(
    ("kind", "start", "due", "why"),
    [
        # the week ends on Sunday 22 November; the next working day is Monday 23 November
        ("week", date(2026, 11, 16), date(2026, 11, 23), "the next working day"),
        # Sunday 31 December 2023; Monday 1 and Tuesday 2 January are holidays: Wednesday 3 January
        ("week", date(2023, 12, 25), date(2024, 1, 3), "over the New Year holidays"),
        # October 2026: by Thursday 5 November
        ("month", date(2026, 10, 1), date(2026, 11, 5), "the 5th of the next month"),
        # March 2025: 5 April 2025 is a Saturday, moved to Monday 7 April
        ("month", date(2025, 3, 1), date(2025, 4, 7), "a day off moves to the next working day"),
        # 2024: by Friday 31 January 2025
        ("year", date(2024, 1, 1), date(2025, 1, 31), "31 January"),
        # 2025: 31 January 2026 is a Saturday, moved to Monday 2 February
        ("year", date(2025, 1, 1), date(2026, 2, 2), "31 January on a Saturday"),
    ],
)
def test_due_dates_by_default(kind, start, due, why):
    assert due_date(kind, start) == due, why


def test_the_schedule_is_configurable():
    schedule = ReportSchedule(weekly_grace_working_days=3, monthly_day=10, yearly_day=15)
    # Sunday 22 November 2026 + 3 working days: Mon 23, Tue 24, Wed 25
    assert due_date("week", date(2026, 11, 16), schedule) == date(2026, 11, 25)
    assert due_date("month", date(2026, 10, 1), schedule) == date(2026, 11, 10)  # a Tuesday
    assert due_date("year", date(2026, 1, 1), schedule) == date(2027, 1, 15)  # a Friday
    with pytest.raises(ValueError, match="monthly_day"):
        ReportSchedule(monthly_day=30)
    with pytest.raises(ValueError, match="weekly_grace"):
        ReportSchedule(weekly_grace_working_days=0)


def test_memberships_merge_into_spans_of_service():
    assert merge_service([(date(2024, 4, 1), None), (date(2024, 1, 1), date(2024, 3, 31))]) == [
        (date(2024, 1, 1), None)
    ]
    # a gap: two spans; a month that straddles the gap is not due
    spans = [(date(2024, 1, 1), date(2024, 2, 14)), (date(2024, 3, 1), date(2024, 4, 30))]
    assert merge_service(spans) == spans
    months = [start for start, _ in due_periods("month", spans, date(2024, 12, 31))]
    assert months == [date(2024, 1, 1), date(2024, 3, 1), date(2024, 4, 1)]


def test_an_officials_schedule_says_on_time_late_missing_and_pending():
    # In post from Monday 5 October 2026; asked on Tuesday 3 November 2026 at noon (Minsk).
    memberships = [(date(2026, 10, 5), None)]
    now = minsk(2026, 11, 3, 12, 0)
    received = [
        # week of 5 Oct is due Monday 12 Oct: received that day at 23:30 Minsk time (20:30 UTC): on time
        ReceivedReport(PeriodKind.week, date(2026, 10, 5), minsk(2026, 10, 12, 23, 30), "wr-a"),
        # week of 12 Oct is due Monday 19 Oct: received on Tuesday 20 Oct just after midnight: late
        ReceivedReport(PeriodKind.week, date(2026, 10, 12), minsk(2026, 10, 20, 0, 10), "wr-b"),
        # received after `now`: not seen
        ReceivedReport(PeriodKind.week, date(2026, 10, 19), minsk(2026, 11, 4, 9, 0), "wr-c"),
    ]
    due = official_schedule(memberships, received, now)
    table = [(d.kind.value, d.start.isoformat(), d.due.isoformat(), d.status.value, d.report_id) for d in due]
    assert table == [
        ("week", "2026-10-05", "2026-10-12", "on_time", "wr-a"),
        ("week", "2026-10-12", "2026-10-19", "late", "wr-b"),
        ("week", "2026-10-19", "2026-10-26", "missing", None),
        ("week", "2026-10-26", "2026-11-02", "missing", None),
        # the week in progress and the month of November: not due yet
        ("week", "2026-11-02", "2026-11-09", "pending", None),
        # 5 December 2026 is a Saturday: Monday 7 December
        ("month", "2026-11-01", "2026-12-07", "pending", None),
    ]
    # October 2026 is not due: the official took up the post on the 5th, in the middle of it
    assert all(not (d.kind == "month" and d.start == date(2026, 10, 1)) for d in due)
    assert {d.status for d in due} == set(ReportStatus)


def test_a_period_after_the_official_left_is_not_due():
    memberships = [(date(2026, 1, 5), date(2026, 1, 20))]  # left on a Tuesday
    due = official_schedule(memberships, [], minsk(2026, 3, 1, 12, 0), kinds=("week",))
    assert [d.start for d in due] == [date(2026, 1, 5), date(2026, 1, 12)]
