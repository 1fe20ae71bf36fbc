"""The events of an appeal's append-only log, and their JSON form for storage.

An event records what happened (`kind` and its `data`), when (`at`, aware, normalised to UTC), who caused it
(`actor`) and its place in the log (`seq`, 1-based and dense). The appeal's state is never stored: it is
folded from these events (see `lifecycle.fold`).

`data` by kind (ids are official ids; dates are ISO strings so that the JSON form is the stored form):

| kind | data |
|---|---|
| received | {"assignees": [ids, non-empty], "origin_system": str} |
| forwarded | {"from": id, "to": [ids, non-empty], "reason": str} |
| in_process, more_info_required | {"note": str or None, "official": id (optional)} |
| supplemented | {} |
| extended | {"new_due_date": "YYYY-MM-DD", "reason": str, "official": id (optional)} |
| reply_sent | {"official": id} |
| reviewed | {"stars": 1..5} |
| closed | {"quiet_period_days": whole days >= 0}: by the gateway, when no review came within them |
| withdrawn, left_without_consideration | {"note": str or None, "official": id (optional)} |

Missing optional keys read as None; keys not listed are kept as they are. Lists become tuples and mappings
become read-only inside an event, so an event is a value: `Event.from_json(e.to_json()) == e`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from types import MappingProxyType

from gateway.domain.errors import InvalidEventLog


class ActorKind(StrEnum):
    citizen = "citizen"
    official = "official"
    system = "system"
    gateway = "gateway"


@dataclass(frozen=True)
class Actor:
    """Who caused an event: an official or a system (with its id), the citizen or the gateway (id None)."""

    kind: ActorKind
    id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ActorKind(self.kind))
        if self.kind in (ActorKind.official, ActorKind.system) and not self.id:
            raise ValueError(f"an actor of kind {self.kind} needs an id")
        if self.id is not None and not isinstance(self.id, str):
            raise ValueError("an actor's id is a string")

    def to_json(self) -> dict[str, str | None]:
        return {"kind": str(self.kind), "id": self.id}

    @classmethod
    def from_json(cls, obj: Mapping[str, object]) -> Actor:
        return cls(ActorKind(str(obj["kind"])), None if obj.get("id") is None else str(obj["id"]))


class EventKind(StrEnum):
    received = "received"
    forwarded = "forwarded"
    in_process = "in_process"
    more_info_required = "more_info_required"
    supplemented = "supplemented"
    extended = "extended"
    reply_sent = "reply_sent"
    reviewed = "reviewed"
    closed = "closed"
    withdrawn = "withdrawn"
    left_without_consideration = "left_without_consideration"


# --- validation of `data` --------------------------------------------------------------------------------


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_id(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_optional_id(value: object) -> bool:
    return value is None or _is_id(value)


def _is_ids(value: object) -> bool:
    return isinstance(value, tuple) and bool(value) and all(_is_id(v) for v in value)


def _is_iso_date(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_days(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_stars(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5


_Check = Callable[[object], bool]
_NOTE: dict[str, _Check] = {"note": _is_optional_str, "official": _is_optional_id}

# kind -> (required keys, optional keys), each with its check.
_DATA: dict[EventKind, tuple[dict[str, _Check], dict[str, _Check]]] = {
    EventKind.received: ({"assignees": _is_ids, "origin_system": _is_id}, {}),
    EventKind.forwarded: ({"from": _is_id, "to": _is_ids, "reason": _is_str}, {}),
    EventKind.in_process: ({}, _NOTE),
    EventKind.more_info_required: ({}, _NOTE),
    EventKind.supplemented: ({}, {}),
    EventKind.extended: ({"new_due_date": _is_iso_date, "reason": _is_str}, {"official": _is_optional_id}),
    EventKind.reply_sent: ({"official": _is_id}, {}),
    EventKind.reviewed: ({"stars": _is_stars}, {}),
    EventKind.closed: ({"quiet_period_days": _is_days}, {}),
    EventKind.withdrawn: ({}, _NOTE),
    EventKind.left_without_consideration: ({}, _NOTE),
}


def _freeze(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    return value


def _thaw(value: object) -> object:
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Event:
    seq: int
    kind: EventKind
    at: datetime
    actor: Actor
    data: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.seq, int) or isinstance(self.seq, bool) or self.seq < 1:
            raise InvalidEventLog(f"an event's seq is an integer from 1, not {self.seq!r}")
        try:
            kind = EventKind(self.kind)
        except ValueError:
            raise InvalidEventLog(f"unknown event kind {self.kind!r}") from None
        if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
            raise InvalidEventLog(f"event {self.seq}: the time must be timezone-aware, not {self.at!r}")
        if not isinstance(self.actor, Actor):
            raise InvalidEventLog(f"event {self.seq}: the actor must be an Actor, not {self.actor!r}")
        data = _freeze(dict(self.data))
        assert isinstance(data, Mapping)
        required, optional = _DATA[kind]
        for key, check in required.items():
            if key not in data:
                raise InvalidEventLog(f"event {self.seq} ({kind}): data lacks {key!r}")
            if not check(data[key]):
                raise InvalidEventLog(f"event {self.seq} ({kind}): bad {key!r}: {data[key]!r}")
        for key, check in optional.items():
            if key in data and not check(data[key]):
                raise InvalidEventLog(f"event {self.seq} ({kind}): bad {key!r}: {data[key]!r}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        object.__setattr__(self, "data", data)

    def __hash__(self) -> int:
        return hash((self.seq, self.kind, self.at, self.actor))

    def to_json(self) -> dict[str, object]:
        """The stored form: plain dicts, lists and strings (times in ISO 8601 with the UTC offset)."""
        return {
            "seq": self.seq,
            "kind": str(self.kind),
            "at": self.at.isoformat(),
            "actor": self.actor.to_json(),
            "data": _thaw(self.data),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, object]) -> Event:
        try:
            actor = obj["actor"]
            at = obj["at"]
            data = obj.get("data") or {}
            if not isinstance(actor, Mapping) or not isinstance(at, str) or not isinstance(data, Mapping):
                raise TypeError("actor and data are objects, at is a string")
            seq = obj["seq"]
            if not isinstance(seq, int):
                raise TypeError("seq is an integer")
            return cls(
                seq=seq,
                kind=EventKind(str(obj["kind"])),
                at=datetime.fromisoformat(at),
                actor=Actor.from_json(actor),
                data=data,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidEventLog):
                raise
            raise InvalidEventLog(f"not a stored event: {exc}") from None

    def get(self, key: str, default: object = None) -> object:
        """`data[key]`, or `default` when the key is absent (optional keys)."""
        return self.data.get(key, default)
