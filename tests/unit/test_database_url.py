"""ZVAROT_DATABASE_URL as operators write it: the plain postgresql:// URL of libpq means psycopg 3, the driver
Zvarot installs (SQLAlchemy alone would look for psycopg2 and fail with an import error)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gateway.store.database import driver_url, make_engine


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("postgresql://user@db.example/zvarot", "postgresql+psycopg://user@db.example/zvarot"),
        (
            "postgres://user:pw@10.0.0.5:5433/z?sslmode=require",
            "postgresql+psycopg://user:pw@10.0.0.5:5433/z?sslmode=require",
        ),
        ("postgresql+psycopg://user@db/zvarot", "postgresql+psycopg://user@db/zvarot"),
        ("sqlite:////var/lib/zvarot/zvarot.db", "sqlite:////var/lib/zvarot/zvarot.db"),
    ],
)
def test_plain_postgresql_urls_are_read_as_psycopg3(given, meant):
    assert driver_url(given) == meant


def test_an_engine_from_a_plain_url_reaches_the_database(database_url):
    plain = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    engine = make_engine(plain)
    try:
        assert engine.dialect.name == ("sqlite" if plain.startswith("sqlite") else "postgresql")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
