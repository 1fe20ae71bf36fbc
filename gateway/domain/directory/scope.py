"""Which part of the directory a system may rewrite: only the units it serves and everything under them."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.domain.directory.model import DirectorySnapshot, DirectoryUpdateData


def _within(unit_id: str | None, parents: Mapping[str, str | None], served: frozenset[str]) -> bool:
    seen: set[str] = set()
    while unit_id is not None and unit_id not in seen:  # bounded: a cycle ends the walk
        if unit_id in served:
            return True
        seen.add(unit_id)
        unit_id = parents.get(unit_id)
    return False


def outside_scope(
    update: DirectoryUpdateData,
    directory: DirectorySnapshot,
    post_units: Mapping[str, str],
    served: frozenset[str],
) -> list[str]:
    """The ids in `update` that the sender may not change; empty when the whole update is within its scope.

    A unit or post counts where it is now and where the update would put it, so that nothing can be pulled
    in from another agency by re-parenting it; an official counts by the post they hold now and the one given.
    """
    now = {unit_id: unit.parent_id for unit_id, unit in directory.units.items()}
    after = {**now, **{u.id: u.parent_id for u in update.org_units}}
    new_post_units = {**post_units, **{p.id: p.org_unit_id for p in update.posts}}
    refused: list[str] = []
    for unit in update.org_units:
        if (unit.id in now and not _within(unit.id, now, served)) or not _within(unit.id, after, served):
            refused.append(unit.id)
    for post in update.posts:
        if (post.id in post_units and not _within(post_units[post.id], now, served)) or not _within(
            post.org_unit_id, after, served
        ):
            refused.append(post.id)
    for official in update.officials:
        current = directory.officials.get(official.id)
        if (
            current is not None
            and current.post_id is not None
            and not _within(current.org_unit_id, now, served)
        ):
            refused.append(official.id)
        elif not _within(new_post_units.get(official.post_id), after, served):
            refused.append(official.id)
    return refused
