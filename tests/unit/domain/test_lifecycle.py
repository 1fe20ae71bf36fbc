"""The appeal lifecycle: every transition the table allows, every one it refuses, and who may act."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.domain.appeals.deadlines import DeadlinePolicy
from gateway.domain.appeals.events import Actor, ActorKind, Event, EventKind
from gateway.domain.appeals.lifecycle import (
    AppealState,
    Assignment,
    ChangeStatus,
    CloseQuietly,
    Forward,
    Reply,
    Review,
    Status,
    Supplement,
    Withdraw,
    apply,
    decide,
    fold,
    receive,
    status_label,
    status_text,
)
from gateway.domain.errors import DomainRejection, InvalidEventLog

POLICY = DeadlinePolicy()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday; due 2026-12-08 by default
HOUR = timedelta(hours=1)
CITIZEN = Actor(ActorKind.citizen)
PORTAL = Actor(ActorKind.system, "portal")


def official(official_id: str) -> Actor:
    return Actor(ActorKind.official, official_id)


class Log:
    """An appeal's log, grown through `decide` one hour at a time."""

    def __init__(self, assignees: tuple[str, ...] = ("a",)):
        self.events: list[Event] = [receive(assignees, "portal", at=T0)]
        self.at = T0

    def do(self, command, actor: Actor, *, after: timedelta = HOUR) -> Event:
        self.at += after
        event = apply(self.events, command, at=self.at, actor=actor, policy=POLICY)
        self.events.append(event)
        return event

    def state(self, *, after: timedelta = HOUR) -> AppealState:
        return fold(self.events, now=self.at + after, policy=POLICY)


def log_in(status: str) -> tuple[Log, str]:
    """A log whose appeal is in `status`, and the official who holds it."""
    log = Log()
    match status:
        case "received":
            pass
        case "forwarded":
            log.do(Forward("a", ("b",), "competence of b"), official("a"))
            return log, "b"
        case "in_process":
            log.do(ChangeStatus("a", "in_process"), official("a"))
        case "more_info_required":
            log.do(ChangeStatus("a", "more_info_required", note="which house?"), official("a"))
        case "reply_sent":
            log.do(Reply("a"), official("a"))
        case "closed":
            log.do(Reply("a"), official("a"))
            log.do(Review(4), CITIZEN)
        case "closed_quietly":
            log.do(Reply("a"), official("a"))
            log.at += timedelta(days=31)
        case "withdrawn":
            log.do(Withdraw(), CITIZEN)
        case "left_without_consideration":
            log.do(ChangeStatus("a", "left_without_consideration", note="anonymous"), official("a"))
        case _:
            raise AssertionError(status)
    return log, "a"


# The commands of the table, each from the official who holds the appeal (or the citizen).
COMMANDS = {
    "forward": lambda h: (Forward(h, ("z",), "not my competence"), official(h)),
    "in_proc": lambda h: (ChangeStatus(h, "in_process"), official(h)),
    "ask": lambda h: (ChangeStatus(h, "more_info_required", note="which house?"), official(h)),
    "extend": lambda h: (
        ChangeStatus(h, "extended", new_due_date=date(2026, 12, 18), reason="site inspection"),
        official(h),
    ),
    "noted_wd": lambda h: (ChangeStatus(h, "withdrawn", note="the citizen phoned"), official(h)),
    "leave": lambda h: (ChangeStatus(h, "left_without_consideration", note="no address"), official(h)),
    "suppl": lambda h: (Supplement(), CITIZEN),
    "reply": lambda h: (Reply(h), official(h)),
    "review": lambda h: (Review(4), CITIZEN),
    "withdraw": lambda h: (Withdraw(), CITIZEN),
}

# The transition table as the tests expect it: the status after the command, "=" for allowed with the status
# unchanged, "-" for invalid-transition. Statuses: rec(eived), fwd = forwarded, proc = in_process,
# more = more_info_required, sent = reply_sent, closed, wd = withdrawn, lwc = left_without_consideration.
TABLE = """
state                       forward in_proc ask  extend noted_wd leave suppl reply review  withdraw
received                    fwd     proc    more =      wd       lwc   -     sent  -       wd
forwarded                   fwd     proc    more =      wd       lwc   -     sent  -       wd
in_process                  fwd     -       more =      wd       lwc   -     sent  -       wd
more_info_required          -       -       -    -      wd       lwc   proc  -     -       wd
reply_sent                  -       -       -    -      -        -     -     -     closed  -
closed                      -       -       -    -      -        -     -     -     -       -
closed_quietly              -       -       -    -      -        -     -     -     closed  -
withdrawn                   -       -       -    -      -        -     -     -     -       -
left_without_consideration  -       -       -    -      -        -     -     -     -       -
"""
_STATUSES = {
    "fwd": "forwarded",
    "proc": "in_process",
    "more": "more_info_required",
    "sent": "reply_sent",
    "wd": "withdrawn",
    "lwc": "left_without_consideration",
}


