"""The gateway's own appeal events: closing, after the quiet period, an appeal replied to and not reviewed.

SPEC: an appeal is closed by the citizen's review or after a configurable quiet period, and every event
produces a signed StatusUpdate. Reading an appeal derives that closure at once (lifecycle.fold); this
writes it into the log as a `closed` event by the gateway, so that the citizen's system and the assignees'
DMS are told like of any other event. Run by `zvarot worker` every few minutes; several workers may run it
at once (the event log's unique (appeal, seq) lets one of them write each closure).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from gateway.ingest.effects import DocumentEffects
from gateway.services.appeals import ConcurrentAppend
from gateway.store.database import writing


class QuietClosures:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        effects: DocumentEffects,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._sessions = sessions
        self._effects = effects
        self._clock = clock

    def run(self, limit: int = 100) -> int:
        """Close the appeals due now (at most `limit`), each in its own transaction with its StatusUpdates;
        returns how many were closed."""
        now = self._clock()
        appeals = self._effects.appeals
        with self._sessions() as session:
            due = appeals.quiet_closures_due(session, now, limit)
        closed = 0
        for appeal_id in due:
            try:
                with writing(self._sessions) as session:
                    change = appeals.close_quietly(session, appeal_id, now)
                    if change is None:
                        continue
                    self._effects.publish(session, change, now)
                    session.commit()
                    closed += 1
            except ConcurrentAppend:
                continue  # another worker wrote an event first: the next run decides again
        return closed
