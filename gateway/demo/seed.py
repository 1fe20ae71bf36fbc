"""Load the demo world (gateway.demo.world) through the DirectoryUpdate import service, as a DMS would.

Idempotent, and it adds only what is missing: units, posts and officials that are not in the directory yet
(and, for a database from before migration 0003, units without a kind and officials who never held a post),
so that a directory changed by imports is not reset on the next `zvarot up`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.demo import world
from gateway.directory.service import apply_directory_update
from gateway.domain.directory.model import (
    Contacts,
    DirectoryUpdateData,
    OfficialData,
    OrgUnitData,
    PostData,
)
from gateway.store.database import writing
from gateway.store.directory import Membership, Official, OrgUnit, Post, System, SystemAgency


def demo_directory_update() -> DirectoryUpdateData:
    """The whole demo world as one DirectoryUpdate."""
    return DirectoryUpdateData(
        effective_from=world.EFFECTIVE_FROM,
        org_units=tuple(
            OrgUnitData(u.id, u.name, u.parent, u.kind, u.description or None) for u in world.ORG_UNITS
        ),
        posts=tuple(PostData(p.id, p.title, p.org_unit, p.reports_to) for p in world.POSTS),
        officials=tuple(
            OfficialData(
                id=o.id,
                name=o.name,
                post_id=o.post,
                authority=o.authority or None,
                duties=o.duties or None,
                contacts=Contacts(o.email or None, o.phone or None, o.address or None),
                biography=o.biography or None,
                topics=o.topics,
                start_date=o.start,
            )
            for o in world.OFFICIALS
        ),
    )


def _missing(session: Session, update: DirectoryUpdateData) -> DirectoryUpdateData:
    complete_units = set(session.scalars(select(OrgUnit.id).where(OrgUnit.kind.is_not(None))))
    posts = set(session.scalars(select(Post.id)))
    placed = set(session.scalars(select(Membership.official_id)))
    placed |= set(session.scalars(select(Official.id).where(Official.post_id.is_not(None))))
    return DirectoryUpdateData(
        effective_from=update.effective_from,
        org_units=tuple(u for u in update.org_units if u.id not in complete_units),
        posts=tuple(p for p in update.posts if p.id not in posts),
        officials=tuple(o for o in update.officials if o.id not in placed),
    )


def seed_demo_world(sessions: sessionmaker[Session]) -> int:
    """Add what is missing of the demo world; returns how many units, posts, officials, systems were added."""
    with writing(sessions) as session:
        summary = apply_directory_update(session, _missing(session, demo_directory_update()))
        added = summary.created
        for system in world.SYSTEMS:
            if session.get(System, system.id) is None:
                session.add(
                    System(
                        id=system.id,
                        name=system.name,
                        kind=system.kind,
                        document_types=list(system.document_types),
                        forward_documents=system.forward_documents,
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
