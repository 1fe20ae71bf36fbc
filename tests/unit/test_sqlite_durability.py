"""SPEC: a receipt is issued only after the document is durably committed. On SQLite that means the commit is
on disk, not only in the operating system's cache, before the caller goes on: PRAGMA synchronous=FULL, by
default, on every connection the gateway opens (NORMAL loses the last commits on a power loss)."""

from __future__ import annotations

import fcntl
import os
import sqlite3

import pytest
from lxml import etree

from gateway.config import SQLITE_SYNCHRONOUS, Settings
from gateway.store import messages
from gateway.store.database import make_engine
from gateway.store.database import sync_wal as real_sync_wal
from gateway.xml import ns
from tests.helpers import example, signed

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


# --- the appeal's own transaction: committed under the lock, synced after it, before the receipt ------------


@pytest.fixture
def sqlite_gateway(gateway):
    if gateway.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's commit path")
    return gateway


def _lock_is_free(database: str) -> bool:
    fd = os.open(database + ".writelock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _spy_on_sync(monkeypatch, module) -> list[tuple[str, bool]]:
    """`module.sync_wal` replaced by one that records (database, was the write lock free) and syncs."""
    seen = []

    def spy(database: str) -> None:
        seen.append((database, _lock_is_free(database)))
        real_sync_wal(database)

    monkeypatch.setattr(module, "sync_wal", spy)
    return seen


def test_an_accepted_appeal_is_synced_after_the_write_lock_and_before_its_receipt(
    sqlite_gateway, signers, monkeypatch
):
    """Under FULL the appeal's transaction commits without its fsync, releases the write lock (the other
    workers need it), then syncs the WAL: only after that does the pipeline return the receipt."""
    database = sqlite_gateway.engine.url.database
    data = signed(signers, "sys-portal", example("Appeal"))
    message_id = etree.fromstring(data).findtext("zv:Header/zv:MessageId", namespaces=ns.NSMAP)
    seen = []

    def spy(path: str) -> None:
        with sqlite3.connect(database) as other:  # committed: another connection reads it
            committed = other.execute("SELECT count(*) FROM messages WHERE message_id = ?", (message_id,))
            seen.append((path, _lock_is_free(database), committed.fetchone()[0]))
        real_sync_wal(path)

    monkeypatch.setattr(messages, "sync_wal", spy)
    outcome = sqlite_gateway.pipeline.submit(data)
    assert outcome.outcome == "accepted" and outcome.receipt
    assert seen == [(database, True, 1)]
    assert _synchronous(sqlite_gateway.engine) == FULL  # the connection goes back to the pool as it was


def test_a_failed_sync_sends_no_receipt(sqlite_gateway, signers, monkeypatch):
    def failing(path: str) -> None:
        raise OSError(5, "Input/output error", path)

    monkeypatch.setattr(messages, "sync_wal", failing)
    with pytest.raises(OSError, match="Input/output error"):
        sqlite_gateway.pipeline.submit(signed(signers, "sys-portal", example("Appeal")))
    assert _synchronous(sqlite_gateway.engine) == FULL


def _seeded_gateway(settings: Settings, engine):
    """The demo world on `engine` (a database of the test's own), and a gateway on it."""
    from gateway.app import build_gateway
    from gateway.demo.seed import seed_demo_world
    from gateway.store.database import migrate, session_factory

    migrate(engine)
    seed_demo_world(session_factory(engine))
    return build_gateway(settings, engine=engine)


def _submitted_unsynced(gateway, signers, monkeypatch) -> bool:
    """An appeal accepted on `gateway` with no sync of the WAL after its commit."""
    calls = []
    monkeypatch.setattr(messages, "sync_wal", calls.append)
    outcome = gateway.pipeline.submit(signed(signers, "sys-portal", example("Appeal")))
    return outcome.outcome == "accepted" and calls == []


def test_under_normal_the_appeal_is_not_synced(tmp_path, pki_dir, signers, monkeypatch):
    settings = Settings(
        home=tmp_path, sqlite_synchronous="NORMAL", pki_dir=pki_dir, trust_dir=pki_dir / "trust"
    )
    engine = make_engine(settings.sqlalchemy_url, "NORMAL")
    try:
        assert _submitted_unsynced(_seeded_gateway(settings, engine), signers, monkeypatch)
        assert _synchronous(engine) == NORMAL
    finally:
        engine.dispose()


def test_a_database_that_could_not_switch_to_wal_commits_durably_inside_commit(
    tmp_path, pki_dir, signers, monkeypatch
):
    """Where SQLite cannot use a WAL (a file system without shared memory), the journal stays a rollback
    journal: there is no WAL file to sync afterwards, and FULL syncs inside COMMIT as SQLite always did."""
    from sqlalchemy import event
    from sqlalchemy.pool import StaticPool

    settings = Settings(home=tmp_path, pki_dir=pki_dir, trust_dir=pki_dir / "trust")
    engine = make_engine(settings.sqlalchemy_url, poolclass=StaticPool)  # one connection: it may leave WAL

    @event.listens_for(engine, "connect")
    def _no_wal(dbapi_conn, _record):  # after make_engine's own PRAGMAs
        assert dbapi_conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"

    try:
        assert _submitted_unsynced(_seeded_gateway(settings, engine), signers, monkeypatch)
        assert _synchronous(engine) == FULL
    finally:
        engine.dispose()


def test_a_writing_session_is_synced_after_its_lock_not_inside_it(sqlite_gateway, monkeypatch):
    """Every read-then-write transaction (an official's document, the worker's claims and outcomes) commits
    like the appeal's: the fsync after the write lock, before `writing()` returns."""
    from sqlalchemy import text

    from gateway.store import database
    from gateway.store.database import writing

    path = sqlite_gateway.engine.url.database
    seen = _spy_on_sync(monkeypatch, database)
    with writing(sqlite_gateway.sessions) as session:
        session.execute(text("UPDATE systems SET forward_documents = forward_documents"))
        session.commit()
        assert seen == []  # not with the lock held
    assert seen == [(path, True)]
    assert _synchronous(sqlite_gateway.engine) == FULL  # put back at the next checkout

    seen.clear()
    with pytest.raises(RuntimeError), writing(sqlite_gateway.sessions) as session:
        session.execute(text("UPDATE systems SET forward_documents = forward_documents"))
        session.commit()
        raise RuntimeError("after the commit")
    assert seen == [(path, True)]  # what the block committed before failing is synced all the same


def test_a_document_kept_without_effects_is_synced_after_the_lock_too(sqlite_gateway, monkeypatch):
    from datetime import UTC, datetime

    database = sqlite_gateway.engine.url.database
    seen = _spy_on_sync(monkeypatch, messages)
    row = {
        "sender_system": "sys-portal",
        "message_id": "3f0c9d1e-0000-4000-8000-000000000001",
        "document_type": "Appeal",
        "sha256": "0" * 64,
        "received_at": datetime.now(UTC),
        "signer_uid": "sys-portal",
        "signer_kind": "system",
        "signer_cert_sha256": "1" * 64,
        "body": b"<kept/>",
        "receipt_id": "rc-durability-test",
        "receipt": b"<receipt/>",
    }
    assert sqlite_gateway.pipeline.store.record_accepted(row) is None
    assert seen == [(database, True)]
    assert sqlite_gateway.pipeline.store.record_accepted(row).receipt_id == "rc-durability-test"  # a resend
    assert len(seen) == 1  # nothing committed, nothing to sync
