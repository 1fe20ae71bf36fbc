"""The evidence store: accepted documents (deduplicated by sender and message id) and rejections."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Dialect, Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.database import single_statement_engine, write_lock, writing
from gateway.store.models import Message, RejectedDocument

# Rejected bodies are kept for the operator, but a refused oversize upload is not worth 10 MiB of disk.
REJECTED_BODY_LIMIT = 256 * 1024


class _PreparedInsert:
    """An INSERT compiled once, with each column's bind processor applied by us.

    Statement compilation and cache-key generation were a third of an accepted document's storage cost; the
    SQL and the value conversions are exactly what SQLAlchemy would use (TypeEngine.bind_processor).
    """

    def __init__(self, table: Table, dialect: Dialect):
        columns = [c for c in table.columns if not (c.primary_key and c.autoincrement)]
        compiled = (
            table.insert().values({c.name: bindparam(c.name) for c in columns}).compile(dialect=dialect)
        )
        self.sql = str(compiled)
        self.order = compiled.positiontup  # None for named paramstyles
        self.processors = {c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns}

    def execute(self, conn: Connection, values: dict) -> None:
        converted = {k: (p(values[k]) if (p := self.processors[k]) else values[k]) for k in self.processors}
        params = tuple(converted[k] for k in self.order) if self.order else converted
        conn.exec_driver_sql(self.sql, params)


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
        self._insert = _PreparedInsert(Message.__table__, self._engine.dialect)

    def record_accepted(self, values: dict) -> StoredMessage | None:
        """Commit an accepted document; returns None, or the row already stored under (sender, message id).

        One INSERT in its own transaction, no read first: the common case is a new message, and the unique
        constraint settles races between processes. The caller compares hashes: duplicate or conflict.
        """
        try:
            with write_lock(self._engine), self._single_statements.begin() as conn:
                self._insert.execute(conn, values)
            return None
        except IntegrityError:
            existing = self.find(values["sender_system"], values["message_id"])
            if existing is None:
                raise
            return existing

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
