"""The transparency log: what the gateway received and sent, in signed checkpoints that only ever grow.

Each attack an operator (or an intruder in the database) could try on the record has a test here that the
auditor's checks (gateway.interfaces.cli.log_audit, fed by the public API) catch it.
"""

from __future__ import annotations

import base64
import copy
import json
import threading

import pytest
from lxml import etree
from sqlalchemy import delete, func, select, text, update

from gateway.domain.transparency import entries, merkle
from gateway.interfaces.cli import log_audit as audit
from gateway.interfaces.cli.verify import verify_file
from gateway.services.transparency import CHUNK, LogBusy, LogHeldBack
from gateway.store.appeals import OutboxMessage
from gateway.store.models import DEMO_SIGNER_KIND, Message, RejectedDocument
from gateway.store.transparency import LogCheckpoint, LogHead, LogLeaf, LogNode
from gateway.xml import ns
from tests.helpers import example, post, signed

GATEWAY = "zvarot-gateway"


def fetch_from(client):
    """The auditor's Fetch, answered by the app in process (the CLI's test below goes over HTTP)."""

    def fetch(path: str) -> bytes:
        response = client.get(path)
        if response.status_code != 200:
            raise audit.LogAuditFailure(f"GET {path}: HTTP {response.status_code}: {response.get_json()}")
        return response.data

    return fetch


def traffic(client, signers) -> dict[str, bytes]:
    """An accepted appeal (with its StatusUpdates), a rejected unsigned one, and a body that is not XML."""
    accepted = post(client, signed(signers, "sys-portal", example("Appeal")))
    rejected = post(client, etree.tostring(example("Appeal")))
    not_xml = post(client, b"not xml at all")
    assert [accepted.status_code, rejected.status_code, not_xml.status_code] == [201, 400, 400]
    return {"accepted": accepted.data, "rejected": rejected.data}


def loggable_rows(gateway) -> int:
    with gateway.sessions() as session:
        messages = session.scalar(
            select(func.count()).select_from(Message).where(Message.signer_kind != DEMO_SIGNER_KIND)
        )
        rejections = session.scalar(
            select(func.count()).select_from(RejectedDocument).where(RejectedDocument.receipt.is_not(None))
        )
        sent = session.scalar(select(func.count()).select_from(OutboxMessage))
    return messages + rejections + sent


def test_an_empty_log_has_no_checkpoint(client, gateway):
    assert gateway.log.extend() is None
    assert client.get("/api/v1/log").status_code == 404
    assert client.get("/api/v1/log/checkpoints/latest").status_code == 404


def test_every_receipt_and_every_document_sent_becomes_an_entry_once(client, gateway, signers):
    traffic(client, signers)
    checkpoint = gateway.log.extend()
    assert checkpoint is not None
    assert checkpoint.tree_size == loggable_rows(gateway) >= 3
    assert gateway.log.extend() is None  # nothing new: no new checkpoint either
    page = client.get(f"/api/v1/log/entries?start=0&end={checkpoint.tree_size}").get_json()["entries"]
    kinds = [item["entry"].split(" ")[1] for item in page]
    assert kinds.count("received") == 2  # the refusal that was not XML got no signed receipt
    assert "sent" in kinds
    leaves = [merkle.leaf_hash(item["entry"].encode()) for item in page]
    assert [leaf.hex() for leaf in leaves] == [item["leaf_hash"] for item in page]
    assert merkle.root_from_leaves(leaves) == checkpoint.root_hash

    summary = client.get("/api/v1/log").get_json()
    assert summary["tree_size"] == checkpoint.tree_size
    assert summary["root_hash"] == checkpoint.root_hash.hex()


def test_the_checkpoint_is_a_signed_document_that_verify_accepts(client, gateway, signers, settings):
    traffic(client, signers)
    checkpoint = gateway.log.extend()
    response = client.get(f"/api/v1/log/checkpoints/{checkpoint.tree_size}")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.data == checkpoint.document
    report = verify_file(response.data, settings.trust_dir)
    assert report["valid"], report
    assert report["document_type"] == "LogCheckpoint" and report["uid"] == GATEWAY
    seen = audit.verify_checkpoint(response.data, settings.trust_dir, GATEWAY)
    assert (seen.tree_size, seen.root_hash) == (checkpoint.tree_size, checkpoint.root_hash)


