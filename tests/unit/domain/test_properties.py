"""Property-based tests: random commands from random actors at random later times, applied through `decide`.

Whatever happens, the log folds, the fold is deterministic (also after a JSON round-trip of the log), the
state keeps its invariants, and a refused command leaves the appeal as it was.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.domain.appeals.deadlines import DeadlinePolicy, due_date, overdue
from gateway.domain.appeals.events import Actor, ActorKind, Event, EventKind
from gateway.domain.appeals.lifecycle import (
    TERMINAL,
    AppealState,
    ChangeStatus,
    Forward,
    Reply,
    Review,
    Status,
    Supplement,
    Withdraw,
    decide,
    fold,
    receive,
)
from gateway.domain.errors import DomainRejection

POLICY = DeadlinePolicy()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OFFICIALS = ("a", "b", "c", "d")
PEOPLE = (*OFFICIALS, "stranger")
ACTORS = (
    Actor(ActorKind.citizen),
    Actor(ActorKind.system, "portal"),
    Actor(ActorKind.system, "dms"),
    Actor(ActorKind.gateway),
    *(Actor(ActorKind.official, o) for o in PEOPLE),
)

# The status each event kind leaves behind, written out independently of the implementation.
EXPECTED_STATUS = {
    "received": "received",
    "forwarded": "forwarded",
    "in_process": "in_process",
    "more_info_required": "more_info_required",
    "supplemented": "in_process",
    "reply_sent": "reply_sent",
    "reviewed": "closed",
    "withdrawn": "withdrawn",
    "left_without_consideration": "left_without_consideration",
}

official_statuses = st.sampled_from(
    ["in_process"] * 4
    + ["more_info_required"] * 4
    + ["extended"] * 4
    + ["withdrawn", "left_without_consideration", "bogus"]
)
command_kinds = st.sampled_from(
    ["forward"] * 6 + ["status"] * 10 + ["supplement"] * 5 + ["reply"] * 3 + ["review"] * 3 + ["withdraw"]
)
pauses = st.integers(0, 3 * 86400) | st.integers(0, 40 * 86400)  # seconds to the next command


@st.composite
def commands(draw, holders: tuple[str, ...]):
    """A command and the actor who sends it: mostly from a current holder (or the citizen), sometimes from
    anyone at all."""
    kind = draw(command_kinds)
    by = draw(st.sampled_from(holders) | st.sampled_from(holders) | st.sampled_from(PEOPLE))
    match kind:
        case "forward":
            command = Forward(by, tuple(draw(st.lists(st.sampled_from(PEOPLE), max_size=3))), "reason")
        case "status":
            days = st.integers(12, 35).map(lambda n: date(2026, 11, 23) + timedelta(days=n))
            new_due = draw(st.none() | days | days)
            reason = draw(st.sampled_from([None, "", "inspection", "inspection", "inspection"]))
            status = draw(official_statuses)
            command = ChangeStatus(by, status, note=None, new_due_date=new_due, reason=reason)
        case "supplement":
            command = Supplement()
        case "reply":
            command = Reply(by)
        case "review":
            command = Review(draw(st.integers(0, 6)))
        case _:
            command = Withdraw()
    natural = Actor(ActorKind.official, by) if hasattr(command, "by") else Actor(ActorKind.citizen)
    actor = draw(st.just(natural) | st.just(natural) | st.sampled_from(ACTORS))
    return command, actor


initial_assignees = st.lists(st.sampled_from(OFFICIALS), min_size=1, max_size=3, unique=True)


def _roundtrip(events: list[Event]) -> list[Event]:
    return [Event.from_json(json.loads(json.dumps(e.to_json()))) for e in events]


def check_invariants(events: list[Event], state: AppealState, now: datetime) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert state.last_seq == len(events)
    assert state.assignees, "assignees are never empty"
    assert len(set(state.assignees)) == len(state.assignees)

    # status = the last status-changing event (extensions change none), with the derived closure
    last = next(e for e in reversed(events) if e.kind is not EventKind.extended)
    expected = EXPECTED_STATUS[str(last.kind)]
    if expected == "reply_sent" and now - last.at > timedelta(days=POLICY.quiet_period_days):
        expected = "closed"
    assert state.status == expected

    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.reply_sent) <= 1
    assert kinds.count(EventKind.reviewed) <= 1
    assert kinds.count(EventKind.received) == 1
    if EventKind.reviewed in kinds:
        assert kinds.index(EventKind.reply_sent) < kinds.index(EventKind.reviewed)
        assert state.reviewed and 1 <= (state.stars or 0) <= 5

    # pauses: in order, not overlapping, all closed but the last one, open exactly while waiting
    for (start, end), (next_start, _) in zip(state.pauses, state.pauses[1:], strict=False):
        assert end is not None and start <= end <= next_start
    assert state.paused == (state.status is Status.more_info_required)

    # assignments: while awaiting a reply, the open ones are exactly the assignees'
    for assignment in state.assignments:
        assert assignment.until is None or assignment.since <= assignment.until
    open_holders = {a.official for a in state.assignments if a.until is None}
    if state.replied_at is None and state.status not in TERMINAL:
        assert open_holders == set(state.assignees)
    else:
        assert open_holders == set()

    due = due_date(state, POLICY)
    assert due.date >= POLICY.local_date(state.received_at)
    assert due.steps[0].startswith("Received on ")
    assert overdue(state, now, POLICY) in ("on_time", "overdue", "very_overdue")


def _accepts_nothing(state: AppealState, command) -> bool:
    if state.status not in TERMINAL:
        return False
    return not (isinstance(command, Review) and state.status is Status.closed and not state.reviewed)


def run(data, assignees, *, check: bool) -> tuple[list[Event], datetime, int]:
    """Up to 30 random commands at random later times; with `check`, the properties after every step."""
    events = [receive(assignees, "portal", at=T0)]
    now = T0
    accepted = 0
    for _ in range(data.draw(st.integers(0, 30), label="steps")):
        now += timedelta(seconds=data.draw(pauses, label="wait"))
        before = fold(events, now=now, policy=POLICY)
        command, actor = data.draw(commands(before.assignees), label="command")
        try:
            event = decide(before, command, at=now, actor=actor, policy=POLICY)
        except DomainRejection as refused:
            assert refused.code in ("invalid-transition", "signer-not-authorized")
            assert refused.message
            if check:  # (c) a refusal changes nothing: the log is the same, and so is its state
                assert fold(events, now=now, policy=POLICY) == before
            continue
        if check:
            assert not _accepts_nothing(before, command), f"{before.status} accepted {command}"
            assert event.seq == before.last_seq + 1 and event.at == now and event.actor == actor
        events.append(event)
        accepted += 1
        if check:  # (a) every produced log folds, and (b) keeps its invariants
            check_invariants(events, fold(events, now=now, policy=POLICY), now)
    return events, now, accepted


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), assignees=initial_assignees)
def test_random_command_sequences(data, assignees):
    events, now, accepted = run(data, assignees, check=True)
    assert len(events) == accepted + 1

    # (a) replaying is deterministic, also from the stored (JSON) form
    final = fold(events, now=now, policy=POLICY)
    assert fold(list(events), now=now, policy=POLICY) == final
    stored = _roundtrip(events)
    assert stored == events
    assert fold(stored, now=now, policy=POLICY) == final
    assert fold(stored) == fold(events)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), assignees=initial_assignees, later=st.integers(0, 90))
def test_the_due_date_only_moves_later_as_time_passes(data, assignees, later):
    """Folding the same log at a later `now` never brings the due date earlier (open pauses only grow)."""
    events, now, _ = run(data, assignees, check=False)
    first = due_date(events, POLICY, now=now).date
    second = due_date(events, POLICY, now=now + timedelta(days=later)).date
    assert second >= first
