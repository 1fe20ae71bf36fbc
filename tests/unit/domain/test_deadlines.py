"""Deadline arithmetic, computed by hand (Belarus' defaults: 15 calendar days, Minsk time, holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.domain.appeals.deadlines import (
    DeadlinePolicy,
    HolidayCalendar,
    add_months,
    due_date,
    forward_due,
    latest_extension,
    orthodox_easter,
    overdue,
    paused_days,
    replied_on_time,
)
from gateway.domain.appeals.events import Actor, ActorKind, Event
from gateway.domain.appeals.lifecycle import ChangeStatus, Reply, Supplement, apply, fold, receive
from gateway.domain.errors import DomainRejection

POLICY = DeadlinePolicy()
A = Actor(ActorKind.official, "a")
CITIZEN = Actor(ActorKind.citizen)


def minsk(y: int, m: int, d: int, hour: int = 12, minute: int = 0) -> datetime:
    """A Minsk wall-clock time (UTC+3 all year) as UTC."""
    return datetime(y, m, d, hour, minute, tzinfo=UTC) - timedelta(hours=3)


def received(at: datetime) -> list[Event]:
    return [receive(("a",), "portal", at=at)]


def then(events: list[Event], command, actor: Actor, at: datetime) -> list[Event]:
    events.append(apply(events, command, at=at, actor=actor, policy=POLICY))
    return events


def extend_to(day: date) -> ChangeStatus:
    return ChangeStatus("a", "extended", new_due_date=day, reason="r")


# --- the reply due date -----------------------------------------------------------------------------------


def test_plain_fifteen_days():
    due = due_date(received(minsk(2026, 11, 23)), POLICY)
    assert due.date == date(2026, 12, 8)
    assert due.steps == ("Received on 2026-11-23 (Minsk time)", "+15 calendar days: 2026-12-08")


def test_the_day_of_receipt_is_the_minsk_date():
    late_evening_utc = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 01:30 on the 23rd in Minsk
    assert due_date(received(late_evening_utc), POLICY).date == date(2026, 12, 8)


def test_ending_on_a_saturday():
    due = due_date(received(minsk(2026, 11, 27)), POLICY)  # a Friday; +15 = Saturday 12 December
    assert due.date == date(2026, 12, 14)
    assert due.steps[-1] == "2026-12-12 is a Saturday: moved to the next working day 2026-12-14"


def test_ending_on_orthodox_christmas():
    due = due_date(received(minsk(2026, 12, 23)), POLICY)  # +15 = Thursday 7 January 2027
    assert due.date == date(2027, 1, 8)
    assert due.steps == (
        "Received on 2026-12-23 (Minsk time)",
        "+15 calendar days: 2027-01-07",
        "2027-01-07 is a public holiday (Orthodox Christmas): moved to the next working day 2027-01-08",
    )


def test_across_new_year():
    # Calendar days run through the holidays: 24 December + 15 = 8 January, a working Thursday.
    assert due_date(received(minsk(2025, 12, 24)), POLICY).date == date(2026, 1, 8)
    # Landing on 1 January: 1 and 2 January are holidays, then a weekend.
    due = due_date(received(minsk(2025, 12, 17)), POLICY)
    assert due.date == date(2026, 1, 5)
    assert due.steps[-1] == (
        "2026-01-01 is a public holiday (New Year's Day): moved to the next working day 2026-01-05"
    )


def test_moving_off_days_off_can_be_switched_off():
    policy = DeadlinePolicy(move_off_day_to_next_working_day=False)
    due = due_date(received(minsk(2026, 11, 27)), policy)
    assert due.date == date(2026, 12, 12) and len(due.steps) == 2


def test_the_number_of_days_is_configurable():
    policy = DeadlinePolicy(reply_calendar_days=30)
    assert due_date(received(minsk(2026, 11, 23)), policy).date == date(2026, 12, 23)


def test_a_pause_of_three_days():
    events = received(minsk(2026, 11, 23))
    then(events, ChangeStatus("a", "more_info_required"), A, minsk(2026, 11, 25, 10))
    then(events, Supplement(), CITIZEN, minsk(2026, 11, 28, 16))
    due = due_date(events, POLICY)
    assert due.date == date(2026, 12, 11)
    assert due.steps == (
        "Received on 2026-11-23 (Minsk time)",
        "+15 calendar days: 2026-12-08",
        "+3 days paused while waiting for your information: 2026-12-11",
    )


def test_an_open_pause_counts_up_to_now():
    events = received(minsk(2026, 11, 23))
    then(events, ChangeStatus("a", "more_info_required"), A, minsk(2026, 11, 25))
    due = due_date(events, POLICY, now=minsk(2026, 11, 30))
    assert due.date == date(2026, 12, 14)  # 8 + 5 = Sunday the 13th -> Monday
    assert due.steps[2] == (
        "+5 days paused while waiting for your information (still waiting; counted up to 2026-11-30): "
        "2026-12-13"
    )
    # A state folded at a `now` remembers it.
    assert due_date(fold(events, now=minsk(2026, 11, 30)), POLICY).date == date(2026, 12, 14)


def test_pauses_are_counted_in_minsk_calendar_days():
    events = received(minsk(2026, 11, 23))
    then(events, ChangeStatus("a", "more_info_required"), A, minsk(2026, 11, 25, 9))
    then(events, Supplement(), CITIZEN, minsk(2026, 11, 25, 18))  # the same day: nothing paused
    assert due_date(events, POLICY).date == date(2026, 12, 8)
    then(events, ChangeStatus("a", "more_info_required"), A, minsk(2026, 11, 26, 23, 30))
    then(events, Supplement(), CITIZEN, minsk(2026, 11, 27, 0, 30))  # over midnight: one day
    state = fold(events)
    assert paused_days(state, POLICY) == 1
    assert due_date(state, POLICY).steps[-1] == "+1 day paused while waiting for your information: 2026-12-09"


def test_an_extension():
    events = received(minsk(2026, 11, 23))
    then(events, ChangeStatus("a", "in_process"), A, minsk(2026, 11, 24))
    extend = ChangeStatus("a", "extended", new_due_date=date(2026, 12, 23), reason="a site inspection is due")
    then(events, extend, A, minsk(2026, 12, 1))
    due = due_date(events, POLICY)
    assert due.date == date(2026, 12, 23)
    assert due.steps == (
        "Received on 2026-11-23 (Minsk time)",
        "Extended by the official to 2026-12-23",
    )


def test_the_longest_extension_includes_paused_days_and_moves_off_days_off():
    events = received(minsk(2026, 11, 23))
    then(events, ChangeStatus("a", "more_info_required"), A, minsk(2026, 11, 25))
    then(events, Supplement(), CITIZEN, minsk(2026, 11, 28))
    # 23 December + 3 paused = Saturday 26 December -> Monday 28 December.
    assert latest_extension(fold(events), POLICY) == date(2026, 12, 28)
    with pytest.raises(DomainRejection, match="i.e. 2026-12-28"):
        then(events, extend_to(date(2026, 12, 29)), A, minsk(2026, 12, 1))
    then(events, extend_to(date(2026, 12, 28)), A, minsk(2026, 12, 1))
    assert due_date(events, POLICY).date == date(2026, 12, 28)


def test_a_pause_after_an_extension_adds_to_it():
    events = received(minsk(2026, 11, 23))
    then(events, extend_to(date(2026, 12, 18)), A, minsk(2026, 11, 24))
    then(events, ChangeStatus("a", "more_info_required"), A, minsk(2026, 12, 1))
    then(events, Supplement(), CITIZEN, minsk(2026, 12, 3))
    due = due_date(events, POLICY)
    assert due.date == date(2026, 12, 21)  # 18 + 2 = Sunday the 20th -> Monday
    assert due.steps[1:] == (
        "Extended by the official to 2026-12-18",
        "+2 days paused while waiting for your information: 2026-12-20",
        "2026-12-20 is a Sunday: moved to the next working day 2026-12-21",
    )


def test_an_extension_within_a_longer_month():
    policy = DeadlinePolicy(extension_max_months=2)
    state = fold(received(minsk(2026, 12, 31)))
    assert latest_extension(state, policy) == date(2027, 3, 1)  # 28 Feb 2027 is a Sunday


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 11, 23), 14) == date(2028, 1, 23)


# --- forwarding -------------------------------------------------------------------------------------------


def test_forward_due_is_five_working_days():
    assert forward_due(minsk(2026, 11, 23), POLICY) == date(2026, 11, 30)  # Monday -> next Monday
    assert forward_due(minsk(2026, 11, 27), POLICY) == date(2026, 12, 4)  # Friday -> next Friday


def test_forward_due_across_a_holiday_weekend():
    # Thursday 30 April 2026: Friday 1 May is Labour Day, then the weekend; 4,5,6,7,8 May.
    assert forward_due(minsk(2026, 4, 30), POLICY) == date(2026, 5, 8)
    # Friday 17 April 2026: Tuesday 21 April is Radunitsa.
    assert forward_due(minsk(2026, 4, 17), POLICY) == date(2026, 4, 27)


# --- overdue ----------------------------------------------------------------------------------------------


def test_overdue_and_very_overdue():
    state = fold(received(minsk(2026, 11, 23)))  # due 8 December
    assert overdue(state, minsk(2026, 12, 8, 23, 59), POLICY) == "on_time"
    assert overdue(state, minsk(2026, 12, 9, 0, 1), POLICY) == "overdue"
    assert overdue(state, minsk(2026, 12, 23), POLICY) == "overdue"  # 15 days past
    assert overdue(state, minsk(2026, 12, 24), POLICY) == "very_overdue"  # 16 days past


def test_waiting_for_the_citizen_is_never_overdue():
    events = received(minsk(2026, 11, 23))
    then(events, ChangeStatus("a", "more_info_required"), A, minsk(2026, 11, 24))
    later = minsk(2027, 3, 1)
    assert overdue(fold(events, now=later), later, POLICY) == "on_time"


def test_replied_appeals_are_not_overdue_and_say_whether_they_were_on_time():
    events = received(minsk(2026, 11, 23))
    then(events, Reply("a"), A, minsk(2026, 12, 9))
    state = fold(events, now=minsk(2027, 1, 1))
    assert overdue(state, minsk(2027, 1, 1), POLICY) == "on_time"
    assert replied_on_time(state, POLICY) is False
    early = received(minsk(2026, 11, 23))
    then(early, Reply("a"), A, minsk(2026, 12, 8, 23))
    assert replied_on_time(fold(early), POLICY) is True
    assert replied_on_time(fold(received(minsk(2026, 11, 23))), POLICY) is None


# --- holidays -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter", "radunitsa"),
    [
        (2025, date(2025, 4, 20), date(2025, 4, 29)),
        (2026, date(2026, 4, 12), date(2026, 4, 21)),
        (2027, date(2027, 5, 2), date(2027, 5, 11)),
    ],
)
def test_orthodox_easter_and_radunitsa(year, easter, radunitsa):
    assert orthodox_easter(year) == easter
    calendar = HolidayCalendar.belarus([year])
    assert calendar.name(radunitsa) == "Radunitsa"
    assert not POLICY.is_working_day(radunitsa)


def test_orthodox_easter_only_where_the_algorithm_holds():
    assert orthodox_easter(1900) == date(1900, 4, 22)
    with pytest.raises(ValueError):
        orthodox_easter(2100)


def test_belarus_fixed_holidays():
    calendar = HolidayCalendar.belarus([2026])
    fixed = [(1, 1), (1, 2), (1, 7), (3, 8), (5, 1), (5, 9), (7, 3), (11, 7), (12, 25)]
    assert [d for d in calendar if d.month != 4] == [date(2026, m, d) for m, d in fixed]
    assert len(calendar) == 10
    assert calendar.name(date(2026, 7, 3)) == "Independence Day"


def test_csv_import():
    text = (
        "\ufeff# Belarus, transfers for 2026\n"
        "\n"
        "2026-01-02,New Year holiday\n"
        '2026-04-20,"Transferred day off, for Radunitsa"\n'
        "2026-04-25,Working Saturday,working\n"
        "  # indented comment\n"
        "2026-06-01\n"
    )
    calendar = HolidayCalendar.from_csv(text)
    assert calendar.holidays == {
        date(2026, 1, 2): "New Year holiday",
        date(2026, 4, 20): "Transferred day off, for Radunitsa",
        date(2026, 6, 1): "Public holiday",
    }
    assert calendar.working_days == {date(2026, 4, 25): "Working Saturday"}
    assert calendar.is_working_day(date(2026, 4, 25))  # a Saturday, worked
    assert not calendar.is_working_day(date(2026, 4, 20))  # a Monday, off
    assert HolidayCalendar.from_csv(calendar.to_csv()) == calendar


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("2026-13-01,x", 1),
        ("# c\n2026/01/01,x", 2),
        ("2026-1-1,x", 1),
        ("2026-01-01,x,maybe", 1),
        ("2026-01-01,a,b,c", 1),
    ],
)
def test_csv_errors_name_the_line(text, line):
    with pytest.raises(ValueError, match=f"line {line}"):
        HolidayCalendar.from_csv(text)


def test_merged_calendars_let_the_other_win():
    base = HolidayCalendar.belarus([2026])
    local = HolidayCalendar.from_csv(
        "2026-04-20,Bridge day\n2026-04-25,Worked,working\n2026-05-01,Open,working"
    )
    merged = base.merged(local)
    assert merged.name(date(2026, 4, 20)) == "Bridge day"
    assert merged.name(date(2026, 4, 21)) == "Radunitsa"
    assert date(2026, 5, 1) not in merged and merged.is_working_day(date(2026, 5, 1))
    again = merged.merged(HolidayCalendar.from_csv("2026-05-01,Labour Day"))
    assert again.name(date(2026, 5, 1)) == "Labour Day" and not again.is_working_day(date(2026, 5, 1))


def test_a_deployment_calendar_changes_the_due_date():
    # 27 November + 15 = Saturday 12 December; declared a working Saturday, it stays.
    calendar = POLICY.holidays.merged(HolidayCalendar.from_csv("2026-12-12,Working Saturday,working"))
    policy = DeadlinePolicy(holidays=calendar)
    assert due_date(received(minsk(2026, 11, 27)), policy).date == date(2026, 12, 12)


def test_policy_is_a_value():
    assert DeadlinePolicy() == DeadlinePolicy()
    assert hash(DeadlinePolicy()) == hash(DeadlinePolicy())
    assert DeadlinePolicy(weekend=[6]).weekend == (6,)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"timezone": "Mars/Olympus"},
        {"reply_calendar_days": -1},
        {"quiet_period_days": 1.5},
        {"weekend": (7,)},
        {"weekend": tuple(range(7))},
    ],
)
def test_policy_refuses_nonsense(bad):
    with pytest.raises(ValueError):
        DeadlinePolicy(**bad)