def _cases():
    lines = [line.split() for line in TABLE.strip().splitlines()]
    header = lines[0][1:]
    assert header == list(COMMANDS)
    for row in lines[1:]:
        for command, outcome in zip(header, row[1:], strict=True):
            outcome = _STATUSES.get(outcome, outcome)
            yield pytest.param(row[0], command, outcome, id=f"{row[0]}-{command}")


@pytest.mark.parametrize(("state", "command", "outcome"), list(_cases()))
def test_transition_table(state, command, outcome):
    log, holder = log_in(state)
    before = log.state()
    make_command, actor = COMMANDS[command](holder)
    at = log.at + HOUR
    if outcome == "-":
        with pytest.raises(DomainRejection) as refused:
            decide(before, make_command, at=at, actor=actor, policy=POLICY)
        assert refused.value.code == "invalid-transition", refused.value.message
        return
    event = decide(before, make_command, at=at, actor=actor, policy=POLICY)
    assert event.seq == before.last_seq + 1
    assert event.actor == actor
    after = fold([*log.events, event], now=at, policy=POLICY)
    expected = before.status if outcome == "=" else Status(outcome)
    assert after.status == expected


def test_the_table_covers_every_status():
    statuses = {line.split()[0] for line in TABLE.strip().splitlines()[1:]}
    assert {str(s) for s in Status} <= statuses


# --- who may act ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "actor"),
    [
        (Reply("x"), official("x")),  # not an assignee
        (Reply("a"), official("x")),  # signed by someone else
        (Reply("a"), Actor(ActorKind.system, "dms")),  # a reply is personally signed
        (Reply("a"), CITIZEN),
        (Forward("x", ("b",), "r"), official("x")),
        (Forward("a", ("b",), "r"), official("b")),
        (Forward("x", ("b",), "r"), Actor(ActorKind.system, "dms")),
        (ChangeStatus("x", "in_process"), official("x")),
        (ChangeStatus("x", "more_info_required"), official("x")),
        (ChangeStatus("x", "left_without_consideration"), official("x")),
        (ChangeStatus("a", "in_process"), CITIZEN),
        (Withdraw(), official("a")),
        (Review(5), Actor(ActorKind.gateway)),
    ],
)
def test_who_may_not_act(command, actor):
    log = Log()
    if isinstance(command, Review):
        log.do(Reply("a"), official("a"))
    with pytest.raises(DomainRejection) as refused:
        decide(log.state(), command, at=log.at + HOUR, actor=actor, policy=POLICY)
    assert refused.value.code == "signer-not-authorized"


def test_a_system_may_act_for_the_official_who_holds_the_appeal():
    log = Log()
    event = log.do(ChangeStatus("a", "in_process"), Actor(ActorKind.system, "dms"))
    assert event.actor.kind is ActorKind.system and event.data["official"] == "a"


def test_the_state_is_checked_before_the_signer():
    """A second reply is an invalid transition, whoever sends it (two replies at once: one wins)."""
    log = Log(("a", "b"))
    log.do(Reply("a"), official("a"))
    with pytest.raises(DomainRejection) as refused:
        decide(log.state(), Reply("b"), at=log.at, actor=official("b"), policy=POLICY)
    assert refused.value.code == "invalid-transition"


def test_any_assignee_may_act():
    log = Log(("a", "b"))
    assert log.do(Reply("b"), official("b")).data["official"] == "b"
    assert log.state().reply_official == "b"


# --- specific refusals ------------------------------------------------------------------------------------


def test_supplement_when_not_asked():
    log = Log()
    with pytest.raises(DomainRejection) as refused:
        log.do(Supplement(), CITIZEN)
    assert refused.value.code == "invalid-transition"
    assert "no more information was asked for" in refused.value.message


def test_reply_waits_for_the_citizen():
    log, _ = log_in("more_info_required")
    with pytest.raises(DomainRejection) as refused:
        log.do(Reply("a"), official("a"))
    assert refused.value.code == "invalid-transition"
    assert "citizen must answer" in refused.value.message
    log.do(Supplement(), CITIZEN)
    log.do(Reply("a"), official("a"))
    assert log.state().status is Status.reply_sent


