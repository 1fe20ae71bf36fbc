"""The outbox worker (`zvarot worker`): claims due rows, pushes each through its system's deliverer outside
any transaction, and records the outcome on the row. Design and guarantees: docs/delivery.md.

- Claiming. A row is due when it is `pending`, its `next_attempt_at` has come and nobody holds a lease on it
  (`claimed_until` empty or past). On PostgreSQL the worker selects due rows `FOR UPDATE SKIP LOCKED` and
  leases them (`claimed_by`, `claimed_until = now + lease`) in one short transaction, so concurrent workers
  on any number of hosts skip each other's rows instead of waiting. On SQLite one
  `UPDATE … WHERE id IN (SELECT … LIMIT n) AND <lease free> RETURNING …` under the write lock does the same:
  SQLite serialises writers, so two workers cannot lease one row.
- Delivering. Only the lease holder delivers a row, and only while its lease has at least two delivery
  timeouts left (else it renews the lease first, which fails if another worker took the row meanwhile); the
  outcome is written only `WHERE claimed_by = <this worker>`. A crashed worker's rows become due again when
  their lease ends: delivery is at-least-once, and `message_key` lets the receiver drop the repeat.
- Outcomes. Delivered: status `delivered`, `delivered_at`. Failed: `attempts + 1`, `last_error`, and the
  next attempt after min(cap, base * 2**attempts) * jitter(0.5..1.5); at the maximum number of attempts the
  row becomes `dead` until the operator requeues it (`zvarot outbox requeue`).
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.delivery.registry import Deliverer, DelivererRegistry
from gateway.store.appeals import OutboxMessage
from gateway.store.database import writing
from gateway.store.directory import System

MAX_ERROR_CHARS = 2000

# Called with (ISO year, ISO week) when a worker process starts and whenever a new ISO week begins in the
# deployment's time zone. Weekly ratings will hang here: the hook must be idempotent and recomputable from
# stored events, because every worker process calls it (compute the week that has just ended; skip it if its
# result is already stored). Nothing is hooked in yet.
WeeklyHook = Callable[[int, int], None]
# Work a long-running worker does every HOUSEKEEPING_SECONDS besides delivering (the quiet-period closures);
# its failures are logged, never fatal to delivery.
Housekeeping = Callable[[], None]
HOUSEKEEPING_SECONDS = 300.0
# How often a long-running worker extends the transparency log and signs a checkpoint (ZVAROT_LOG_INTERVAL).
LOG_SECONDS = 30.0


class _Periodic:
    """A job a long-running worker runs at start, then every `every`; a failure is logged, never fatal."""

    def __init__(self, name: str, job: Housekeeping, every: timedelta):
        self.name, self.job, self.every = name, job, every
        self.next: datetime | None = None

    def tick(self, now: datetime, log: Callable[[str], None]) -> None:
        if self.next is not None and now < self.next:
            return
        self.next = now + self.every
        try:
            self.job()
        except Exception as exc:  # noqa: BLE001 - delivery goes on; the next run tries again
            log(f"{self.name} failed ({describe(exc)}); retrying in {self.every}")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0

    def delay(self, attempts_before: int, jitter: float) -> timedelta:
        """The wait after a failed attempt, when `attempts_before` attempts had failed before it."""
        exponential = self.base_seconds * 2 ** min(attempts_before, 60)
        return timedelta(seconds=min(self.cap_seconds, exponential) * jitter)


@dataclass(frozen=True)
class ClaimedRow:
    id: int
    recipient: str
    appeal_id: str
    event_seq: int
    document: bytes
    attempts: int  # attempts made before this one
    acked: bool  # already acknowledged by the recipient through the pull API
    document_type: str = "StatusUpdate"

    @property
    def message_key(self) -> str:
        """The same on every attempt of this row; an official's document forwarded with an event's
        StatusUpdate has its type appended, so that a receiver keeps both."""
        key = f"{self.appeal_id}:{self.event_seq}:{self.recipient}"
        return key if self.document_type == "StatusUpdate" else f"{key}:{self.document_type}"


@dataclass(frozen=True)
class Target:
    delivery: str
    endpoint: str | None


@dataclass
class RunSummary:
    delivered: int = 0
    failed: int = 0  # failed attempts that will be retried
    dead: int = 0
    lost: int = 0  # rows whose lease another worker took over (their outcome was not recorded here)
    released: int = 0  # claimed rows handed back unprocessed because the worker was stopped

    def describe(self) -> str:
        return (
            f"delivered {self.delivered}, failed {self.failed} (to retry), dead {self.dead}, "
            f"lost lease {self.lost}, released {self.released}"
        )


class Undeliverable(Exception):
    """The row cannot be attempted: unknown system, no deliverer for its kind, no endpoint."""


def worker_identity() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class DeliveryWorker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        deliverers: DelivererRegistry,
        policy: RetryPolicy = RetryPolicy(),
        *,
        lease_seconds: float = 300.0,
        timeout_seconds: float = 30.0,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
        log: Callable[[str], None] | None = None,
        on_new_iso_week: WeeklyHook | None = None,
        timezone: str = "UTC",
        housekeeping: Housekeeping | None = None,
        housekeeping_seconds: float = HOUSEKEEPING_SECONDS,
        log_keeper: Housekeeping | None = None,
        log_seconds: float = LOG_SECONDS,
    ):
        self._periodic = [
            _Periodic(name, job, timedelta(seconds=every))
            for name, job, every in (
                ("housekeeping", housekeeping, housekeeping_seconds),
                ("the transparency log", log_keeper, log_seconds),
            )
            if job is not None
        ]
        self._sessions = sessions
        self._deliverers = deliverers
        self.policy = policy
        self._lease = timedelta(seconds=lease_seconds)
        self._margin = timedelta(seconds=2 * timeout_seconds)
        self.worker_id = (worker_id or worker_identity())[:64]
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._log = log or (lambda _line: None)
        self._on_new_iso_week = on_new_iso_week
        self._zone = ZoneInfo(timezone)
        self._week: tuple[int, int] | None = None
        self._leases: dict[int, datetime] = {}
        self._postgres = sessions.kw["bind"].dialect.name == "postgresql"

    def close(self) -> None:
        self._deliverers.close()

    # --- claiming ------------------------------------------------------------------------------------------

    def claim(self, limit: int, due_by: datetime | None = None) -> list[ClaimedRow]:
        """Lease up to `limit` due rows to this worker (due by `due_by`, default now)."""
        now = self._clock()
        due_by = min(now, due_by) if due_by else now
        lease_until = now + self._lease
        o = OutboxMessage
        due = and_(
            o.status == "pending",
            or_(o.next_attempt_at.is_(None), o.next_attempt_at <= due_by),
            or_(o.claimed_until.is_(None), o.claimed_until < now),
        )
        columns = (
            o.id,
            o.recipient_system,
            o.appeal_id,
            o.event_seq,
            o.document,
            o.attempts,
            o.acked_at,
            o.document_type,
        )
        lease = {"claimed_until": lease_until, "claimed_by": self.worker_id}
        if self._postgres:
            with self._sessions.begin() as session:
                ids = session.scalars(
                    select(o.id)
                    .where(due)
                    .order_by(o.next_attempt_at, o.id)
                    .limit(max(limit, 1))
                    .with_for_update(skip_locked=True)
                ).all()
                if not ids:
                    return []
                rows = session.execute(
                    update(o).where(o.id.in_(ids)).values(**lease).returning(*columns),
                    execution_options={"synchronize_session": False},
                ).all()
        else:
            with writing(self._sessions) as session:
                candidates = select(o.id).where(due).order_by(o.next_attempt_at, o.id).limit(max(limit, 1))
                rows = session.execute(
                    update(o).where(o.id.in_(candidates), due).values(**lease).returning(*columns),
                    execution_options={"synchronize_session": False},
                ).all()
                session.commit()
        claimed = sorted(
            (
                ClaimedRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5] or 0, r[6] is not None, r[7])
                for r in rows
            ),
            key=lambda row: row.id,
        )
        for row in claimed:
            self._leases[row.id] = lease_until
        return claimed

    def release(self, rows: Iterable[ClaimedRow]) -> int:
        """Hand claimed rows back unprocessed (on stop): they are due again at once for any worker."""
        ids = [row.id for row in rows]
        if not ids:
            return 0
        with writing(self._sessions) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == self.worker_id)
                .values(claimed_until=None, claimed_by=None),
                execution_options={"synchronize_session": False},
            )
            session.commit()
        for row_id in ids:
            self._leases.pop(row_id, None)
        return result.rowcount

    def _hold_lease(self, row: ClaimedRow) -> bool:
        """May this worker deliver the row now? Its lease must outlast the delivery (renewed if need be)."""
        now = self._clock()
        lease_until = self._leases.get(row.id)
        if lease_until is not None and lease_until - now > self._margin:
            return True
        renewed = now + max(self._lease, 2 * self._margin)
        with writing(self._sessions) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row.id,
                    OutboxMessage.claimed_by == self.worker_id,
                    OutboxMessage.status == "pending",
                )
                .values(claimed_until=renewed),
                execution_options={"synchronize_session": False},
            )
            session.commit()
        if result.rowcount != 1:
            self._leases.pop(row.id, None)
            return False
        self._leases[row.id] = renewed
        return True

    # --- delivering ----------------------------------------------------------------------------------------

    def targets(self, system_ids: Iterable[str]) -> dict[str, Target]:
        with self._sessions() as session:
            rows = session.execute(
                select(System.id, System.delivery, System.endpoint_url).where(System.id.in_(set(system_ids)))
            )
            return {system_id: Target(delivery, endpoint) for system_id, delivery, endpoint in rows}

    def _route(self, row: ClaimedRow, targets: dict[str, Target]) -> tuple[Deliverer, str]:
        target = targets.get(row.recipient)
        if target is None:
            raise Undeliverable(f"the recipient system {row.recipient!r} is not registered")
        try:
            deliverer = self._deliverers.for_kind(target.delivery)
        except LookupError as exc:
            raise Undeliverable(str(exc)) from None
        endpoint = (target.endpoint or "").strip()
        if not endpoint and self._deliverers.needs_endpoint(deliverer):
            raise Undeliverable(
                f"system {row.recipient!r} has delivery {target.delivery!r} but no endpoint URL "
                f"(zvarot systems set-endpoint --id {row.recipient} --endpoint URL)"
            )
        return deliverer, endpoint

    def process(self, row: ClaimedRow, targets: dict[str, Target], summary: RunSummary) -> str:
        """Deliver one claimed row and record the outcome: delivered | failed | dead | lost."""
        error = None
        if row.acked:
            outcome = self._record_delivered(row, note="acknowledged by pull; not pushed")
        else:
            try:
                deliverer, endpoint = self._route(row, targets)
                if not self._hold_lease(row):
                    outcome = "lost"
                else:
                    deliverer.deliver(endpoint, row.document, message_key=row.message_key)
                    outcome = self._record_delivered(row)
            except Exception as exc:  # any failure of a deliverer is recorded on the row, never fatal
                error = describe(exc)
                outcome = self._record_failed(row, error)
        self._leases.pop(row.id, None)
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        self._log(
            f"outbox {row.id} -> {row.recipient} ({row.appeal_id} #{row.event_seq}): {outcome} "
            f"(attempt {row.attempts + 1}){': ' + error if error else ''}"
        )
        return outcome

    def _record(self, row: ClaimedRow, values: dict) -> bool:
        with writing(self._sessions) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row.id,
                    OutboxMessage.claimed_by == self.worker_id,
                    OutboxMessage.status == "pending",
                )
                .values(**values, claimed_until=None, claimed_by=None),
                execution_options={"synchronize_session": False},
            )
            session.commit()
        return result.rowcount == 1

    def _record_delivered(self, row: ClaimedRow, note: str | None = None) -> str:
        now = self._clock()
        values = {
            "status": "delivered",
            "delivered_at": now,
            # Handed out, by push: a pull need not look for it below its cursor (gateway.services.inbox), and
            # it leaves ix_outbox_not_pulled, which a push-only system's rows would otherwise fill for good.
            "pulled_at": func.coalesce(OutboxMessage.pulled_at, now),
            "ack_cursor": func.coalesce(OutboxMessage.ack_cursor, OutboxMessage.id),
            "attempts": OutboxMessage.attempts + (0 if row.acked else 1),
            "last_error": note,
            "next_attempt_at": None,
        }
        return "delivered" if self._record(row, values) else "lost"

    def _record_failed(self, row: ClaimedRow, error: str) -> str:
        now = self._clock()
        attempts = row.attempts + 1
        dead = attempts >= self.policy.max_attempts
        values = {
            "status": "dead" if dead else "pending",
            "attempts": OutboxMessage.attempts + 1,
            "last_error": error,
            "next_attempt_at": None
            if dead
            else now + self.policy.delay(row.attempts, self._rng.uniform(0.5, 1.5)),
        }
        if not self._record(row, values):
            return "lost"
        return "dead" if dead else "failed"

    # --- the loop ------------------------------------------------------------------------------------------

    def tick_week(self) -> None:
        """Call the weekly hook once per ISO week per process (see WeeklyHook)."""
        if self._on_new_iso_week is None:
            return
        year, week, _ = self._clock().astimezone(self._zone).isocalendar()
        if (year, week) != self._week:
            self._week = (year, week)
            self._on_new_iso_week(year, week)

    def tick_housekeeping(self) -> None:
        """Run the periodic jobs that are due (each at start, then every its interval): the housekeeping
        (quiet-period closures) and the transparency log's checkpoints."""
        now = self._clock()
        for periodic in self._periodic:
            periodic.tick(now, self._log)

    def run(
        self,
        *,
        batch: int = 20,
        once: bool = False,
        poll_seconds: float = 2.0,
        stop: threading.Event | None = None,
    ) -> RunSummary:
        """Deliver until `stop` is set (finishing the current row), or with `once` the rows due at the start
        (each attempted at most once), then return."""
        stop = stop or threading.Event()
        summary = RunSummary()
        due_by = self._clock() if once else None
        while not stop.is_set():
            self.tick_week()
            self.tick_housekeeping()
            try:
                rows = self.claim(batch, due_by=due_by)
                if rows:
                    self._deliver(rows, summary, stop)
            except DBAPIError as exc:
                # The database is unreachable or failed: claimed rows stay leased and become due again when
                # their lease ends (at-least-once); a long-running worker waits and tries again.
                if once:
                    raise
                self._log(f"database error ({exc.__class__.__name__}: {exc.orig}); retrying")
                stop.wait(max(poll_seconds, 1.0))
                continue
            if not rows:
                if once:
                    break
                stop.wait(poll_seconds)
        return summary

    def _deliver(self, rows: list[ClaimedRow], summary: RunSummary, stop: threading.Event) -> None:
        targets = self.targets(row.recipient for row in rows)
        for index, row in enumerate(rows):
            if stop.is_set():
                summary.released += self.release(rows[index:])
                return
            self.process(row, targets, summary)


def describe(exc: BaseException) -> str:
    message = str(exc).strip() or "(no message)"
    return f"{type(exc).__name__}: {message}"[:MAX_ERROR_CHARS]


def build_worker(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    log: Callable[[str], None] | None = None,
    on_new_iso_week: WeeklyHook | None = None,
    housekeeping: Housekeeping | None = None,
    log_keeper: Housekeeping | None = None,
) -> DeliveryWorker:
    """The worker as configured by Settings (ZVAROT_DELIVERERS, ZVAROT_DELIVERY_*)."""
    return DeliveryWorker(
        sessions,
        DelivererRegistry.from_spec(settings.deliverers, timeout=settings.delivery_timeout),
        RetryPolicy(
            settings.delivery_max_attempts, settings.delivery_backoff_base, settings.delivery_backoff_cap
        ),
        lease_seconds=settings.delivery_lease,
        timeout_seconds=settings.delivery_timeout,
        log=log,
        on_new_iso_week=on_new_iso_week,
        timezone=settings.timezone,
        housekeeping=housekeeping,
        log_keeper=log_keeper,
        log_seconds=settings.log_interval,
    )
