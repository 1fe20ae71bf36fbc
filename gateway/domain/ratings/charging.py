"""Who an appeal's timeliness and its reply's stars are charged to (SPEC: "charged to the holder").

From an appeal's state folded from the events before `as_of`:

- **replied on time** (the local date of the reply on or before its due date): one on-time appeal for the
  official who replied, at the moment of the reply;
- **replied late**: one late appeal for every official who held the appeal at the end of its due date (the
  last moment of the due date, local time) — whoever let the deadline pass, even if someone else replied
  later; at the moment the due date ended;
- **still waiting for a reply** (received, forwarded, in process, more information required) and its due date
  ended before `as_of`: one late appeal for the holders at the end of the due date, likewise;
- **withdrawn or left without consideration** after its due date ended: late for the holders at the end of
  the due date; before that: nothing (nobody is charged for an appeal that ended in time without a reply);
- **not yet due**: nothing.

The due date is the appeal's own (`gateway.domain.appeals.deadlines.due_date`: pauses and extensions
included). An appeal replied by one of several joint holders counts once, for the replier.

**Reply stars** (the citizen's review) go to the official who replied, at the moment of the review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gateway.domain.appeals.deadlines import DeadlinePolicy, due_date
from gateway.domain.appeals.lifecycle import AWAITING_REPLY, AppealState, Status


@dataclass(frozen=True)
class Timeliness:
    official: str
    at: datetime
    on_time: bool
    appeal_id: str | None = None


@dataclass(frozen=True)
class Stars:
    official: str
    at: datetime
    stars: int
    subject_id: str | None = None  # the appeal or the report rated


def end_of_day(day: date, policy: DeadlinePolicy) -> datetime:
    """The first moment after `day`, local time: the moment a due date has passed."""
    return datetime.combine(day + timedelta(days=1), time(0), policy.tz)


def holders_at(state: AppealState, moment: datetime) -> tuple[str, ...]:
    """The officials holding the appeal in the last instant before `moment` (in assignment order)."""
    found = [
        a.official for a in state.assignments if a.since < moment and (a.until is None or a.until >= moment)
    ]
    return tuple(dict.fromkeys(found)) or tuple(state.assignees)


def charge(
    state: AppealState, policy: DeadlinePolicy, as_of: datetime, appeal_id: str | None = None
) -> list[Timeliness]:
    """The timeliness this appeal adds to officials' records as of `as_of` (see the module's docstring)."""
    if state.replied_at is not None and state.reply_official is not None:
        due = due_date(state, policy, now=state.replied_at).date
        if policy.local_date(state.replied_at) <= due:
            return [Timeliness(state.reply_official, state.replied_at, True, appeal_id)]
        return _late(state, due, policy, appeal_id)
    if state.status in AWAITING_REPLY:
        due = due_date(state, policy, now=as_of).date
        if end_of_day(due, policy) <= as_of:
            return _late(state, due, policy, appeal_id)
        return []
    if state.status in (Status.withdrawn, Status.left_without_consideration):
        ended = state.last_event_at or state.received_at
        due = due_date(state, policy, now=ended).date
        if policy.local_date(ended) > due:
            return _late(state, due, policy, appeal_id)
    return []


def _late(state: AppealState, due: date, policy: DeadlinePolicy, appeal_id: str | None) -> list[Timeliness]:
    moment = end_of_day(due, policy)
    return [Timeliness(o, moment, False, appeal_id) for o in holders_at(state, moment)]


def reply_stars(state: AppealState, appeal_id: str | None = None) -> Stars | None:
    """The citizen's stars for the reply, charged to the official who replied."""
    if state.stars is None or state.reply_official is None or state.closed_at is None:
        return None
    return Stars(state.reply_official, state.closed_at, state.stars, appeal_id)
