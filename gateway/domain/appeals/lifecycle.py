"""An appeal's lifecycle: its state folded from the event log, and the rules that decide the next event.

State is never stored. `fold(events)` derives it; `decide(state, command)` either returns the one event the
command adds to the log or raises `DomainRejection`. `closed` is derived too: after the citizen's review, or
when more than `quiet_period_days` (exact 24-hour days) have passed since the reply without one.

    received ─┬─> forwarded ─┬─> in_process <──> more_info_required
              └──────────────┴─────┬─┘ (a reply needs the citizen's answer first)
                                   └─> reply_sent ──> closed (review, or quiet period)
    any state before reply_sent ──> withdrawn | left_without_consideration

The rules are the table `RULES` below: for each command, the states it is allowed in, who may give it, whether
it must come from an official who currently holds the appeal, and the event it produces. The checks run in
this order, so that the first failing one names the cause: state (invalid-transition), then actor and holder
(signer-not-authorized), then the command's own content (invalid-transition).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from gateway.domain.appeals.deadlines import DeadlinePolicy, due_date, latest_extension
from gateway.domain.appeals.events import Actor, ActorKind, Event, EventKind
from gateway.domain.errors import DomainRejection, InvalidEventLog


class Status(StrEnum):
    received = "received"
    forwarded = "forwarded"
    in_process = "in_process"
    more_info_required = "more_info_required"
    reply_sent = "reply_sent"
    closed = "closed"
    withdrawn = "withdrawn"
    left_without_consideration = "left_without_consideration"


TERMINAL = frozenset({Status.closed, Status.withdrawn, Status.left_without_consideration})
AWAITING_REPLY = frozenset({Status.received, Status.forwarded, Status.in_process, Status.more_info_required})

STATUS_LABELS: Mapping[Status, str] = {
    Status.received: "Received",
    Status.forwarded: "Forwarded",
    Status.in_process: "In process",
    Status.more_info_required: "More information required",
    Status.reply_sent: "Reply sent",
    Status.closed: "Closed",
    Status.withdrawn: "Withdrawn",
    Status.left_without_consideration: "Left without consideration",
}


@dataclass(frozen=True)
class Assignment:
    """One official's holding of the appeal: time between `since` and `until` is charged to them. `until` is
    None while they hold it; it is set when a forward takes it from them, or when the appeal leaves the
    officials' hands (reply sent, withdrawn, left without consideration)."""

    official: str
    since: datetime
    until: datetime | None = None


Pause = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class AppealState:
    status: Status
    assignees: tuple[str, ...]  # who holds it now (after a reply: who held it last); never empty
    assignments: tuple[Assignment, ...]  # the full history, in order
    received_at: datetime
    replied_at: datetime | None = None
    reply_official: str | None = None
    reviewed: bool = False
    stars: int | None = None
    extended_due_date: date | None = None
    pauses: tuple[Pause, ...] = ()  # (start, end) in more_info_required; only the last may be open
    last_seq: int = 1
    origin_system: str = ""
    extension_reason: str | None = None
    extended_at: datetime | None = None
    closed_at: datetime | None = None  # the review, or the end of the quiet period
    last_event_at: datetime | None = None
    as_of: datetime | None = None  # the `now` this state was folded at (None: as of its last event)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None


# --- commands ---------------------------------------------------------------------------------------------

OfficialStatus = Literal[
    "in_process", "more_info_required", "extended", "withdrawn", "left_without_consideration"
]


@dataclass(frozen=True)
class Forward:
    by: str
    to: tuple[str, ...]
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", tuple(self.to))


@dataclass(frozen=True)
class ChangeStatus:
    by: str
    status: OfficialStatus
    note: str | None = None
    new_due_date: date | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Supplement:
    pass


@dataclass(frozen=True)
class Reply:
    by: str


@dataclass(frozen=True)
class Review:
    stars: int


@dataclass(frozen=True)
class CloseQuietly:
    """The gateway closes a replied appeal the citizen did not review within the quiet period."""


@dataclass(frozen=True)
class Withdraw:
    """The citizen withdraws the appeal (through the portal)."""

    note: str | None = None


Command = Forward | ChangeStatus | Supplement | Reply | Review | Withdraw | CloseQuietly


# --- the transition table ---------------------------------------------------------------------------------