def test_review_twice():
    log, _ = log_in("closed")
    with pytest.raises(DomainRejection) as refused:
        log.do(Review(5), CITIZEN)
    assert refused.value.code == "invalid-transition"
    assert "already been reviewed" in refused.value.message


def test_review_before_the_reply():
    log = Log()
    with pytest.raises(DomainRejection) as refused:
        log.do(Review(5), CITIZEN)
    assert refused.value.code == "invalid-transition"
    assert "no reply to review" in refused.value.message


@pytest.mark.parametrize("stars", [0, 6, -1, True])
def test_review_stars_are_one_to_five(stars):
    log, _ = log_in("reply_sent")
    with pytest.raises(DomainRejection) as refused:
        log.do(Review(stars), CITIZEN)
    assert refused.value.code == "invalid-transition"


@pytest.mark.parametrize(
    "to",
    [(), ("b", "b"), ("a",), ("",)],
    ids=["nobody", "duplicates", "the-same-assignees", "empty-id"],
)
def test_forward_must_change_something(to):
    log = Log()
    with pytest.raises(DomainRejection) as refused:
        log.do(Forward("a", to, "r"), official("a"))
    assert refused.value.code == "invalid-transition"


def test_forward_to_the_same_set_in_another_order_changes_nothing():
    log = Log(("a", "b"))
    with pytest.raises(DomainRejection):
        log.do(Forward("a", ("b", "a"), "r"), official("a"))


def test_forward_may_keep_the_sender_and_add_others():
    log = Log()
    event = log.do(Forward("a", ("a", "b"), "needs housing too"), official("a"))
    assert event.data == {"from": "a", "to": ("a", "b"), "reason": "needs housing too"}
    state = log.state()
    assert state.status is Status.forwarded and state.assignees == ("a", "b")
    assert state.assignments == (Assignment("a", T0), Assignment("b", log.at))


def test_unknown_status_change():
    log = Log()
    with pytest.raises(DomainRejection) as refused:
        log.do(ChangeStatus("a", "reply_sent"), official("a"))  # type: ignore[arg-type]
    assert refused.value.code == "invalid-transition"


@pytest.mark.parametrize(
    ("new_due_date", "reason", "words"),
    [
        (None, "because", "needs a new due date and a reason"),
        (date(2026, 12, 18), "", "needs a new due date and a reason"),
        (date(2026, 12, 18), "   ", "needs a new due date and a reason"),
        (date(2026, 12, 8), "because", "after the current due date 2026-12-08"),
        (date(2026, 12, 1), "because", "after the current due date"),
        (date(2026, 12, 24), "because", "i.e. 2026-12-23"),
    ],
)
def test_extension_refusals(new_due_date, reason, words):
    log = Log()
    with pytest.raises(DomainRejection) as refused:
        log.do(ChangeStatus("a", "extended", new_due_date=new_due_date, reason=reason), official("a"))
    assert refused.value.code == "invalid-transition"
    assert words in refused.value.message


def test_extension_up_to_one_month_keeps_the_status():
    log, _ = log_in("in_process")
    extend = ChangeStatus("a", "extended", new_due_date=date(2026, 12, 23), reason="site inspection")
    event = log.do(extend, official("a"))
    assert event.data == {"new_due_date": "2026-12-23", "reason": "site inspection", "official": "a"}
    state = log.state()
    assert state.status is Status.in_process
    assert state.extended_due_date == date(2026, 12, 23)
    assert state.extension_reason == "site inspection"


# --- derived closure --------------------------------------------------------------------------------------


def test_closed_after_the_quiet_period():
    log, _ = log_in("reply_sent")
    replied = log.at
    assert fold(log.events, now=replied + timedelta(days=30), policy=POLICY).status is Status.reply_sent
    state = fold(log.events, now=replied + timedelta(days=30, seconds=1), policy=POLICY)
    assert state.status is Status.closed
    assert state.closed_at == replied + timedelta(days=30)
    assert not state.reviewed
    assert fold(log.events).status is Status.reply_sent  # without `now`, nothing is derived


def test_quiet_period_is_configurable():
    log, _ = log_in("reply_sent")
    policy = DeadlinePolicy(quiet_period_days=3)
    assert fold(log.events, now=log.at + timedelta(days=4), policy=policy).status is Status.closed


def test_review_after_the_quiet_period():
    log, _ = log_in("closed_quietly")
    log.do(Review(2), CITIZEN)
    state = log.state()
    assert state.status is Status.closed and state.reviewed and state.stars == 2
    assert state.closed_at == log.at


# --- the closure written by the gateway -------------------------------------------------------------------

