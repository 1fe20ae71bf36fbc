"""Appeals as stored: the appeal, its append-only event log, the outbox of signed status updates, inboxes.

The appeal's state is never stored: it is folded from `appeal_events` (gateway.domain.appeals.lifecycle).
The primary key (appeal_id, seq) makes the log append-only under concurrency: two writers deciding from the
same state both try to write the same seq, and the second one fails and decides again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base
from gateway.store.prepared import PreparedInserts


def _where(condition: str) -> dict:
    """A partial index's condition, on both databases."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


# The rows of an inbox or outbox that no pull has handed out yet, by owner in id order: a pull finds the
# ones below its cursor (committed after a higher id was pulled) without reading the owner's history. Rows
# leave it when handed out (pulled, or delivered by push) or acknowledged.
# `pulled_at` (always NULL here) is a key column so that the pull can ask for (pulled_at, id) order, which
# only this index gives: asked for id order, PostgreSQL may walk the primary key from the table's first row
# instead, misled by many never-pulled rows (measured: 100 ms at 400k rows, when pushed rows stayed here).
_NOT_PULLED = _where("pulled_at IS NULL AND acked_at IS NULL")
# Rows handed out late (below the cursor of the pull that carried them) and not acknowledged: a pull from a
# cursor below the one that acknowledges them hands them out again (that page may never have arrived).
_HANDED_OUT_LATE = _where("ack_cursor > id AND acked_at IS NULL")


class Appeal(Base):
    __tablename__ = "appeals"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(24), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    origin_system: Mapped[str] = mapped_column(String(64))  # never searched by (migration 0012)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))  # the Appeal document, verbatim
    subject: Mapped[str] = mapped_column(String(500))
    # Personal data of the applicant: shown to the assigned officials' systems, never on the tracking API.
    applicant: Mapped[dict] = mapped_column(JSON)
    addressee: Mapped[dict] = mapped_column(JSON)


