"""Apply a DirectoryUpdate to the directory tables, and read the directory back as a routing snapshot.

`apply_directory_update` works inside the caller's transaction and never commits. It upserts org units, posts
and officials (an official's record is replaced as a whole: optional fields left out are cleared; an org
unit's description, which the XML does not carry, is kept when the update gives none), replaces officials'
areas of responsibility, derives each unit's head post, and keeps memberships (who held which post when):

- an official who is given a post they do not hold gets a new membership starting on their StartDate, else on
  the update's EffectiveFrom; the membership they held ends the day before (EffectiveFrom - 1 day by default);
- an EndDate closes the membership on that date and clears the official's current post (they then receive no
  appeals and cannot sign for their agency); it takes effect when the update is applied;
- applying the same update twice changes nothing.

A refused update raises gateway.errors.Rejection("schema-invalid", ...) before anything is written (see
gateway.domain.directory.structure for the rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gateway.domain.directory.model import (
    DirectorySnapshot,
    DirectoryUpdateData,
    OfficialData,
    OfficialEntry,
    UnitEntry,
)
from gateway.domain.directory.scope import outside_scope
from gateway.domain.directory.structure import PostLink, UpdatePlan, plan_update
from gateway.domain.errors import DomainRejection
from gateway.errors import Rejection
from gateway.store.directory import Membership, Official, OfficialTopic, OrgUnit, Post

_CHUNK = 500  # ids per IN (...) list


@dataclass
class ImportSummary:
    org_units_created: int = 0
    org_units_updated: int = 0
    posts_created: int = 0
    posts_updated: int = 0
    officials_created: int = 0
    officials_updated: int = 0
    memberships_opened: int = 0
    memberships_closed: int = 0

    @property
    def created(self) -> int:
        return self.org_units_created + self.posts_created + self.officials_created

    @property
    def updated(self) -> int:
        return self.org_units_updated + self.posts_updated + self.officials_updated

    def describe(self) -> str:
        return (
            f"org units: {self.org_units_created} created, {self.org_units_updated} updated; "
            f"posts: {self.posts_created} created, {self.posts_updated} updated; "
            f"officials: {self.officials_created} created, {self.officials_updated} updated; "
            f"memberships: {self.memberships_opened} opened, {self.memberships_closed} closed"
        )

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def apply_directory_update(session: Session, update: DirectoryUpdateData) -> ImportSummary:
    """Apply `update` in the caller's transaction (flushed, not committed); raises Rejection if refused."""
    units = {row.id: row for row in session.scalars(select(OrgUnit))}
    posts = {row.id: row for row in session.scalars(select(Post))}
    try:
        plan = plan_update(
            update,
            {unit_id: row.parent_id for unit_id, row in units.items()},
            {post_id: PostLink(row.org_unit_id, row.reports_to_post_id) for post_id, row in posts.items()},
        )
    except DomainRejection as exc:
        raise Rejection(exc.code, exc.message) from None
    summary = ImportSummary()
    _apply_units(session, update, plan.new_units_in_order, units, summary)
    titles = {post_id: row.title for post_id, row in posts.items()}
    titles.update({p.id: p.title for p in update.posts})
    moved = _apply_posts(session, update, plan, posts, summary)
    final = {post_id: (titles[post_id], link.org_unit_id) for post_id, link in plan.posts.items()}
    _follow_posts(session, final, moved)
    _apply_officials(session, update, final, summary)
    return summary


def _assign(row: object, **values: object) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _apply_units(session, update, new_in_order, units: dict[str, OrgUnit], summary: ImportSummary) -> None:
    data = {u.id: u for u in update.org_units}
    if new_in_order:  # parents first: SQLite checks the foreign key row by row
        rows = [data[unit_id] for unit_id in new_in_order]
        session.execute(
            insert(OrgUnit),
            [
                {
                    "id": u.id,
                    "name": u.name,
                    "parent_id": u.parent_id,
                    "kind": u.kind,
                    "description": u.description,
                }
                for u in rows
            ],
        )
        summary.org_units_created += len(rows)
    for u in update.org_units:  # existing units, re-parented perhaps under the new ones
        if u.id in units:
            values: dict[str, object] = {"name": u.name, "parent_id": u.parent_id, "kind": u.kind}
            if u.description is not None:
                values["description"] = u.description
            if _assign(units[u.id], **values):
                summary.org_units_updated += 1
    session.flush()


