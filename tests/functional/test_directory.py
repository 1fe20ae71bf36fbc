"""The directory on a real database: DirectoryUpdate import (upserts, memberships, refusals), the routing
snapshot, the demo world, and `zvarot directory import|show`."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import func, select

from gateway.demo import world
from gateway.demo.seed import seed_demo_world
from gateway.directory.service import apply_directory_update, load_snapshot
from gateway.domain.directory.routing import Addressee, route
from gateway.domain.errors import DomainRejection
from gateway.errors import Rejection
from gateway.ingest.directory_xml import read_directory_update
from gateway.interfaces.cli.main import cli
from gateway.store.database import session_factory, writing
from gateway.store.directory import Membership, Official, OfficialTopic, OrgUnit, Post
from gateway.store.models import Base
from gateway.store.registry import find_official
from gateway.xml.parsing import parse_document
from gateway.xml.schemas import SchemaRegistry
from tests.helpers import EXAMPLES, example, signed


@pytest.fixture
def sessions(clean_db):
    return session_factory(clean_db)


@pytest.fixture(scope="module")
def schemas() -> SchemaRegistry:
    return SchemaRegistry()


def update_from_xml(xml: str | bytes, schemas: SchemaRegistry):
    root = parse_document(xml.encode() if isinstance(xml, str) else xml)
    schemas.validate(root)  # every hand-made update below is a valid document
    return read_directory_update(root)


def apply(sessions, update):
    with writing(sessions) as session:
        summary = apply_directory_update(session, update)
        session.commit()
    return summary


def route_now(sessions, **addressee) -> tuple[str, ...]:
    with sessions() as session:
        return route(Addressee(**addressee), load_snapshot(session))


def memberships(sessions, official_id: str) -> list[tuple[str, date, date | None]]:
    with sessions() as session:
        rows = session.scalars(
            select(Membership).where(Membership.official_id == official_id).order_by(Membership.start_date)
        )
        return [(m.post_id, m.start_date, m.end_date) for m in rows]


def directory_update(body: str, effective_from: str = "2025-04-01") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<DirectoryUpdate xmlns="urn:zvarot:1">
  <Header>
    <MessageId>6a0f3c2e-1b7d-4c5e-9f80-3d2a1b4c5e6f</MessageId>
    <SenderSystem>sys-dms-minsk-region</SenderSystem>
    <SentAt>2025-03-31T12:00:00+03:00</SentAt>
  </Header>
  <Body>
    <EffectiveFrom>{effective_from}</EffectiveFrom>
    {body}
  </Body>
</DirectoryUpdate>"""


# --- the demo world -----------------------------------------------------------------------------------------


def test_the_demo_world_loads_and_every_unit_has_a_head(sessions):
    with sessions() as session:
        snapshot = load_snapshot(session)
        assert session.scalar(select(func.count()).select_from(Official)) == len(world.OFFICIALS)
        assert session.scalar(select(func.count()).select_from(Post)) == len(world.POSTS)
        assert session.scalar(select(func.count()).select_from(Membership)) == len(world.OFFICIALS)
        assert session.scalar(select(func.count()).select_from(Post).where(Post.is_head)) == len(
            world.ORG_UNITS
        )
        for demo in world.OFFICIALS:  # authorization reads these, and every demo official may act
            found = find_official(session, demo.id)
            assert found is not None and found.org_unit_id == world.post_of(demo).org_unit
            assert found.units_up[0] == found.org_unit_id
        minister = session.get(Official, "off-housing-minister")
        assert minister.post_id == "post-housing-minister"
        assert minister.post_title == "Minister of Housing and Utilities"
        assert minister.contacts["email"] == "priemnaya@mjkx.example.by"
        assert minister.duties and minister.authority and minister.biography
        assert session.get(OrgUnit, "ou-fanipal-village").kind == "village-council"
    assert 30 <= len(world.OFFICIALS) <= 60
    assert set(snapshot.units) == {u.id for u in world.ORG_UNITS}
    for unit in world.ORG_UNITS:
        assert len(snapshot.head_of(unit.id)) == 1, unit.id
    assert snapshot.head_of("ou-presidential-administration") == ("off-president",)
    assert snapshot.head_of("ou-fanipal-village") == ("off-village-chair",)
    assert all(o.current for o in snapshot.officials.values())
    assert snapshot.officials["off-housing-dept-head"].topics == {"housing", "repairs"}


