"""The public catalog: officials (search and profiles), the org tree, reports and ratings, as JSON-ready
plain data (dicts, lists, strings, numbers). The JSON API returns them as they are; the web pages render them.

Search runs over the per-process directory view (names, post titles, areas, units: no query per request);
profiles and units read the tables, so they are current.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.directory.model import DirectorySnapshot
from gateway.domain.ratings.compute import FORMULAS
from gateway.domain.reports.schedule import ReportStatus
from gateway.services.directory_view import DirectoryView
from gateway.services.ratings import RatingsService
from gateway.services.reports import ReportsService, ReportView, aware
from gateway.store.directory import Membership, Official, OfficialTopic, OrgUnit, Post
from gateway.store.models import DEMO_SENDER, Message
from gateway.store.reports import RatingSnapshot

MAX_PAGE = 100


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else aware(moment).isoformat()


def subtree(snapshot: DirectorySnapshot, unit_id: str) -> set[str]:
    """The unit and every unit below it."""
    found, todo = set(), [unit_id]
    while todo:
        unit = todo.pop()
        if unit in found:
            continue
        found.add(unit)
        todo.extend(snapshot.children.get(unit, ()))
    return found


# --- officials --------------------------------------------------------------------------------------------


def search_officials(
    session: Session,
    directory: DirectoryView,
    *,
    q: str = "",
    unit: str | None = None,
    topic: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> dict:
    """Officials whose name, post title or an area contains every word of `q` (case-insensitive), in `unit`
    or below it, with `topic` among their areas; officials in post first, then by name."""
    snapshot = directory.snapshot(session)
    units = subtree(snapshot, unit) if unit else None
    words = q.casefold().split()
    found = []
    for official in snapshot.officials.values():
        if units is not None and (official.post_id is None or official.org_unit_id not in units):
            continue
        if topic and topic not in official.topics:
            continue
        haystack = " ".join((official.name, official.post_title, *official.topics)).casefold()
        if all(word in haystack for word in words):
            found.append(official)
    found.sort(key=lambda o: (o.post_id is None, o.name.casefold(), o.id))
    limit = min(max(limit, 1), MAX_PAGE)
    page = found[max(offset, 0) : max(offset, 0) + limit]
    return {
        "total": len(found),
        "limit": limit,
        "offset": max(offset, 0),
        "items": [
            {
                "id": o.id,
                "name": o.name,
                "post": o.post_title or None,
                "in_post": o.post_id is not None,
                "org_unit": _unit_ref(snapshot, o.org_unit_id),
                "areas": sorted(o.topics),
            }
            for o in page
        ],
    }


def _unit_ref(snapshot: DirectorySnapshot, unit_id: str | None) -> dict | None:
    if unit_id is None:
        return None
    unit = snapshot.units.get(unit_id)
    return {"id": unit_id, "name": unit.name if unit else unit_id}


def _holders(session: Session, post_id: str) -> list[dict]:
    return [
        {"id": id_, "name": name}
        for id_, name in session.execute(
            select(Official.id, Official.name).where(Official.post_id == post_id).order_by(Official.id)
        ).tuples()
    ]


def rating_brief(snapshot: RatingSnapshot | None) -> dict | None:
    if snapshot is None:
        return None
    return {
        "week": snapshot.week,
        "status": snapshot.status,
        "composite": snapshot.composite,
        "score": None if snapshot.composite is None else round(snapshot.composite * 100, 1),
        "rank": snapshot.rank,
        "components": snapshot.components,
    }


def official_exists(session: Session, official_id: str) -> bool:
    return session.get(Official, official_id) is not None


def official_profile(
    session: Session, official_id: str, reports: ReportsService, ratings: RatingsService, now: datetime
) -> dict | None:
    official = session.get(Official, official_id)
    if official is None:
        return None
    post = session.get(Post, official.post_id) if official.post_id else None
    unit = session.get(OrgUnit, official.org_unit_id)
    reports_to = None
    if post is not None and post.reports_to_post_id:
        boss = session.get(Post, post.reports_to_post_id)
        if boss is not None:
            reports_to = {
                "post": {"id": boss.id, "title": boss.title, "org_unit_id": boss.org_unit_id},
                "officials": _holders(session, boss.id),
            }
    areas = sorted(
        session.scalars(select(OfficialTopic.topic).where(OfficialTopic.official_id == official_id))
    )
    memberships = [
        {
            "post_id": m.post_id,
            "post_title": title,
            "org_unit_id": m.org_unit_id,
            "start_date": m.start_date.isoformat(),
            "end_date": m.end_date.isoformat() if m.end_date else None,
        }
        for m, title in session.execute(
            select(Membership, Post.title)
            .join(Post, Post.id == Membership.post_id)
            .where(Membership.official_id == official_id)
            .order_by(Membership.start_date, Membership.id)
        ).tuples()
    ]
    latest, total = reports.list_reports(session, official=official_id, limit=5)
    schedule = reports.schedule_of(session, official_id, now)
    counts = Counter(str(d.status) for d in schedule)
    return {
        "id": official.id,
        "name": official.name,
        "in_post": official.post_id is not None,
        "post": {"id": post.id, "title": post.title, "is_head": post.is_head} if post else None,
        "org_unit": {"id": unit.id, "name": unit.name, "kind": unit.kind} if unit else None,
        "reports_to": reports_to,
        "authority": official.authority,
        "duties": official.duties,
        "contacts": {k: v for k, v in (official.contacts or {}).items() if v},
        "biography": official.biography,
        "areas": areas,
        "memberships": memberships,
        "rating": rating_brief(ratings.latest(session, official_id)),
        "reports": {"total": total, "latest": [report_summary(r) for r in latest]},
        "report_schedule": {str(s): counts.get(str(s), 0) for s in ReportStatus},
    }


def report_schedule(
    session: Session, official_id: str, reports: ReportsService, now: datetime, kinds
) -> dict:
    due = reports.schedule_of(session, official_id, now, kinds)
    counts = Counter(str(d.status) for d in due)
    return {
        "official": official_id,
        "as_of": iso(now),
        "counts": {str(s): counts.get(str(s), 0) for s in ReportStatus},
        "items": [
            {
                "kind": str(d.kind),
                "period": d.label,
                "start": d.start.isoformat(),
                "end": d.end.isoformat(),
                "due": d.due.isoformat(),
                "status": str(d.status),
                "received_at": iso(d.received_at),
                "report_id": d.report_id,
            }
            for d in reversed(due)
        ],
    }


# --- org units ----------------------------------------------------------------------------------------------


def org_tree(session: Session, directory: DirectoryView) -> list[dict]:
    """The org units as a forest: each with its head's holders and its children, ordered by name."""
    snapshot = directory.snapshot(session)
    officials = snapshot.officials

    def node(unit_id: str, seen: frozenset[str]) -> dict:
        unit = snapshot.units[unit_id]
        children = sorted(
            (c for c in snapshot.children.get(unit_id, ()) if c not in seen),
            key=lambda c: (snapshot.units[c].name.casefold(), c),
        )
        return {
            "id": unit.id,
            "name": unit.name,
            "kind": unit.kind,
            "head": [
                {"id": o, "name": officials[o].name, "post": officials[o].post_title}
                for o in snapshot.head_of(unit_id)
            ],
            "officials": len(snapshot.members.get(unit_id, ())),
            "children": [node(c, seen | {c}) for c in children],
        }

    roots = [u for u in snapshot.units.values() if u.parent_id is None or u.parent_id not in snapshot.units]
    return [node(u.id, frozenset({u.id})) for u in sorted(roots, key=lambda u: (u.name.casefold(), u.id))]


