"""Migrations: they build exactly the schema the models describe, and every one of them can be undone."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from gateway.store.database import downgrade, make_engine, migrate
from gateway.store.models import Base


@pytest.fixture
def empty_engine(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"zm_{uuid.uuid4().hex[:10]}"
    base_url = database_url.split("?")[0]
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{base_url}?options=-csearch_path%3D{schema}")
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_head_matches_the_models(empty_engine):
    migrate(empty_engine)
    with empty_engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


def test_downgrade_to_nothing_and_up_again(empty_engine):
    migrate(empty_engine)
    downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate(empty_engine)
    assert {"messages", "rejected_documents", "systems", "officials", "org_units"} <= set(
        inspect(empty_engine).get_table_names()
    )
