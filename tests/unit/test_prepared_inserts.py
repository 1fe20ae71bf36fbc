"""PreparedInsert passes each value through exactly the bind processor SQLAlchemy would use: the same
parameters for the driver, whatever shortcuts it takes (an itemgetter, a datetime formatted once per
object)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite

from gateway.store.appeals import OutboxMessage
from gateway.store.prepared import PreparedInsert


def _expected(insert: PreparedInsert, table, dialect, values: dict):
    processed = {}
    for column in table.columns:
        if column.name in values:
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            processed[column.name] = process(values[column.name]) if process else values[column.name]
    return [processed[name] for name in insert.order] if insert.order else processed


def _row(at: datetime, n: int) -> dict:
    return {
        "recipient_system": f"sys-{n}",
        "appeal_id": "ap-1",
        "event_seq": n,
        "document_type": "StatusUpdate",
        "document": b"<doc/>",
        "created_at": at,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at + timedelta(seconds=n),
    }


def test_the_parameters_are_sqlalchemys_own_on_both_dialects():
    table = OutboxMessage.__table__
    columns = list(_row(datetime.now(UTC), 0))
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        insert = PreparedInsert(table, dialect, columns)
        at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
        for n in range(3):  # the same datetime object again and again, and different ones in between
            values = _row(at, n)
            params, expected = insert._params(values), _expected(insert, table, dialect, values)
            assert (list(params) if insert.order else params) == expected


def test_a_remembered_datetime_is_never_another_ones():
    """The memo is by identity and replaced whole, so threads formatting different times never mix them."""
    insert = PreparedInsert(OutboxMessage.__table__, sqlite.dialect(), list(_row(datetime.now(UTC), 0)))
    position = insert.order.index("created_at")
    wrong = []

    def format_many(base: datetime) -> None:
        for n in range(2000):
            at = base + timedelta(microseconds=n)
            if insert._params(_row(at, 0))[position] != at.strftime("%Y-%m-%d %H:%M:%S.%f"):
                wrong.append(at)

    threads = [
        threading.Thread(target=format_many, args=(datetime(2026, 1, d + 1, tzinfo=UTC),)) for d in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