_NEW = frozenset({Status.received, Status.forwarded})
_WAITING = frozenset({Status.more_info_required})
_WORKING = frozenset({Status.received, Status.forwarded, Status.in_process})
_UNANSWERED = AWAITING_REPLY  # _WORKING and more_info_required
_REPLIED = frozenset({Status.reply_sent, Status.closed})  # closed: only when closed quietly, without a review
_OFFICIALS = frozenset({ActorKind.official, ActorKind.system})  # the official, or their DMS for them
_CITIZEN = frozenset({ActorKind.citizen, ActorKind.system})  # the citizen, or the portal for them
_PERSONAL = frozenset({ActorKind.official})  # a reply is personally signed
_GATEWAY = frozenset({ActorKind.gateway})


@dataclass(frozen=True)
class Rule:
    allowed_in: frozenset[Status]
    actors: frozenset[ActorKind]  # the kinds of actor that may cause it
    by_holder: bool  # the command's `by` must hold the appeal now (and be the signer, if an official signs)
    event: EventKind


_E = EventKind
# fmt: off
RULES: Mapping[str, Rule] = {
    # command                     allowed in    sent by     by holder  event
    "forward":                    Rule(_WORKING,    _OFFICIALS, True,  _E.forwarded),
    "in_process":                 Rule(_NEW,        _OFFICIALS, True,  _E.in_process),
    "more_info_required":         Rule(_WORKING,    _OFFICIALS, True,  _E.more_info_required),
    "extended":                   Rule(_WORKING,    _OFFICIALS, True,  _E.extended),
    "withdrawn":                  Rule(_UNANSWERED, _OFFICIALS, True,  _E.withdrawn),
    "left_without_consideration": Rule(_UNANSWERED, _OFFICIALS, True,  _E.left_without_consideration),
    "supplement":                 Rule(_WAITING,    _CITIZEN,   False, _E.supplemented),
    "reply":                      Rule(_WORKING,    _PERSONAL,  True,  _E.reply_sent),
    "review":                     Rule(_REPLIED,    _CITIZEN,   False, _E.reviewed),
    "withdraw":                   Rule(_UNANSWERED, _CITIZEN,   False, _E.withdrawn),
    "close":                      Rule(frozenset({Status.reply_sent}), _GATEWAY, False, _E.closed),
}
# fmt: on

# The verbs, for messages ("cannot <verb> the appeal: ...").
ACTIONS: Mapping[str, str] = {
    "forward": "forward",
    "in_process": "mark in process",
    "more_info_required": "ask for more information on",
    "extended": "extend the deadline of",
    "withdrawn": "note the withdrawal of",
    "left_without_consideration": "leave without consideration",
    "supplement": "supplement",
    "reply": "reply to",
    "review": "review",
    "withdraw": "withdraw",
    "close": "close",
}

# Why a command is refused in a state, where "the appeal is <status>" would not say enough.
REFUSALS: Mapping[tuple[str, Status], str] = {
    **{("supplement", s): "no more information was asked for" for s in (*_WORKING, Status.reply_sent)},
    ("reply", Status.more_info_required): "more information was asked for: the citizen must answer first",
    **{("review", s): "there is no reply to review yet" for s in AWAITING_REPLY},
}

# The status each event leaves the appeal in (None: unchanged).
STATUS_AFTER: Mapping[EventKind, Status | None] = {
    EventKind.received: Status.received,
    EventKind.forwarded: Status.forwarded,
    EventKind.in_process: Status.in_process,
    EventKind.more_info_required: Status.more_info_required,
    EventKind.supplemented: Status.in_process,
    EventKind.extended: None,
    EventKind.reply_sent: Status.reply_sent,
    EventKind.reviewed: Status.closed,
    EventKind.closed: Status.closed,
    EventKind.withdrawn: Status.withdrawn,
    EventKind.left_without_consideration: Status.left_without_consideration,
}


def _rule_name(command: Command) -> str:
    match command:
        case Forward():
            return "forward"
        case ChangeStatus(status=status):
            if status not in RULES or status in ("forward", "supplement", "reply", "review", "withdraw"):
                raise DomainRejection("invalid-transition", f"{status!r} is not a status an official can set")
            return str(status)
        case Supplement():
            return "supplement"
        case Reply():
            return "reply"
        case Review():
            return "review"
        case Withdraw():
            return "withdraw"
        case CloseQuietly():
            return "close"
    raise TypeError(f"not an appeal command: {command!r}")


