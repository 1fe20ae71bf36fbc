"""Migration 0010 on a database with outbox rows: what push delivered counts as handed out, the rest not."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from gateway.store.database import downgrade, migrate

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_rows_delivered_by_push_count_as_handed_out(empty_engine):
    engine = empty_engine
    migrate(engine, "0009")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO messages (id, sender_system, message_id, document_type, sha256, received_at, "
                "signer_uid, signer_kind, signer_cert_sha256, body, receipt_id, receipt) "
                "VALUES (1, 'sys-portal', 'm-1', 'Appeal', :h, :at, 'sys-portal', 'system', :h, :b, 'rc-1', "
                ":b)"
            ),
            {"h": "0" * 64, "at": AT, "b": b"<x/>"},
        )
        conn.execute(
            text(
                "INSERT INTO appeals (id, tracking_code, received_at, origin_system, message_id, subject, "
                "applicant, addressee) VALUES ('ap-1', 'T-1', :at, 'sys-portal', 1, 's', '{}', '{}')"
            ),
            {"at": AT},
        )
        for row_id, status, delivered in ((1, "delivered", AT), (2, "pending", None)):
            conn.execute(
                text(
                    "INSERT INTO outbox (id, recipient_system, appeal_id, event_seq, document_type, "
                    "document, created_at, status, attempts, next_attempt_at, delivered_at) "
                    "VALUES (:id, 'sys-portal', 'ap-1', 1, 'StatusUpdate', :b, :at, :status, 1, :at, "
                    ":delivered)"
                ),
                {"id": row_id, "b": b"<x/>", "at": AT, "status": status, "delivered": delivered},
            )
    migrate(engine, "0010")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, pulled_at IS NOT NULL FROM outbox ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, True), (2, False)]
    downgrade(engine, "0009")
    migrate(engine)
