"""Plain data of the directory: a DirectoryUpdate as read from XML, and a snapshot of it for routing.

Popolo terms (https://www.popoloproject.com/specs/): an org unit is an Organization, a post a Post, an
official a Person, and holding a post from one date to another a Membership.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

# --- a DirectoryUpdate --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contacts:
    email: str | None = None
    phone: str | None = None
    address: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {
            k: v for k, v in (("email", self.email), ("phone", self.phone), ("address", self.address)) if v
        }


@dataclass(frozen=True)
class OrgUnitData:
    id: str
    name: str
    parent_id: str | None = None  # None: a top-level body
    kind: str | None = None  # e.g. "ministry", "department", "village-council"
    description: str | None = None  # not carried by the XML; None leaves a stored description unchanged


@dataclass(frozen=True)
class PostData:
    id: str
    title: str
    org_unit_id: str
    reports_to_post_id: str | None = None


@dataclass(frozen=True)
class OfficialData:
    """An official's whole record as of the update: optional fields left out are cleared."""

    id: str
    name: str
    post_id: str
    authority: str | None = None
    duties: str | None = None
    contacts: Contacts = Contacts()
    biography: str | None = None
    topics: tuple[str, ...] = ()  # areas of responsibility
    start_date: date | None = None  # in this post; default: the update's effective_from
    end_date: date | None = None  # the official left this post on that day (inclusive)


@dataclass(frozen=True)
class DirectoryUpdateData:
    effective_from: date
    org_units: tuple[OrgUnitData, ...] = ()
    posts: tuple[PostData, ...] = ()
    officials: tuple[OfficialData, ...] = ()


# --- a snapshot, for routing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitEntry:
    id: str
    parent_id: str | None = None
    head_post_id: str | None = None  # the unit's head post (the top of its reporting chain)
    name: str = ""
    kind: str | None = None


@dataclass(frozen=True)
class OfficialEntry:
    id: str
    org_unit_id: str  # the unit of the current post (of the last one, if post_id is None)
    post_id: str | None = None  # None: holds no post now (has left), so receives nothing
    topics: frozenset[str] = frozenset()
    name: str = ""
    post_title: str = ""

    @property
    def current(self) -> bool:
        return self.post_id is not None


@dataclass(frozen=True)
class DirectorySnapshot:
    """The directory at one moment, as plain read-only data. Build it with `DirectorySnapshot.of(...)` (or
    gateway.directory.service.load_snapshot); the derived indexes are computed once, here."""

    units: Mapping[str, UnitEntry]
    officials: Mapping[str, OfficialEntry]
    # derived
    children: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)  # sorted ids
    members: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)  # current, by id
    heads: Mapping[str, tuple[str, ...]] = field(
        init=False, repr=False, compare=False
    )  # holders of the head post

    def __post_init__(self) -> None:
        children: dict[str, list[str]] = {}
        for unit in self.units.values():
            if unit.parent_id is not None:
                children.setdefault(unit.parent_id, []).append(unit.id)
        members: dict[str, list[str]] = {}
        by_post: dict[str, list[str]] = {}
        for official in self.officials.values():
            if official.post_id is not None:
                members.setdefault(official.org_unit_id, []).append(official.id)
                by_post.setdefault(official.post_id, []).append(official.id)
        heads = {
            unit.id: tuple(sorted(by_post.get(unit.head_post_id, ())))
            for unit in self.units.values()
            if unit.head_post_id is not None and by_post.get(unit.head_post_id)
        }
        object.__setattr__(self, "children", {k: tuple(sorted(v)) for k, v in children.items()})
        object.__setattr__(self, "members", {k: tuple(sorted(v)) for k, v in members.items()})
        object.__setattr__(self, "heads", heads)

    @classmethod
    def of(cls, units: Iterable[UnitEntry], officials: Iterable[OfficialEntry]) -> DirectorySnapshot:
        return cls({u.id: u for u in units}, {o.id: o for o in officials})

    def head_of(self, unit_id: str) -> tuple[str, ...]:
        """The officials holding the unit's head post now (normally one)."""
        return self.heads.get(unit_id, ())
