"""Load the demo world into the directory tables (idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from gateway.demo import world
from gateway.store.database import writing
from gateway.store.models import Official, OrgUnit, System, SystemAgency


def seed_demo_world(sessions: sessionmaker[Session]) -> int:
    """Insert what is missing; returns how many rows were added."""
    added = 0
    with writing(sessions) as session:
        for unit in world.ORG_UNITS:
            if session.get(OrgUnit, unit.id) is None:
                session.add(OrgUnit(id=unit.id, name=unit.name, parent_id=unit.parent))
                session.flush()  # parents first, for the foreign key
                added += 1
        for official in world.OFFICIALS:
            if session.get(Official, official.id) is None:
                session.add(
                    Official(
                        id=official.id,
                        name=official.name,
                        post_title=official.post,
                        org_unit_id=official.org_unit,
                    )
                )
                added += 1
        for system in world.SYSTEMS:
            if session.get(System, system.id) is None:
                session.add(
                    System(
                        id=system.id,
                        name=system.name,
                        kind=system.kind,
                        document_types=list(system.document_types),
                        created_at=datetime.now(UTC),
                    )
                )
                session.flush()
                for unit_id in system.serves:
                    session.add(SystemAgency(system_id=system.id, org_unit_id=unit_id))
                added += 1
        session.commit()
    return added


def demo_identities() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(systems, officials) as (uid, name) pairs for the dev PKI."""
    return ([(s.id, s.name) for s in world.SYSTEMS], [(o.id, o.name) for o in world.OFFICIALS])