def test_a_receipt_and_a_status_update_are_proven_to_be_in_the_log(client, gateway, signers, settings):
    documents = traffic(client, signers)
    with gateway.sessions() as session:
        status_update = bytes(session.scalars(select(OutboxMessage.document).limit(1)).one())
    gateway.log.extend()
    fetch = fetch_from(client)
    checkpoint = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    for document in (documents["accepted"], documents["rejected"], status_update):
        entry, index = audit.prove(fetch, document, checkpoint)
        assert 0 <= index < checkpoint.tree_size


def test_a_receipt_issued_after_the_checkpoint_is_not_yet_proven(client, gateway, signers, settings):
    traffic(client, signers)
    gateway.log.extend()
    later = post(client, signed(signers, "sys-portal", example("Appeal")))
    fetch = fetch_from(client)
    checkpoint = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    with pytest.raises(audit.LogAuditFailure, match="no entry of the log has this leaf hash"):
        audit.prove(fetch, later.data, checkpoint)
    gateway.log.extend()  # the next run of the worker logs it
    with pytest.raises(audit.LogAuditFailure, match="not-yet-checkpointed|after the checkpoint"):
        audit.prove(fetch, later.data, checkpoint)  # still the old checkpoint: the entry is after it
    newer = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    assert audit.prove(fetch, later.data, newer)[1] >= checkpoint.tree_size


def test_an_auditor_sees_the_log_grow_and_keeps_the_signed_checkpoint(
    client, gateway, signers, settings, tmp_path
):
    fetch, state = fetch_from(client), tmp_path / "witness.json"
    traffic(client, signers)
    gateway.log.extend()
    first = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    audit.save_state(state, first)
    for _ in range(3):  # sizes that are and are not powers of two
        traffic(client, signers)
        gateway.log.extend()
        newest = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
        previous = audit.load_state(state, settings.trust_dir, GATEWAY)
        assert "extends the checkpoint" in audit.check_extends(fetch, previous, newest)
        audit.check_entries(fetch, newest)
        audit.save_state(state, newest)
    assert audit.load_state(state, settings.trust_dir, GATEWAY).document == newest.document


def test_the_witness_file_outlives_the_gateway_certificate(
    client, gateway, signers, settings, tmp_path, monkeypatch
):
    """The witness was verified when it was written; read back, only its signature and signer are checked, so
    that it still counts once the gateway's certificate has expired (its evidence must outlive the key). A
    newly fetched checkpoint is judged now, chain and all."""
    from datetime import timedelta

    from gateway.trust import chain
    from gateway.xml.parsing import parse_document
    from gateway.xml.signatures import verify_document

    traffic(client, signers)
    gateway.log.extend()
    fetch, state = fetch_from(client), tmp_path / "witness.json"
    first = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    audit.save_state(state, first)
    expiry = verify_document(parse_document(first.document)).certificate.not_valid_after_utc
    real = chain._utc
    monkeypatch.setattr(chain, "_utc", lambda v: expiry + timedelta(days=1) if v is None else real(v))
    assert audit.load_state(state, settings.trust_dir, GATEWAY).root_hash == first.root_hash
    with pytest.raises(audit.LogAuditFailure, match="certificate-expired"):
        audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    tampered = json.loads(state.read_text())
    tampered["checkpoint"] = base64.b64encode(first.document.replace(b"<TreeSize>", b"<TreeSize>9")).decode()
    state.write_text(json.dumps(tampered))
    with pytest.raises(audit.LogAuditFailure, match="signature-invalid"):
        audit.load_state(state, settings.trust_dir, GATEWAY)


def test_a_witness_signed_under_a_foreign_ca_is_refused(client, gateway, signers, settings, tmp_path):
    """Anyone can mint a certificate whose UID is the gateway's under a CA of their own: read back as a
    witness (time and revocation not judged) it must still chain to the trust store's anchors, or a planted
    witness file would frame an honest gateway as having rewritten its log."""
    from datetime import UTC, datetime

    from gateway.pki import init_pki
    from gateway.services.transparency import TransparencyLog
    from gateway.xml.signatures import Signer

    traffic(client, signers)
    gateway.log.extend()
    honest = audit.latest_checkpoint(fetch_from(client), settings.trust_dir, GATEWAY)
    foreign = init_pki(tmp_path / "foreign-pki")["gateway"]
    forger = Signer.from_files(foreign["key"], [foreign["cert"]])
    composed = TransparencyLog(gateway.sessions, forger, GATEWAY)._compose(
        honest.tree_size, b"\x11" * 32, datetime.now(UTC)
    )
    state = tmp_path / "witness.json"
    state.write_text(json.dumps({"checkpoint": base64.b64encode(forger.sign_canonical(composed)).decode()}))
    with pytest.raises(audit.LogAuditFailure, match="not issued under the trust store's anchors"):
        audit.load_state(state, settings.trust_dir, GATEWAY)


