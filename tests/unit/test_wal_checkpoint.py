"""SQLite's WAL is checkpointed by a thread in each server worker (started in the worker), not inside
requests."""

from __future__ import annotations

import time

from sqlalchemy import text

from gateway.interfaces.cli.server import served_gateway
from gateway.store.database import WAL_AUTOCHECKPOINT_PAGES, make_engine, wal_checkpointer


def _engine_with_writes(path, rows: int = 200):
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)"))
    for _ in range(rows):  # one transaction each, as accepted documents are written
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES (randomblob(3000))"))
    return engine


def test_writers_leave_the_wal_to_the_checkpointer_up_to_the_bound(tmp_path):
    engine = _engine_with_writes(tmp_path / "z.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_AUTOCHECKPOINT_PAGES
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    checkpointer = wal_checkpointer(f"sqlite:///{tmp_path / 'z.db'}")
    busy, frames, copied = checkpointer.run_once()
    # 200 commits of a 3 KB row and their index pages: all still in the WAL until now, and all copied now
    assert busy == 0 and frames >= 200 and copied == frames
    engine.dispose()


def test_the_checkpointer_thread_checkpoints_and_stops(tmp_path):
    database = tmp_path / "z.db"
    engine = _engine_with_writes(database, rows=50)
    # The rows are in the WAL only: the database file grows when a checkpoint copies them into it.
    assert database.stat().st_size < 50 * 3000
    checkpointer = wal_checkpointer(f"sqlite:///{database}", interval=0.05)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while database.stat().st_size < 50 * 3000 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        checkpointer.stop()
    assert database.stat().st_size >= 50 * 3000, "the checkpointer thread did not checkpoint the WAL"
    assert not checkpointer._thread.is_alive()
    engine.dispose()


def test_each_worker_of_a_sqlite_gateway_runs_a_checkpointer(settings, tmp_path):
    """What a granian worker loads: the app, and on SQLite its own checkpointer thread; none on PostgreSQL."""
    app = served_gateway(settings)
    checkpointer = app.extensions.get("zvarot_wal_checkpointer")
    try:
        if settings.sqlalchemy_url.startswith("sqlite"):
            assert checkpointer is not None and checkpointer._thread.is_alive()
            assert checkpointer.database == settings.sqlalchemy_url.removeprefix("sqlite:///")
        else:
            assert checkpointer is None
    finally:
        app.extensions["zvarot_watchdog"].stop()  # it would end this process, were a request to hang
        if checkpointer is not None:
            checkpointer.stop()
        app.extensions["zvarot"].engine.dispose()
    assert wal_checkpointer("sqlite:///:memory:") is None


def test_only_a_sqlite_file_gets_a_checkpointer(tmp_path):
    database = tmp_path / "zvarot.db"
    found = wal_checkpointer(f"sqlite:///{database}?timeout=30")
    assert found is not None and found.database == str(database)  # the query is not part of the path
    assert wal_checkpointer("sqlite:///:memory:") is None
    assert wal_checkpointer("sqlite://") is None
    assert wal_checkpointer("postgresql+psycopg://postgres@127.0.0.1:5432/test") is None