class AppealEvent(Base):
    __tablename__ = "appeal_events"
    # The replies by time, for the quiet-period closures (AppealsService.quiet_replies_due): partial, so that
    # only a reply, not every event, adds to it on the ingest path; with the key of the event, so that the
    # query reads no table row to probe for a later one. A query uses it only when it says
    # `kind = 'reply_sent'` with the literal (a bound parameter does not prove that the index covers it).
    __table_args__ = (
        Index("ix_appeal_events_replies", "at", "appeal_id", "seq", **_where("kind = 'reply_sent'")),
    )
    appeal_id: Mapped[str] = mapped_column(ForeignKey("appeals.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # the document that caused it


class OutboxMessage(Base):
    """A signed document for another system, written in the same transaction as the event it reports.

    Delivery state lives on the row (attempts, last error, next attempt) so that "what is stuck" is a query.
    Push delivery (gateway.delivery.worker) leases a row while it delivers it: `claimed_by` names the worker,
    `claimed_until` ends the lease (after a crash, the row is due again once it passes). Pull (`pulled_at`,
    `acked_at`) and push (`status`, `delivered_at`) are recorded separately.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_recipient_id", "recipient_system", "id"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_not_pulled", "recipient_system", "pulled_at", "id", **_NOT_PULLED),
        Index("ix_outbox_handed_out_late", "recipient_system", "ack_cursor", "id", **_HANDED_OUT_LATE),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_system: Mapped[str] = mapped_column(String(64))
    appeal_id: Mapped[str] = mapped_column(ForeignKey("appeals.id"), index=True)
    event_seq: Mapped[int] = mapped_column(Integer)
    document_type: Mapped[str] = mapped_column(String(32))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pulled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # first handed out
    ack_cursor: Mapped[int | None] = mapped_column(Integer)  # an ack by this cursor or above covers it


class InboxItem(Base):
    """Work for an official: an appeal routed or forwarded to them, a supplement, a review of their reply.

    `id` is the cursor; items stay until acknowledged (at-least-once). `pulled_at`: when a pull first handed
    the item out (gateway.services.inbox).
    """

    __tablename__ = "inbox_items"
    __table_args__ = (
        Index("ix_inbox_official_id", "official_id", "id"),
        Index("ix_inbox_not_pulled", "official_id", "pulled_at", "id", **_NOT_PULLED),
        Index("ix_inbox_handed_out_late", "official_id", "ack_cursor", "id", **_HANDED_OUT_LATE),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    official_id: Mapped[str] = mapped_column(String(64))
    appeal_id: Mapped[str] = mapped_column(ForeignKey("appeals.id"))
    event_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # the document to act on
    status_update_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pulled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ack_cursor: Mapped[int | None] = mapped_column(Integer)  # an ack by this cursor or above covers it


_OUTBOX_COLUMNS = (
    "recipient_system",
    "appeal_id",
    "event_seq",
    "document_type",
    "document",
    "created_at",
    "status",
    "attempts",
    "next_attempt_at",
)
_INBOX_COLUMNS = (
    "official_id",
    "appeal_id",
    "event_seq",
    "kind",
    "message_id",
    "status_update_id",
    "created_at",
)
_INSERTS: dict[str, PreparedInserts] = {}
_STATEMENTS: dict[tuple[str, int, int], tuple[str, tuple]] = {}
# Statements are built per shape (status updates, inbox rows); beyond these an appeal's rows go the
# statement-by-statement way, which keeps the cache small and every statement far below 65,535 parameters.
ONE_STATEMENT_MAX_STATUS_UPDATES = 8
ONE_STATEMENT_MAX_INBOX_ROWS = 40


@dataclass(frozen=True)
class NewAppeal:
    """A new appeal's rows, written in the transaction that stores its Appeal document, whose key they lack:
    `message_id` is filled in with it (inbox rows keep theirs where they have one), and inbox rows point at
    the first status update."""

    appeal: dict
    first_event: dict
    status_updates: tuple[dict, ...]  # outbox rows
    inbox: tuple[dict, ...]

    def write(self, conn, dialect: Dialect, message_pk: int) -> None:
        """Statement by statement on the DBAPI connection `conn`, in the transaction in which the document's
        INSERT returned `message_pk`."""
        inserts = _INSERTS.get(dialect.name)
        if inserts is None:
            inserts = _INSERTS.setdefault(dialect.name, PreparedInserts(dialect))
        inserts(Appeal.__table__).execute(conn, {**self.appeal, "message_id": message_pk})
        inserts(AppealEvent.__table__).execute(conn, {**self.first_event, "message_id": message_pk})
        outbox = inserts(OutboxMessage.__table__, _OUTBOX_COLUMNS, returning="id")
        outbox_ids = [outbox.execute(conn, row) for row in self.status_updates]
        first = min(outbox_ids) if outbox_ids else None
        inserts(InboxItem.__table__, _INBOX_COLUMNS).execute_many(
            conn,
            [
                {**row, "message_id": row["message_id"] or message_pk, "status_update_id": first}
                for row in self.inbox
            ],
        )

    def one_statement(self, dialect: Dialect, message: dict) -> tuple[str, tuple] | None:
        """PostgreSQL: the document and these rows in ONE statement (data-modifying CTEs), so that it is a
        single round trip in autocommit instead of BEGIN, six statements and COMMIT. Returns the SQL with $n
        placeholders and its parameters (for a raw cursor), or None for an appeal with more rows than
        the statements we keep are built for."""
        if (
            len(self.status_updates) > ONE_STATEMENT_MAX_STATUS_UPDATES
            or len(self.inbox) > ONE_STATEMENT_MAX_INBOX_ROWS
        ):
            return None
        shape = (dialect.name, len(self.status_updates), len(self.inbox))
        built = _STATEMENTS.get(shape)
        if built is None:
            built = _STATEMENTS.setdefault(shape, _cte_statement(dialect, *shape[1:]))
        sql, plan = built
        rows = (message, self.appeal, self.first_event, *self.status_updates, *self.inbox)
        return sql, tuple(
            process(rows[row][column]) if process else rows[row][column] for row, column, process in plan
        )


def _unsized(column_type):
    """The type to cast a parameter to: VARCHAR without its length, because CAST(x AS VARCHAR(64)) cuts a
    longer value silently, where the INSERT into the VARCHAR(64) column refuses it."""
    if isinstance(column_type, String) and column_type.length is not None:
        return String()
    return column_type


def _cte_statement(dialect: Dialect, outbox_rows: int, inbox_rows: int) -> tuple[str, tuple]:
    """WITH m AS (INSERT the document RETURNING id), a AS (INSERT the appeal SELECT …, m.id FROM m), … SELECT
    id FROM m. Every parameter is cast to its column's type (an untyped parameter in a SELECT list would be
    text). The foreign keys are checked at the end of the statement, when all rows exist. Only our own table
    and column names are spliced into the SQL; every value is a parameter, in PostgreSQL's own $n style (the
    driver would otherwise convert this statement, too long for its cache, on every execution: 0.3 ms).
    Returns the SQL and, in $n order, where each parameter comes from: (the row's position in document,
    appeal, first event, status updates, inbox rows; its column; the column's bind processor)."""
    rows = {"m0": 0, "a0": 1, "e0": 2}
    rows.update({f"o{n}": 3 + n for n in range(outbox_rows)})
    rows.update({f"i{n}": 3 + outbox_rows + n for n in range(inbox_rows)})
    plan: list[tuple[int, str, object]] = []

    def param(prefix: str, column) -> str:
        plan.append((rows[prefix], column.name, column.type.dialect_impl(dialect).bind_processor(dialect)))
        return f"CAST(${len(plan)} AS {_unsized(column.type).compile(dialect)})"

    def insert(table, columns, prefixes: list[str], derived) -> str:
        """One INSERT of a row per prefix, each a SELECT from m (so that it has the document's key);
        `derived(prefix, column)` gives an expression instead of the parameter, or None."""
        selects = " UNION ALL ".join(
            "SELECT "  # noqa: S608 - names from our metadata, values as parameters
            + ", ".join(derived(prefix, c) or param(prefix, table.c[c]) for c in columns)
            + " FROM m"
            for prefix in prefixes
        )
        return f"INSERT INTO {table.name} ({', '.join(columns)}) {selects}"

    def document_key(_prefix: str, column: str) -> str | None:
        return "m.id" if column == "message_id" else None

    def _no_key(_prefix: str, _column: str) -> None:
        return None

    def inbox_key(prefix: str, column: str) -> str | None:
        if column == "message_id":  # the document the item is about: this one unless the row names another
            return f"COALESCE({param(prefix, inbox.c.message_id)}, m.id)"
        if column == "status_update_id":
            return "(SELECT min(id) FROM o)" if outbox_rows else "NULL"
        return None

    messages = Base.metadata.tables["messages"]
    m_columns = [c.name for c in messages.columns if not c.primary_key]
    m_values = ", ".join(param("m0", messages.c[c]) for c in m_columns)
    m = f"INSERT INTO messages ({', '.join(m_columns)}) VALUES ({m_values}) RETURNING id"  # noqa: S608
    parts = [f"m AS ({m})"]
    appeals, events, inbox = Appeal.__table__, AppealEvent.__table__, InboxItem.__table__
    parts.append(f"a AS ({insert(appeals, [c.name for c in appeals.columns], ['a0'], document_key)})")
    parts.append(f"e AS ({insert(events, [c.name for c in events.columns], ['e0'], document_key)})")
    if outbox_rows:
        prefixes = [f"o{n}" for n in range(outbox_rows)]
        parts.append(
            f"o AS ({insert(OutboxMessage.__table__, _OUTBOX_COLUMNS, prefixes, _no_key)} RETURNING id)"
        )
    if inbox_rows:
        prefixes = [f"i{n}" for n in range(inbox_rows)]
        parts.append(f"i AS ({insert(inbox, _INBOX_COLUMNS, prefixes, inbox_key)})")
    sql = "WITH " + ", ".join(parts) + " SELECT id FROM m"  # noqa: S608 - as above
    return sql, tuple(plan)
