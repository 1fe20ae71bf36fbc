"""Who may send what: registered systems and officials, read from the directory tables."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.directory import Official, OrgUnit, System, SystemAgency


@dataclass(frozen=True)
class RegisteredSystem:
    id: str
    kind: str
    document_types: frozenset[str]
    serves: frozenset[str]  # org unit ids; each covers its subtree


@dataclass(frozen=True)
class RegisteredOfficial:
    id: str
    name: str
    org_unit_id: str
    units_up: tuple[str, ...]  # the official's unit, its parent, … up to the top; () once they hold no post


def find_system(session: Session, system_id: str) -> RegisteredSystem | None:
    row = session.get(System, system_id)
    if row is None:
        return None
    serves = session.scalars(select(SystemAgency.org_unit_id).where(SystemAgency.system_id == system_id))
    return RegisteredSystem(row.id, row.kind, frozenset(row.document_types or ()), frozenset(serves))


def find_official(session: Session, official_id: str) -> RegisteredOfficial | None:
    row = session.get(Official, official_id)
    if row is None:
        return None
    chain: list[str] = []
    # An official who holds no post now (has left) speaks for no agency: no units, so no system serves them.
    unit_id: str | None = row.org_unit_id if row.post_id is not None else None
    while unit_id is not None and unit_id not in chain and len(chain) < 64:  # bounded: a cycle cannot hang us
        chain.append(unit_id)
        unit = session.get(OrgUnit, unit_id)
        unit_id = unit.parent_id if unit is not None else None
    return RegisteredOfficial(row.id, row.name, row.org_unit_id, tuple(chain))


class Registry:
    """Per-process cache of who may send what: the hot path must not pay an ORM query per document.

    Entries live for `ttl` seconds (a de-registration takes effect within that time; restart to make it
    immediate); an unknown id is remembered only briefly so that a newly registered system works at once.
    """

    def __init__(
        self, sessions: sessionmaker[Session], ttl: float = 30.0, negative_ttl: float = 1.0, size: int = 16384
    ):
        self._sessions = sessions
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._size = size
        self._entries: OrderedDict[tuple[str, str], tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def system(self, system_id: str) -> RegisteredSystem | None:
        return self._cached("system", system_id, find_system)  # type: ignore[return-value]

    def official(self, official_id: str) -> RegisteredOfficial | None:
        return self._cached("official", official_id, find_official)  # type: ignore[return-value]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _cached(self, kind: str, key: str, load) -> object:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get((kind, key))
            if hit is not None and hit[0] > now:
                return hit[1]
        with self._sessions() as session:
            value = load(session, key)
        expires = now + (self._ttl if value is not None else self._negative_ttl)
        with self._lock:
            self._entries[(kind, key)] = (expires, value)
            self._entries.move_to_end((kind, key))
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
