"""SQLite's WAL is checkpointed by a thread in each server worker (started in the worker), not inside
requests."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from sqlalchemy import text

from gateway.store.database import (
    WAL_AUTOCHECKPOINT_PAGES,
    make_engine,
    wal_checkpointer,
    wal_frames_in_use,
    wal_pages,
    write_lock,
)


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


def test_each_worker_of_a_sqlite_gateway_runs_a_checkpointer(settings, served_worker):
    """What a granian worker loads: the app, and on SQLite its own checkpointer thread; none on PostgreSQL."""
    checkpointer = served_worker(settings).extensions.get("zvarot_wal_checkpointer")
    if settings.sqlalchemy_url.startswith("sqlite"):
        assert checkpointer is not None and checkpointer._thread.is_alive()
        assert checkpointer.database == settings.sqlalchemy_url.removeprefix("sqlite:///")
    else:
        assert checkpointer is None
    assert wal_checkpointer("sqlite:///:memory:") is None


def test_only_a_sqlite_file_gets_a_checkpointer(tmp_path):
    database = tmp_path / "zvarot.db"
    found = wal_checkpointer(f"sqlite:///{database}?timeout=30")
    assert found is not None and found.database == str(database)  # the query is not part of the path
    assert wal_checkpointer("sqlite:///:memory:") is None
    assert wal_checkpointer("sqlite://") is None
    assert wal_checkpointer("postgresql+psycopg://postgres@127.0.0.1:5432/test") is None


def _wal_salts(database) -> bytes:
    """The WAL header's salts: SQLite draws new ones each time the WAL starts again from its first frame."""
    with open(f"{database}-wal", "rb") as wal:
        return wal.read(24)[16:24]


def test_under_a_steady_stream_of_commits_the_checkpointer_starts_the_wal_again(tmp_path):
    """A PASSIVE checkpoint alone never catches up with writers that keep committing, and the WAL starts again
    from its first frame only once every frame is copied: the second step, holding the writers' lock, does."""
    database = tmp_path / "z.db"
    engine = _engine_with_writes(database, rows=20)
    commits = 0
    stop = threading.Event()

    def writer() -> None:
        nonlocal commits
        while not stop.is_set():
            with write_lock(engine), engine.begin() as conn:
                conn.execute(text("INSERT INTO t (body) VALUES (randomblob(3000))"))
            commits += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        _wait_for(lambda: commits >= 50)
        before = _wal_salts(database)
        checkpointer = wal_checkpointer(f"sqlite:///{database}")
        # A writer that has just committed may still hold its read slot for a moment: that run skips its
        # turn (frames left uncopied); one of the next runs copies every frame, the writers still going.
        last = []

        def every_frame_copied() -> bool:
            last[:] = checkpointer.run_once()
            return last[2] == last[1] > 0

        _wait_for(every_frame_copied)
        busy, frames, _copied = last
        assert busy == 0
        seen = commits
        _wait_for(lambda: commits >= seen + 5)
    finally:
        stop.set()
        thread.join()
    assert _wal_salts(database) != before, "the WAL did not start again from its first frame"
    assert len(wal_pages(Path(f"{database}-wal"))) < frames
    engine.dispose()


def test_one_checkpointer_at_a_time(tmp_path):
    """Each worker runs a checkpointer; at any moment one works and the others skip their turn."""
    database = tmp_path / "z.db"
    engine = _engine_with_writes(database, rows=10)
    checkpointer = wal_checkpointer(f"sqlite:///{database}")
    with open(f"{database}.checkpointlock", "a+b") as other:
        fcntl.flock(other, fcntl.LOCK_EX)  # another worker's checkpointer is at it
        assert checkpointer.run_once() is None
        fcntl.flock(other, fcntl.LOCK_UN)
    busy, frames, copied = checkpointer.run_once()
    assert busy == 0 and frames >= 10 and copied == frames
    engine.dispose()


def test_a_reader_of_an_older_snapshot_makes_the_checkpointer_give_up_not_hold_the_writers(tmp_path):
    """A long read (a report, a big page) keeps frames the WAL cannot drop: the run leaves them and the WAL
    as they are, and holds no writer back while the reader reads."""
    database = tmp_path / "z.db"
    engine = _engine_with_writes(database, rows=10)
    checkpointer = wal_checkpointer(f"sqlite:///{database}")
    assert checkpointer.run_once()[0] == 0
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (body) VALUES (randomblob(3000))"))  # the WAL starts again
    before = _wal_salts(database)
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot that needs the WAL's frames
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES (randomblob(3000))"))
        busy, frames, copied = _run_beside(checkpointer)
        assert busy == 1 or copied < frames  # not every frame copied: the WAL cannot start again
        # ...and it let go of the writers' lock: a writer gets in, the reader still reading.
        with write_lock(engine), engine.begin() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES (randomblob(3000))"))
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (11,)  # its snapshot, unchanged
    finally:
        reader.close()
    assert _wal_salts(database) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 13
    engine.dispose()


def test_a_reader_on_the_latest_snapshot_makes_the_restart_step_give_up_at_once(tmp_path):
    """Every frame copied, but a reader in the middle of a transaction still reads from the WAL: RESTART
    would wait for it with the writers held; it gives up instead (busy), and the WAL goes on."""
    database = tmp_path / "z.db"
    engine = _engine_with_writes(database, rows=10)
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # the latest snapshot, in the WAL
        busy, frames, copied = _run_beside(wal_checkpointer(f"sqlite:///{database}"))
        assert busy == 1
        with write_lock(engine), engine.begin() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES (randomblob(3000))"))
    finally:
        reader.close()
    engine.dispose()


def test_wal_frames_counts_what_sqlite_itself_reports(tmp_path):
    """The frames read from the -wal file agree with PRAGMA wal_checkpoint, and fall when the WAL starts
    again from its first frame."""
    database = tmp_path / "z.db"
    assert wal_frames_in_use(str(database)) is None  # no database, no WAL
    engine = _engine_with_writes(database, rows=20)
    grown = wal_frames_in_use(str(database))
    with closing(sqlite3.connect(database)) as conn:
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert (busy, copied) == (0, frames) and grown == frames >= 20
    assert wal_checkpointer(f"sqlite:///{database}").run_once()[0] == 0
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (body) VALUES (randomblob(3000))"))
    assert 0 < wal_frames_in_use(str(database)) < frames
    engine.dispose()


def test_counting_wal_frames_never_opens_the_files_sqlite_locks(tmp_path, monkeypatch):
    """Closing any descriptor of a file drops every POSIX lock this process holds on it: opening the
    database or its -shm file beside a live connection would take that connection's locks away (another
    process could then reset the -shm under it: SIGBUS, seen in this suite). Only the -wal file is read."""
    database = tmp_path / "z.db"
    engine = _engine_with_writes(database, rows=5)
    opened = []
    real_open = os.open
    monkeypatch.setattr(
        os, "open", lambda path, *a, **k: opened.append(str(path)) or real_open(path, *a, **k)
    )
    assert wal_frames_in_use(str(database)) >= 5
    assert opened and all(path.endswith("-wal") for path in opened)
    engine.dispose()


def _run_beside(checkpointer, seconds: float = 10):
    """run_once in a thread, the caller's reader still reading: it must come back without waiting for the
    reader (a wait would last the connection's 30 s busy timeout, holding the writers all along)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(checkpointer.run_once()))
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the checkpointer waited for the reader"
    return result[0]


def _wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
