"""Migrations: they build exactly the schema the models describe, and every one of them can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from gateway.store.database import downgrade, migrate
from gateway.store.models import Base


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
