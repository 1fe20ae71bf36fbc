"""The rules a DirectoryUpdate must keep against the directory it changes (pure; the service loads the data).

Rejections use the SPEC code "schema-invalid": a reference to an org unit or post that is neither in the
directory nor in the update, an id given twice, a cycle in the org tree or in the reporting lines, an end date
before the start date, or a unit whose head cannot be told. (The XSD cannot say these; the document is still
invalid as a description of the directory.)

The head of a unit is derived, not declared: it is the unit's one post that reports to no post of the same
unit (it reports to nobody, or to a post of another unit, as a department head reports to the minister). A
unit with posts must have exactly one such post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.domain.directory.model import DirectoryUpdateData
from gateway.domain.errors import DomainRejection

INVALID = "schema-invalid"


@dataclass(frozen=True)
class PostLink:
    org_unit_id: str
    reports_to_post_id: str | None


@dataclass(frozen=True)
class UpdatePlan:
    """What the directory looks like once the update is applied (ids and links only)."""

    unit_parents: Mapping[str, str | None]
    posts: Mapping[str, PostLink]
    heads: Mapping[str, str]  # unit id -> its head post id, for every unit that has posts
    new_units_in_order: tuple[str, ...]  # units of the update not yet in the directory, parents first
    new_posts_in_order: tuple[str, ...]  # posts of the update not yet in the directory, reports-to first


def find_cycle(parents: Mapping[str, str | None], starts: Iterable[str]) -> tuple[str, ...] | None:
    """A cycle met by following `parents` from any of `starts`: its ids, the first repeated at the end."""
    done: set[str] = set()
    for start in starts:
        path: list[str] = []
        seen: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done:
            if node in seen:
                return (*path[seen[node] :], node)
            seen[node] = len(path)
            path.append(node)
            node = parents.get(node)
        done.update(path)
    return None


def head_posts(posts: Mapping[str, PostLink]) -> dict[str, str]:
    """Each unit's head post; raises if a unit has several posts that report outside it."""
    tops: dict[str, list[str]] = {}
    units_with_posts: set[str] = set()
    for post_id, link in posts.items():
        units_with_posts.add(link.org_unit_id)
        boss = posts.get(link.reports_to_post_id) if link.reports_to_post_id else None
        if boss is None or boss.org_unit_id != link.org_unit_id:
            tops.setdefault(link.org_unit_id, []).append(post_id)
    heads: dict[str, str] = {}
    for unit in sorted(units_with_posts):
        candidates = sorted(tops.get(unit, ()))
        if len(candidates) != 1:  # none at all only with a cycle, which is refused before
            raise DomainRejection(
                INVALID,
                f"org unit {unit!r} has {len(candidates)} posts that report to no post of the unit "
                f"({', '.join(candidates)}): every post but the unit's head must report to a post of the "
                f"same unit",
            )
        heads[unit] = candidates[0]
    return heads


def _no_duplicates(kind: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for id_ in ids:
        if id_ in seen:
            raise DomainRejection(INVALID, f"{kind} {id_!r} appears more than once in the update")
        seen.add(id_)


def _in_order(ids: list[str], parents: Mapping[str, str | None]) -> tuple[str, ...]:
    """`ids` ordered so that each comes after its parent when the parent is among them (no cycles here)."""
    wanted = set(ids)
    ordered: list[str] = []
    placed: set[str] = set()

    def place(node: str | None) -> None:
        chain = []
        while node is not None and node in wanted and node not in placed:
            chain.append(node)
            node = parents.get(node)
        for item in reversed(chain):
            placed.add(item)
            ordered.append(item)

    for id_ in ids:
        place(id_)
    return tuple(ordered)


def plan_update(
    update: DirectoryUpdateData,
    unit_parents: Mapping[str, str | None],
    posts: Mapping[str, PostLink],
) -> UpdatePlan:
    """Check `update` against the directory (`unit_parents`: every unit and its parent; `posts`: every post)
    and return the directory's shape after it; raises DomainRejection("schema-invalid", ...)."""
    _no_duplicates("org unit", (u.id for u in update.org_units))
    _no_duplicates("post", (p.id for p in update.posts))
    _no_duplicates("official", (o.id for o in update.officials))

    parents = dict(unit_parents)
    parents.update({u.id: u.parent_id for u in update.org_units})
    for unit in update.org_units:
        if unit.parent_id is not None and unit.parent_id not in parents:
            raise DomainRejection(
                INVALID,
                f"org unit {unit.id!r}: parent {unit.parent_id!r} is neither in the directory "
                f"nor in the update",
            )
    cycle = find_cycle(parents, (u.id for u in update.org_units))
    if cycle:
        raise DomainRejection(INVALID, f"the org tree would have a cycle: {' -> '.join(cycle)}")

    links = dict(posts)
    links.update({p.id: PostLink(p.org_unit_id, p.reports_to_post_id) for p in update.posts})
    for post in update.posts:
        if post.org_unit_id not in parents:
            raise DomainRejection(
                INVALID,
                f"post {post.id!r}: org unit {post.org_unit_id!r} is neither in the directory "
                f"nor in the update",
            )
        if post.reports_to_post_id is not None and post.reports_to_post_id not in links:
            raise DomainRejection(
                INVALID,
                f"post {post.id!r}: reports to {post.reports_to_post_id!r}, which is neither in the "
                f"directory nor in the update",
            )
    reports_to = {post_id: link.reports_to_post_id for post_id, link in links.items()}
    cycle = find_cycle(reports_to, (p.id for p in update.posts))
    if cycle:
        raise DomainRejection(INVALID, f"the reporting lines would have a cycle: {' -> '.join(cycle)}")

    for official in update.officials:
        if official.post_id not in links:
            raise DomainRejection(
                INVALID,
                f"official {official.id!r}: post {official.post_id!r} is neither in the directory nor in the "
                f"update",
            )
        if official.start_date and official.end_date and official.end_date < official.start_date:
            raise DomainRejection(
                INVALID,
                f"official {official.id!r}: end date {official.end_date} is before start date "
                f"{official.start_date}",
            )

    heads = head_posts(links)
    new_units = [u.id for u in update.org_units if u.id not in unit_parents]
    new_posts = [p.id for p in update.posts if p.id not in posts]
    return UpdatePlan(
        unit_parents=parents,
        posts=links,
        heads=heads,
        new_units_in_order=_in_order(new_units, parents),
        new_posts_in_order=_in_order(new_posts, reports_to),
    )
