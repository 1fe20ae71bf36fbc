"""The rating method by hand: the estimators, who an appeal is charged to, the composite and the ranking, and
that luck or a burst of reviews cannot beat a long good record."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.domain.appeals.deadlines import DeadlinePolicy
from gateway.domain.appeals.events import Actor, ActorKind, Event, EventKind
from gateway.domain.appeals.lifecycle import fold
from gateway.domain.ratings.charging import Stars, Timeliness, charge, reply_stars
from gateway.domain.ratings.compute import OfficialRecord, rank, rate_all, rate_official
from gateway.domain.ratings.formulas import bayesian_average, normalise_stars, wilson_lower_bound
from gateway.domain.ratings.policy import RatingPolicy
from gateway.domain.ratings.weeks import IsoWeek
from gateway.domain.reports.schedule import DueReport, PeriodKind, ReportStatus

MINSK = ZoneInfo("Europe/Minsk")
AS_OF = datetime(2026, 2, 9, tzinfo=MINSK)  # the end of 2026-W06
POLICY = RatingPolicy()


def at(day: int, hour: int = 12) -> datetime:
    """A moment in January/February 2026 (day 32 = 1 February), Minsk time."""
    return datetime(2026, 1, 1, hour, tzinfo=MINSK) + timedelta(days=day - 1)


# --- the estimators -----------------------------------------------------------------------------------------


def test_bayesian_average_by_hand():
    # one 5-star review, prior 3 stars with weight 5: (5·3 + 5) / (5 + 1) = 20 / 6
    assert bayesian_average(5, 1, 3.0, 5.0) == pytest.approx(20 / 6)
    # no reviews: the prior
    assert bayesian_average(0, 0, 3.0, 5.0) == 3.0
    # 100 reviews averaging 4.5: (15 + 450) / 105 = 4.428571…
    assert bayesian_average(450, 100, 3.0, 5.0) == pytest.approx(465 / 105)


def test_wilson_lower_bound_by_hand():
    z2 = 1.96**2  # 3.8416
    # 9 of 10: p = 0.9; (0.9 + z²/20 − 1.96·√(0.9·0.1/10 + z²/400)) / (1 + z²/10)
    expected = (0.9 + z2 / 20 - 1.96 * math.sqrt(0.009 + z2 / 400)) / (1 + z2 / 10)
    assert expected == pytest.approx(0.5958436, abs=1e-7)
    assert wilson_lower_bound(9, 10) == pytest.approx(expected)
    # 1 of 1: p = 1; (1 + z²/2 − 1.96·√(z²/4)) / (1 + z²) = (1 + 1.9208 − 1.9208) / 4.8416 = 0.206543…
    assert wilson_lower_bound(1, 1) == pytest.approx(1 / (1 + z2))
    # no record is not a good record
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(0, 5) == 0.0


def test_stars_are_normalised_onto_0_to_1():
    assert [normalise_stars(s) for s in (1, 3, 5)] == [0.0, 0.5, 1.0]


# --- who an appeal is charged to ----------------------------------------------------------------------------

DEADLINES = DeadlinePolicy()


def _events(*steps: tuple[EventKind, datetime, dict]) -> list[Event]:
    """A log starting with an appeal received on Monday 5 January 2026 at 09:00 Minsk time for `a`: due on
    5 + 15 = Tuesday 20 January."""
    received = Event(
        1,
        EventKind.received,
        at(5, 9),
        Actor(ActorKind.system, "sys-portal"),
        {"assignees": ["a"], "origin_system": "sys-portal"},
    )
    return [received] + [
        Event(
            seq,
            kind,
            moment,
            Actor(ActorKind.official, data.get("official") or data.get("from") or "a"),
            data,
        )
        for seq, (kind, moment, data) in enumerate(steps, start=2)
    ]


def _charged(events, as_of=AS_OF):
    return [(t.official, t.on_time, t.at) for t in charge(fold(events), DEADLINES, as_of)]


END_OF_DUE = datetime(2026, 1, 21, tzinfo=MINSK)  # the first moment after Tuesday 20 January


def test_a_reply_by_the_due_date_is_on_time_for_the_replier():
    events = _events((EventKind.reply_sent, at(20, 23), {"official": "a"}))
    assert _charged(events) == [("a", True, at(20, 23))]


def test_a_late_reply_is_charged_to_whoever_held_the_appeal_when_the_due_date_ended():
    # forwarded to b before the due date, b replies late: b let it pass
    forwarded_early = _events(
        (EventKind.forwarded, at(10), {"from": "a", "to": ["b"], "reason": ""}),
        (EventKind.reply_sent, at(22), {"official": "b"}),
    )
    assert _charged(forwarded_early) == [("b", False, END_OF_DUE)]
    # forwarded to b only after the due date: a let it pass, even though b replied
    forwarded_late = _events(
        (EventKind.forwarded, at(21, 10), {"from": "a", "to": ["b"], "reason": ""}),
        (EventKind.reply_sent, at(22), {"official": "b"}),
    )
    assert _charged(forwarded_late) == [("a", False, END_OF_DUE)]


def test_an_unanswered_appeal_counts_once_its_due_date_has_ended():
    events = _events((EventKind.forwarded, at(12), {"from": "a", "to": ["a", "c"], "reason": ""}))
    assert _charged(events, as_of=at(20, 23)) == []  # the due date is still running
    assert _charged(events, as_of=END_OF_DUE) == [("a", False, END_OF_DUE), ("c", False, END_OF_DUE)]


def test_an_appeal_withdrawn_in_time_counts_for_nobody():
    assert _charged(_events((EventKind.withdrawn, at(12), {"note": None}))) == []
    late = _events((EventKind.withdrawn, at(25), {"note": None}))
    assert _charged(late) == [("a", False, END_OF_DUE)]


def test_reply_stars_go_to_the_official_who_replied():
    events = _events(
        (EventKind.forwarded, at(6), {"from": "a", "to": ["b"], "reason": ""}),
        (EventKind.reply_sent, at(8), {"official": "b"}),
        (EventKind.reviewed, at(9), {"stars": 4}),
    )
    assert reply_stars(fold(events), "ap-1") == Stars("b", at(9), 4, "ap-1")
    assert reply_stars(fold(events[:3])) is None  # not reviewed yet


# --- the composite ------------------------------------------------------------------------------------------


def _timeliness(official: str, on_time: int, late: int) -> list[Timeliness]:
    return [Timeliness(official, at(10), True)] * on_time + [Timeliness(official, at(10), False)] * late


def _reports(on_time: int, late: int = 0, missing: int = 0, pending: int = 0) -> list[DueReport]:
    statuses = (
        [ReportStatus.on_time] * on_time
        + [ReportStatus.late] * late
        + [ReportStatus.missing] * missing
        + [ReportStatus.pending] * pending
    )
    return [
        DueReport(PeriodKind.week, date(2026, 1, 5), date(2026, 1, 11), date(2026, 1, 12), status)
        for status in statuses
    ]


def _stars(official: str, values: list[int], subject: str | None = None) -> list[Stars]:
    return [Stars(official, at(15), v, subject) for v in values]


def test_an_officials_components_and_composite_by_hand():
    record = OfficialRecord(
        "a",
        "ou-x",
        timeliness=_timeliness("a", on_time=9, late=1),
        # 10 reviewed replies, 45 stars in all (a mean of 4.5)
        reply_stars=_stars("a", [5, 4] * 5),
        due_reports=_reports(on_time=4, late=1, missing=1, pending=2),
        # report r1: 5 and 4 (mean 4.5, weight 2); report r2: 3 (weight 1)
        report_stars=_stars("a", [5, 4], "r1") + _stars("a", [3], "r2"),
    )
    rating = rate_official(record, POLICY, AS_OF)
    c = rating.components
    # reply stars: (5·3 + 45) / (5 + 10) = 60 / 15 = 4.0 → (4 − 1) / 4 = 0.75
    assert (c["reply_stars"].value, c["reply_stars"].normalised, c["reply_stars"].sample) == (4.0, 0.75, 10)
    # on time: Wilson lower bound of 9 / 10 = 0.5958436 → 0.595844 (6 decimals)
    assert c["on_time"].value == 0.595844
    assert (c["on_time"].sample, c["on_time"].detail["late"]) == (10, 1)
    # schedule: (2·0.5 + 4 + 0.5·1) / (2 + 6) = 5.5 / 8 = 0.6875 (the 2 pending reports do not count)
    assert (c["report_schedule"].value, c["report_schedule"].sample) == (0.6875, 6)
    # report stars: (5·3 + 2·4.5 + 1·3) / (5 + 2 + 1) = 27 / 8 = 3.375 → 0.59375
    assert (c["report_stars"].value, c["report_stars"].normalised, c["report_stars"].sample) == (
        3.375,
        0.59375,
        3,
    )
    # composite: 0.30·0.75 + 0.35·0.595843 + 0.20·0.6875 + 0.15·0.59375
    #          = 0.225 + 0.2085453 + 0.1375 + 0.0890625 = 0.6601078 → 0.660108
    assert rating.composite == pytest.approx(
        0.225 + 0.35 * wilson_lower_bound(9, 10) + 0.1375 + 0.0890625, abs=1e-6
    )
    assert rating.composite == 0.660108
    assert rating.status == "ranked"


def test_below_the_minimum_sample_there_is_no_composite_and_no_rank():
    few_appeals = OfficialRecord("a", timeliness=_timeliness("a", 4, 0), due_reports=_reports(10))
    few_reports = OfficialRecord("b", timeliness=_timeliness("b", 50, 0), due_reports=_reports(2, pending=5))
    enough = OfficialRecord("c", timeliness=_timeliness("c", 5, 0), due_reports=_reports(3))
    ratings = rate_all([few_appeals, few_reports, enough], POLICY, AS_OF)
    assert [(r.official_id, r.rank, r.status) for r in ratings] == [
        ("c", 1, "ranked"),
        ("a", None, "insufficient-data"),
        ("b", None, "insufficient-data"),
    ]
    assert ratings[1].composite is None
    assert ratings[1].components["on_time"].sample == 4  # the components are still shown, with their samples


def test_the_window_keeps_only_the_last_52_weeks():
    old = [Timeliness("a", AS_OF - timedelta(weeks=53), False)] * 20
    record = OfficialRecord("a", timeliness=old + _timeliness("a", 5, 0), due_reports=_reports(3))
    assert rate_official(record, POLICY, AS_OF).components["on_time"].sample == 5
    everything = RatingPolicy(window_weeks=0)
    assert rate_official(record, everything, AS_OF).components["on_time"].sample == 25


def test_equal_composites_share_a_rank_and_ties_are_listed_by_id():
    same = {"timeliness": _timeliness("x", 5, 0), "due_reports": _reports(3)}
    ratings = rate_all(
        [
            OfficialRecord("b", **same),
            OfficialRecord("a", **same),
            OfficialRecord("c", timeliness=_timeliness("c", 4, 1), due_reports=_reports(3)),
            OfficialRecord("d", timeliness=_timeliness("d", 5, 0), due_reports=_reports(3, missing=1)),
        ],
        POLICY,
        AS_OF,
    )
    assert [(r.official_id, r.rank) for r in ratings] == [("a", 1), ("b", 1), ("d", 3), ("c", 4)]


def test_the_same_inputs_give_the_same_numbers_in_any_order():
    records = [
        OfficialRecord(
            f"o{i}", timeliness=_timeliness("x", 5 + i, i % 3), due_reports=_reports(3 + i % 2, i % 2)
        )
        for i in range(8)
    ]
    first = rate_all(records, POLICY, AS_OF)
    again = rate_all(list(reversed(records)), POLICY, AS_OF)
    assert first == again


# --- what luck and bursts cannot do -------------------------------------------------------------------------


def long_good_record() -> OfficialRecord:
    """40 appeals, 38 on time; 40 reviewed replies averaging 4.6; 12 weekly reports, 11 on time and 1 late;
    24 reviews of 12 reports, all 4 stars."""
    return OfficialRecord(
        "good",
        timeliness=_timeliness("good", 38, 2),
        reply_stars=_stars("good", [5, 5, 5, 4, 4] * 8),
        due_reports=_reports(11, late=1),
        report_stars=[s for i in range(12) for s in _stars("good", [4, 4], f"r{i}")],
    )


def test_one_lucky_five_star_reply_cannot_top_the_ranking():
    lucky = OfficialRecord(
        "lucky",
        timeliness=_timeliness("lucky", 1, 0),
        reply_stars=_stars("lucky", [5]),
        due_reports=_reports(3),
        report_stars=_stars("lucky", [5], "r"),
    )
    ratings = rate_all([lucky, long_good_record()], POLICY, AS_OF)
    assert [(r.official_id, r.rank) for r in ratings] == [("good", 1), ("lucky", None)]  # not even ranked
    # Even with no minimum sample at all, the priors keep the lucky one below:
    # lucky: reply (15 + 5) / 6 = 3.33 → 0.583; on time WLB(1/1) = 0.207; schedule (1 + 3) / 5 = 0.8;
    #        report stars 0.583 → 0.175 + 0.072 + 0.16 + 0.0875 = 0.495
    # good:  reply (15 + 184) / 45 = 4.42 → 0.856; WLB(38/40) = 0.835; (1 + 11.5) / 14 = 0.893;
    #        (15 + 96) / 29 = 3.83 → 0.707 → 0.257 + 0.292 + 0.179 + 0.106 = 0.834
    lenient = RatingPolicy(min_appeals=0, min_reports=0)
    ratings = rate_all([lucky, long_good_record()], lenient, AS_OF)
    assert [(r.official_id, r.rank) for r in ratings] == [("good", 1), ("lucky", 2)]
    assert ratings[1].composite == pytest.approx(0.495, abs=1e-3)
    assert ratings[0].composite == pytest.approx(0.834, abs=1e-3)


def test_a_burst_of_reviews_on_one_report_cannot_top_the_ranking():
    # just the minimum record, plus 200 five-star reviews of one report
    burst = OfficialRecord(
        "burst",
        timeliness=_timeliness("burst", 5, 0),
        due_reports=_reports(3),
        report_stars=_stars("burst", [5] * 200, "r"),
    )
    ratings = rate_all([burst, long_good_record()], POLICY, AS_OF)
    assert [(r.official_id, r.rank) for r in ratings] == [("good", 1), ("burst", 2)]
    # the 200 reviews weigh as 5: (5·3 + 5·5) / (5 + 5) = 4.0, exactly as five reviews would
    assert ratings[1].components["report_stars"].value == 4.0
    assert ratings[1].components["report_stars"].sample == 200
    five = rate_official(
        OfficialRecord("five", report_stars=_stars("five", [5] * 5, "r")), POLICY, AS_OF
    ).components["report_stars"]
    assert five.value == ratings[1].components["report_stars"].value


def test_rank_orders_an_unranked_list():
    ratings = rank(rate_all([long_good_record()], POLICY, AS_OF))
    assert ratings[0].rank == 1


# --- the policy and the weeks -------------------------------------------------------------------------------


def test_the_policy_is_configured_by_overrides_and_checked():
    policy = RatingPolicy.from_overrides("weight_on_time=0.5, min_appeals=10,window_weeks=0")
    assert (policy.weight_on_time, policy.min_appeals, policy.window_weeks) == (0.5, 10, 0)
    assert RatingPolicy.from_overrides("") == RatingPolicy()
    with pytest.raises(ValueError, match="not name=value"):
        RatingPolicy.from_overrides("weight_speed=1")
    with pytest.raises(ValueError, match="from 1 to 5"):
        RatingPolicy(reply_prior_mean=7)
    with pytest.raises(ValueError, match="whole number"):
        RatingPolicy(min_appeals=2.5)
    with pytest.raises(ValueError, match="weight > 0"):
        RatingPolicy(weight_reply_stars=0, weight_on_time=0, weight_report_schedule=0, weight_report_stars=0)


def test_iso_weeks():
    week = IsoWeek.parse("2026-W06")
    assert (week.monday, week.sunday) == (date(2026, 2, 2), date(2026, 2, 8))
    assert week.end("Europe/Minsk") == datetime(2026, 2, 8, 21, 0, tzinfo=UTC)  # Monday 00:00 in Minsk
    assert str(IsoWeek.parse("2026-W01").previous()) == "2025-W52"
    assert str(IsoWeek(2026, 53 - 1).next()) == "2026-W53"  # 2026 has 53 ISO weeks
    assert IsoWeek.last_complete(datetime(2026, 2, 8, 21, 30, tzinfo=UTC), "Europe/Minsk") == week
    with pytest.raises(ValueError):
        IsoWeek.parse("2026-6")
    with pytest.raises(ValueError):
        IsoWeek(2025, 53)