GATEWAY = Actor(ActorKind.gateway)


def test_the_gateway_writes_the_quiet_closure_once_the_period_has_ended():
    """The closure is derived when reading; the gateway also writes it as an event (so that the citizen's
    system is told, like of every event), and the state is the same either way."""
    log, _ = log_in("reply_sent")
    replied = log.at
    logged = fold(log.events)  # what the log says, with nothing derived: still reply_sent
    with pytest.raises(DomainRejection, match="quiet period of 30 days") as early:
        decide(logged, CloseQuietly(), at=replied + timedelta(days=30), actor=GATEWAY, policy=POLICY)
    assert early.value.code == "invalid-transition"
    at = replied + timedelta(days=32)
    event = decide(logged, CloseQuietly(), at=at, actor=GATEWAY, policy=POLICY)
    assert (event.kind, event.seq, dict(event.data)) == (
        EventKind.closed,
        logged.last_seq + 1,
        {"quiet_period_days": 30},
    )
    closed = fold([*log.events, event])
    derived = fold(log.events, now=at, policy=POLICY)
    assert (
        (closed.status, closed.closed_at)
        == (derived.status, derived.closed_at)
        == (
            Status.closed,
            replied + timedelta(days=30),
        )
    )
    assert status_text(event, lambda o: o) == "Closed: no review within 30 days of the reply"
    # a late review is still taken, as after the derived closure
    review = decide(closed, Review(3), at=at + HOUR, actor=CITIZEN, policy=POLICY)
    reviewed = fold([*log.events, event, review])
    assert reviewed.status is Status.closed and reviewed.reviewed and reviewed.stars == 3


@pytest.mark.parametrize("status", ["in_process", "more_info_required", "closed", "withdrawn"])
def test_only_a_replied_appeal_is_closed_quietly(status):
    log, _ = log_in(status)
    with pytest.raises(DomainRejection) as refused:
        decide(fold(log.events), CloseQuietly(), at=log.at + timedelta(days=60), actor=GATEWAY, policy=POLICY)
    assert refused.value.code == "invalid-transition"


@pytest.mark.parametrize("actor", [CITIZEN, PORTAL, official("a")])
def test_only_the_gateway_closes_quietly(actor):
    log, _ = log_in("reply_sent")
    with pytest.raises(DomainRejection) as refused:
        decide(fold(log.events), CloseQuietly(), at=log.at + timedelta(days=60), actor=actor, policy=POLICY)
    assert refused.value.code == "signer-not-authorized"


# --- history --------------------------------------------------------------------------------------------


def test_assignment_history_charges_the_holder():
    log = Log(("a",))
    t1 = T0 + timedelta(days=1)
    log.do(Forward("a", ("b", "c"), "two departments"), official("a"), after=timedelta(days=1))
    t2 = t1 + timedelta(days=2)
    log.do(Forward("b", ("c", "d"), "d instead of b"), official("b"), after=timedelta(days=2))
    t3 = t2 + timedelta(days=3)
    log.do(Reply("c"), official("c"), after=timedelta(days=3))
    state = log.state()
    assert state.assignees == ("c", "d")
    assert state.assignments == (
        Assignment("a", T0, t1),
        Assignment("b", t1, t2),
        Assignment("c", t1, t3),  # c held it throughout both forwards
        Assignment("d", t2, t3),
    )
    assert state.replied_at == t3 and state.reply_official == "c"


def test_forward_back_to_an_earlier_holder_opens_a_new_assignment():
    log = Log(("a",))
    log.do(Forward("a", ("b",), "r"), official("a"))
    log.do(Forward("b", ("a",), "r"), official("b"))
    assert [(a.official, a.until is None) for a in log.state().assignments] == [
        ("a", False),
        ("b", False),
        ("a", True),
    ]


def test_pauses_open_and_close():
    log = Log()
    asked = log.do(ChangeStatus("a", "more_info_required"), official("a")).at
    assert log.state().pauses == ((asked, None),) and log.state().paused
    answered = log.do(Supplement(), CITIZEN).at
    assert log.state().pauses == ((asked, answered),) and not log.state().paused
    asked_again = log.do(ChangeStatus("a", "more_info_required"), official("a")).at
    withdrawn = log.do(Withdraw(), CITIZEN).at
    state = log.state()
    assert state.pauses == ((asked, answered), (asked_again, withdrawn))
    assert state.status is Status.withdrawn
    assert all(a.until == withdrawn for a in state.assignments)


# --- the log ----------------------------------------------------------------------------------------------


