"""GET /metrics: Prometheus' text format, parsed back with prometheus_client's own parser, counting what the
database holds (so every worker answers alike), from a copy at most METRICS_CACHE_SECONDS old."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from gateway.store.appeals import InboxItem, OutboxMessage
from gateway.store.database import wal_checkpointer
from gateway.store.models import DEMO_SENDER, DEMO_SIGNER_KIND, Message
from tests.helpers import example, post, signed


@pytest.fixture
def fresh(client):
    """The metrics of every call computed anew (the cache is tested on its own below)."""
    client.application.config["METRICS_CACHE_SECONDS"] = 0
    return client


def _samples(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_what_was_accepted_refused_and_queued(fresh, signers, gateway):
    client = fresh
    before = _samples(client)
    assert before[("zvarot_appeals_total", ())] == 0
    assert before[("zvarot_outbox_messages", (("status", "pending"),))] == 0
    assert before[("zvarot_outbox_oldest_pending_seconds", ())] == 0

    assert post(client, signed(signers, "sys-portal", example("Appeal"))).status_code == 201
    assert post(client, signed(signers, "sys-portal", example("Appeal"))).status_code == 201
    assert post(client, b"<Appeal/>").status_code == 400  # readable, but no Zvarot namespace
    with gateway.sessions() as session:  # demo history is not received traffic: not counted as accepted
        session.add(
            Message(
                sender_system=DEMO_SENDER, message_id="demo-1", document_type="Appeal", sha256="0" * 64,
                received_at=datetime(2026, 1, 5, tzinfo=UTC), signer_uid=DEMO_SENDER,
                signer_kind=DEMO_SIGNER_KIND, signer_cert_sha256="", body=b"demo", receipt_id="rc-demo-1",
                receipt=b"",
            )
        )  # fmt: skip
        session.commit()
        pending = session.scalar(select(func.count()).select_from(OutboxMessage))
        unacked = session.scalar(select(func.count()).select_from(InboxItem))

    after = _samples(client)
    assert after[("zvarot_documents_accepted_total", (("document_type", "Appeal"),))] == 2
    assert after[("zvarot_appeals_total", ())] == 2
    assert after[("zvarot_documents_rejected_total", (("error_code", "unknown-type"),))] == 1
    assert pending >= 4 and after[("zvarot_outbox_messages", (("status", "pending"),))] == pending
    assert after[("zvarot_outbox_messages", (("status", "dead"),))] == 0
    assert 0 < after[("zvarot_outbox_oldest_pending_seconds", ())] < 600
    assert unacked >= 2 and after[("zvarot_inbox_unacknowledged", ())] == unacked


def test_metrics_say_how_long_crls_and_certificates_have_left(fresh):
    found = _samples(fresh)
    crls = {labels: v for (name, labels), v in found.items() if name == "zvarot_crl_next_update_seconds"}
    assert crls and all(0 < left <= 8 * 86400 for left in crls.values())  # the dev PKI's CRLs live 7 days
    certificates = [dict(labels) for (name, labels) in found if name == "zvarot_certificate_expiry_seconds"]
    assert {c["role"] for c in certificates} == {"anchor", "intermediate", "receipt"}
    assert all(len(c["sha256"]) == 16 for c in certificates)
    receipt = next(
        v
        for (name, labels), v in found.items()
        if name == "zvarot_certificate_expiry_seconds" and dict(labels)["role"] == "receipt"
    )
    assert receipt > 30 * 86400


def test_metrics_are_computed_at_most_once_per_period(client, signers):
    """An open endpoint whose counts scan tables: a client looping on it gets the same copy."""
    first = client.get("/metrics").data
    assert post(client, signed(signers, "sys-portal", example("Appeal"))).status_code == 201
    assert client.get("/metrics").data == first  # within METRICS_CACHE_SECONDS (15 s by default)
    client.application.config["METRICS_CACHE_SECONDS"] = 0
    assert client.get("/metrics").data != first


def test_a_metrics_token_closes_the_endpoint_to_everyone_without_it(client, gateway):
    gateway.settings = gateway.settings.with_(metrics_token="s3cret-metrics-token")
    client.application.config["METRICS_CACHE_SECONDS"] = 0
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.json["title"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    token = "s3cret-metrics-token"
    for wrong in (f"Bearer {token[:-1]}", f"Bearer {token}2", f"Basic {token}", token, ""):
        assert client.get("/metrics", headers={"Authorization": wrong}).status_code == 401, wrong
    granted = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert granted.status_code == 200 and b"zvarot_appeals_total" in granted.data
    # Without a token configured it stays open (the default): the first test of this module reads it so.


def test_on_sqlite_metrics_say_how_far_the_wal_has_grown(fresh, signers, gateway):
    """Where the checkpointer does not keep up, `zvarot_sqlite_wal_frames` climbs towards the bound at which
    requests checkpoint themselves; PostgreSQL has no such series."""
    for _ in range(3):
        assert post(fresh, signed(signers, "sys-portal", example("Appeal"))).status_code == 201
    found = _samples(fresh)
    if gateway.engine.dialect.name != "sqlite":
        assert not [name for name, _ in found if name.startswith("zvarot_sqlite_")]
        return
    frames = found[("zvarot_sqlite_wal_frames", ())]
    assert frames > 0  # three appeals' pages at least
    assert wal_checkpointer(gateway.settings.sqlalchemy_url).run_once()[0] == 0
    assert post(fresh, signed(signers, "sys-portal", example("Appeal"))).status_code == 201
    # The WAL started again: it holds one appeal's pages now.
    assert 0 < _samples(fresh)[("zvarot_sqlite_wal_frames", ())] < frames


def test_metrics_say_how_far_the_transparency_log_lags(fresh, signers, gateway):
    client = fresh
    assert ("zvarot_log_checkpoint_age_seconds", ()) not in _samples(client)  # none signed yet
    assert post(client, signed(signers, "sys-portal", example("Appeal"))).status_code == 201
    assert post(client, b"not xml").status_code == 400  # no receipt: never an entry
    waiting = _samples(client)[("zvarot_log_waiting", ())]
    assert waiting >= 3  # the receipt and the StatusUpdates for the portal and the DMS
    checkpoint = gateway.log.extend()
    after = _samples(client)
    assert after[("zvarot_log_entries", ())] == checkpoint.tree_size == waiting
    assert after[("zvarot_log_waiting", ())] == 0
    assert 0 <= after[("zvarot_log_checkpoint_age_seconds", ())] < 600
