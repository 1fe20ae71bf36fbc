"""Appeal routing (SPEC "Appeals"): to whom an appeal goes, decided from a snapshot of the directory.

- explicit official ids: those officials, in the order given (duplicates dropped); each must be in the
  directory and hold a post now, else "unknown-official";
- an org unit and a topic: the current officials of the unit and of its sub-units whose areas of
  responsibility include the topic, nearest first (by depth below the unit, then by official id); if there
  are none, the unit's head (whoever holds its head post now); if the unit is not in the directory, or has
  neither, "unknown-addressee".
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.directory.model import DirectorySnapshot
from gateway.domain.errors import DomainRejection


@dataclass(frozen=True)
class Addressee:
    """Whom an appeal is addressed to: explicit officials, or an org unit and a topic."""

    officials: tuple[str, ...] = ()
    org_unit: str | None = None
    topic: str | None = None


def route(addressee: Addressee, directory: DirectorySnapshot) -> tuple[str, ...]:
    """The officials an appeal goes to; raises DomainRejection("unknown-official" | "unknown-addressee")."""
    if addressee.officials:
        if addressee.org_unit is not None or addressee.topic is not None:
            raise DomainRejection(
                "unknown-addressee",
                "an addressee names either officials or an org unit and a topic, not both",
            )
        return _explicit(tuple(addressee.officials), directory)
    if addressee.org_unit is None or addressee.topic is None:
        raise DomainRejection("unknown-addressee", "an addressee needs officials, or an org unit and a topic")
    return _by_topic(addressee.org_unit, addressee.topic, directory)


def _explicit(ids: tuple[str, ...], directory: DirectorySnapshot) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(ids))
    for official_id in chosen:
        official = directory.officials.get(official_id)
        if official is None:
            raise DomainRejection("unknown-official", f"official {official_id!r} is not in the directory")
        if not official.current:
            raise DomainRejection("unknown-official", f"official {official_id!r} no longer holds a post")
    return chosen


def _by_topic(unit_id: str, topic: str, directory: DirectorySnapshot) -> tuple[str, ...]:
    if unit_id not in directory.units:
        raise DomainRejection("unknown-addressee", f"org unit {unit_id!r} is not in the directory")
    found: list[str] = []
    level = [unit_id]
    visited = {unit_id}  # a damaged tree with a cycle must not loop
    while level:  # breadth first: depth 0 is the unit itself
        responsible = sorted(
            official_id
            for unit in level
            for official_id in directory.members.get(unit, ())
            if topic in directory.officials[official_id].topics
        )
        found.extend(responsible)
        next_level: list[str] = []
        for unit in level:
            for child in directory.children.get(unit, ()):
                if child not in visited:
                    visited.add(child)
                    next_level.append(child)
        level = sorted(next_level)
    if found:
        return tuple(found)
    heads = directory.head_of(unit_id)
    if heads:
        return heads
    raise DomainRejection(
        "unknown-addressee",
        f"nobody in org unit {unit_id!r} or below is responsible for {topic!r}, and the unit has no head",
    )
