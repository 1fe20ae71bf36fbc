"""Engine and sessions: SQLite (WAL) by default, PostgreSQL by URL; migrations through Alembic."""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from gateway.config import SQLITE_SYNCHRONOUS

WRITE_OPTION = "zvarot_write"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# SQLite's default (1000 pages) makes every ~60th accepted appeal copy the WAL into the database and fsync
# inside its request. Served by `zvarot serve`, a WalCheckpointer thread in each worker does that instead;
# this bound only keeps the WAL from growing past ~40 MB where nothing checkpoints (CLI, tests, a stuck
# checkpointer).
WAL_AUTOCHECKPOINT_PAGES = 10_000
CHECKPOINT_INTERVAL = 0.1  # seconds: at ~1,000 appeals/s (~31,000 WAL frames/s) the WAL stays ~3,000 frames


# The driver Zvarot installs for PostgreSQL. A plain libpq-style URL (what a PostgreSQL host hands out, and
# what `psql` takes) would otherwise make SQLAlchemy look for psycopg2, which is not installed.
_POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")
POSTGRESQL_DRIVER = "postgresql+psycopg://"


def driver_url(url: str) -> str:
    """`url` with PostgreSQL's plain schemes read as psycopg 3; any other URL as it is."""
    for scheme in _POSTGRESQL_SCHEMES:
        if url.startswith(scheme):
            return POSTGRESQL_DRIVER + url.removeprefix(scheme)
    return url


def make_engine(url: str, sqlite_synchronous: str = "FULL", **kwargs) -> Engine:
    """An engine for `url` (a plain postgresql:// means psycopg 3: driver_url); for SQLite with WAL and
    `PRAGMA synchronous=<sqlite_synchronous>`. FULL (the default) fsyncs the WAL inside every COMMIT: a
    receipt is sent only for a document on disk (SPEC: "durably committed"), so no receipt outlives its
    document across a power loss. NORMAL keeps commits across a crash of the process only."""
    if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"PRAGMA synchronous={sqlite_synchronous!r}: one of {', '.join(SQLITE_SYNCHRONOUS)}")
    url = driver_url(url)
    if not url.startswith(("sqlite:", "postgresql+psycopg:")):
        scheme = url.split(":", 1)[0] if ":" in url else url[:40]
        raise ValueError(
            f"a database URL of scheme {scheme!r}: Zvarot runs on SQLite (sqlite:///path) or PostgreSQL "
            "(postgresql://user@host/db)"
        )
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy issue BEGIN itself so that a write transaction takes the lock up front.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            cur.close()

        @event.listens_for(engine, "checkout")
        def _sqlite_restore_full(dbapi_conn, record, _proxy):
            # A connection whose last transaction deferred its sync (defer_commit_sync) is back on its own
            # level (FULL) for whoever uses it next.
            level = record.info.pop(_DEFERRED_SYNC, None)
            if level is not None:
                dbapi_conn.execute(f"PRAGMA synchronous={int(level)}")

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # A writer takes the lock up front: upgrading a read transaction later fails at once under WAL.
            immediate = conn.get_execution_options().get(WRITE_OPTION)
            if immediate:
                defer_commit_sync(conn.engine, conn.connection)  # before BEGIN: not allowed inside
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # No pre-ping: it costs a round trip per checkout on the hot path. A connection the server dropped fails
    # one request (which the sender retries idempotently) and is replaced; recycling bounds its age. TCP
    # keepalives let the server notice a client host that vanished within about a minute rather than the
    # kernel's two hours: its session's locks (the transparency log's turn) go with it.
    keepalives = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
    connect_args = {**keepalives, **kwargs.pop("connect_args", {})}
    return create_engine(url, pool_recycle=1800, connect_args=connect_args, **kwargs)


class _FileWriteLock:
    """Serialises SQLite writers across processes without sleeping.

    SQLite's own busy handler polls with sleeps of 1 to 100 ms, which under several worker processes turns a
    0.2 ms insert into milliseconds of waiting; a blocking flock wakes the next writer the moment it is free.
    Correctness never depends on this lock (busy_timeout still guards), only latency does.
    """

    def __init__(self, path: Path):
        self._path = path
        self._fd: int | None = None
        self._pid = 0
        self._threads = threading.Lock()  # flock does not exclude threads of one process

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            if self._fd is None or self._pid != os.getpid():
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_WRITE_LOCKS: dict[str, _FileWriteLock] = {}


