"""Migrations: they build exactly the schema the models describe, and every one of them can be undone."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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


def test_on_postgresql_documents_and_status_updates_stay_inline(empty_engine):
    """Rows up to a page are not TOAST-compressed on the hot path (migrations 0002 and 0008)."""
    if empty_engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL storage parameter")
    migrate(empty_engine)
    with empty_engine.connect() as conn:
        options = dict(
            conn.execute(
                text(
                    "SELECT relname, reloptions FROM pg_class WHERE relname IN ('messages', 'outbox') "
                    "AND relnamespace = to_regnamespace(current_schema())::oid"
                )
            ).all()
        )
    assert options == {"messages": ["toast_tuple_target=8160"], "outbox": ["toast_tuple_target=8160"]}
    downgrade(empty_engine, "0007")
    with empty_engine.connect() as conn:
        outbox = conn.execute(
            text(
                "SELECT reloptions FROM pg_class WHERE relname = 'outbox' "
                "AND relnamespace = to_regnamespace(current_schema())::oid"
            )
        ).scalar()
    assert outbox is None


def test_on_postgresql_documents_are_compressed_with_lz4(empty_engine):
    """Migration 0013, where the server has LZ4 (this machine's PostgreSQL 15 has): the rows of an accepted
    appeal exceed a page, and pglz on them cost a quarter of the backend's CPU per appeal."""
    if empty_engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL column option")

    def methods() -> dict[str, str]:
        with empty_engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.relname || '.' || a.attname, a.attcompression FROM pg_attribute a "
                    "JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname IN ('messages', 'outbox') "
                    "AND c.relnamespace = to_regnamespace(current_schema())::oid "
                    "AND a.atttypid = 'bytea'::regtype"
                )
            ).all()
        return dict(rows)

    migrate(empty_engine)
    assert methods() == {"messages.body": "l", "messages.receipt": "l", "outbox.document": "l"}
    downgrade(empty_engine, "0012")
    assert methods() == {"messages.body": "", "messages.receipt": "", "outbox.document": ""}


def test_documents_are_not_indexed_by_type_and_a_downgrade_restores_the_index(empty_engine):
    """Migration 0014: an index no query selects by cost every accepted document a page."""

    def indexed_columns() -> list[list[str]]:
        return [index["column_names"] for index in inspect(empty_engine).get_indexes("messages")]

    migrate(empty_engine)
    assert ["document_type"] not in indexed_columns()
    assert ["received_at"] in indexed_columns()  # the console finds a system's last documents by time
    downgrade(empty_engine, "0013")
    assert ["document_type"] in indexed_columns()
    migrate(empty_engine)
    assert ["document_type"] not in indexed_columns()
