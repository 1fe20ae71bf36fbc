"""Who may send what: registered systems and officials, read from the directory tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models import Official, OrgUnit, System, SystemAgency


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
    units_up: tuple[str, ...]  # the official's unit, its parent, … up to the top


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
    unit_id: str | None = row.org_unit_id
    while unit_id is not None and unit_id not in chain and len(chain) < 64:  # bounded: a cycle cannot hang us
        chain.append(unit_id)
        unit = session.get(OrgUnit, unit_id)
        unit_id = unit.parent_id if unit is not None else None
    return RegisteredOfficial(row.id, row.name, row.org_unit_id, tuple(chain))