def _apply_posts(
    session, update, plan: UpdatePlan, posts: dict[str, Post], summary: ImportSummary
) -> set[str]:
    """Upsert posts and mark the heads; returns the ids of existing posts whose title or unit changed."""
    data = {p.id: p for p in update.posts}
    if plan.new_posts_in_order:
        session.execute(
            insert(Post),
            [
                {
                    "id": p.id,
                    "title": p.title,
                    "org_unit_id": p.org_unit_id,
                    "reports_to_post_id": p.reports_to_post_id,
                    "is_head": plan.heads.get(p.org_unit_id) == p.id,
                }
                for p in (data[post_id] for post_id in plan.new_posts_in_order)
            ],
        )
        summary.posts_created += len(plan.new_posts_in_order)
    changed: set[str] = set()
    for post_id, row in posts.items():
        p = data.get(post_id)
        if p is not None:
            if row.title != p.title or row.org_unit_id != p.org_unit_id:
                changed.add(p.id)
            if _assign(
                row, title=p.title, org_unit_id=p.org_unit_id, reports_to_post_id=p.reports_to_post_id
            ):
                summary.posts_updated += 1
        row.is_head = plan.heads.get(row.org_unit_id) == post_id
    session.flush()
    return changed


def _follow_posts(session: Session, final: dict[str, tuple[str, str]], changed: set[str]) -> None:
    """Officials holding a post whose title or unit changed get the new ones (denormalised on Official)."""
    for rows in _chunked(session, select(Official), Official.post_id, changed):
        for row in rows:
            title, unit = final[row.post_id]
            _assign(row, post_title=title, org_unit_id=unit)


def _apply_officials(session, update, final: dict[str, tuple[str, str]], summary: ImportSummary) -> None:
    ids = [o.id for o in update.officials]
    officials = {r.id: r for rows in _chunked(session, select(Official), Official.id, ids) for r in rows}
    memberships: dict[str, list[Membership]] = {}
    order = (Membership.start_date, Membership.id)
    for rows in _chunked(session, select(Membership).order_by(*order), Membership.official_id, ids):
        for m in rows:
            memberships.setdefault(m.official_id, []).append(m)
    topics: dict[str, dict[str, OfficialTopic]] = {}
    for rows in _chunked(session, select(OfficialTopic), OfficialTopic.official_id, ids):
        for t in rows:
            topics.setdefault(t.official_id, {})[t.topic] = t

    new_officials: list[dict] = []
    new_memberships: list[dict] = []
    new_topics: list[dict] = []
    for o in update.officials:
        title, unit = final[o.post_id]
        row = officials.get(o.id)
        if row is None:  # a new official: one row, one membership, their topics
            start = o.start_date or update.effective_from
            new_officials.append(
                {
                    "id": o.id,
                    "name": o.name,
                    "post_title": title,
                    "org_unit_id": unit,
                    "post_id": None if o.end_date is not None else o.post_id,
                    "authority": o.authority,
                    "duties": o.duties,
                    "contacts": o.contacts.as_dict(),
                    "biography": o.biography,
                }
            )
            new_memberships.append(
                {
                    "official_id": o.id,
                    "post_id": o.post_id,
                    "org_unit_id": unit,
                    "start_date": start,
                    "end_date": o.end_date,
                }
            )
            new_topics += [{"official_id": o.id, "topic": t} for t in dict.fromkeys(o.topics)]
            summary.officials_created += 1
            summary.memberships_opened += 1
            summary.memberships_closed += o.end_date is not None
            continue
        changed = _assign(
            row,
            name=o.name,
            authority=o.authority,
            duties=o.duties,
            contacts=o.contacts.as_dict(),
            biography=o.biography,
        )
        changed |= _apply_membership(
            session, update, o, row, (title, unit), memberships.get(o.id, []), summary
        )
        changed |= _apply_topics(session, o, topics.get(o.id, {}))
        summary.officials_updated += changed
    if new_officials:
        session.execute(insert(Official), new_officials)
        session.execute(insert(Membership), new_memberships)
        if new_topics:
            session.execute(insert(OfficialTopic), new_topics)
    session.flush()