def sync_wal(database: str) -> None:
    """Make a SQLite database's WAL durable: every frame written to it so far, by any connection or process
    (fdatasync flushes the file's pages, whoever wrote them)."""
    fd = os.open(database + "-wal", os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


# In a pooled connection's info: the synchronous level it goes back to when next checked out.
_DEFERRED_SYNC = "zvarot_deferred_sync"
_FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def defer_commit_sync(engine: Engine, connection) -> bool:
    """The fsync of a SQLite write transaction, moved from inside COMMIT (where the write lock is held
    through it, every other writer waiting) to after the lock: call on the transaction's pooled connection
    (a DBAPI connection fairy) before its BEGIN (SQLite refuses the change inside a transaction), then
    `sync_wal` after releasing the lock and before telling anyone the transaction is durable. `writing()`
    sessions do so at BEGIN IMMEDIATE. Returns whether it did so: only under synchronous=FULL with a WAL (a
    rollback journal is left to SQLite), never on PostgreSQL.

    The transaction then commits as under NORMAL: its frames are written, not synced, until sync_wal. A
    checkpoint that copies them first syncs the WAL before and the database after, so once sync_wal returns
    they are durable either way. The connection is put back on its level when next checked out of the pool.
    Measured: docs/performance.md, "Durability on SQLite"."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return False
    sqlite = connection.driver_connection
    level = sqlite.execute("PRAGMA synchronous").fetchone()[0]
    if level < _FULL or sqlite.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        return False
    sqlite.execute("PRAGMA synchronous=NORMAL")
    connection.info[_DEFERRED_SYNC] = level  # what it goes back to
    return True


class _HeldConnection:
    """One thread's connection of a WriterConnection. Never closed from a forked child: the connection is the
    parent's (closing a PostgreSQL one would end the parent's session)."""

    __slots__ = ("fairy", "deferred", "pid")

    def __init__(self, fairy, deferred: bool):
        self.fairy, self.deferred, self.pid = fairy, deferred, os.getpid()

    def close(self) -> None:
        fairy, self.fairy = self.fairy, None
        if fairy is not None and self.pid == os.getpid():
            fairy.close()


def _close_all(held: list[_HeldConnection]) -> None:
    while held:
        held.pop().close()


class WriterConnection:
    """Each thread's own connection for the ingest path's writes, kept out of the pool: checking a connection
    out, resetting it and returning it cost ~5-7 % of an appeal's time in the served workers (py-spy).

    On SQLite under FULL with a WAL it stays on synchronous=NORMAL for good, and every commit on it is synced
    by `sync_wal` after the write lock (what defer_commit_sync arranges per transaction, without switching
    back and forth each time). On PostgreSQL it comes from the autocommit engine (single_statement_engine).
    Where the pool has a single connection to share (StaticPool, SingletonThreadPool) it lends that one for
    the transaction instead."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._local = threading.local()
        self._dedicated = isinstance(engine.pool, QueuePool)  # a pool that opens connections on demand
        # Every thread's, closed when this object goes: a weakref callback runs before any finalizer of the
        # garbage (a driver's own __del__ would complain of an open connection).
        self._held: list[_HeldConnection] = []
        weakref.finalize(self, _close_all, self._held)

    @contextmanager
    def connection(self) -> Iterator[tuple[object, bool]]:
        """The DBAPI connection for one transaction, and whether its commit still needs `sync_wal`.

        The connection is given up (closed) when the transaction fails with anything but an integrity error
        (a duplicate leaves it as it was): whatever state it is in goes with it."""
        if not self._dedicated:
            with self._engine.raw_connection() as pooled:
                yield pooled.dbapi_connection, False  # not deferred: synced inside COMMIT, if at all
            return
        held = getattr(self._local, "held", None)
        if held is None or held.pid != os.getpid():  # none yet, or inherited across a fork
            raw = self._engine.raw_connection()
            deferred = defer_commit_sync(self._engine, raw)
            raw.detach()  # closed for real when closed; the pool opens another in its place
            held = self._local.held = _HeldConnection(raw, deferred)
            self._held.append(held)
        try:
            yield held.fairy.dbapi_connection, held.deferred
        except IntegrityError:
            raise
        except BaseException:
            self._local.held = None
            self._held.remove(held)
            held.close()
            raise