def org_unit(session: Session, unit_id: str) -> dict | None:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        return None
    path: list[dict] = []
    parent_id, seen = unit.parent_id, {unit.id}
    while parent_id is not None and parent_id not in seen:
        seen.add(parent_id)
        parent = session.get(OrgUnit, parent_id)
        if parent is None:
            break
        path.insert(0, {"id": parent.id, "name": parent.name})
        parent_id = parent.parent_id
    posts = list(session.scalars(select(Post).where(Post.org_unit_id == unit_id).order_by(Post.id)))
    head = next((p for p in posts if p.is_head), None)
    children = session.execute(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.kind)
        .where(OrgUnit.parent_id == unit_id)
        .order_by(OrgUnit.name)
    ).tuples()
    members = session.execute(
        select(Official.id, Official.name, Official.post_title)
        .where(Official.org_unit_id == unit_id, Official.post_id.is_not(None))
        .order_by(Official.name, Official.id)
    ).tuples()
    return {
        "id": unit.id,
        "name": unit.name,
        "kind": unit.kind,
        "description": unit.description,
        "parent": path[-1] if path else None,
        "path": path,
        "children": [{"id": i, "name": n, "kind": k} for i, n, k in children],
        "head": {"post": {"id": head.id, "title": head.title}, "officials": _holders(session, head.id)}
        if head
        else None,
        "posts": [
            {
                "id": p.id,
                "title": p.title,
                "reports_to_post_id": p.reports_to_post_id,
                "is_head": p.is_head,
                "officials": _holders(session, p.id),
            }
            for p in posts
        ],
        "officials": [{"id": i, "name": n, "post": t} for i, n, t in members],
    }