def _check_state(name: str, rule: Rule, state: AppealState) -> None:
    if state.status in TERMINAL and not (rule.event is EventKind.reviewed and not state.reviewed):
        why = "the reply has already been reviewed" if state.reviewed else f"the appeal is {state.status}"
        raise DomainRejection("invalid-transition", f"cannot {ACTIONS[name]} the appeal: {why}; it is final")
    if state.status not in rule.allowed_in:
        why = REFUSALS.get((name, state.status), f"the appeal is {state.status}")
        raise DomainRejection("invalid-transition", f"cannot {ACTIONS[name]} the appeal: {why}")


def _check_actor(name: str, rule: Rule, command: Command, state: AppealState, actor: Actor) -> None:
    if actor.kind not in rule.actors:
        raise DomainRejection("signer-not-authorized", f"a {actor.kind} cannot {ACTIONS[name]} an appeal")
    if not rule.by_holder:
        return
    by = getattr(command, "by", "")
    if actor.kind is ActorKind.official and actor.id != by:
        raise DomainRejection(
            "signer-not-authorized", f"{actor.id} signed for {by!r}; an official acts only for self"
        )
    if by not in state.assignees:
        held = ", ".join(state.assignees)
        raise DomainRejection(
            "signer-not-authorized",
            f"{by!r} does not hold this appeal (held by {held}), so cannot {ACTIONS[name]} it",
        )


def _invalid(message: str) -> DomainRejection:
    return DomainRejection("invalid-transition", message)


# --- event data per command, with the checks of the command's own content ----------------------------------

_Build = Callable[[AppealState, Command, datetime, DeadlinePolicy], dict[str, object]]


def _forward_data(
    state: AppealState, command: Command, at: datetime, policy: DeadlinePolicy
) -> dict[str, object]:
    assert isinstance(command, Forward)
    if not command.to:
        raise _invalid("a forward names at least one official")
    if any(not isinstance(o, str) or not o for o in command.to):
        raise _invalid("a forward names officials by their ids")
    if len(set(command.to)) != len(command.to):
        raise _invalid("a forward names each official once")
    if set(command.to) == set(state.assignees):
        raise _invalid("the appeal is already held by exactly these officials")
    return {"from": command.by, "to": list(command.to), "reason": command.reason or ""}


def _status_data(
    state: AppealState, command: Command, at: datetime, policy: DeadlinePolicy
) -> dict[str, object]:
    assert isinstance(command, ChangeStatus)
    return {"note": command.note, "official": command.by}


def _extended_data(
    state: AppealState, command: Command, at: datetime, policy: DeadlinePolicy
) -> dict[str, object]:
    assert isinstance(command, ChangeStatus)
    new, reason = command.new_due_date, (command.reason or "").strip()
    if new is None or not reason:
        raise _invalid("an extension needs a new due date and a reason")
    current = due_date(state, policy, now=at).date
    if new <= current:
        raise _invalid(
            f"the new due date {new.isoformat()} must be after the current due date {current.isoformat()}"
        )
    limit = latest_extension(state, policy, now=at)
    if new > limit:
        raise _invalid(
            f"the new due date {new.isoformat()} is later than allowed: at most "
            f"{policy.extension_max_months} month(s) after receipt plus the days paused, "
            f"i.e. {limit.isoformat()}"
        )
    return {"new_due_date": new.isoformat(), "reason": reason, "official": command.by}


def _supplement_data(
    state: AppealState, command: Command, at: datetime, policy: DeadlinePolicy
) -> dict[str, object]:
    return {}


def _reply_data(
    state: AppealState, command: Command, at: datetime, policy: DeadlinePolicy
) -> dict[str, object]:
    assert isinstance(command, Reply)
    return {"official": command.by}


def _review_data(
    state: AppealState, command: Command, at: datetime, policy: DeadlinePolicy
) -> dict[str, object]:
    assert isinstance(command, Review)
    stars = command.stars
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise _invalid(f"a review gives 1 to 5 stars, not {stars!r}")
    return {"stars": stars}


def _withdraw_data(
    state: AppealState, command: Command, at: datetime, policy: DeadlinePolicy
) -> dict[str, object]:
    assert isinstance(command, Withdraw)
    return {"note": command.note}