class WalCheckpointer:
    """Copies a SQLite WAL back into the database from a thread of its own, off the request path, and has it
    start again from its first frame.

    Measured with `zvarot bench`: with checkpoints inside requests (fsync included) the full pipeline served
    ~650 appeals/s; without them, ~700. Each run checkpoints in two steps, on a short-lived connection of its
    own. A PASSIVE checkpoint copies the bulk beside the writers, blocking nobody; pages rewritten between two
    runs (index tails) are copied once. But under a steady stream of commits it never reaches the last frame
    (another commit always lands while it copies), and SQLite only starts the WAL again from its first frame
    once every frame has been copied: the WAL would grow without end, and at WAL_AUTOCHECKPOINT_PAGES the
    requests themselves would checkpoint after every commit (measured: 450-600 MB of WAL in 12 s with the
    bound lifted; at the bound, a 41 MB WAL and checkpoints in the requests). So the second step takes the
    writers' lock (write_lock) and runs a RESTART checkpoint: it copies only what was committed during the
    first step, and the next writer starts the WAL from its first frame. It waits for nobody: where a
    reader's snapshot still needs the WAL (a long page, a report), the first step leaves frames uncopied or
    the second finds the reader, and the run gives up at once rather than hold the writers while it reads.
    Start it only in a process that will not fork while it runs (SQLite is not fork-safe across threads).
    """

    def __init__(self, database: str, interval: float = CHECKPOINT_INTERVAL):
        self.database = database
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> tuple[int, int, int] | None:
        """(busy, frames in the WAL, frames checkpointed) as the last step's PRAGMA wal_checkpoint reports
        them: (0, n, n) when the WAL starts again from its first frame with the next commit. None when another
        process's checkpointer is at it (one at a time: two would only make each other fail)."""
        turn = os.open(self.database + ".checkpointlock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            conn = sqlite3.connect(self.database, timeout=30)
            try:
                # SQLite syncs the WAL before copying it and the database after (what lets a commit whose
                # writer has not yet run sync_wal be overwritten); FULL says so rather than a build default.
                conn.execute("PRAGMA synchronous=FULL")
                passive = tuple(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())  # writers go on
                busy, frames, copied = passive
                if busy or copied < frames:  # a reader still needs frames: RESTART would only wait for it
                    return passive
                conn.execute("PRAGMA busy_timeout=0")
                with _write_lock_of(self.database):
                    return tuple(conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone())
            finally:
                conn.close()
        finally:
            os.close(turn)  # and with it the flock

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except (sqlite3.Error, OSError):
                continue  # e.g. the database is being replaced; writers still checkpoint past the bound

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="zvarot-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


_WAL_HEADER, _WAL_FRAME_HEADER = 32, 24


def wal_pages(wal: Path | str) -> list[int]:
    """The page number of every valid frame of a SQLite WAL file, in order: frames whose salts are the
    header's (frames left from before the WAL last started again carry old salts). Reads only the frame
    headers, and only the -wal file, which SQLite keeps no lock on: its locks are on the database and the
    -shm file, and closing any descriptor of a file drops every POSIX lock the process holds on it (a
    connection of this process would then lose its locks, and another process could reset the -shm under
    it: SIGBUS). Never open those two."""
    try:
        fd = os.open(wal, os.O_RDONLY)
    except FileNotFoundError:
        return []
    try:
        header = os.pread(fd, _WAL_HEADER, 0)
        if len(header) < _WAL_HEADER:
            return []
        page_size, salts, size = int.from_bytes(header[8:12], "big"), header[16:24], os.fstat(fd).st_size
        pages, offset = [], _WAL_HEADER
        while offset + _WAL_FRAME_HEADER + page_size <= size:
            frame = os.pread(fd, _WAL_FRAME_HEADER, offset)
            if frame[8:16] != salts:
                break
            pages.append(int.from_bytes(frame[:4], "big"))
            offset += _WAL_FRAME_HEADER + page_size
        return pages
    finally:
        os.close(fd)


def wal_frames_in_use(database: str) -> int | None:
    """How many frames SQLite's WAL holds since it last started again from its first frame (None: no WAL
    file), for operators, who alert where it nears WAL_AUTOCHECKPOINT_PAGES: the checkpointer is then not
    keeping up, and requests checkpoint themselves."""
    if not os.path.exists(database + "-wal"):
        return None
    return len(wal_pages(database + "-wal"))


def wal_checkpointer(url: str, interval: float = CHECKPOINT_INTERVAL) -> WalCheckpointer | None:
    """A checkpointer for a SQLite file database; None for PostgreSQL (it checkpoints on its own)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return WalCheckpointer(parsed.database, interval)


def write_lock(engine: Engine) -> AbstractContextManager:
    """Hold around a write transaction: serialises SQLite writers; a no-op on PostgreSQL."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return nullcontext()
    return _write_lock_of(engine.url.database)


def _write_lock_of(database: str) -> AbstractContextManager:
    lock = _WRITE_LOCKS.get(database)
    if lock is None:
        lock = _WRITE_LOCKS.setdefault(database, _FileWriteLock(Path(database + ".writelock")))
    return lock.held()


_SINGLE_STATEMENT_ENGINES: dict[str, Engine] = {}


def single_statement_engine(engine: Engine) -> Engine:
    """An engine for transactions of one statement: on PostgreSQL an autocommit pool of its own, so that the
    statement is the whole transaction (one round trip instead of BEGIN, statement, COMMIT); SQLite's own
    engine already does that in-process."""
    if engine.dialect.name == "sqlite":
        return engine
    # By the URL with its options (a scratch schema is one), not id(engine): a disposed engine's id is reused.
    key = engine.url.render_as_string(hide_password=False)
    single = _SINGLE_STATEMENT_ENGINES.get(key)
    if single is None:
        single = _SINGLE_STATEMENT_ENGINES.setdefault(
            key, create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_recycle=1800)
        )
    return single


