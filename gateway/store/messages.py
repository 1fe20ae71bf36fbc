"""The evidence store: accepted documents (deduplicated by sender and message id) and rejections."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.database import writing
from gateway.store.models import Message, RejectedDocument

# Rejected bodies are kept for the operator, but a refused oversize upload is not worth 10 MiB of disk.
REJECTED_BODY_LIMIT = 256 * 1024


class MessageStore:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def record_accepted(self, message: Message) -> tuple[Message, bool]:
        """Commit `message` unless (sender, message id) is already known; returns (row, created).

        The caller compares the returned row's hash to tell a duplicate from a conflict.
        """
        with writing(self._sessions) as session:
            existing = self._find(session, message.sender_system, message.message_id)
            if existing is not None:
                return existing, False
            session.add(message)
            try:
                session.commit()
            except IntegrityError:  # a concurrent submission of the same message won the race
                session.rollback()
                existing = self._find(session, message.sender_system, message.message_id)
                if existing is None:
                    raise
                return existing, False
            return message, True

    def record_rejection(self, rejection: RejectedDocument) -> None:
        rejection.body = rejection.body[:REJECTED_BODY_LIMIT]
        with self._sessions() as session:
            session.add(rejection)
            session.commit()

    def find(self, sender_system: str, message_id: str) -> Message | None:
        with self._sessions() as session:
            return self._find(session, sender_system, message_id)

    @staticmethod
    def _find(session: Session, sender_system: str, message_id: str) -> Message | None:
        return session.scalars(
            select(Message).where(Message.sender_system == sender_system, Message.message_id == message_id)
        ).first()