def _close_data(
    state: AppealState, command: Command, at: datetime, policy: DeadlinePolicy
) -> dict[str, object]:
    assert isinstance(command, CloseQuietly) and state.replied_at is not None
    days = policy.quiet_period_days
    if at - state.replied_at <= timedelta(days=days):
        raise _invalid(f"the quiet period of {days} days after the reply has not ended")
    return {"quiet_period_days": days}


_BUILD: Mapping[str, _Build] = {
    "forward": _forward_data,
    "in_process": _status_data,
    "more_info_required": _status_data,
    "extended": _extended_data,
    "withdrawn": _status_data,
    "left_without_consideration": _status_data,
    "supplement": _supplement_data,
    "reply": _reply_data,
    "review": _review_data,
    "withdraw": _withdraw_data,
    "close": _close_data,
}


def decide(
    state: AppealState, command: Command, *, at: datetime, actor: Actor, policy: DeadlinePolicy
) -> Event:
    """The event `command` adds to the log (seq = state.last_seq + 1), or `DomainRejection`."""
    name = _rule_name(command)
    rule = RULES[name]
    _check_state(name, rule, state)
    _check_actor(name, rule, command, state, actor)
    data = _BUILD[name](state, command, at, policy)
    return Event(seq=state.last_seq + 1, kind=rule.event, at=at, actor=actor, data=data)


def apply(
    events: Sequence[Event], command: Command, *, at: datetime, actor: Actor, policy: DeadlinePolicy
) -> Event:
    """`decide` on the state of `events` as of `at`."""
    return decide(fold(events, now=at, policy=policy), command, at=at, actor=actor, policy=policy)


def receive(
    assignees: Sequence[str], origin_system: str, *, at: datetime, actor: Actor | None = None
) -> Event:
    """The first event of a new appeal (seq 1): routed to `assignees`, come from `origin_system`."""
    unique = list(dict.fromkeys(assignees))
    return Event(
        seq=1,
        kind=EventKind.received,
        at=at,
        actor=actor or Actor(ActorKind.system, origin_system),
        data={"assignees": unique, "origin_system": origin_system},
    )


# --- fold ---------------------------------------------------------------------------------------------------


def _ids(value: object) -> tuple[str, ...]:
    """Official ids from event data (a tuple once inside an Event), in order, each once."""
    assert isinstance(value, tuple | list)
    return tuple(dict.fromkeys(str(o) for o in value))


def _close_assignments(
    assignments: tuple[Assignment, ...], officials: Collection[str] | None, at: datetime
) -> tuple[Assignment, ...]:
    """Close the open assignments of `officials` (None: of everyone) at `at`."""
    return tuple(
        replace(a, until=at) if a.until is None and (officials is None or a.official in officials) else a
        for a in assignments
    )


def _close_pause(pauses: tuple[Pause, ...], at: datetime) -> tuple[Pause, ...]:
    if pauses and pauses[-1][1] is None:
        return (*pauses[:-1], (pauses[-1][0], at))
    return pauses


def _on_forwarded(state: AppealState, event: Event) -> AppealState:
    to = _ids(event.data["to"])
    leaving = set(state.assignees) - set(to)
    joining = [o for o in to if o not in state.assignees]
    assignments = _close_assignments(state.assignments, leaving, event.at)
    assignments += tuple(Assignment(o, event.at) for o in joining)
    return replace(state, assignees=to, assignments=assignments)


def _on_more_info(state: AppealState, event: Event) -> AppealState:
    return replace(state, pauses=(*_close_pause(state.pauses, event.at), (event.at, None)))


def _on_supplemented(state: AppealState, event: Event) -> AppealState:
    return replace(state, pauses=_close_pause(state.pauses, event.at))


def _on_extended(state: AppealState, event: Event) -> AppealState:
    return replace(
        state,
        extended_due_date=date.fromisoformat(str(event.data["new_due_date"])),
        extension_reason=str(event.data["reason"]),
        extended_at=event.at,
    )


def _on_reply(state: AppealState, event: Event) -> AppealState:
    return replace(
        state,
        replied_at=event.at,
        reply_official=str(event.data["official"]),
        assignments=_close_assignments(state.assignments, None, event.at),
    )


def _on_reviewed(state: AppealState, event: Event) -> AppealState:
    stars = event.data["stars"]
    assert isinstance(stars, int)
    return replace(state, reviewed=True, stars=stars, closed_at=event.at)