@pytest.mark.parametrize(
    "answer",
    [
        b'{"entries": ["x"]}',
        b'{"entries": {"a": 1}}',
        b"[1, 2]",
        b'{"entries": [{"index": 0, "entry": 7}]}',
        b"{",
    ],
)
def test_a_malformed_answer_fails_the_audit_cleanly(client, gateway, signers, settings, answer):
    traffic(client, signers)
    gateway.log.extend()
    honest = fetch_from(client)
    checkpoint = audit.latest_checkpoint(honest, settings.trust_dir, GATEWAY)
    with pytest.raises(audit.LogAuditFailure):
        audit.check_entries(lambda path: answer if "/entries" in path else honest(path), checkpoint)


def test_an_answer_too_large_is_refused_before_it_fills_memory(monkeypatch):
    import io
    import urllib.request

    class Endless(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(audit, "MAX_ANSWER_BYTES", 1000)
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Endless(b"x" * 5000))
    with pytest.raises(audit.LogAuditFailure, match="larger than 1,000 bytes"):
        audit.http_fetch("http://127.0.0.1:9")("/api/v1/log/checkpoints/latest")


# --- attacks on the record --------------------------------------------------------------------------------


def _rebuild_log_from_scratch(gateway) -> None:
    """What an operator who wants an entry gone must do: empty the log and build it again."""
    with gateway.sessions() as session:
        for table in (LogCheckpoint, LogNode, LogLeaf, LogHead):
            session.execute(delete(table))
        session.commit()


def test_a_log_rebuilt_without_a_refusal_is_caught(client, gateway, signers, settings):
    """The operator deletes a rejected submission (say, an appeal refused wrongly) and rebuilds the log, which
    grows past its old size again: the new checkpoint does not extend the one the auditor kept."""
    fetch = fetch_from(client)
    traffic(client, signers)
    gateway.log.extend()
    witnessed = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    with gateway.sessions() as session:
        first_refusal = session.scalar(select(func.min(RejectedDocument.id)))
        session.execute(delete(RejectedDocument).where(RejectedDocument.id == first_refusal))
        session.commit()
    _rebuild_log_from_scratch(gateway)
    traffic(client, signers)
    traffic(client, signers)
    gateway.log.extend()
    rewritten = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    assert rewritten.tree_size > witnessed.tree_size
    with pytest.raises(audit.LogAuditFailure, match="does not extend .* the log was rewritten"):
        audit.check_extends(fetch, witnessed, rewritten)


def test_a_log_that_shrank_or_forked_at_the_same_size_is_caught(client, gateway, signers, settings):
    fetch = fetch_from(client)
    traffic(client, signers)
    traffic(client, signers)
    gateway.log.extend()
    witnessed = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    _rebuild_log_from_scratch(gateway)
    with gateway.sessions() as session:  # the log started again from the second traffic only
        session.execute(
            delete(RejectedDocument).where(
                RejectedDocument.id == select(func.min(RejectedDocument.id)).scalar_subquery()
            )
        )
        session.commit()
    gateway.log.extend()
    shrunk = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    with pytest.raises(audit.LogAuditFailure, match="the log shrank"):
        audit.check_extends(fetch, witnessed, shrunk)
    traffic(client, signers)
    gateway.log.extend(max_leaves=witnessed.tree_size - shrunk.tree_size)  # a fork of exactly the old size
    forked = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    assert forked.tree_size == witnessed.tree_size
    with pytest.raises(audit.LogAuditFailure, match="two different logs of size"):
        audit.check_extends(fetch, witnessed, forked)


