"""Officials' inboxes and systems' outboxes: pulled with a cursor, acknowledged explicitly (at-least-once).

A cursor is a row id, and ids are taken at INSERT while transactions commit in any order (PostgreSQL): a row
may become visible after a higher id was pulled, below the puller's cursor. So each row records when it was
first handed out (`pulled_at`) and the lowest cursor whose acknowledgement covers it (`ack_cursor`): its own
id, or, for a row handed out late, the `next_after` of the page that carried it -- which is then above the
cursor the page was asked for (at least by one), so that only a client that processed that page covers it. A
pull returns the unacknowledged rows above its cursor first, then those at or below it that were never handed
out or were handed out late in a page that ended above its cursor (a page the client lost, or one it fetched
while acknowledging the page before). An acknowledgement by cursor covers the rows whose `ack_cursor` is at
most the cursor. Exact ids need no such care.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, case, func, select, union_all, update
from sqlalchemy.orm import Session

from gateway.store.appeals import Appeal, InboxItem, OutboxMessage
from gateway.store.models import Message

MAX_PAGE = 200
# A page also ends once its documents pass this many bytes (always at least one item): a document may be
# 10 MiB, and 200 of them would be gigabytes of JSON built in memory.
MAX_PAGE_BYTES = 16 * 1024 * 1024
MAX_ACK_IDS = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class InboxEntry:
    cursor: int
    appeal_id: str
    tracking_code: str
    kind: str
    event_seq: int
    created_at: datetime
    document: bytes | None  # the signed document to act on (the appeal, a supplement, a review)
    status_update: bytes | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: int  # never below the cursor asked for: a row handed out late lies below it
    # Rows of this page that were never handed out: hand_out() records them before the page is answered.
    # Read and recorded in two transactions, so that a poll that finds nothing new takes no write lock; two
    # pulls racing both hand a row out, which at-least-once allows.
    first_handed_out: tuple[int, ...] = ()
    table: type[InboxItem] | type[OutboxMessage] | None = None
    after: int = 0  # the cursor the page was asked for: rows at or below it are handed out late
    handed_out_again: tuple[int, ...] = ()  # late rows of a page the client did not process, here once more

    @property
    def to_record(self) -> bool:
        """Whether hand_out() has anything to write (a poll with nothing new has not)."""
        return bool(self.first_handed_out or self.handed_out_again)


@dataclass(frozen=True)
class Ack:
    """What a system acknowledges: every row handed out up to and including `cursor`, or exactly `ids`."""

    cursor: int | None = None
    ids: frozenset[int] = frozenset()

    def covers(self, table: type[InboxItem] | type[OutboxMessage]) -> ColumnElement[bool]:
        if self.cursor is None:
            return table.id.in_(sorted(self.ids))
        # Not a row never handed out (it committed late, never seen), nor one handed out late in a page that
        # ended above this cursor (not processed yet: a client acknowledges a page while it fetches the next).
        return table.ack_cursor <= self.cursor


def _pending_ids(
    table: type[InboxItem] | type[OutboxMessage], owner: ColumnElement[bool], after: int, n: int
):
    """The first `n` unacknowledged ids of an owner after `after`; those at or below it never handed out; and
    those handed out late in a page that ended above it: three ordered index ranges (the second and third in
    the partial indexes ix_*_not_pulled and ix_*_handed_out_late), never the owner's whole history."""
    unacked = (owner, table.acked_at.is_(None))
    beyond = select(table.id).where(*unacked, table.id > after).order_by(table.id).limit(n).subquery()
    never = (
        select(table.id)
        .where(*unacked, table.pulled_at.is_(None), table.id <= after)
        .order_by(table.pulled_at, table.id)  # the order of ix_*_not_pulled (gateway.store.appeals)
        .limit(n)
        .subquery()
    )
    again = (
        select(table.id)
        .where(*unacked, table.ack_cursor > table.id, table.ack_cursor > after, table.id <= after)
        .order_by(table.ack_cursor, table.id)  # the order of ix_*_handed_out_late
        .limit(n)
        .subquery()
    )
    return union_all(select(beyond.c.id), select(never.c.id), select(again.c.id)).subquery()


def _page_order(table: type[InboxItem] | type[OutboxMessage], after: int) -> tuple:
    """Rows above the cursor first, in id order, then the late ones: a page cut short (by count or bytes)
    holds every row above the cursor that comes before its last one, so `next_after` skips none."""
    return (case((table.id > after, 0), else_=1), table.id)


def _next_after(after: int, ids: list[int]) -> int:
    """The page's highest id above `after`; with a late row in the page, at least `after + 1`, so that its
    acknowledgement is not one of a page before (a row with that id not handed out comes in any pull)."""
    highest = max([after, *ids])
    return max(highest, after + 1) if any(i <= after for i in ids) else highest