def _apply_membership(session, update, o: OfficialData, row: Official, post, held, summary) -> bool:
    """Keep the official's memberships in step with the post the update gives them (see the module doc)."""
    title, unit = post
    start = o.start_date or update.effective_from
    open_ = next((m for m in reversed(held) if m.end_date is None), None)
    changed = False
    if open_ is not None and open_.post_id == o.post_id:
        current = open_
    elif open_ is None and o.end_date is not None and held and held[-1].post_id == o.post_id:
        current = held[-1]  # already closed: the same departure again, or its date corrected
    else:
        if open_ is not None:
            open_.end_date = max(open_.start_date, start - timedelta(days=1))
            summary.memberships_closed += 1
        current = Membership(official_id=o.id, post_id=o.post_id, org_unit_id=unit, start_date=start)
        session.add(current)
        summary.memberships_opened += 1
        changed = True
    if o.start_date is not None and current.start_date != o.start_date:
        current.start_date = o.start_date
        changed = True
    if o.end_date is not None:
        if o.end_date < current.start_date:
            raise Rejection(
                "schema-invalid",
                f"official {o.id!r}: end date {o.end_date} is before the start of their membership in "
                f"post {o.post_id!r} ({current.start_date})",
            )
        if current.end_date != o.end_date:
            if current.end_date is None:
                summary.memberships_closed += 1
            current.end_date = o.end_date
            changed = True
    changed |= _assign(
        row,
        post_id=None if o.end_date is not None else o.post_id,
        org_unit_id=unit,
        post_title=title,
    )
    return changed


def _apply_topics(session: Session, o: OfficialData, have: dict[str, OfficialTopic]) -> bool:
    wanted = list(dict.fromkeys(o.topics))
    changed = False
    for topic, row in have.items():
        if topic not in wanted:
            session.delete(row)
            changed = True
    for topic in wanted:
        if topic not in have:
            session.add(OfficialTopic(official_id=o.id, topic=topic))
            changed = True
    return changed


def _chunked(session: Session, stmt, column, ids: Iterable[str]) -> Iterator[list]:
    ids = list(ids)
    for i in range(0, len(ids), _CHUNK):
        yield list(session.scalars(stmt.where(column.in_(ids[i : i + _CHUNK]))))


# --- reading ------------------------------------------------------------------------------------------------


def load_snapshot(session: Session) -> DirectorySnapshot:
    """The whole directory as plain data for routing (four queries, no ORM objects)."""
    heads = dict(session.execute(select(Post.org_unit_id, Post.id).where(Post.is_head)).tuples().all())
    units = [
        UnitEntry(id=id_, parent_id=parent, head_post_id=heads.get(id_), name=name, kind=kind)
        for id_, parent, name, kind in session.execute(
            select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.name, OrgUnit.kind)
        ).tuples()
    ]
    topics: dict[str, set[str]] = {}
    for official_id, topic in session.execute(
        select(OfficialTopic.official_id, OfficialTopic.topic)
    ).tuples():
        topics.setdefault(official_id, set()).add(topic)
    officials = [
        OfficialEntry(
            id=id_,
            org_unit_id=unit,
            post_id=post,
            topics=frozenset(topics.get(id_, ())),
            name=name,
            post_title=title,
        )
        for id_, unit, post, name, title in session.execute(
            select(Official.id, Official.org_unit_id, Official.post_id, Official.name, Official.post_title)
        ).tuples()
    ]
    return DirectorySnapshot.of(units, officials)


def check_scope(session: Session, update: DirectoryUpdateData, served: frozenset[str], sender: str) -> None:
    """Refuse an update that touches units, posts or officials outside the agencies `sender` serves."""
    post_units = dict(session.execute(select(Post.id, Post.org_unit_id)).tuples().all())
    refused = outside_scope(update, load_snapshot(session), post_units, served)
    if refused:
        shown = ", ".join(refused[:10]) + (" …" if len(refused) > 10 else "")
        raise Rejection(
            "signer-not-authorized",
            f"{sender} may only change the directory of the agencies it serves; outside them: {shown}",
        )