def test_a_checkpoint_with_an_edited_root_or_signed_by_another_key_is_refused(
    client, gateway, signers, settings
):
    traffic(client, signers)
    checkpoint = gateway.log.extend()
    edited = checkpoint.document.replace(checkpoint.root_hash.hex().encode(), b"0" * 64)
    with pytest.raises(audit.LogAuditFailure, match="signature-invalid"):
        audit.verify_checkpoint(edited, settings.trust_dir, GATEWAY)
    root = etree.fromstring(checkpoint.document)
    root.remove(root.find(ns.ds("Signature")))
    resigned = signers["sys-portal"].sign_bytes(
        copy.deepcopy(root)
    )  # a system's valid seal, not the gateway's
    with pytest.raises(audit.LogAuditFailure, match="signed by sys-portal"):
        audit.verify_checkpoint(resigned, settings.trust_dir, GATEWAY)
    with pytest.raises(audit.LogAuditFailure, match="not a LogCheckpoint"):
        audit.verify_checkpoint(traffic(client, signers)["accepted"], settings.trust_dir, GATEWAY)


def test_a_rewritten_entry_in_the_database_breaks_the_proofs_and_the_rebuilt_root(
    client, gateway, signers, settings
):
    """An intruder edits a stored leaf (to swap a receipt for another): the entries no longer rebuild the
    signed root."""
    fetch = fetch_from(client)
    documents = traffic(client, signers)
    gateway.log.extend()
    checkpoint = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    forged = entries.received("0" * 64, b"a receipt the gateway never issued")
    with gateway.sessions() as session:
        session.execute(
            update(LogLeaf)
            .where(LogLeaf.position == 0)
            .values(entry=forged, leaf_hash=merkle.leaf_hash(forged.encode()))
        )
        session.execute(
            update(LogNode)
            .where(LogNode.level == 0, LogNode.index == 0)
            .values(hash=merkle.leaf_hash(forged.encode()))
        )
        session.commit()
    with pytest.raises(audit.LogAuditFailure, match="do not hash to the root"):
        audit.check_entries(fetch, checkpoint)
    with pytest.raises(audit.LogAuditFailure, match="does not lead to the root"):
        audit.prove(fetch, documents["rejected"], checkpoint)  # its proof passes through the edited leaf


@pytest.mark.parametrize("lie", ["another index", "an edited hash", "a hash left out"])
def test_a_lying_proof_is_refused(client, gateway, signers, settings, lie):
    documents = traffic(client, signers)
    gateway.log.extend()
    honest = fetch_from(client)
    checkpoint = audit.latest_checkpoint(honest, settings.trust_dir, GATEWAY)

    def lying(path: str) -> bytes:
        answer = json.loads(honest(path))
        if path.startswith("/api/v1/log/proof"):
            if lie == "another index":
                answer["leaf_index"] = (answer["leaf_index"] + 1) % checkpoint.tree_size
            elif lie == "an edited hash":
                answer["audit_path"][0] = "0" * 64
            else:
                answer["audit_path"].pop()
        return json.dumps(answer).encode()

    with pytest.raises(audit.LogAuditFailure, match="does not lead to the root"):
        audit.prove(lying, documents["accepted"], checkpoint)


def test_a_document_the_gateway_never_issued_is_not_proven(client, gateway, signers, settings):
    traffic(client, signers)
    gateway.log.extend()
    fetch = fetch_from(client)
    checkpoint = audit.latest_checkpoint(fetch, settings.trust_dir, GATEWAY)
    with pytest.raises(audit.LogAuditFailure, match="names neither"):
        audit.prove(fetch, signed(signers, "sys-portal", example("Appeal")), checkpoint)  # received, not sent
    with pytest.raises(audit.LogAuditFailure, match="no entry of the log"):  # an AppealReply never sent
        audit.prove(fetch, signed(signers, "off-housing-dept-head", example("AppealReply")), checkpoint)
    forged = etree.tostring(example("Receipt"))
    with pytest.raises(audit.LogAuditFailure, match="no entry of the log"):
        audit.prove(fetch, forged, checkpoint)