def test_seeding_again_adds_nothing_and_keeps_imported_changes(sessions, schemas):
    update = update_from_xml(
        directory_update(
            """<Officials><Official><Id>off-village-land</Id><Name>Iryna Kavaleuskaya</Name>
            <Post>post-village-land</Post><Areas><Topic>land</Topic><Topic>gardens</Topic></Areas>
            </Official></Officials>"""
        ),
        schemas,
    )
    apply(sessions, update)
    assert seed_demo_world(sessions) == 0
    with sessions() as session:
        topics = set(
            session.scalars(
                select(OfficialTopic.topic).where(OfficialTopic.official_id == "off-village-land")
            )
        )
    assert topics == {"land", "gardens"}


def test_routing_on_the_demo_world_matches_the_receipt_example(sessions):
    assert route_now(sessions, org_unit="ou-ministry-housing", topic="housing") == (
        "off-housing-minister",
        "off-housing-dept-head",
    )


# --- importing ----------------------------------------------------------------------------------------------


def test_import_of_the_example_updates_the_two_officials_and_is_idempotent(sessions, schemas):
    update = update_from_xml((EXAMPLES / "DirectoryUpdate.xml").read_bytes(), schemas)
    assert update.effective_from == date(2025, 3, 1)
    summary = apply(sessions, update)
    # Same units, posts and posts held as the demo world: only the officials' texts differ.
    assert summary.as_dict() == {
        "org_units_created": 0,
        "org_units_updated": 0,
        "posts_created": 0,
        "posts_updated": 0,
        "officials_created": 0,
        "officials_updated": 2,
        "memberships_opened": 0,
        "memberships_closed": 0,
    }
    with sessions() as session:
        minister = session.get(Official, "off-housing-minister")
        assert minister.authority.startswith("Руководит министерством")
        assert minister.contacts == {
            "email": "priemnaya@mjkx.example.by",
            "phone": "+375 17 200-00-01",
            "address": "220048, г. Минск, ул. Примерная, 16",
        }
        assert minister.biography is None  # left out of the update: cleared
        head = session.get(Official, "off-housing-dept-head")
        assert head.authority is None and head.biography.startswith("Инженер-строитель")
    assert memberships(sessions, "off-housing-minister") == [
        ("post-housing-minister", date(2023, 6, 1), None)
    ]
    assert apply(sessions, update).as_dict() == dict.fromkeys(summary.as_dict(), 0)


def test_import_of_the_example_into_an_empty_directory(sessions, schemas, clean_db):
    with clean_db.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    summary = apply(sessions, update_from_xml((EXAMPLES / "DirectoryUpdate.xml").read_bytes(), schemas))
    assert (summary.org_units_created, summary.posts_created, summary.officials_created) == (2, 2, 2)
    assert summary.memberships_opened == 2 and summary.created == 6
    assert memberships(sessions, "off-housing-dept-head") == [
        ("post-housing-dept-head", date(2024, 9, 2), None)
    ]
    with sessions() as session:
        snapshot = load_snapshot(session)
        assert session.get(Post, "post-housing-dept-head").is_head  # reports to a post of another unit
        assert session.get(OrgUnit, "ou-housing-department").parent_id == "ou-ministry-housing"
    assert snapshot.head_of("ou-ministry-housing") == ("off-housing-minister",)
    assert snapshot.head_of("ou-housing-department") == ("off-housing-dept-head",)
    assert route(Addressee(org_unit="ou-ministry-housing", topic="repairs"), snapshot) == (
        "off-housing-dept-head",
    )