def _on_closed(state: AppealState, event: Event) -> AppealState:
    # Closed as of the end of the quiet period, as the derived closure says, whenever the gateway wrote it.
    days = event.data["quiet_period_days"]
    assert isinstance(days, int) and state.replied_at is not None
    return replace(state, closed_at=state.replied_at + timedelta(days=days))


def _on_ended(state: AppealState, event: Event) -> AppealState:
    return replace(
        state,
        pauses=_close_pause(state.pauses, event.at),
        assignments=_close_assignments(state.assignments, None, event.at),
    )


def _unchanged(state: AppealState, event: Event) -> AppealState:
    return state


_APPLY: Mapping[EventKind, Callable[[AppealState, Event], AppealState]] = {
    EventKind.forwarded: _on_forwarded,
    EventKind.in_process: _unchanged,
    EventKind.more_info_required: _on_more_info,
    EventKind.supplemented: _on_supplemented,
    EventKind.extended: _on_extended,
    EventKind.reply_sent: _on_reply,
    EventKind.reviewed: _on_reviewed,
    EventKind.closed: _on_closed,
    EventKind.withdrawn: _on_ended,
    EventKind.left_without_consideration: _on_ended,
}


def fold(
    events: Sequence[Event], *, now: datetime | None = None, policy: DeadlinePolicy | None = None
) -> AppealState:
    """The state of an appeal from its whole log. With `now`, also the derived closure after the quiet period.

    The log's shape is checked (starts with `received`, seqs 1..n); the rules are not re-run: the log holds
    what was decided when it happened.
    """
    if not events:
        raise InvalidEventLog("an appeal's log starts with its received event; this one is empty")
    first = events[0]
    if first.kind is not EventKind.received or first.seq != 1:
        raise InvalidEventLog(
            f"an appeal's log starts with a received event with seq 1, not {first.kind} {first.seq}"
        )
    assignees = _ids(first.data["assignees"])
    state = AppealState(
        status=Status.received,
        assignees=assignees,
        assignments=tuple(Assignment(o, first.at) for o in assignees),
        received_at=first.at,
        origin_system=str(first.data["origin_system"]),
        last_seq=1,
        last_event_at=first.at,
    )
    for expected, event in enumerate(events[1:], start=2):
        if event.seq != expected:
            raise InvalidEventLog(f"event seqs are dense: expected {expected}, found {event.seq}")
        if event.kind is EventKind.received:
            raise InvalidEventLog(f"event {event.seq}: an appeal is received once")
        state = _APPLY[event.kind](state, event)
        status = STATUS_AFTER[event.kind]
        state = replace(state, status=status or state.status, last_seq=event.seq, last_event_at=event.at)
    if now is not None:
        policy = policy or DeadlinePolicy()
        quiet = timedelta(days=policy.quiet_period_days)
        if (
            state.status is Status.reply_sent
            and state.replied_at is not None
            and now - state.replied_at > quiet
        ):
            state = replace(state, status=Status.closed, closed_at=state.replied_at + quiet)
        state = replace(state, as_of=now)
    return state


# --- words for people ---------------------------------------------------------------------------------------


def status_label(status: Status | str) -> str:
    """'In process' for in_process, 'Closed' for closed, ..."""
    return STATUS_LABELS[Status(status)]


def status_text(event: Event, names: Callable[[str], str]) -> str:
    """What an event means, for the citizen's timeline and the StatusUpdate; `names(official_id)` gives
    'Name, Post'. Several officials are joined with '; ' (their names already contain commas)."""
    data = event.data
    match event.kind:
        case EventKind.received:
            return "Received"
        case EventKind.forwarded:
            return "Forwarded to " + "; ".join(names(o) for o in _ids(data["to"]))
        case EventKind.in_process:
            return "In process"
        case EventKind.more_info_required:
            return "More information required"
        case EventKind.supplemented:
            return "More information received from the citizen"
        case EventKind.extended:
            # Not the reason: it is the official's free text, and timelines are public by tracking code.
            return f"Deadline extended to {data['new_due_date']}"
        case EventKind.reply_sent:
            return "Reply sent"
        case EventKind.reviewed:
            return f"Reviewed: {data['stars']} of 5"
        case EventKind.closed:
            return f"Closed: no review within {data['quiet_period_days']} days of the reply"
        case EventKind.withdrawn:
            return "Withdrawn by the applicant"
        case EventKind.left_without_consideration:
            return "Left without consideration"
    raise ValueError(f"unknown event kind {event.kind!r}")