# --- reports ------------------------------------------------------------------------------------------------


def report_summary(view: ReportView) -> dict:
    return {
        "id": view.id,
        "official": {"id": view.official_id, "name": view.official_name},
        "kind": view.kind,
        "period": view.label,
        "start": view.start.isoformat(),
        "end": view.end.isoformat(),
        "due": view.due.isoformat(),
        "on_time": view.on_time,
        "received_at": iso(view.received_at),
        "summary": view.summary,
        "reviews": {"count": view.reviews_count, "average_stars": view.average_stars},
        "demo": view.demo,
    }


def report_detail(view: ReportView) -> dict:
    return {
        **report_summary(view),
        "items": list(view.items),
        "review_list": [
            {
                "stars": r.stars,
                "comment": r.comment,
                "reviewer_ref": r.reviewer_ref,
                "received_at": iso(r.received_at),
            }
            for r in view.reviews
        ],
    }


# --- ratings ------------------------------------------------------------------------------------------------


def _entry(snapshot: RatingSnapshot, names: DirectorySnapshot) -> dict:
    official = names.officials.get(snapshot.official_id)
    return {
        "official": {
            "id": snapshot.official_id,
            "name": official.name if official else snapshot.official_id,
            "post": official.post_title if official else None,
        },
        "org_unit": _unit_ref(names, snapshot.org_unit_id),
        **rating_brief(snapshot),
    }


def week_ratings(
    session: Session,
    directory: DirectoryView,
    ratings: RatingsService,
    week: str | None,
    unit: str | None = None,
    top: int = 5,
) -> dict | None:
    """A stored week (default: the latest): the ranking, the officials without enough data, the best and the
    worst `top`, and the method it was computed with. With `unit`: only officials of that unit or below."""
    run = ratings.run(session, week)
    if run is None:
        return None
    names = directory.snapshot(session)
    rows: Iterable[RatingSnapshot] = ratings.snapshots(session, run.week)
    if unit:
        units = subtree(names, unit)
        rows = [r for r in rows if r.org_unit_id in units]
    entries = [_entry(r, names) for r in rows]
    ranked = [e for e in entries if e["rank"] is not None]
    return {
        "week": run.week,
        "as_of": iso(run.as_of),
        "computed_at": iso(run.computed_at),
        "org_unit": unit,
        "officials": len(entries),
        "ranking": ranked,
        "insufficient_data": [e for e in entries if e["rank"] is None],
        "best": ranked[:top],
        "worst": list(reversed(ranked[-top:])) if ranked else [],
        "method": {"policy": run.policy, "formulas": dict(FORMULAS)},
        "demo_history": demo_history(session),
    }


def demo_history(session: Session) -> bool:
    """Whether the database holds the demo history seeded on the first run (gateway.demo.history): then the
    ratings rest on demo data. (A look-up in the unique index of messages.)"""
    found = select(Message.id).where(Message.sender_system == DEMO_SENDER).limit(1)
    return session.scalar(found) is not None


def official_ratings(session: Session, official_id: str, ratings: RatingsService) -> dict | None:
    official = session.get(Official, official_id)
    if official is None:
        return None
    return {
        "official": {"id": official.id, "name": official.name, "post": official.post_title or None},
        "history": [
            {**rating_brief(s), "org_unit_id": s.org_unit_id} for s in ratings.history(session, official_id)
        ],
    }