@pytest.mark.parametrize(
    "query",
    [
        "receipt_id=%00",
        "appeal_id=%00",
        "appeal_id=" + "x" * 5000,
        "receipt_id=Rc-UPPER",
        "appeal_id=ap-%C3%A9",
    ],
)
def test_a_proof_request_naming_no_document_of_the_gateway_is_a_400(client, gateway, signers, query):
    traffic(client, signers)
    gateway.log.extend()
    response = client.get(f"/api/v1/log/proof?leaf_hash={'0' * 64}&{query}")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_an_appeal_with_many_documents_is_found_in_one_query(client, gateway, signers, settings):
    """The entry of a document about an appeal is found by joining the appeal's outbox rows to the log, not
    by sending their ids back as bind parameters (PostgreSQL refuses more than 65,535)."""
    from sqlalchemy import event

    from tests.helpers import new_appeal

    appeal_id, _ = new_appeal(client, signers, "off-housing-dept-head")
    gateway.log.extend()
    with gateway.sessions() as session:
        document = bytes(
            session.scalars(
                select(OutboxMessage.document).where(OutboxMessage.appeal_id == appeal_id).limit(1)
            ).one()
        )
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(gateway.engine, "before_cursor_execute", seen)
    try:
        with gateway.sessions() as session:
            found = gateway.log.locate(session, document)
    finally:
        event.remove(gateway.engine, "before_cursor_execute", seen)
    assert found.proven
    lookups = [s for s in statements if "log_leaves" in s and "JOIN outbox" in s]
    assert len(lookups) == 1 and "IN (" not in lookups[0]


# --- the barrier ------------------------------------------------------------------------------------------


def test_a_writer_in_flight_holds_the_log_back_rather_than_being_skipped(client, gateway, signers):
    """PostgreSQL: a transaction that took a lower id and commits after one with a higher id must not be
    passed over. The run waits for it (up to its lock timeout), then tries again at the next run."""
    if gateway.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its ids are in commit order")
    traffic(client, signers)
    with gateway.engine.connect() as slow:
        slow.execute(text("BEGIN"))
        slow.execute(
            text(
                "INSERT INTO rejected_documents (receipt_id, received_at, sha256, error_code, error_message, "
                "body, receipt) VALUES ('rc-slow', now(), :sha, 'malformed-xml', 'slow', '\\x00', '\\x01')"
            ),
            {"sha": "a" * 64},
        )
        later = post(client, b"<late/>")  # a higher id, committed first
        assert later.status_code == 400
        with pytest.raises(LogHeldBack, match="rejected_documents"):
            gateway.log.extend()
        slow.execute(text("COMMIT"))
    checkpoint = gateway.log.extend()
    assert checkpoint.tree_size == loggable_rows(gateway)
    with gateway.sessions() as session:
        logged = set(session.scalars(select(LogLeaf.source_id).where(LogLeaf.source == "rejected_documents")))
        assert logged == set(
            session.scalars(select(RejectedDocument.id).where(RejectedDocument.receipt.is_not(None)))
        )


def test_while_one_process_extends_the_log_another_returns_at_once(client, gateway, signers, settings):
    from gateway.app import build_gateway

    traffic(client, signers)
    other = build_gateway(settings, engine=gateway.engine)
    with gateway.log._turn():
        with pytest.raises(LogBusy, match="another process is extending the log"):
            other.log.extend()
    assert other.log.extend().tree_size == loggable_rows(gateway)


def test_a_run_overtaken_by_another_never_moves_the_head_back(client, gateway, signers, settings):
    """Defence beyond the turn: a run whose barrier is older than the head (another process read further
    meanwhile) appends nothing and leaves the head where it is; the log goes on."""
    from gateway.app import build_gateway

    traffic(client, signers)
    stale = gateway.log._barrier()
    traffic(client, signers)
    other = build_gateway(settings, engine=gateway.engine)
    assert other.log.extend().tree_size == loggable_rows(gateway)
    with gateway.sessions() as session:
        before = session.get(LogHead, 1)
        before = (before.tree_size, before.last_message_id, before.last_rejection_id, before.last_outbox_id)
    assert gateway.log._append_chunk(stale, CHUNK) is None
    with gateway.sessions() as session:
        after = session.get(LogHead, 1)
        assert (
            after.tree_size,
            after.last_message_id,
            after.last_rejection_id,
            after.last_outbox_id,
        ) == before
    traffic(client, signers)
    assert gateway.log.extend().tree_size == loggable_rows(gateway)


