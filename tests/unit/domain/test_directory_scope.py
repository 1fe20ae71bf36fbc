"""The scope rule on its own: a system rewrites only the subtree it serves."""

from __future__ import annotations

from datetime import date

from gateway.domain.directory.model import (
    DirectorySnapshot,
    DirectoryUpdateData,
    OfficialData,
    OfficialEntry,
    OrgUnitData,
    PostData,
    UnitEntry,
)
from gateway.domain.directory.scope import outside_scope

DIRECTORY = DirectorySnapshot.of(
    [UnitEntry("ou-a"), UnitEntry("ou-a-sub", parent_id="ou-a"), UnitEntry("ou-b")],
    [OfficialEntry("off-a", "ou-a-sub", post_id="post-a"), OfficialEntry("off-b", "ou-b", post_id="post-b")],
)
POSTS = {"post-a": "ou-a-sub", "post-b": "ou-b"}
SERVED = frozenset({"ou-a"})


def update(**parts) -> DirectoryUpdateData:
    return DirectoryUpdateData(effective_from=date(2026, 12, 1), **parts)


def test_changes_inside_the_served_subtree_are_allowed():
    allowed = update(
        org_units=(OrgUnitData("ou-a-new", "New", parent_id="ou-a-sub"),),
        posts=(PostData("post-new", "Clerk", "ou-a-new"),),
        officials=(OfficialData("off-new", "Someone", "post-new"), OfficialData("off-a", "A", "post-a")),
    )
    assert outside_scope(allowed, DIRECTORY, POSTS, SERVED) == []


def test_other_agencies_units_posts_and_officials_are_refused():
    refused = update(
        org_units=(OrgUnitData("ou-b", "B renamed"),),
        posts=(PostData("post-b", "Renamed", "ou-b"),),
        officials=(OfficialData("off-b", "B", "post-b"),),
    )
    assert outside_scope(refused, DIRECTORY, POSTS, SERVED) == ["ou-b", "post-b", "off-b"]


def test_nothing_is_pulled_in_by_reparenting_or_by_a_new_post():
    pulled = update(
        org_units=(OrgUnitData("ou-b", "B", parent_id="ou-a"),),
        posts=(PostData("post-b", "Moved", "ou-a"),),
        officials=(OfficialData("off-b", "Poached", "post-a"),),
    )
    assert outside_scope(pulled, DIRECTORY, POSTS, SERVED) == ["ou-b", "post-b", "off-b"]