@contextmanager
def scratch_database(url: str, sqlite_path: Path, prefix: str = "zs") -> Iterator[str]:
    """A database nobody else uses, for tests and benchmarks: a new SQLite file when `url` is empty or
    SQLite, else a private schema on the PostgreSQL server `url` names, dropped afterwards. Parallel runs on
    one server never see each other's rows."""
    if not url or url.startswith("sqlite"):
        yield f"sqlite:///{sqlite_path}"
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    base = driver_url(url).split("?", 1)[0]
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def writing(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for a read-then-write transaction (takes SQLite's write lock at BEGIN). On SQLite under FULL
    its commit is synced after the lock is released, before this returns (defer_commit_sync); a second
    transaction in the same block runs on its own connection, synced inside its COMMIT."""
    engine = sessions.kw["bind"]
    deferred = False
    try:
        with write_lock(engine), sessions() as session:
            connection = session.connection(execution_options={WRITE_OPTION: True})  # BEGIN, deferring
            deferred = connection.connection.info.get(_DEFERRED_SYNC) is not None
            yield session
    finally:
        if deferred:  # also after an error: the block may have committed before it
            sync_wal(engine.url.database)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


@functools.cache
def _migration_scripts():
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def schema_head() -> str:
    """The revision this code's migrations end at."""
    return _migration_scripts().get_current_head()


def schema_problem(conn: Connection) -> str | None:
    """Why the database on `conn` cannot serve this code's gateway: never migrated, or behind; else None.
    A database a newer version has migrated serves: in a rolling deploy the migration runs first while the
    old version still serves (its migrations add before they remove). Raises the driver's error where the
    database cannot be reached."""
    from alembic.util import CommandError

    if not inspect(conn).has_table("alembic_version"):  # read directly: alembic's context logs each time
        return "the database has not been migrated: run `zvarot migrate` (`zvarot up` migrates its own)"
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        return "the database has not been migrated: run `zvarot migrate` (`zvarot up` migrates its own)"
    head = schema_head()
    if revision == head:
        return None
    try:
        _migration_scripts().get_revision(revision)
    except CommandError:
        return None  # a newer version's revision
    return f"the database is at revision {revision}, behind this version's {head}: run `zvarot migrate`"


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