def test_a_run_whose_turn_connection_is_cut_keeps_its_outcome(client, gateway, signers, monkeypatch):
    """PostgreSQL: the server ends the session holding the turn mid-run (pg_terminate_backend, a timeout):
    the run still signs its checkpoint (the head row's check keeps it safe), and the failed unlock neither
    replaces that outcome nor returns an unknown connection to the pool."""
    if gateway.engine.dialect.name != "postgresql":
        pytest.skip("an advisory lock on PostgreSQL; SQLite's turn is an flock")
    import time

    traffic(client, signers)
    barrier = gateway.log._barrier

    def cut_the_turn_then_barrier():
        with gateway.engine.connect() as dba:
            dba.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                )
            )
            dba.commit()
        time.sleep(0.2)
        return barrier()

    monkeypatch.setattr(gateway.log, "_barrier", cut_the_turn_then_barrier)
    checkpoint = gateway.log.extend()
    assert checkpoint is not None and checkpoint.tree_size == loggable_rows(gateway)
    monkeypatch.undo()
    traffic(client, signers)
    assert gateway.log.extend().tree_size == loggable_rows(gateway)  # the pool serves a working connection


def test_two_processes_extending_at_once_append_each_row_once(client, gateway, signers, settings):
    from gateway.app import build_gateway

    for _ in range(5):
        traffic(client, signers)
    other = build_gateway(settings, engine=gateway.engine)
    outcomes: list[object] = []

    def run(log) -> None:
        try:
            outcomes.append(log.extend())
        except LogBusy as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(log,)) for log in (gateway.log, other.log)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    gateway.log.extend()
    with gateway.sessions() as session:
        positions = list(session.scalars(select(LogLeaf.position).order_by(LogLeaf.position)))
        sources = session.execute(select(LogLeaf.source, LogLeaf.source_id)).all()
    assert positions == list(range(loggable_rows(gateway)))
    assert len(set(sources)) == len(sources)


# --- the commands, over HTTP ------------------------------------------------------------------------------