def _page(entries: list, rows: list, table, after: int, ids: list[int]) -> Page:
    """The page of `entries` made of `rows` (in the same order), with what hand_out() has to record."""
    return Page(
        entries,
        _next_after(after, ids),
        first_handed_out=tuple(r.id for r in rows if r.pulled_at is None),
        table=table,
        after=after,
        handed_out_again=tuple(r.id for r in rows if r.pulled_at is not None and r.id <= after),
    )


def _page_ids(session: Session, sizes) -> list[int]:
    """The ids of the page: (id, bytes) rows in page order, cut at MAX_PAGE_BYTES (always at least one)."""
    ids, total = [], 0
    for row_id, size in session.execute(sizes):
        total += size or 0
        if ids and total > MAX_PAGE_BYTES:
            break
        ids.append(row_id)
    return ids


def hand_out(session: Session, page: Page, at: datetime) -> None:
    """Record that the page's new rows were handed out, in a write transaction the caller commits before it
    answers: until then an acknowledgement by cursor leaves a late row alone, and it comes again. A row above
    the page's cursor is covered by an acknowledgement of its own id; one at or below it (handed out late) by
    one of the page's `next_after` only, which says that this page was processed."""
    table = page.table
    in_order = [i for i in page.first_handed_out if i > page.after]
    late = [i for i in page.first_handed_out if i <= page.after]
    for ids, ack_cursor in ((in_order, table.id), (late, page.next_after)):
        if ids:
            session.execute(
                update(table)
                .where(table.id.in_(ids), table.pulled_at.is_(None))
                .values(pulled_at=at, ack_cursor=ack_cursor),
                execution_options={"synchronize_session": False},
            )
    if page.handed_out_again:
        # Processing this page is enough to acknowledge them: else a client whose cursor lies far below their
        # first page's end would get them once per pull until its cursor got there.
        session.execute(
            update(table)
            .where(table.id.in_(page.handed_out_again), table.ack_cursor > page.next_after)
            .values(ack_cursor=page.next_after),
            execution_options={"synchronize_session": False},
        )


def pull_inbox(session: Session, official_id: str, after: int, limit: int) -> Page[InboxEntry]:
    """A page of the official's unacknowledged items (see the module's docstring); hand_out() records it."""
    pending = _pending_ids(InboxItem, InboxItem.official_id == official_id, after, _page_size(limit))
    ids = _page_ids(
        session,
        select(
            InboxItem.id,
            func.coalesce(func.length(Message.body), 0)
            + func.coalesce(func.length(OutboxMessage.document), 0),
        )
        .join(pending, pending.c.id == InboxItem.id)
        .outerjoin(Message, Message.id == InboxItem.message_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == InboxItem.status_update_id)
        .order_by(*_page_order(InboxItem, after))
        .limit(_page_size(limit)),
    )
    if not ids:
        return Page([], after)
    rows = session.execute(
        select(InboxItem, Appeal.tracking_code, Message.body, OutboxMessage.document)
        .join(Appeal, Appeal.id == InboxItem.appeal_id)
        .outerjoin(Message, Message.id == InboxItem.message_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == InboxItem.status_update_id)
        .where(InboxItem.id.in_(ids))
        .order_by(*_page_order(InboxItem, after))
    )
    entries, items = [], []
    for item, code, body, status_update in rows:
        entries.append(
            InboxEntry(
                item.id, item.appeal_id, code, item.kind, item.event_seq, item.created_at, body, status_update
            )
        )
        items.append(item)
    return _page(entries, items, InboxItem, after, ids)


def ack_inbox(session: Session, official_id: str, ack: Ack, at: datetime) -> int:
    """Acknowledge the official's items that `ack` covers; returns how many were newly acknowledged."""
    result = session.execute(
        update(InboxItem)
        .where(InboxItem.official_id == official_id, ack.covers(InboxItem), InboxItem.acked_at.is_(None))
        .values(acked_at=at),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def pull_outbox(session: Session, system_id: str, after: int, limit: int) -> Page[OutboxMessage]:
    """A page of the system's unacknowledged rows (see the module's docstring); hand_out() records it."""
    o = OutboxMessage
    pending = _pending_ids(o, o.recipient_system == system_id, after, _page_size(limit))
    ids = _page_ids(
        session,
        select(o.id, func.length(o.document))
        .join(pending, pending.c.id == o.id)
        .order_by(*_page_order(o, after))
        .limit(_page_size(limit)),
    )
    if not ids:
        return Page([], after)
    rows = list(session.scalars(select(o).where(o.id.in_(ids)).order_by(*_page_order(o, after))))
    return _page(rows, rows, o, after, ids)


def ack_outbox(session: Session, system_id: str, ack: Ack, at: datetime) -> int:
    """Acknowledge the system's rows that `ack` covers; returns how many were newly acknowledged."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.recipient_system == system_id,
            ack.covers(OutboxMessage),
            OutboxMessage.acked_at.is_(None),
        )
        .values(acked_at=at),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def _page_size(limit: int) -> int:
    return min(max(limit, 1), MAX_PAGE)
