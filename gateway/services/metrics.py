"""Operational metrics in Prometheus' text format (GET /metrics, SPEC "Interfaces").

Everything is read at scrape time from the database and the trust store, nothing is counted in process
memory: every server worker (and a restarted one) answers the same numbers, and the counters are the rows
that were committed, so they never run ahead of what is stored. What an operator alerts on:

- documents accepted by type, rejections by error code (a spike of `revocation-unknown` is a stale CRL);
- the outbox by status and the age of its oldest pending row (deliveries stuck), dead letters;
- inbox items not yet acknowledged by the officials' systems;
- seconds until each CRL's next update and until each trust anchor, intermediate and the receipt-signing
  certificate expire (CRLs are hard-fail: a stale one refuses every signature under it);
- the transparency log: its entries, the rows waiting to be appended and the age of its newest checkpoint
  (a worker that stopped checkpointing: the age grows while rows wait);
- on SQLite, how far the WAL has grown since it last started again (its frames, read from the -wal file):
  near WAL_AUTOCHECKPOINT_PAGES the checkpointer is not keeping up, and requests checkpoint themselves.

The counting queries scan their tables; at a scrape every 15-60 s that is cheap up to millions of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.services.console import trust_overview
from gateway.store.appeals import Appeal, InboxItem, OutboxMessage
from gateway.store.database import WAL_AUTOCHECKPOINT_PAGES, wal_frames_in_use
from gateway.store.models import DEMO_SENDER, Message, RejectedDocument
from gateway.store.transparency import LogCheckpoint
from gateway.trust.store import TrustStore

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CACHE_SECONDS = 15.0  # GET /metrics answers from a copy at most this old (Settings.metrics_cache_seconds)
OUTBOX_STATUSES = ("pending", "delivered", "dead")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def families(session: Session, store: TrustStore, receipt_cert: Path | None, now: datetime) -> list[Metric]:
    accepted = CounterMetricFamily(
        "zvarot_documents_accepted",
        "Documents accepted and stored, by document type (demo history excluded).",
        labels=["document_type"],
    )
    for document_type, count in session.execute(
        select(Message.document_type, func.count())
        .where(Message.sender_system != DEMO_SENDER)
        .group_by(Message.document_type)
        .order_by(Message.document_type)
    ):
        accepted.add_metric([document_type], count)

    rejected = CounterMetricFamily(
        "zvarot_documents_rejected", "Submissions refused, by SPEC error code.", labels=["error_code"]
    )
    for code, count in session.execute(
        select(RejectedDocument.error_code, func.count())
        .group_by(RejectedDocument.error_code)
        .order_by(RejectedDocument.error_code)
    ):
        rejected.add_metric([code], count)

    appeals = CounterMetricFamily("zvarot_appeals", "Appeals received (demo history included).")
    appeals.add_metric([], session.scalar(select(func.count()).select_from(Appeal)) or 0)

    outbox = GaugeMetricFamily(
        "zvarot_outbox_messages", "Signed status updates queued for systems, by status.", labels=["status"]
    )
    by_status = {
        status: count
        for status, count in session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
    }
    for status in sorted(set(OUTBOX_STATUSES) | set(by_status)):
        outbox.add_metric([status], by_status.get(status, 0))

    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")
    )
    waiting = GaugeMetricFamily(
        "zvarot_outbox_oldest_pending_seconds", "Age of the oldest status update not yet delivered (0: none)."
    )
    waiting.add_metric([], 0.0 if oldest is None else max(0.0, (now - _aware(oldest)).total_seconds()))

    unacked = GaugeMetricFamily(
        "zvarot_inbox_unacknowledged", "Inbox items the officials' systems have not acknowledged yet."
    )
    unacked.add_metric(
        [],
        session.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.acked_at.is_(None))) or 0,
    )

    return [
        accepted,
        rejected,
        appeals,
        outbox,
        waiting,
        unacked,
        *_log(session, now),
        *_wal(session),
        *_trust(store, receipt_cert, now),
    ]


def _log(session: Session, now: datetime) -> list[Metric]:
    from gateway.services.transparency import TransparencyLog

    entries = GaugeMetricFamily("zvarot_log_entries", "Entries of the transparency log (its tree size).")
    entries.add_metric([], TransparencyLog.size(session))
    waiting = GaugeMetricFamily(
        "zvarot_log_waiting", "Receipts and sent documents committed but not yet appended to the log."
    )
    waiting.add_metric([], TransparencyLog.waiting(session))
    newest = session.scalar(select(func.max(LogCheckpoint.issued_at)))
    age = GaugeMetricFamily(
        "zvarot_log_checkpoint_age_seconds", "Age of the log's newest signed checkpoint (absent: none yet)."
    )
    if newest is not None:
        age.add_metric([], max(0.0, (now - _aware(newest)).total_seconds()))
    return [entries, waiting, age]


def _wal(session: Session) -> list[Metric]:
    """SQLite file databases only."""
    url = session.get_bind().url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return []
    frames = wal_frames_in_use(url.database)
    if frames is None:
        return []
    gauge = GaugeMetricFamily(
        "zvarot_sqlite_wal_frames",
        f"Frames (pages) in SQLite's WAL since it last started again from its first frame; near "
        f"{WAL_AUTOCHECKPOINT_PAGES} requests checkpoint it themselves.",
    )
    gauge.add_metric([], frames)
    return [gauge]


def _trust(store: TrustStore, receipt_cert: Path | None, now: datetime) -> Iterable[Metric]:
    trust = trust_overview(store, now, receipt_cert)
    crls = GaugeMetricFamily(
        "zvarot_crl_next_update_seconds",
        "Seconds until a trust-store CRL's nextUpdate; negative: stale, every signature under it is refused.",
        labels=["issuer"],
    )
    # One series per issuer, its newest CRL: older ones kept for audits must not read as stale.
    newest: dict[str, datetime] = {}
    for crl in trust["crls"]:
        if crl["next_update"] is not None:
            newest[crl["issuer"]] = max(crl["next_update"], newest.get(crl["issuer"], crl["next_update"]))
    for issuer, next_update in sorted(newest.items()):
        crls.add_metric([issuer], (next_update - now).total_seconds())
    certificates = GaugeMetricFamily(
        "zvarot_certificate_expiry_seconds",
        "Seconds until a certificate the gateway relies on expires (negative: expired).",
        labels=[
            "role",
            "subject",
            "sha256",
        ],  # a renewed certificate keeps its subject: the hash tells them apart
    )
    for role, key in (("anchor", "anchors"), ("intermediate", "intermediates")):
        for cert in trust[key]:
            certificates.add_metric(
                [role, cert["subject"], cert["sha256"][:16]], (cert["not_after"] - now).total_seconds()
            )
    receipt = trust["receipt_certificate"]
    if receipt is not None:
        certificates.add_metric(
            ["receipt", receipt["subject"], receipt["sha256"][:16]],
            (receipt["not_after"] - now).total_seconds(),
        )
    return [crls, certificates]


class _Snapshot:
    """A collector over metric families already read (prometheus_client renders collectors)."""

    def __init__(self, found: list[Metric]):
        self._found = found

    def collect(self) -> Iterable[Metric]:
        return self._found


def exposition(found: list[Metric]) -> bytes:
    """The families in Prometheus' text format (HELP, TYPE and escaping by prometheus_client)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(found))
    return generate_latest(registry)