def test_fold_refuses_a_broken_log():
    first = receive(("a",), "portal", at=T0)
    reply = Event(3, EventKind.reply_sent, T0, official("a"), {"official": "a"})
    with pytest.raises(InvalidEventLog):
        fold([])
    with pytest.raises(InvalidEventLog):
        fold([reply])
    with pytest.raises(InvalidEventLog):
        fold([first, reply])
    with pytest.raises(InvalidEventLog):
        fold([first, Event(2, EventKind.received, T0, PORTAL, first.data)])


def test_events_round_trip_through_json():
    log, _ = log_in("closed")
    for event in log.events:
        assert Event.from_json(event.to_json()) == event
    assert log.events[0].to_json() == {
        "seq": 1,
        "kind": "received",
        "at": "2026-11-23T09:00:00+00:00",
        "actor": {"kind": "system", "id": "portal"},
        "data": {"assignees": ["a"], "origin_system": "portal"},
    }


@pytest.mark.parametrize(
    "stored",
    [
        {"seq": 1, "kind": "received", "at": "2026-11-23T09:00:00", "actor": {"kind": "system", "id": "p"}},
        {"seq": 0, "kind": "supplemented", "at": "2026-11-23T09:00:00Z", "actor": {"kind": "citizen"}},
        {"seq": 2, "kind": "opened", "at": "2026-11-23T09:00:00Z", "actor": {"kind": "citizen"}},
        {"seq": 2, "kind": "reviewed", "at": "2026-11-23T09:00:00Z", "actor": {"kind": "citizen"}},
        {"seq": 2, "kind": "reviewed", "at": "2026-11-23T09:00:00Z", "actor": {"kind": "citizen"},
         "data": {"stars": 9}},
        {"seq": 2, "kind": "extended", "at": "2026-11-23T09:00:00Z", "actor": {"kind": "official", "id": "a"},
         "data": {"new_due_date": "23.12.2026", "reason": "r"}},
        {"seq": 2, "kind": "supplemented", "at": "2026-11-23T09:00:00Z", "actor": {"kind": "official"}},
    ],
    ids=["naive-time", "seq-0", "unknown-kind", "no-stars", "nine-stars", "bad-date", "official-without-id"],
)  # fmt: skip
def test_bad_stored_events(stored):
    with pytest.raises(InvalidEventLog):
        Event.from_json(stored)


def test_event_times_are_normalised_to_utc():
    from zoneinfo import ZoneInfo

    minsk = datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Europe/Minsk"))
    event = receive(("a",), "portal", at=minsk)
    assert event.at == T0 and event.at.tzinfo is UTC


def test_receive_keeps_each_assignee_once_in_order():
    event = receive(["b", "a", "b"], "portal", at=T0)
    assert event.data["assignees"] == ("b", "a")
    assert event.actor == PORTAL


# --- words ------------------------------------------------------------------------------------------------

NAMES = {"a": "Ivan Petrov, Head of Housing Department", "b": "Anna Sidorova, Deputy Head"}.__getitem__


@pytest.mark.parametrize(
    ("kind", "data", "text"),
    [
        (EventKind.received, {"assignees": ["a"], "origin_system": "portal"}, "Received"),
        (
            EventKind.forwarded,
            {"from": "b", "to": ["a"], "reason": "r"},
            "Forwarded to Ivan Petrov, Head of Housing Department",
        ),
        (
            EventKind.forwarded,
            {"from": "x", "to": ["a", "b"], "reason": "r"},
            "Forwarded to Ivan Petrov, Head of Housing Department; Anna Sidorova, Deputy Head",
        ),
        (EventKind.in_process, {"note": None}, "In process"),
        (EventKind.more_info_required, {"note": "which house?"}, "More information required"),
        (EventKind.supplemented, {}, "More information received from the citizen"),
        (
            EventKind.extended,
            {"new_due_date": "2026-12-23", "reason": "site inspection"},
            "Deadline extended to 2026-12-23",
        ),
        (EventKind.reply_sent, {"official": "a"}, "Reply sent"),
        (EventKind.reviewed, {"stars": 4}, "Reviewed: 4 of 5"),
        (EventKind.withdrawn, {"note": None}, "Withdrawn by the applicant"),
        (EventKind.left_without_consideration, {"note": None}, "Left without consideration"),
    ],
)
def test_status_texts(kind, data, text):
    event = Event(2, kind, T0, official("a"), data)
    assert status_text(event, NAMES) == text


def test_status_labels():
    assert status_label("in_process") == "In process"
    assert status_label(Status.closed) == "Closed"
    assert {status_label(s) for s in Status}  # every status has one