MOVE = """
<Posts>
  <Post><Id>post-district-repairs</Id><Title>Head of the Repairs Office</Title>
    <OrgUnit>ou-dzerzhinsk-district</OrgUnit><ReportsTo>post-district-first-deputy</ReportsTo></Post>
</Posts>
<Officials>
  <Official><Id>off-village-utilities</Id><Name>Ruslan   Bandarenka</Name><Post>post-district-repairs</Post>
    <Duties>Repairs of the district's apartment buildings.</Duties>
    <Areas><Topic>repairs</Topic></Areas></Official>
</Officials>"""


def test_an_official_moved_to_another_post_closes_one_membership_and_opens_another(sessions, schemas):
    assert route_now(sessions, org_unit="ou-fanipal-village", topic="repairs") == ("off-village-utilities",)
    summary = apply(sessions, update_from_xml(directory_update(MOVE), schemas))
    assert (summary.posts_created, summary.officials_updated) == (1, 1)
    assert (summary.memberships_opened, summary.memberships_closed) == (1, 1)
    assert memberships(sessions, "off-village-utilities") == [
        ("post-village-utilities", date(2024, 1, 15), date(2025, 3, 31)),  # EffectiveFrom - 1 day
        ("post-district-repairs", date(2025, 4, 1), None),
    ]
    with sessions() as session:
        moved = session.get(Official, "off-village-utilities")
        assert (moved.post_id, moved.org_unit_id) == ("post-district-repairs", "ou-dzerzhinsk-district")
        assert moved.post_title == "Head of the Repairs Office"
        assert moved.name == "Ruslan Bandarenka"  # xs:token: whitespace collapsed
        assert find_official(session, "off-village-utilities").units_up == (
            "ou-dzerzhinsk-district",
            "ou-minsk-region",
        )
        assert not session.get(Post, "post-district-repairs").is_head
    # Routing follows: nobody in Fanipal does repairs any more, so its head gets them.
    assert route_now(sessions, org_unit="ou-fanipal-village", topic="repairs") == ("off-village-chair",)
    assert route_now(sessions, org_unit="ou-dzerzhinsk-district", topic="repairs") == (
        "off-district-housing-service",
        "off-village-utilities",
    )
    # The same update again changes nothing.
    again = apply(sessions, update_from_xml(directory_update(MOVE), schemas))
    assert again.created == again.updated == again.memberships_opened == again.memberships_closed == 0


def test_a_start_date_dates_the_move(sessions, schemas):
    body = MOVE.replace("</Areas></Official>", "</Areas><StartDate>2025-05-12</StartDate></Official>")
    apply(sessions, update_from_xml(directory_update(body), schemas))
    assert memberships(sessions, "off-village-utilities") == [
        ("post-village-utilities", date(2024, 1, 15), date(2025, 5, 11)),
        ("post-district-repairs", date(2025, 5, 12), None),
    ]


def test_an_end_date_closes_the_membership_and_clears_the_post(sessions, schemas):
    leaving = directory_update(
        """<Officials><Official><Id>off-village-chair</Id><Name>Tatsiana Maroz</Name>
        <Post>post-village-chair</Post><EndDate>2025-06-30</EndDate></Official></Officials>"""
    )
    summary = apply(sessions, update_from_xml(leaving, schemas))
    assert (summary.officials_updated, summary.memberships_closed, summary.memberships_opened) == (1, 1, 0)
    assert memberships(sessions, "off-village-chair") == [
        ("post-village-chair", date(2023, 3, 6), date(2025, 6, 30))
    ]
    with sessions() as session:
        chair = session.get(Official, "off-village-chair")
        assert chair.post_id is None and chair.org_unit_id == "ou-fanipal-village"
        assert find_official(session, "off-village-chair").units_up == ()  # speaks for no agency now
        snapshot = load_snapshot(session)
    assert not snapshot.officials["off-village-chair"].current
    assert snapshot.head_of("ou-fanipal-village") == ()
    with pytest.raises(DomainRejection) as caught:
        route(Addressee(officials=("off-village-chair",)), snapshot)
    assert caught.value.code == "unknown-official"
    with pytest.raises(DomainRejection) as caught:
        route(Addressee(org_unit="ou-fanipal-village", topic="schools"), snapshot)
    assert caught.value.code == "unknown-addressee"
    # Again: nothing changes. A new chair fills the head post and receives the fallback.
    again = apply(sessions, update_from_xml(leaving, schemas))
    assert again.updated == again.memberships_closed == 0
    apply(
        sessions,
        update_from_xml(
            directory_update(
                """<Officials><Official><Id>off-village-new-chair</Id><Name>Aleh Zhukouski</Name>
                <Post>post-village-chair</Post><StartDate>2025-07-01</StartDate></Official></Officials>"""
            ),
            schemas,
        ),
    )
    assert route_now(sessions, org_unit="ou-fanipal-village", topic="schools") == ("off-village-new-chair",)


