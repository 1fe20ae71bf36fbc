"""The gateway's own appeal events: closing, after the quiet period, an appeal replied to and not reviewed.

SPEC: an appeal is closed by the citizen's review or after a configurable quiet period, and every event
produces a signed StatusUpdate. Reading an appeal derives that closure at once (lifecycle.fold); this
writes it into the log as a `closed` event by the gateway, so that the citizen's system and the assignees'
DMS are told like of any other event. Run by `zvarot worker` every few minutes; several workers may run it
at once (the event log's unique (appeal, seq) lets one of them write each closure).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.ingest.effects import DocumentEffects
from gateway.services.appeals import ConcurrentAppend
from gateway.store.database import writing


class QuietClosures:
    BATCH = 100
    BUDGET_SECONDS = 60.0  # one housekeeping run; what is left is due again at the next
    # A reply's `at` is taken before its transaction commits: one that commits after a run has read past its
    # time is still in the next run's window as long as it committed within this margin.
    MARGIN = timedelta(hours=1)

    def __init__(
        self,
        sessions: sessionmaker[Session],
        effects: DocumentEffects,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        log: Callable[[str], None] = lambda _line: None,
    ):
        self._sessions = sessions
        self._effects = effects
        self._clock = clock
        self._log = log
        # The replies before this were all dealt with by an earlier run of this process: a reply followed by
        # another event is never due again, and a due one is closed at once. None (at start): read them all.
        self._since: datetime | None = None

    def run(self) -> int:
        """Close the appeals due now, batch after batch while batches come back full (within BUDGET_SECONDS),
        each appeal in its own transaction with its StatusUpdates; returns how many were closed. An appeal
        that fails is logged and skipped, so that it cannot hold up the others. A run that saw every due
        appeal moves the watermark to its cutoff, or to the oldest reply that failed to close if that is
        earlier (so it is tried again), less MARGIN: one appeal that keeps failing holds the window at its
        reply, not at the start of time."""
        started, closed = time.monotonic(), 0
        failed: dict[str, datetime] = {}  # appeal -> the time of its reply
        appeals = self._effects.appeals
        while time.monotonic() - started < self.BUDGET_SECONDS:
            now = self._clock()
            with self._sessions() as session:
                due = appeals.quiet_replies_due(session, now, self.BATCH + len(failed), since=self._since)
            due = [(appeal_id, at) for appeal_id, at in due if appeal_id not in failed]
            for appeal_id, replied_at in due:
                try:
                    closed += self._close(appeal_id, now)
                except Exception as exc:  # noqa: BLE001 - one appeal's failure must not stop the others
                    failed[appeal_id] = replied_at
                    self._log(f"quiet closure of {appeal_id} failed: {type(exc).__name__}: {exc}")
            if len(due) < self.BATCH:
                self._since = min([appeals.quiet_cutoff(now), *failed.values()]) - self.MARGIN
                break
        return closed

    def _close(self, appeal_id: str, now: datetime) -> int:
        try:
            with writing(self._sessions) as session:
                change = self._effects.appeals.close_quietly(session, appeal_id, now)
                if change is None:
                    return 0  # reviewed meanwhile, or already closed
                # A demo appeal's closure is kept in its log (its timeline reads it anyway), but no system is
                # sent a signed StatusUpdate about an appeal nobody sent.
                if not self._effects.appeals.is_demo_history(session, appeal_id):
                    self._effects.publish(session, change, now)
                session.commit()
                return 1
        except ConcurrentAppend:
            return 0  # another worker wrote an event first: the next run decides again