def test_the_log_commands_checkpoint_audit_and_prove_against_a_served_gateway(
    gateway, signers, settings, pki_dir, database_url, tmp_path
):
    import urllib.request

    from click.testing import CliRunner

    from gateway.interfaces.cli.main import cli
    from tests.helpers import gateway_process

    env = {
        "ZVAROT_HOME": str(tmp_path),
        "ZVAROT_DATABASE_URL": database_url,
        "ZVAROT_PKI_DIR": str(pki_dir),
        "ZVAROT_TRUST_DIR": str(pki_dir / "trust"),
    }

    def zvarot(*args: str):
        return CliRunner().invoke(cli, list(args), env=env)

    def submit(base: str) -> bytes:
        request = urllib.request.Request(
            f"{base}/api/v1/messages",
            data=signed(signers, "sys-portal", example("Appeal")),
            headers={"Content-Type": "application/xml"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
            return response.read()

    state, receipt_file = tmp_path / "witness.json", tmp_path / "receipt.xml"
    with gateway_process(tmp_path, database_url, pki_dir) as served:
        assert zvarot("log", "checkpoint").output.startswith("the log is empty")
        receipt_file.write_bytes(submit(served.base))
        made = zvarot("log", "checkpoint")
        assert made.exit_code == 0 and made.output.startswith("tree size 3, root "), made.output
        assert "nothing new" in zvarot("log", "checkpoint").output

        first = zvarot("log", "audit", "--url", served.base, "--state", str(state))
        assert first.exit_code == 0 and "first audit" in first.output, first.output
        submit(served.base)
        zvarot("log", "checkpoint")
        second = zvarot("log", "audit", "--url", served.base, "--state", str(state), "--entries")
        assert second.exit_code == 0, second.output
        assert "extends the checkpoint of 3 entries" in second.output
        assert "entries: all 6 rebuild the signed root (2 received, 4 sent)" in second.output

        proven = zvarot("log", "prove", str(receipt_file), "--url", served.base, "--state", str(state))
        assert "unchanged since" in proven.output  # the log shown to the prover is the audited one
        assert proven.exit_code == 0 and "included at index 0 of the 6 entries" in proven.output, (
            proven.output
        )
        unsigned = tmp_path / "appeal.xml"
        unsigned.write_bytes(etree.tostring(example("Receipt")))
        refused = zvarot("log", "prove", str(unsigned), "--url", served.base)
        assert refused.exit_code == 1 and "FAILED: GET /api/v1/log/proof" in refused.output

        _rebuild_log_from_scratch(gateway)  # the operator starts the log again: the witness notices
        submit(served.base)
        zvarot("log", "checkpoint")
        forked = zvarot("log", "prove", str(receipt_file), "--url", served.base, "--state", str(state))
        assert forked.exit_code == 1 and "rewritten" in forked.output, forked.output
        caught = zvarot("log", "audit", "--url", served.base, "--state", str(state))
        assert caught.exit_code == 1 and "FAILED" in caught.output and "rewritten" in caught.output, (
            caught.output
        )


@pytest.mark.parametrize("issued", ["LogCheckpoint", "Receipt", "StatusUpdate"])
def test_a_document_only_the_gateway_issues_is_refused_when_submitted(client, signers, issued):
    """A system cannot slip a checkpoint of its own into the gateway: unknown-type, with a signed receipt."""
    response = post(client, signed(signers, "sys-portal", example(issued)))
    assert response.status_code == 400
    codes = [c.text for c in etree.fromstring(response.data).iter(ns.zv("Code"))]
    assert codes == ["unknown-type"]


# --- the operator's check against the stored evidence -----------------------------------------------------


def test_the_log_rebuilt_from_the_evidence_matches_until_a_row_is_edited(client, gateway, signers):
    for _ in range(3):
        traffic(client, signers)
    checkpoint = gateway.log.extend()
    with gateway.sessions() as session:
        assert gateway.log.check_against_evidence(session) == (checkpoint.tree_size, [])
    with gateway.sessions() as session:  # an intruder swaps a stored receipt for another
        first = session.scalar(select(func.min(Message.id)).where(Message.signer_kind != DEMO_SIGNER_KIND))
        session.execute(
            update(Message).where(Message.id == first).values(receipt=b"<Receipt>forged</Receipt>")
        )
        refusal = session.scalar(
            select(func.max(RejectedDocument.id)).where(RejectedDocument.receipt.is_not(None))
        )
        session.execute(delete(RejectedDocument).where(RejectedDocument.id == refusal))
        session.execute(update(LogNode).where(LogNode.level == 1, LogNode.index == 0).values(hash=b"\0" * 32))
        session.execute(update(LogCheckpoint).values(root_hash=b"\1" * 32))
        session.commit()
    with gateway.sessions() as session:
        checked, problems = gateway.log.check_against_evidence(session)
    assert checked == checkpoint.tree_size
    said = "\n".join(problems)
    assert f"messages {first} no longer matches it (edited)" in said
    assert f"its row rejected_documents {refusal} is gone" in said
    assert "rejected_documents: 2 rows up to id" in said and "3 entries for them" in said
    assert "the stored tree node (1, 0) (level, index) is not the rebuilt one" in said
    assert f"the checkpoint of {checkpoint.tree_size} entries does not sign the rebuilt tree's root" in said


def test_zvarot_log_verify_says_whether_the_log_matches(
    client, gateway, signers, settings, pki_dir, database_url
):
    from click.testing import CliRunner

    from gateway.interfaces.cli.main import cli

    env = {
        "ZVAROT_HOME": str(settings.home),
        "ZVAROT_DATABASE_URL": database_url,
        "ZVAROT_PKI_DIR": str(pki_dir),
        "ZVAROT_TRUST_DIR": str(pki_dir / "trust"),
    }
    traffic(client, signers)
    gateway.log.extend()
    good = CliRunner().invoke(cli, ["log", "verify"], env=env)
    assert good.exit_code == 0 and "entries rebuilt from the stored evidence" in good.output, good.output
    with gateway.sessions() as session:
        session.execute(update(OutboxMessage).values(document=b"<StatusUpdate>rewritten</StatusUpdate>"))
        session.commit()
    bad = CliRunner().invoke(cli, ["log", "verify"], env=env)
    assert bad.exit_code == 1 and "FAILED: entry" in bad.output and "outbox" in bad.output, bad.output


def test_the_shell_recipe_of_the_docs_rebuilds_a_receipts_leaf_hash(client, gateway, signers, tmp_path):
    """docs/transparency.md promises that standard tools rebuild an entry's leaf hash: run its recipe."""
    import re
    import subprocess
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "transparency.md").read_text(encoding="utf-8")
    recipe = re.search(r"```sh\n(SUB=.*?)```", doc, re.S).group(1)
    receipt = traffic(client, signers)["accepted"]
    (tmp_path / "receipt.xml").write_bytes(receipt)
    printed = subprocess.run(
        ["bash", "-c", recipe], cwd=tmp_path, capture_output=True, text=True, check=True, timeout=30
    ).stdout
    gateway.log.extend()
    with gateway.sessions() as session:
        leaves = {bytes(h).hex() for h in session.scalars(select(LogLeaf.leaf_hash))}
    assert printed.split()[0] in leaves
