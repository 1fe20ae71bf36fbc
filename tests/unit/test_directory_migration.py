"""Migration 0003 (the Popolo directory) up and down on a database that holds a directory."""

from __future__ import annotations

from sqlalchemy import text

from gateway.demo.seed import seed_demo_world
from gateway.directory.service import load_snapshot
from gateway.store.database import downgrade, migrate, session_factory
from gateway.store.directory import Official


def test_an_old_directory_is_upgraded_seeded_and_downgraded_with_its_rows(empty_engine):
    engine = empty_engine
    migrate(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO org_units (id, name) VALUES ('ou-minsk-region', 'Minsk region')"))
        conn.execute(
            text(
                "INSERT INTO officials (id, name, post_title, org_unit_id) "
                "VALUES ('off-region-chair', 'Andrei Zhuk', 'Chair', 'ou-minsk-region')"
            )
        )
    migrate(engine)
    with session_factory(engine)() as session:
        official = session.get(Official, "off-region-chair")
        assert (official.contacts, official.post_id, official.org_unit_id) == ({}, None, "ou-minsk-region")

    # The seed completes what an old database lacks: the unit's kind, the official's post and membership.
    seed_demo_world(session_factory(engine))
    with session_factory(engine)() as session:
        snapshot = load_snapshot(session)
    assert snapshot.units["ou-minsk-region"].kind == "regional-committee"
    assert snapshot.head_of("ou-minsk-region") == ("off-region-chair",)
    assert snapshot.officials["off-region-chair"].post_title == "Chair of the Regional Executive Committee"

    downgrade(engine, "0002")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM officials")).scalar() == len(snapshot.officials)
        assert conn.execute(text("SELECT count(*) FROM org_units")).scalar() == len(snapshot.units)
    migrate(engine)
