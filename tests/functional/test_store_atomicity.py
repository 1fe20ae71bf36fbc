"""An accepted appeal is its document and its rows, all or nothing, whichever way they are written: one
statement on PostgreSQL, a transaction of statements on SQLite and for large appeals on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from gateway.store.appeals import Appeal, AppealEvent, InboxItem, NewAppeal, OutboxMessage
from gateway.store.models import Message
from tests.helpers import example, post, receipt_field, receipt_of, signed

TABLES = (Message, Appeal, AppealEvent, OutboxMessage, InboxItem)


def _counts(gateway) -> tuple[int, ...]:
    with gateway.sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in TABLES)


class _StatementByStatement:
    """The rows of a new appeal, forced off PostgreSQL's one-statement path (as for an appeal with more rows
    than that path takes), optionally failing after they were all written."""

    def __init__(self, rows: NewAppeal, fail: bool = False):
        self.rows = rows
        self.fail = fail

    def one_statement(self, dialect, message):
        return None

    def write(self, conn, dialect, message_pk):
        self.rows.write(conn, dialect, message_pk)
        if self.fail:
            raise OSError("disk full")  # the last moment before COMMIT


def _wrap_dependents(monkeypatch, gateway, change):
    store = gateway.pipeline.store
    real = store.record_accepted

    def record_accepted(values, dependents=None):
        return real(values, change(dependents) if dependents is not None else None)

    monkeypatch.setattr(store, "record_accepted", record_accepted)


def test_rows_written_statement_by_statement_are_the_same_rows(client, signers, gateway, monkeypatch):
    _wrap_dependents(monkeypatch, gateway, _StatementByStatement)
    response = post(client, signed(signers, "sys-portal", example("Appeal")))
    assert response.status_code == 201
    appeal_id = receipt_field(receipt_of(response), "zv:Appeal/zv:AppealId")
    with gateway.sessions() as session:
        message = session.scalars(select(Message)).one()
        assert session.get(Appeal, appeal_id).message_id == message.id
        outbox = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        inbox = session.scalars(select(InboxItem)).all()
    assert outbox and inbox
    assert {(i.message_id, i.status_update_id) for i in inbox} == {(message.id, outbox[0].id)}


def _failed(response, caplog, cause: str) -> None:
    """The sender got a 500 problem (send again); the operator's log has the cause."""
    assert response.status_code == 500 and response.json["title"] == "internal-error"
    assert cause in caplog.text


def test_a_failure_after_the_rows_were_written_leaves_nothing_behind(
    client, signers, gateway, monkeypatch, caplog
):
    before = _counts(gateway)
    data = signed(signers, "sys-portal", example("Appeal"))
    _wrap_dependents(monkeypatch, gateway, lambda rows: _StatementByStatement(rows, fail=True))
    _failed(post(client, data), caplog, "disk full")
    assert _counts(gateway) == before  # no document without its appeal, no appeal without its document

    monkeypatch.undo()
    response = post(client, data)  # the sender's retry is a new acceptance, not a duplicate of nothing
    assert response.status_code == 201
    assert response.headers.get("Zvarot-Outcome") != "duplicate"
    assert _counts(gateway)[:3] == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_a_value_longer_than_its_column_is_never_cut_short(client, signers, gateway, monkeypatch, caplog):
    """PostgreSQL refuses it (and stores nothing); SQLite does not enforce VARCHAR lengths and keeps it whole.
    What neither may do is store a shortened value (a CAST to VARCHAR(24) in the one statement did)."""
    long_code = "T" * 30  # tracking_code is VARCHAR(24)

    def lengthen(rows: NewAppeal) -> NewAppeal:
        return replace(rows, appeal={**rows.appeal, "tracking_code": long_code})

    _wrap_dependents(monkeypatch, gateway, lengthen)
    before = _counts(gateway)
    data = signed(signers, "sys-portal", example("Appeal"))
    if gateway.engine.dialect.name == "postgresql":
        _failed(post(client, data), caplog, "too long")
        assert "DataError" in caplog.text
        assert _counts(gateway) == before
    else:
        assert post(client, data).status_code == 201
        with gateway.sessions() as session:
            assert session.scalars(select(Appeal.tracking_code)).one() == long_code


def test_only_appeals_of_bounded_shape_get_a_statement_of_their_own(gateway):
    """The statements are cached per shape: an appeal routed to more systems or officials than the bound goes
    the statement-by-statement way instead of growing the cache (and the statement) without end."""
    from gateway.store.appeals import ONE_STATEMENT_MAX_INBOX_ROWS, ONE_STATEMENT_MAX_STATUS_UPDATES

    dialect = gateway.engine.dialect
    row = {"official_id": "off-x", "message_id": None}
    wide = NewAppeal({}, {}, (), tuple(row for _ in range(ONE_STATEMENT_MAX_INBOX_ROWS + 1)))
    assert wide.one_statement(dialect, {}) is None
    loud = NewAppeal({}, {}, tuple({} for _ in range(ONE_STATEMENT_MAX_STATUS_UPDATES + 1)), ())
    assert loud.one_statement(dialect, {}) is None
