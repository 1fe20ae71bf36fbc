"""GET /metrics: Prometheus' text format, parsed back with prometheus_client's own parser, counting what the
database holds (so every worker answers alike)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import example, post, signed


def _samples(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_what_was_accepted_refused_and_queued(client, signers):
    before = _samples(client)
    assert before[("zvarot_appeals_total", ())] == 0
    assert before[("zvarot_outbox_messages", (("status", "pending"),))] == 0
    assert before[("zvarot_outbox_oldest_pending_seconds", ())] == 0

    assert post(client, signed(signers, "sys-portal", example("Appeal"))).status_code == 201
    assert post(client, signed(signers, "sys-portal", example("Appeal"))).status_code == 201
    assert post(client, b"<Appeal/>").status_code == 400  # readable, but no Zvarot namespace

    after = _samples(client)
    assert after[("zvarot_documents_accepted_total", (("document_type", "Appeal"),))] == 2
    assert after[("zvarot_appeals_total", ())] == 2
    assert after[("zvarot_documents_rejected_total", (("error_code", "unknown-type"),))] == 1
    pending = after[("zvarot_outbox_messages", (("status", "pending"),))]
    assert pending >= 4  # a signed StatusUpdate per appeal for the portal and for the officials' DMS
    assert after[("zvarot_outbox_messages", (("status", "dead"),))] == 0
    assert after[("zvarot_outbox_oldest_pending_seconds", ())] >= 0
    assert after[("zvarot_inbox_unacknowledged", ())] >= 2


def test_metrics_say_how_long_crls_and_certificates_have_left(client):
    found = _samples(client)
    crls = {labels: v for (name, labels), v in found.items() if name == "zvarot_crl_next_update_seconds"}
    assert crls and all(0 < left <= 8 * 86400 for left in crls.values())  # the dev PKI's CRLs live 7 days
    roles = {dict(labels)["role"] for (name, labels) in found if name == "zvarot_certificate_expiry_seconds"}
    assert roles == {"anchor", "intermediate", "receipt"}
    receipt = next(
        v
        for (name, labels), v in found.items()
        if name == "zvarot_certificate_expiry_seconds" and dict(labels)["role"] == "receipt"
    )
    assert receipt > 30 * 86400
