"""The ingest path's own connection per thread (WriterConnection): out of the pool, reused appeal after
appeal, given up when a transaction fails, never shared between threads or across a fork. On SQLite under FULL
it stays on NORMAL, each commit synced by sync_wal (test_sqlite_durability.py), while the pool's connections
stay FULL."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy.exc import IntegrityError

from gateway.store.database import WriterConnection, make_engine, single_statement_engine
from tests.helpers import example, signed

FULL, NORMAL = 2, 1  # what PRAGMA synchronous reads back


def _writer(gateway) -> WriterConnection:
    return WriterConnection(single_statement_engine(gateway.engine))


def _alive(conn) -> bool:
    cursor = conn.cursor()
    try:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0] == 1
    finally:
        cursor.close()


def test_appeal_after_appeal_goes_through_one_connection_of_its_own(gateway, signers, monkeypatch):
    used = []
    real = WriterConnection.connection

    def spy(self):
        return _Recording(real(self), used)

    monkeypatch.setattr(WriterConnection, "connection", spy)
    for _ in range(3):
        outcome = gateway.pipeline.submit(signed(signers, "sys-portal", example("Appeal")))
        assert outcome.outcome == "accepted"
    assert len(used) == 3 and len({id(conn) for conn in used}) == 1
    assert single_statement_engine(gateway.engine).pool.checkedout() == 0  # not the pool's: detached


class _Recording:
    def __init__(self, manager, used: list):
        self._manager, self._used = manager, used

    def __enter__(self):
        conn, deferred = self._manager.__enter__()
        self._used.append(conn)
        return conn, deferred

    def __exit__(self, *exc):
        return self._manager.__exit__(*exc)


def test_on_sqlite_under_full_it_stays_on_normal_and_the_pool_on_full(gateway):
    if gateway.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's synchronous levels")
    writer = _writer(gateway)
    with writer.connection() as (conn, deferred):
        assert deferred and conn.execute("PRAGMA synchronous").fetchone()[0] == NORMAL
    with gateway.engine.connect() as pooled:
        assert pooled.exec_driver_sql("PRAGMA synchronous").scalar() == FULL


def test_each_thread_has_its_own(gateway):
    writer = _writer(gateway)
    with writer.connection() as (mine, _):
        pass
    theirs = []

    def other_thread():
        with writer.connection() as (conn, _):
            theirs.append(conn)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert theirs and theirs[0] is not mine  # a DBAPI connection is not shared between threads
    with writer.connection() as (again, _):
        assert again is mine


def test_a_failed_transaction_gives_up_the_connection_a_duplicate_does_not(gateway):
    writer = _writer(gateway)
    with pytest.raises(IntegrityError), writer.connection() as (first, _):
        raise IntegrityError("INSERT …", None, Exception("duplicate key"))
    with pytest.raises(RuntimeError), writer.connection() as (same, _):
        assert same is first
        raise RuntimeError("in the middle of a transaction")
    assert not _still_open(first)  # closed, with whatever state it was in
    with writer.connection() as (fresh, _):
        assert fresh is not first and _alive(fresh)


def _still_open(conn) -> bool:
    try:
        return _alive(conn)
    except Exception:
        return False


def test_a_forked_process_opens_its_own(gateway):
    writer = _writer(gateway)
    with writer.connection() as (parents, _):
        pass
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never the parent's connection (neither driver is fork-safe)
        try:
            with writer.connection() as (childs, _):
                ok = childs is not parents and _alive(childs)
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    try:
        assert os.read(read, 1) == b"1"
    finally:
        os.waitpid(pid, 0)
        os.close(read)


def test_a_pool_of_one_shared_connection_lends_it_for_the_transaction(tmp_path):
    """StaticPool hands every user the same connection: taking it out of the pool would take it from them."""
    from sqlalchemy.pool import StaticPool

    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}", poolclass=StaticPool)
    try:
        writer = WriterConnection(engine)
        with writer.connection() as (conn, deferred):
            assert not deferred  # a shared connection stays FULL: synced inside its COMMIT
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == FULL
        with engine.connect() as pooled:
            assert pooled.connection.dbapi_connection is conn
    finally:
        engine.dispose()


def test_its_connections_are_closed_when_it_goes(gateway):
    """Also from inside a reference cycle: closed by a weakref callback, before any driver's __del__ could
    find them open (pytest turns that warning into a failure)."""
    import gc

    writer = _writer(gateway)
    with writer.connection() as (conn, _):
        pass
    writer.cycle = writer
    del writer
    gc.collect()
    assert not _still_open(conn)
