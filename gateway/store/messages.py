"""The evidence store: accepted documents (deduplicated by sender and message id) and rejections."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.database import write_lock, writing
from gateway.store.models import Message, RejectedDocument

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

    def record_accepted(self, values: dict) -> StoredMessage | None:
        """Commit an accepted document; returns None, or the row already stored under (sender, message id).

        One INSERT in its own transaction, no read first: the common case is a new message, and the unique
        constraint settles races between processes. The caller compares hashes: duplicate or conflict.
        """
        table = Message.__table__
        try:
            with write_lock(self._engine), self._engine.begin() as conn:
                conn.execute(table.insert(), values)
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
        table = Message.__table__
        with self._engine.connect() as conn:
            row = conn.execute(
                select(table.c.sha256, table.c.receipt_id, table.c.receipt).where(
                    table.c.sender_system == sender_system, table.c.message_id == message_id
                )
            ).first()
        return None if row is None else StoredMessage(row.sha256, row.receipt_id, row.receipt)
