"""Appeal routing over a directory snapshot (SPEC "Appeals": routing), pure: no database, no XML."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.demo import world
from gateway.domain.directory.model import DirectorySnapshot, OfficialEntry, UnitEntry
from gateway.domain.directory.routing import Addressee, route
from gateway.domain.directory.structure import PostLink, head_posts
from gateway.domain.errors import DomainRejection
from gateway.xml import ns
from tests.helpers import EXAMPLES

# ministry
# ├── department
# │   └── section
# └── agency            (no head post)
UNITS = (
    UnitEntry("ou-ministry", None, "p-minister", "Ministry", "ministry"),
    UnitEntry("ou-department", "ou-ministry", "p-dept-head", "Department", "department"),
    UnitEntry("ou-section", "ou-department", "p-section-head", "Section", "department"),
    UnitEntry("ou-agency", "ou-ministry", None, "Agency", "agency"),
)
OFFICIALS = (
    OfficialEntry("off-minister", "ou-ministry", "p-minister", frozenset({"housing"})),
    OfficialEntry("off-deputy", "ou-ministry", "p-deputy", frozenset({"water"})),
    OfficialEntry("off-dept-head", "ou-department", "p-dept-head", frozenset({"repairs"})),
    OfficialEntry("off-b-specialist", "ou-department", "p-spec", frozenset({"housing", "repairs"})),
    OfficialEntry("off-a-specialist", "ou-department", "p-spec", frozenset({"housing"})),
    OfficialEntry("off-section-head", "ou-section", "p-section-head", frozenset({"housing", "roads"})),
    OfficialEntry("off-agency-clerk", "ou-agency", "p-clerk", frozenset({"land"})),
    OfficialEntry("off-retired", "ou-section", None, frozenset({"heating", "housing"})),
)


@pytest.fixture
def directory() -> DirectorySnapshot:
    return DirectorySnapshot.of(UNITS, OFFICIALS)


def rejected(addressee: Addressee, directory: DirectorySnapshot) -> DomainRejection:
    with pytest.raises(DomainRejection) as caught:
        route(addressee, directory)
    return caught.value


# --- explicit officials -------------------------------------------------------------------------------------


def test_explicit_officials_are_routed_to_in_the_order_given(directory):
    assert route(Addressee(officials=("off-section-head", "off-minister")), directory) == (
        "off-section-head",
        "off-minister",
    )


def test_explicit_duplicates_are_dropped(directory):
    assert route(Addressee(officials=("off-deputy", "off-deputy", "off-minister")), directory) == (
        "off-deputy",
        "off-minister",
    )


def test_an_unknown_official_is_refused(directory):
    error = rejected(Addressee(officials=("off-minister", "off-nobody")), directory)
    assert error.code == "unknown-official"
    assert "off-nobody" in error.message


def test_an_official_who_left_is_refused(directory):
    error = rejected(Addressee(officials=("off-retired",)), directory)
    assert error.code == "unknown-official"
    assert "no longer holds a post" in error.message


# --- org unit and topic -------------------------------------------------------------------------------------


def test_topic_goes_to_the_responsible_officials_of_the_unit_and_below_nearest_first(directory):
    # depth 0: the minister; depth 1: the department's specialists by id; depth 2: the section head.
    # The retired official's topics no longer count.
    assert route(Addressee(org_unit="ou-ministry", topic="housing"), directory) == (
        "off-minister",
        "off-a-specialist",
        "off-b-specialist",
        "off-section-head",
    )


def test_topic_searches_only_below_the_unit_not_above(directory):
    assert route(Addressee(org_unit="ou-department", topic="housing"), directory) == (
        "off-a-specialist",
        "off-b-specialist",
        "off-section-head",
    )
    assert route(Addressee(org_unit="ou-section", topic="water"), directory) == ("off-section-head",)  # head


def test_topic_in_a_sub_unit_only(directory):
    assert route(Addressee(org_unit="ou-ministry", topic="roads"), directory) == ("off-section-head",)


def test_nobody_responsible_falls_back_to_the_unit_head(directory):
    assert route(Addressee(org_unit="ou-department", topic="schools"), directory) == ("off-dept-head",)
    assert route(Addressee(org_unit="ou-ministry", topic="heating"), directory) == ("off-minister",)


def test_unknown_unit_is_refused(directory):
    error = rejected(Addressee(org_unit="ou-nowhere", topic="housing"), directory)
    assert error.code == "unknown-addressee"
    assert "ou-nowhere" in error.message


def test_no_responsible_official_and_no_head_is_refused(directory):
    assert route(Addressee(org_unit="ou-agency", topic="land"), directory) == ("off-agency-clerk",)
    error = rejected(Addressee(org_unit="ou-agency", topic="housing"), directory)
    assert error.code == "unknown-addressee"
    assert "no head" in error.message


def test_a_vacant_head_post_is_no_head():
    officials = [o for o in OFFICIALS if o.id != "off-dept-head"]
    officials.append(OfficialEntry("off-dept-head", "ou-department", None, frozenset({"repairs"})))
    directory = DirectorySnapshot.of(UNITS, officials)
    assert directory.head_of("ou-department") == ()
    assert (
        rejected(Addressee(org_unit="ou-department", topic="schools"), directory).code == "unknown-addressee"
    )


def test_several_holders_of_the_head_post_all_receive_it():
    officials = (*OFFICIALS, OfficialEntry("off-acting-minister", "ou-ministry", "p-minister"))
    directory = DirectorySnapshot.of(UNITS, officials)
    assert route(Addressee(org_unit="ou-ministry", topic="schools"), directory) == (
        "off-acting-minister",
        "off-minister",
    )


def test_an_addressee_is_one_form_or_the_other(directory):
    both = Addressee(officials=("off-minister",), org_unit="ou-ministry", topic="housing")
    assert rejected(both, directory).code == "unknown-addressee"
    assert rejected(Addressee(), directory).code == "unknown-addressee"
    assert rejected(Addressee(org_unit="ou-ministry"), directory).code == "unknown-addressee"


def test_a_cycle_in_a_damaged_tree_does_not_hang_routing():
    units = (UnitEntry("ou-a", "ou-b", None), UnitEntry("ou-b", "ou-a", "p-b"))
    officials = (OfficialEntry("off-b", "ou-b", "p-b", frozenset({"x"})),)
    directory = DirectorySnapshot.of(units, officials)
    assert route(Addressee(org_unit="ou-a", topic="x"), directory) == ("off-b",)  # found below, once


# --- the demo world and the schema examples agree -----------------------------------------------------------


def demo_snapshot() -> DirectorySnapshot:
    posts = {p.id: p for p in world.POSTS}
    heads = head_posts({p.id: PostLink(p.org_unit, p.reports_to) for p in world.POSTS})
    units = [UnitEntry(u.id, u.parent, heads.get(u.id), u.name, u.kind) for u in world.ORG_UNITS]
    officials = [
        OfficialEntry(o.id, posts[o.post].org_unit, o.post, frozenset(o.topics), o.name, posts[o.post].title)
        for o in world.OFFICIALS
    ]
    return DirectorySnapshot.of(units, officials)


def test_every_demo_unit_has_a_head():
    directory = demo_snapshot()
    assert {u.id for u in world.ORG_UNITS} == set(directory.heads)
    assert directory.head_of("ou-fanipal-village") == ("off-village-chair",)
    assert directory.head_of("ou-housing-department") == ("off-housing-dept-head",)


def test_the_receipt_example_routes_the_appeal_example_as_the_rules_say():
    appeal = etree.parse(str(EXAMPLES / "Appeal.xml")).getroot()
    receipt = etree.parse(str(EXAMPLES / "Receipt.xml")).getroot()
    addressee = Addressee(
        org_unit=appeal.findtext("zv:Body/zv:Addressee/zv:OrgUnit", namespaces=ns.NSMAP),
        topic=appeal.findtext("zv:Body/zv:Addressee/zv:Topic", namespaces=ns.NSMAP),
    )
    routed_to = tuple(
        e.text for e in receipt.iterfind("zv:Body/zv:Appeal/zv:RoutedTo/zv:Official", namespaces=ns.NSMAP)
    )
    assert routed_to == ("off-housing-minister", "off-housing-dept-head")
    assert route(addressee, demo_snapshot()) == routed_to


@pytest.mark.parametrize(
    ("unit", "topic", "expected"),
    [
        ("ou-minsk-region", "housing", ("off-region-deputy-housing", "off-district-chair")),
        ("ou-dzerzhinsk-district", "water", ("off-district-first-deputy", "off-village-secretary")),
        ("ou-fanipal-village", "schools", ("off-village-chair",)),
        ("ou-presidential-administration", "housing", ("off-president",)),
        ("ou-ministry-education", "kindergartens", ("off-education-preschool",)),
    ],
)
def test_demo_routing(unit, topic, expected):
    assert route(Addressee(org_unit=unit, topic=topic), demo_snapshot()) == expected


# --- properties ---------------------------------------------------------------------------------------------


@st.composite
def directories(draw):
    n_units = draw(st.integers(1, 8))
    units = []
    for i in range(n_units):
        parent = draw(st.sampled_from([None, *(f"ou-{j}" for j in range(i))]))
        head = draw(st.sampled_from([None, f"p-head-{i}"]))
        units.append(UnitEntry(f"ou-{i}", parent, head))
    officials = []
    for k in range(draw(st.integers(0, 12))):
        unit = draw(st.integers(0, n_units - 1))
        post = draw(st.sampled_from([None, f"p-head-{unit}", f"p-{k}"]))
        topics = draw(st.frozensets(st.sampled_from(["a", "b", "c"])))
        officials.append(OfficialEntry(f"off-{k}", f"ou-{unit}", post, topics))
    return DirectorySnapshot.of(units, officials)


def _depths(directory: DirectorySnapshot, unit: str) -> dict[str, int]:
    depths, level, depth = {}, [unit], 0
    while level:
        for u in level:
            depths[u] = depth
        level = [c for u in level for c in directory.children.get(u, ()) if c not in depths]
        depth += 1
    return depths


@settings(max_examples=200, deadline=None)
@given(directories(), st.integers(0, 7), st.sampled_from(["a", "b", "c"]))
def test_routing_gives_every_responsible_official_below_nearest_first_else_the_head(
    directory, unit_no, topic
):
    unit = f"ou-{unit_no}"
    if unit not in directory.units:
        assert rejected(Addressee(org_unit=unit, topic=topic), directory).code == "unknown-addressee"
        return
    depths = _depths(directory, unit)
    responsible = sorted(
        (depths[o.org_unit_id], o.id)
        for o in directory.officials.values()
        if o.current and topic in o.topics and o.org_unit_id in depths
    )
    expected = tuple(o for _, o in responsible) or directory.head_of(unit)
    if not expected:
        assert rejected(Addressee(org_unit=unit, topic=topic), directory).code == "unknown-addressee"
        return
    assert route(Addressee(org_unit=unit, topic=topic), directory) == expected
