"""The rules a DirectoryUpdate must keep (gateway.domain.directory.structure), pure."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.directory.model import DirectoryUpdateData, OfficialData, OrgUnitData, PostData
from gateway.domain.directory.structure import PostLink, find_cycle, head_posts, plan_update
from gateway.domain.errors import DomainRejection

DAY = date(2025, 3, 1)
UNITS = {"ou-top": None, "ou-dept": "ou-top"}
POSTS = {"p-boss": PostLink("ou-top", None), "p-dept-head": PostLink("ou-dept", "p-boss")}


def refused(update: DirectoryUpdateData) -> str:
    with pytest.raises(DomainRejection) as caught:
        plan_update(update, UNITS, POSTS)
    assert caught.value.code == "schema-invalid"
    return caught.value.message


def test_find_cycle():
    assert find_cycle({"a": "b", "b": "c", "c": None}, ["a"]) is None
    assert find_cycle({"a": "b", "b": "c", "c": "a"}, ["a"]) == ("a", "b", "c", "a")
    assert find_cycle({"x": "a", "a": "b", "b": "a"}, ["x"]) == ("a", "b", "a")
    assert find_cycle({"a": "a"}, ["a"]) == ("a", "a")


def test_the_head_is_the_post_that_reports_outside_its_unit():
    assert head_posts(POSTS) == {"ou-top": "p-boss", "ou-dept": "p-dept-head"}
    posts = {**POSTS, "p-deputy": PostLink("ou-dept", "p-dept-head")}
    assert head_posts(posts)["ou-dept"] == "p-dept-head"


def test_two_heads_in_a_unit_are_refused():
    with pytest.raises(DomainRejection, match="2 posts that report to no post of the unit"):
        head_posts({**POSTS, "p-other": PostLink("ou-dept", "p-boss")})


def test_new_units_and_posts_come_parents_first():
    update = DirectoryUpdateData(
        DAY,
        org_units=(
            OrgUnitData("ou-c", "C", "ou-b"),
            OrgUnitData("ou-b", "B", "ou-a"),
            OrgUnitData("ou-a", "A"),
        ),
        posts=(
            PostData("p-c", "C", "ou-c", "p-b"),
            PostData("p-b", "B", "ou-b", "p-a"),
            PostData("p-a", "A", "ou-a"),
        ),
    )
    plan = plan_update(update, UNITS, POSTS)
    assert plan.new_units_in_order == ("ou-a", "ou-b", "ou-c")
    assert plan.new_posts_in_order == ("p-a", "p-b", "p-c")
    assert plan.heads["ou-c"] == "p-c"


@pytest.mark.parametrize(
    ("update", "fragment"),
    [
        (
            DirectoryUpdateData(DAY, org_units=(OrgUnitData("ou-x", "X", "ou-nowhere"),)),
            "parent 'ou-nowhere'",
        ),
        (DirectoryUpdateData(DAY, org_units=(OrgUnitData("ou-top", "Top", "ou-dept"),)), "cycle"),
        (DirectoryUpdateData(DAY, org_units=(OrgUnitData("ou-top", "Top", "ou-top"),)), "cycle"),
        (DirectoryUpdateData(DAY, posts=(PostData("p-x", "X", "ou-nowhere"),)), "org unit 'ou-nowhere'"),
        (DirectoryUpdateData(DAY, posts=(PostData("p-x", "X", "ou-top", "p-nobody"),)), "'p-nobody'"),
        (DirectoryUpdateData(DAY, posts=(PostData("p-boss", "Boss", "ou-top", "p-dept-head"),)), "cycle"),
        (DirectoryUpdateData(DAY, officials=(OfficialData("off-x", "X", "p-nowhere"),)), "post 'p-nowhere'"),
        (
            DirectoryUpdateData(
                DAY,
                officials=(OfficialData("off-x", "X", "p-boss", start_date=DAY, end_date=date(2025, 2, 1)),),
            ),
            "before start date",
        ),
        (
            DirectoryUpdateData(DAY, org_units=(OrgUnitData("ou-x", "X"), OrgUnitData("ou-x", "X again"))),
            "more than once",
        ),
        (DirectoryUpdateData(DAY, posts=(PostData("p-x", "X", "ou-top"),)), "2 posts"),
    ],
)
def test_refusals(update, fragment):
    assert fragment in refused(update)
