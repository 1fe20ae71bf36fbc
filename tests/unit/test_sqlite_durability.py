"""SPEC: a receipt is issued only after the document is durably committed. On SQLite that means the commit is
on disk, not only in the operating system's cache, before the caller goes on: PRAGMA synchronous=FULL, by
default, on every connection the gateway opens (NORMAL loses the last commits on a power loss)."""

from __future__ import annotations

import pytest

from gateway.config import SQLITE_SYNCHRONOUS, Settings
from gateway.store.database import make_engine

FULL, NORMAL = 2, 1  # what PRAGMA synchronous reads back


def _synchronous(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA synchronous").scalar()


def test_the_default_is_durable_across_power_loss(tmp_path, monkeypatch):
    monkeypatch.delenv("ZVAROT_SQLITE_SYNCHRONOUS", raising=False)
    assert Settings().sqlite_synchronous == Settings.from_env().sqlite_synchronous == "FULL"
    engine = make_engine(f"sqlite:///{tmp_path / 'z.db'}")
    assert _synchronous(engine) == FULL
    engine.dispose()


def test_every_connection_of_the_served_gateway_commits_as_configured(tmp_path, monkeypatch, pki_dir):
    from gateway.app import build_gateway

    for configured, expected in (("normal", NORMAL), ("FULL", FULL)):
        monkeypatch.setenv("ZVAROT_SQLITE_SYNCHRONOUS", configured)
        settings = Settings.from_env().with_(
            home=tmp_path / configured, database_url="", pki_dir=pki_dir, trust_dir=pki_dir / "trust"
        )
        gateway = build_gateway(settings)
        try:
            connections = [gateway.engine.connect() for _ in range(3)]  # each a new pooled connection
            assert {c.exec_driver_sql("PRAGMA synchronous").scalar() for c in connections} == {expected}
            for c in connections:
                c.close()
        finally:
            gateway.engine.dispose()


def test_anything_else_is_refused_with_the_setting_named():
    assert SQLITE_SYNCHRONOUS == ("FULL", "NORMAL")
    with pytest.raises(ValueError, match="ZVAROT_SQLITE_SYNCHRONOUS='OFF'"):
        Settings(sqlite_synchronous="OFF")  # OFF could lose or corrupt committed documents
    with pytest.raises(ValueError, match="FULL, NORMAL"):
        make_engine("sqlite:///unused.db", "EXTRA")
