"""The evidence store: accepted documents (deduplicated by sender and message id) and rejections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Dialect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.database import (
    WriterConnection,
    single_statement_engine,
    sync_wal,
    write_lock,
    writing,
)
from gateway.store.models import Message, RejectedDocument
from gateway.store.prepared import PreparedInserts, driver_error


class Dependents(Protocol):
    """Rows that belong with an accepted document and are written in its transaction (a new appeal's)."""

    def write(self, conn, dialect: Dialect, message_pk: int) -> None:
        """On the DBAPI connection `conn`, after the document's INSERT returned `message_pk`."""

    def one_statement(self, dialect: Dialect, message: dict) -> tuple[str, tuple] | None:
        """PostgreSQL: the document's INSERT and these rows as one statement (SQL with $n placeholders and
        its parameters), or None where they are too many for one (then `write` runs in a transaction)."""


# Rejected bodies are kept for the operator, but a refused oversize upload is not worth 10 MiB of disk.
REJECTED_BODY_LIMIT = 256 * 1024


@dataclass(frozen=True)
class StoredMessage:
    sha256: str
    receipt_id: str
    receipt: bytes


class MessageStore:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions
        self._engine = sessions.kw["bind"]
        self._single_statements = single_statement_engine(self._engine)
        self._writer = WriterConnection(self._single_statements)  # SQLite: the engine itself
        self.inserts = PreparedInserts(self._engine.dialect)
        self._insert = self.inserts(Message.__table__)
        self._insert_returning_key = self.inserts(Message.__table__, returning="id")

    def record_accepted(self, values: dict, dependents: Dependents | None = None) -> StoredMessage | None:
        """Commit an accepted document; returns None, or the row already stored under (sender, message id).

        No read first: the common case is a new message, and the unique constraint settles races between
        processes. The caller compares hashes: duplicate or conflict. Alone, the document is one INSERT in
        its own transaction; with `dependents` (a new appeal's rows) they share one transaction. On SQLite
        both go the same way (_sqlite_transaction), synced after the write lock.
        """
        try:
            if self._engine.dialect.name == "sqlite":
                self._sqlite_transaction(values, dependents)
                return None
            # PostgreSQL
            if dependents is None:
                with self._writer.connection() as (conn, _):  # autocommit: one round trip
                    self._insert.execute(conn, values)
                return None
            one = dependents.one_statement(self._engine.dialect, values)
            if one is not None:
                self._execute_one_statement(*one)
                return None
            with self._engine.begin() as conn:  # the main engine: a transaction, not autocommit
                raw = conn.connection.dbapi_connection
                key = self._insert_returning_key.execute(raw, values)
                dependents.write(raw, self._engine.dialect, key)
            return None
        except IntegrityError:
            existing = self.find(values["sender_system"], values["message_id"])
            if existing is None:
                raise
            return existing

    def _execute_one_statement(self, sql: str, params: tuple) -> None:
        """PostgreSQL, in autocommit: one round trip instead of eight."""
        from psycopg import RawCursor  # PostgreSQL's $n placeholders, passed through as they are

        with self._writer.connection() as (conn, _):
            cursor = RawCursor(conn)
            try:
                cursor.execute(sql, params)
            except self._engine.dialect.loaded_dbapi.Error as exc:
                raise driver_error(self._engine.dialect, sql, exc) from exc
            finally:
                cursor.close()

    def _sqlite_transaction(self, values: dict, dependents: Dependents | None) -> None:
        """BEGIN IMMEDIATE, the document, its dependents, COMMIT, on the DBAPI connection itself: SQLAlchemy's
        transaction bookkeeping cost more than the INSERTs (our connections run in the sqlite3 module's
        autocommit mode, so the transaction is exactly these statements). Under FULL the commit is synced
        after the write lock is released and before the caller sends the receipt (WriterConnection): that
        fsync was half the time the lock was held per appeal, every other worker waiting."""
        dialect = self._engine.dialect
        with self._writer.connection() as (sqlite, deferred):
            try:
                with write_lock(self._engine):
                    sqlite.execute("BEGIN IMMEDIATE")
                    try:
                        key = self._insert_returning_key.execute(sqlite, values)
                        if dependents is not None:
                            dependents.write(sqlite, dialect, key)
                        sqlite.execute("COMMIT")
                    finally:
                        if sqlite.in_transaction:
                            sqlite.execute("ROLLBACK")
            except dialect.loaded_dbapi.Error as exc:  # BEGIN, COMMIT, ROLLBACK (the INSERTs wrap their own)
                raise driver_error(dialect, "BEGIN IMMEDIATE … COMMIT", exc) from exc
            if deferred:
                sync_wal(self._engine.url.database)  # an I/O error here is raised: no receipt

    def record_rejection(self, rejection: RejectedDocument) -> None:
        rejection.body = rejection.body[:REJECTED_BODY_LIMIT]
        with writing(self._sessions) as session:
            session.add(rejection)
            session.commit()

    def find(self, sender_system: str, message_id: str) -> StoredMessage | None:
        with self._engine.connect() as conn:
            return self.find_in(conn, sender_system, message_id)

    @staticmethod
    def find_in(conn: Connection | Session, sender_system: str, message_id: str) -> StoredMessage | None:
        table = Message.__table__
        row = conn.execute(
            select(table.c.sha256, table.c.receipt_id, table.c.receipt).where(
                table.c.sender_system == sender_system, table.c.message_id == message_id
            )
        ).first()
        return None if row is None else StoredMessage(row.sha256, row.receipt_id, row.receipt)