def test_a_post_renamed_renames_its_holders(sessions, schemas):
    update = directory_update(
        """<Posts><Post><Id>post-village-secretary</Id><Title>Executive Secretary</Title>
        <OrgUnit>ou-fanipal-village</OrgUnit><ReportsTo>post-village-chair</ReportsTo></Post></Posts>"""
    )
    assert apply(sessions, update_from_xml(update, schemas)).posts_updated == 1
    with sessions() as session:
        assert session.get(Official, "off-village-secretary").post_title == "Executive Secretary"


def test_a_new_sub_unit_and_a_re_parented_unit(sessions, schemas):
    update = directory_update(
        """<OrgUnits>
          <OrgUnit><Id>ou-fanipal-village</Id><Name>Fanipal Town Council</Name>
            <Parent>ou-dzerzhinsk-housing</Parent><Kind>town-council</Kind></OrgUnit>
          <OrgUnit><Id>ou-dzerzhinsk-housing</Id><Name>District Housing Office</Name>
            <Parent>ou-dzerzhinsk-district</Parent><Kind>department</Kind></OrgUnit>
        </OrgUnits>"""
    )
    summary = apply(sessions, update_from_xml(update, schemas))
    assert (summary.org_units_created, summary.org_units_updated) == (1, 1)
    with sessions() as session:
        village = session.get(OrgUnit, "ou-fanipal-village")
        assert (village.name, village.parent_id, village.kind) == (
            "Fanipal Town Council",
            "ou-dzerzhinsk-housing",
            "town-council",
        )
        assert village.description  # the XML carries none: the stored one is kept
        assert find_official(session, "off-village-secretary").units_up == (
            "ou-fanipal-village",
            "ou-dzerzhinsk-housing",
            "ou-dzerzhinsk-district",
            "ou-minsk-region",
        )


# --- refusals -----------------------------------------------------------------------------------------------

