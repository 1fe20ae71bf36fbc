"""A per-process view of the directory for the appeal hot path: routing, who serves whom, names and posts.

Loading the directory costs a few queries; an appeal needs it several times. The view is reloaded when older
than `ttl` seconds, and at once in this process after a DirectoryUpdate (other processes within `ttl`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.directory.model import DirectorySnapshot
from gateway.store.directory import SystemAgency


@dataclass(frozen=True)
class _Loaded:
    snapshot: DirectorySnapshot
    served_by: dict[str, frozenset[str]]  # org unit id -> systems serving it directly
    at: float


class DirectoryView:
    def __init__(self, loader: Callable[[Session], DirectorySnapshot], ttl: float = 30.0):
        self._loader = loader
        self._ttl = ttl
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._loaded = None

    def _current(self, session: Session) -> _Loaded:
        loaded = self._loaded
        if loaded is not None and time.monotonic() - loaded.at < self._ttl:
            return loaded
        served: dict[str, set[str]] = {}
        rows = session.execute(select(SystemAgency.system_id, SystemAgency.org_unit_id))
        for system_id, unit_id in rows:
            served.setdefault(unit_id, set()).add(system_id)
        loaded = _Loaded(
            self._loader(session), {u: frozenset(s) for u, s in served.items()}, time.monotonic()
        )
        with self._lock:
            self._loaded = loaded
        return loaded

    def snapshot(self, session: Session) -> DirectorySnapshot:
        return self._current(session).snapshot

    def units_up(self, session: Session, official_id: str) -> tuple[str, ...]:
        """The official's unit and its ancestors; empty for an unknown official or one without a post."""
        snapshot = self._current(session).snapshot
        official = snapshot.officials.get(official_id)
        if official is None or official.post_id is None:
            return ()
        chain: list[str] = []
        unit_id: str | None = official.org_unit_id
        while unit_id is not None and unit_id not in chain:
            chain.append(unit_id)
            unit = snapshot.units.get(unit_id)
            unit_id = unit.parent_id if unit else None
        return tuple(chain)

    def systems_serving(self, session: Session, officials: tuple[str, ...]) -> set[str]:
        served_by = self._current(session).served_by
        return {s for o in officials for unit in self.units_up(session, o) for s in served_by.get(unit, ())}

    def label(self, session: Session) -> Callable[[str], str]:
        """ "Name, Post" of an official, for status texts."""
        officials = self._current(session).snapshot.officials

        def name(official_id: str) -> str:
            official = officials.get(official_id)
            return f"{official.name}, {official.post_title}" if official else official_id

        return name