REFUSED = {
    "cycle in the org tree": (
        """<OrgUnits><OrgUnit><Id>ou-minsk-region</Id><Name>Minsk Regional Executive Committee</Name>
        <Parent>ou-fanipal-village</Parent></OrgUnit></OrgUnits>""",
        "cycle: ou-minsk-region -> ou-fanipal-village -> ou-dzerzhinsk-district -> ou-minsk-region",
    ),
    "unknown parent": (
        """<OrgUnits><OrgUnit><Id>ou-new</Id><Name>New</Name><Parent>ou-nowhere</Parent></OrgUnit></OrgUnits>""",
        "parent 'ou-nowhere'",
    ),
    "post in an unknown unit": (
        """<Posts><Post><Id>post-x</Id><Title>X</Title><OrgUnit>ou-nowhere</OrgUnit></Post></Posts>""",
        "org unit 'ou-nowhere'",
    ),
    "reports to an unknown post": (
        """<Posts><Post><Id>post-x</Id><Title>X</Title><OrgUnit>ou-fanipal-village</OrgUnit>
        <ReportsTo>post-nowhere</ReportsTo></Post></Posts>""",
        "'post-nowhere'",
    ),
    "official in an unknown post": (
        """<Officials><Official><Id>off-x</Id><Name>X</Name><Post>post-nowhere</Post></Official></Officials>""",
        "post 'post-nowhere'",
    ),
    "second head in a unit": (
        """<Posts><Post><Id>post-x</Id><Title>X</Title><OrgUnit>ou-fanipal-village</OrgUnit></Post></Posts>""",
        "2 posts that report to no post of the unit (post-village-chair, post-x)",
    ),
    "end before the membership's start": (
        """<Officials><Official><Id>off-village-chair</Id><Name>Tatsiana Maroz</Name>
        <Post>post-village-chair</Post><EndDate>2020-01-01</EndDate></Official></Officials>""",
        "before the start of their membership",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_updates_change_nothing(sessions, schemas, case):
    body, fragment = REFUSED[case]
    with sessions() as session:
        before = load_snapshot(session)
    with pytest.raises(Rejection) as caught, writing(sessions) as session:
        apply_directory_update(session, update_from_xml(directory_update(body), schemas))
        session.commit()
    assert caught.value.code == "schema-invalid"
    assert fragment in caught.value.message
    with sessions() as session:
        after = load_snapshot(session)
    assert after == before


# --- the CLI ------------------------------------------------------------------------------------------------


def _cli(database_url, pki_dir, *args):
    env = {"ZVAROT_DATABASE_URL": database_url, "ZVAROT_PKI_DIR": str(pki_dir)}
    return CliRunner().invoke(cli, list(args), env=env)


def test_cli_imports_a_signed_update(sessions, signers, database_url, pki_dir, tmp_path, schemas):
    root = parse_document(directory_update(MOVE).encode())
    path = tmp_path / "move.xml"
    path.write_bytes(signed(signers, "sys-dms-minsk-region", root))
    result = _cli(database_url, pki_dir, "directory", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "signature valid: signed by sys-dms-minsk-region" in result.output
    assert "not signed" not in result.output
    assert "posts: 1 created" in result.output and "memberships: 1 opened, 1 closed" in result.output
    with sessions() as session:
        assert session.get(Official, "off-village-utilities").post_id == "post-district-repairs"


def test_cli_refuses_a_tampered_signed_update(sessions, signers, database_url, pki_dir, tmp_path):
    data = signed(signers, "sys-dms-minsk-region", parse_document(directory_update(MOVE).encode()))
    path = tmp_path / "tampered.xml"
    path.write_bytes(data.replace(b"Head of the Repairs Office", b"Head of the Repairs Bureau"))
    result = _cli(database_url, pki_dir, "directory", "import", str(path))
    assert result.exit_code == 1
    assert "signature-invalid" in result.output
    with sessions() as session:
        assert session.get(Post, "post-district-repairs") is None


def test_cli_imports_an_unsigned_update_with_a_warning(sessions, database_url, pki_dir):
    path = EXAMPLES / "DirectoryUpdate.xml"
    result = _cli(database_url, pki_dir, "directory", "import", str(path))
    assert result.exit_code == 0, result.output
    assert f"warning: {path} is not signed" in result.stderr
    assert "officials: 0 created, 2 updated" in result.stdout


def test_cli_refuses_what_is_not_a_directory_update(sessions, database_url, pki_dir, tmp_path):
    path = tmp_path / "appeal.xml"
    path.write_bytes(etree.tostring(example("Appeal")))
    result = _cli(database_url, pki_dir, "directory", "import", str(path))
    assert result.exit_code == 1
    assert "unknown-type" in result.output
    bad = tmp_path / "cycle.xml"
    bad.write_text(directory_update(REFUSED["cycle in the org tree"][0]))
    result = _cli(database_url, pki_dir, "directory", "import", str(bad))
    assert result.exit_code == 1
    assert "schema-invalid" in result.output and "cycle" in result.output


def test_cli_shows_the_org_tree_with_heads(sessions, database_url, pki_dir):
    result = _cli(database_url, pki_dir, "directory", "show")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Minsk Regional Executive Committee [ou-minsk-region, regional-committee]" in lines
    assert "        Fanipal Village Council [ou-fanipal-village, village-council]" in lines
    assert "          head: Tatsiana Maroz, Chair of the Village Council (off-village-chair)" in lines
    assert lines[-1] == f"{len(world.ORG_UNITS)} org units, {len(world.OFFICIALS)} officials in post"
    full = _cli(database_url, pki_dir, "directory", "show", "--officials").output
    assert (
        "  - Pavel Sidarenka, Secretary of the Village Council (off-village-secretary): roads, water" in full
    )
