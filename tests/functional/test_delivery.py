"""Push delivery with real processes on loopback: the DMS reference stub as the receiver (SOAP via zeep and
plain HTTP), retries with back-off, dead letters and requeue from the CLI, a worker killed mid-run, and two
workers sharing the outbox. Rows come from real appeals, or are inserted directly (signed StatusUpdates with
distinct EventSeq) for volume."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.config import DEFAULT_DELIVERERS
from gateway.delivery.registry import DelivererRegistry
from gateway.delivery.worker import DeliveryWorker, RetryPolicy, RunSummary
from gateway.ingest.status_updates import StatusFacts, StatusUpdateIssuer
from gateway.interfaces.cli.main import cli
from gateway.store.appeals import AppealEvent, OutboxMessage
from gateway.store.database import session_factory
from gateway.store.directory import System
from gateway.store.models import DEMO_SENDER
from gateway.xml import ns
from tests.helpers import ROOT, example, new_appeal, post, signed

PORTAL, DMS = "sys-portal", "sys-dms-housing"
MINISTER = "off-housing-minister"


# --- the receiver: adapters.dms_stub as a process -----------------------------------------------------------


@dataclass
class Stub:
    url: str
    record: Path
    process: subprocess.Popen

    @property
    def soap(self) -> str:
        return f"{self.url}/soap"

    @property
    def http(self) -> str:
        return f"{self.url}/status-updates"

    def calls(self) -> list[dict]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text(encoding="utf-8").splitlines()]

    def accepted(self) -> Counter:
        return Counter((c["appeal_id"], c["event_seq"]) for c in self.calls() if c["outcome"] == "accepted")

    def outcomes(self) -> Counter:
        return Counter(c["outcome"] for c in self.calls())


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def start_stub(tmp_path) -> Iterator[Callable[..., Stub]]:
    """Start `python -m adapters.dms_stub` on a free loopback port; every stub started is stopped."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> Stub:
        record = tmp_path / f"stub-{len(started)}.jsonl"
        process = subprocess.Popen(
            [sys.executable, "-m", "adapters.dms_stub", "--port", "0", "--record", str(record), *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        line = process.stdout.readline().strip()
        assert line.startswith("DMS stub listening on http://127.0.0.1:"), line
        return Stub(line.rsplit(" ", 1)[1], record, process)

    try:
        yield start
    finally:
        for process in started:
            _stop(process)
            process.stdout.close()


# --- workers ------------------------------------------------------------------------------------------------


@pytest.fixture
def worker_env(database_url, tmp_path) -> dict[str, str]:
    """Settings for worker processes: no back-off, short leases and timeouts, fast polls."""
    return {
        **os.environ,
        "ZVAROT_DATABASE_URL": database_url,
        "ZVAROT_HOME": str(tmp_path / "home"),
        "ZVAROT_DELIVERY_BACKOFF_BASE": "0",
        "ZVAROT_DELIVERY_LEASE": "2",
        "ZVAROT_DELIVERY_TIMEOUT": "1",
        "ZVAROT_WORKER_POLL": "0.05",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def start_worker(worker_env, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """`zvarot worker` as a process (stdout to a file: read it with `output`); every one is stopped."""
    started: list[subprocess.Popen] = []

    def start(*args: str, **env: str) -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(started)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "worker", *args],
            cwd=ROOT,
            env={**worker_env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log_path = log.name  # type: ignore[attr-defined]
        log.close()
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            _stop(process)


def output(process: subprocess.Popen) -> str:
    return Path(process.log_path).read_text()  # type: ignore[attr-defined]


def in_process_worker(gateway, max_attempts: int = 8, timeout: float = 5.0) -> DeliveryWorker:
    return DeliveryWorker(
        gateway.sessions,
        DelivererRegistry.from_spec(DEFAULT_DELIVERERS, timeout=timeout),
        RetryPolicy(max_attempts=max_attempts, base_seconds=0, cap_seconds=0),
        lease_seconds=30,
        timeout_seconds=timeout,
    )


@pytest.fixture
def worker(gateway) -> Iterator[DeliveryWorker]:
    delivery = in_process_worker(gateway)
    yield delivery
    delivery.close()


# --- rows ---------------------------------------------------------------------------------------------------


def set_delivery(database_url: str, system: str, delivery: str, endpoint: str = "") -> None:
    """Through the operator's command, as in production."""
    result = CliRunner().invoke(
        cli,
        ["systems", "set-endpoint", "--id", system, "--endpoint", endpoint, "--delivery", delivery],
        env={"ZVAROT_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output


def status_rows(gateway, appeal_id: str, recipient: str, count: int, first_seq: int = 100) -> set[tuple]:
    """`count` signed StatusUpdates with their own EventSeq, queued for `recipient`; returns their keys."""
    issuer = StatusUpdateIssuer(gateway.signer, gateway.settings.gateway_uid)
    now = datetime.now(UTC)
    rows = []
    for seq in range(first_seq, first_seq + count):
        document = issuer.issue(
            StatusFacts(appeal_id, "TEST-CODE", seq, "status_changed", "in_process", "In process", None, now),
            now,
        )
        rows.append(
            OutboxMessage(
                recipient_system=recipient,
                appeal_id=appeal_id,
                event_seq=seq,
                document_type="StatusUpdate",
                document=document,
                created_at=now,
                status="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
    with gateway.sessions() as session:
        session.add_all(rows)
        session.commit()
    return {(appeal_id, seq) for seq in range(first_seq, first_seq + count)}


def rows_of(gateway, recipient: str) -> list[OutboxMessage]:
    with gateway.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient_system == recipient)
                .order_by(OutboxMessage.id)
            )
        )


def count(gateway, recipient: str, status: str) -> int:
    with gateway.sessions() as session:
        return session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.recipient_system == recipient, OutboxMessage.status == status)
        )


def wait_for(condition: Callable[[], bool], seconds: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def refused_url() -> str:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/status-updates"


# --- HTTP and SOAP push -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_http_push_fails_twice_then_delivered_once(
    client, signers, gateway, database_url, start_stub, worker
):
    stub = start_stub("--http", "--fail-first", "2")
    set_delivery(database_url, PORTAL, "http", stub.http)
    appeal_id, _ = new_appeal(client, signers, MINISTER)

    for _ in range(3):  # no back-off here: each pass retries what failed
        worker.run(once=True)

    [portal] = rows_of(gateway, PORTAL)
    assert (portal.status, portal.attempts, portal.last_error) == ("delivered", 3, None)
    assert portal.delivered_at is not None and portal.claimed_by is None
    assert portal.pulled_at == portal.delivered_at, "handed out by push: no pull looks for it below a cursor"
    [dms] = rows_of(gateway, DMS)
    assert (dms.status, dms.attempts) == ("delivered", 1), "delivery none: the null deliverer, nothing sent"
    assert stub.outcomes() == Counter({"failed": 2, "accepted": 1})
    [received] = [c for c in stub.calls() if c["outcome"] == "accepted"]
    assert (received["via"], received["appeal_id"], received["event_seq"]) == ("http", appeal_id, 1)
    assert received["message_key"] == f"{appeal_id}:1:{PORTAL}"


@pytest.mark.slow
def test_soap_push_via_zeep_to_a_verifying_stub_and_a_repeat_is_a_duplicate(
    client, signers, gateway, database_url, pki_dir, start_stub, worker
):
    stub = start_stub("--trust-dir", str(pki_dir / "trust"))  # checks the gateway's signature and chain
    set_delivery(database_url, DMS, "soap", stub.soap)
    appeal_id, _ = new_appeal(client, signers, MINISTER)

    assert worker.run(once=True).delivered == 2
    [row] = rows_of(gateway, DMS)
    assert row.status == "delivered"
    assert stub.accepted() == Counter({(appeal_id, 1): 1})
    [call] = stub.calls()
    assert (call["via"], call["status"], call["message_key"]) == ("soap", "received", f"{appeal_id}:1:{DMS}")

    result = CliRunner().invoke(
        cli, ["outbox", "requeue", str(row.id)], env={"ZVAROT_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    assert worker.run(once=True).delivered == 1
    assert stub.outcomes() == Counter({"accepted": 1, "duplicate": 1}), (
        "de-duplicated by (AppealId, EventSeq)"
    )


@pytest.mark.slow
def test_dms_replies_and_receives_the_reply_status_over_soap(
    client, signers, gateway, database_url, manifest, start_stub, worker
):
    """The stub's send_reply() posts a personally signed AppealReply to a gateway serving on loopback; the
    reply's StatusUpdate comes back to the DMS by SOAP push."""
    from adapters.dms_stub import send_reply

    stub = start_stub()
    set_delivery(database_url, DMS, "soap", stub.soap)
    appeal_id, _ = new_appeal(client, signers, MINISTER)
    server = make_server("127.0.0.1", 0, create_app(gateway=gateway), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        identity = next(e for e in manifest["identities"] if e["uid"] == MINISTER)
        status, receipt = send_reply(
            f"http://127.0.0.1:{server.server_port}", identity["key"], identity["cert"], appeal_id, MINISTER
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert status == 201, receipt
    worker.run(once=True)
    statuses = [c["status"] for c in sorted(stub.calls(), key=lambda c: c["event_seq"])]
    assert statuses == ["received", "reply_sent"]


def test_the_citizen_s_system_receives_the_official_s_signed_reply_after_its_status_update(
    client, signers, gateway, database_url, pki_dir, start_stub, worker
):
    """Pushed to a stub that verifies every signature: the StatusUpdate (signed by the gateway), then the
    AppealReply as the official signed it, with a key of its own; a repeat of the reply is a duplicate."""
    stub = start_stub("--http", "--trust-dir", str(pki_dir / "trust"))
    set_delivery(database_url, PORTAL, "http", stub.http)
    appeal_id, _ = new_appeal(client, signers, MINISTER)
    reply = example("AppealReply", SenderSystem=DMS)
    reply.find("zv:Body/zv:AppealId", ns.NSMAP).text = appeal_id
    reply.find("zv:Body/zv:Official", ns.NSMAP).text = MINISTER
    assert post(client, signed(signers, MINISTER, reply)).status_code == 201

    worker.run(once=True)
    calls = [c for c in stub.calls() if c["outcome"] == "accepted"]
    assert [(c["document_type"], c["event_seq"], c["message_key"]) for c in calls] == [
        ("StatusUpdate", 1, f"{appeal_id}:1:{PORTAL}"),
        ("StatusUpdate", 2, f"{appeal_id}:2:{PORTAL}"),
        ("AppealReply", None, f"{appeal_id}:2:{PORTAL}:AppealReply"),
    ]
    [row] = [r for r in rows_of(gateway, PORTAL) if r.document_type == "AppealReply"]
    assert row.status == "delivered"

    result = CliRunner().invoke(
        cli, ["outbox", "requeue", str(row.id)], env={"ZVAROT_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    worker.run(once=True)
    assert stub.outcomes() == Counter({"accepted": 3, "duplicate": 1})


def test_officials_documents_go_only_to_a_system_that_opted_in(client, signers, gateway, database_url):
    """A receiver built for StatusUpdates alone would refuse an AppealReply and dead-letter it: forwarding is
    the operator's choice per system (the demo portal has it on)."""

    def replied_rows(switch: str) -> list[str]:
        result = CliRunner().invoke(
            cli,
            ["systems", "set-endpoint", "--id", PORTAL, switch],
            env={"ZVAROT_DATABASE_URL": database_url},
        )
        assert result.exit_code == 0, result.output
        appeal_id, _ = new_appeal(client, signers, MINISTER)
        reply = example("AppealReply", SenderSystem=DMS)
        reply.find("zv:Body/zv:AppealId", ns.NSMAP).text = appeal_id
        reply.find("zv:Body/zv:Official", ns.NSMAP).text = MINISTER
        assert post(client, signed(signers, MINISTER, reply)).status_code == 201
        with gateway.sessions() as session:
            return session.scalars(
                select(OutboxMessage.document_type)
                .where(OutboxMessage.appeal_id == appeal_id, OutboxMessage.recipient_system == PORTAL)
                .order_by(OutboxMessage.id)
            ).all()

    assert replied_rows("--no-forward-documents") == ["StatusUpdate", "StatusUpdate"]
    assert replied_rows("--forward-documents") == ["StatusUpdate", "StatusUpdate", "AppealReply"]
    listing = CliRunner().invoke(cli, ["systems", "list"], env={"ZVAROT_DATABASE_URL": database_url})
    assert [line for line in listing.output.splitlines() if "gets officials documents" in line][0].startswith(
        PORTAL
    )


# --- retries, dead letters, the operator's CLI --------------------------------------------------------------


def test_dead_letter_after_the_maximum_then_requeue(client, signers, gateway, database_url):
    set_delivery(database_url, PORTAL, "http", refused_url())
    set_delivery(database_url, DMS, "soap")  # no endpoint: fails with a clear error, without a network call
    new_appeal(client, signers, MINISTER)
    delivery = in_process_worker(gateway, max_attempts=3)
    try:
        summaries = [delivery.run(once=True) for _ in range(4)]
    finally:
        delivery.close()
    assert [(s.failed, s.dead) for s in summaries] == [(2, 0), (2, 0), (0, 2), (0, 0)]
    portal, dms = rows_of(gateway, PORTAL)[0], rows_of(gateway, DMS)[0]
    assert (portal.status, portal.attempts, portal.next_attempt_at) == ("dead", 3, None)
    assert "ConnectionRefusedError" in portal.last_error
    assert "has delivery 'soap' but no endpoint URL" in dms.last_error

    env = {"ZVAROT_DATABASE_URL": database_url}
    listing = CliRunner().invoke(cli, ["outbox", "list", "--status", "dead"], env=env)
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[0].split("\t") == [
        "id",
        "recipient",
        "appeal",
        "seq",
        "document",
        "status",
        "attempts",
        "next_attempt",
        "last_error",
    ]
    assert {line.split("\t")[1] for line in lines[1:]} == {PORTAL, DMS}
    assert all(line.split("\t")[4:7] == ["StatusUpdate", "dead", "3"] for line in lines[1:])
    only_portal = CliRunner().invoke(cli, ["outbox", "list", "--status", "dead", "--system", PORTAL], env=env)
    assert len(only_portal.output.splitlines()) == 2 and "Connection refused" in only_portal.output

    requeued = CliRunner().invoke(cli, ["outbox", "requeue", "--all-dead"], env=env)
    assert requeued.exit_code == 0 and "requeued 2" in requeued.output
    portal = rows_of(gateway, PORTAL)[0]
    assert (portal.status, portal.attempts) == ("pending", 0) and portal.next_attempt_at is not None
    assert CliRunner().invoke(cli, ["outbox", "list", "--status", "dead"], env=env).output.count("\n") == 1
    missing = CliRunner().invoke(cli, ["outbox", "requeue", "999999"], env=env)
    assert missing.exit_code == 1 and "999999" in missing.output


def test_backoff_is_exponential_capped_and_jittered():
    policy = RetryPolicy(max_attempts=8, base_seconds=30, cap_seconds=600)
    assert [policy.delay(n, 1.0).total_seconds() for n in range(6)] == [30, 60, 120, 240, 480, 600]
    assert policy.delay(0, 0.5).total_seconds() == 15 and policy.delay(2, 1.5).total_seconds() == 180
    assert policy.delay(10_000, 1.0).total_seconds() == 600


def test_failed_attempt_is_scheduled_with_backoff(client, signers, gateway, database_url):
    set_delivery(database_url, PORTAL, "http", refused_url())
    new_appeal(client, signers, MINISTER)
    delivery = DeliveryWorker(
        gateway.sessions,
        DelivererRegistry.from_spec(DEFAULT_DELIVERERS, timeout=5),
        RetryPolicy(max_attempts=8, base_seconds=60, cap_seconds=3600),
    )
    before = datetime.now(UTC)
    try:
        assert delivery.run(once=True).failed == 1
        assert delivery.run(once=True).failed == 0, "not due again before its back-off"
    finally:
        delivery.close()
    [row] = rows_of(gateway, PORTAL)
    wait = row.next_attempt_at.replace(tzinfo=UTC) - before
    assert row.status == "pending" and 29 <= wait.total_seconds() <= 91  # 60 s * jitter(0.5..1.5)


def test_rows_acknowledged_by_pull_are_not_pushed(client, signers, gateway, database_url, worker):
    set_delivery(database_url, PORTAL, "http", refused_url())
    new_appeal(client, signers, MINISTER)
    with gateway.sessions() as session:
        session.execute(update(OutboxMessage).values(acked_at=datetime.now(UTC)))
        session.commit()
    assert worker.run(once=True).delivered == 2
    [row] = rows_of(gateway, PORTAL)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 0, "acknowledged by pull; not pushed")


def test_a_lease_is_exclusive_until_it_ends(client, signers, gateway):
    new_appeal(client, signers, MINISTER)
    clock = [datetime.now(UTC)]
    registry = DelivererRegistry.from_spec(DEFAULT_DELIVERERS, timeout=1)
    a, b = (
        DeliveryWorker(gateway.sessions, registry, lease_seconds=10, clock=lambda: clock[0], worker_id=name)
        for name in ("a", "b")
    )
    assert len(a.claim(10)) == 2
    assert b.claim(10) == [], "leased rows are not due for another worker"
    clock[0] += timedelta(seconds=11)
    taken = b.claim(10)
    assert len(taken) == 2, "a lease that ran out (a crashed worker) makes the row due again"
    assert a.process(taken[0], a.targets([PORTAL, DMS]), RunSummary()) == "lost", (
        "a's outcome no longer counts"
    )
    assert b.process(taken[0], b.targets([PORTAL, DMS]), RunSummary()) == "delivered"


def test_housekeeping_runs_at_start_then_every_interval_and_its_failure_is_not_fatal(gateway):
    now = [datetime(2026, 12, 7, 9, 0, tzinfo=UTC)]
    calls: list[datetime] = []
    logged: list[str] = []

    def housekeeping() -> None:
        calls.append(now[0])
        if len(calls) == 2:
            raise RuntimeError("database away")

    delivery = DeliveryWorker(
        gateway.sessions,
        DelivererRegistry.from_spec(DEFAULT_DELIVERERS, timeout=1.0),
        RetryPolicy(),
        clock=lambda: now[0],
        log=logged.append,
        housekeeping=housekeeping,
        housekeeping_seconds=300,
    )
    try:
        delivery.tick_housekeeping()
        now[0] += timedelta(seconds=299)
        delivery.tick_housekeeping()
        assert len(calls) == 1
        now[0] += timedelta(seconds=2)
        delivery.tick_housekeeping()  # fails: logged, and delivery goes on
        assert len(calls) == 2 and "housekeeping failed (RuntimeError: database away)" in logged[0]
        now[0] += timedelta(seconds=301)
        delivery.run(once=True)  # the loop runs it too
        assert len(calls) == 3
    finally:
        delivery.close()


def test_a_long_running_worker_closes_quiet_appeals(client, signers, gateway, pki_dir, start_worker):
    """`zvarot worker` wires the quiet-period closures into its housekeeping (run at start)."""
    appeal_id, _ = new_appeal(client, signers, MINISTER)
    reply = example("AppealReply", SenderSystem=DMS)
    reply.find("zv:Body/zv:AppealId", ns.NSMAP).text = appeal_id
    reply.find("zv:Body/zv:Official", ns.NSMAP).text = MINISTER
    assert post(client, signed(signers, MINISTER, reply)).status_code == 201

    def closed() -> bool:
        with gateway.sessions() as session:
            kinds = session.scalars(select(AppealEvent.kind).where(AppealEvent.appeal_id == appeal_id)).all()
        return "closed" in kinds

    assert not closed()
    start_worker(
        ZVAROT_QUIET_PERIOD_DAYS="0", ZVAROT_PKI_DIR=str(pki_dir), ZVAROT_TRUST_DIR=str(pki_dir / "trust")
    )
    wait_for(closed, what="the worker to close the quiet appeal")


def test_weekly_hook_runs_once_per_iso_week(gateway):
    weeks: list[tuple[int, int]] = []
    clock = [datetime(2027, 1, 3, 20, 0, tzinfo=UTC)]  # Sunday 23:00 in Minsk
    delivery = DeliveryWorker(
        gateway.sessions,
        DelivererRegistry({}),
        clock=lambda: clock[0],
        on_new_iso_week=lambda year, week: weeks.append((year, week)),
        timezone="Europe/Minsk",
    )
    delivery.tick_week()
    delivery.tick_week()
    clock[0] += timedelta(hours=1, minutes=30)  # Monday 00:30 in Minsk
    delivery.tick_week()
    assert weeks == [(2026, 53), (2027, 1)]


# --- worker processes ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_worker_process_retries_until_each_update_is_received_once(
    client, signers, gateway, database_url, start_stub, start_worker
):
    stub = start_stub("--fail-first", "3")
    set_delivery(database_url, DMS, "soap", stub.soap)
    appeal_id, _ = new_appeal(client, signers, MINISTER)
    keys = status_rows(gateway, appeal_id, DMS, 9) | {(appeal_id, 1)}

    worker = start_worker("--batch", "4")
    wait_for(lambda: count(gateway, DMS, "delivered") == 10, what="every row delivered")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    assert "worker stopped: delivered 11" in output(worker)  # the portal's row too (delivery none)
    assert stub.accepted() == Counter(dict.fromkeys(keys, 1))
    assert stub.outcomes()["failed"] == 3
    assert sum(row.attempts for row in rows_of(gateway, DMS)) == 10 + 3


@pytest.mark.slow
def test_worker_killed_mid_run_and_restarted_loses_nothing(
    client, signers, gateway, database_url, start_stub, start_worker
):
    stub = start_stub("--delay", "0.05")
    set_delivery(database_url, DMS, "soap", stub.soap)
    appeal_id, _ = new_appeal(client, signers, MINISTER)
    keys = status_rows(gateway, appeal_id, DMS, 29) | {(appeal_id, 1)}

    first = start_worker("--batch", "5")
    wait_for(lambda: count(gateway, DMS, "delivered") >= 5, what="some rows delivered")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert count(gateway, DMS, "delivered") < 30, "killed before the end"

    second = start_worker("--batch", "5")
    wait_for(lambda: count(gateway, DMS, "delivered") == 30, what="every row delivered after the restart")
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=15) == 0
    received = stub.accepted()
    assert received == Counter(dict.fromkeys(keys, 1)), (
        "each update received exactly once after de-duplication"
    )
    assert all(row.claimed_by is None and row.status == "delivered" for row in rows_of(gateway, DMS))


@pytest.mark.slow
def test_two_workers_share_the_outbox_without_double_delivery(
    client, signers, gateway, database_url, start_stub, start_worker
):
    stub = start_stub("--delay", "0.02")
    set_delivery(database_url, DMS, "soap", stub.soap)
    appeal_id, _ = new_appeal(client, signers, MINISTER)
    keys = status_rows(gateway, appeal_id, DMS, 59) | {(appeal_id, 1)}

    workers = [start_worker("--batch", "3") for _ in range(2)]
    wait_for(lambda: count(gateway, DMS, "delivered") == 60, what="every row delivered")
    for process in workers:
        process.send_signal(signal.SIGTERM)
    assert [process.wait(timeout=15) for process in workers] == [0, 0]
    assert stub.outcomes() == Counter({"accepted": 60}), "no row was pushed twice"
    assert stub.accepted() == Counter(dict.fromkeys(keys, 1))
    shares = [output(process).count(f"-> {DMS} ") for process in workers]
    assert sum(shares) == 60 and min(shares) > 0, shares


@pytest.mark.slow
def test_worker_stops_on_sigterm_after_the_current_row_and_hands_back_the_rest(
    client, signers, gateway, database_url, start_stub, start_worker
):
    stub = start_stub("--delay", "0.3")
    set_delivery(database_url, DMS, "soap", stub.soap)
    appeal_id, _ = new_appeal(client, signers, MINISTER)
    status_rows(gateway, appeal_id, DMS, 9)

    worker = start_worker("--batch", "10", ZVAROT_DELIVERY_LEASE="600", ZVAROT_DELIVERY_TIMEOUT="5")
    wait_for(lambda: stub.calls() != [], what="the first push")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    assert "stopping after the current row" in output(worker)
    rows = rows_of(gateway, DMS)
    delivered = [row for row in rows if row.status == "delivered"]
    assert 1 <= len(delivered) < 10
    assert all(row.claimed_by is None for row in rows), "unprocessed rows are released, not left leased"
    assert len(stub.calls()) == len(delivered), "nothing was cut off mid-delivery"


# --- configuration and the systems CLI ----------------------------------------------------------------------


def test_systems_add_and_set_endpoint(gateway, database_url):
    env = {"ZVAROT_DATABASE_URL": database_url}
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "systems",
            "add",
            "--id",
            "sys-dms-test",
            "--name",
            "Test DMS",
            "--kind",
            "dms",
            "--type",
            "AppealReply",
            "--endpoint",
            "https://dms.test.example/zvarot",
            "--delivery",
            "soap",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    with gateway.sessions() as session:
        system = session.get(System, "sys-dms-test")
        assert (system.delivery, system.endpoint_url) == ("soap", "https://dms.test.example/zvarot")
    changed = runner.invoke(
        cli,
        [
            "systems",
            "set-endpoint",
            "--id",
            "sys-dms-test",
            "--endpoint",
            "http://10.0.0.7/in",
            "--delivery",
            "http",
        ],
        env=env,
    )
    assert changed.exit_code == 0 and "delivery http, endpoint http://10.0.0.7/in" in changed.output
    listing = runner.invoke(cli, ["systems", "list"], env=env)
    assert "delivery: http http://10.0.0.7/in" in listing.output
    assert "delivery: none (no endpoint)" in listing.output  # the demo systems pull
    bad = runner.invoke(
        cli, ["systems", "set-endpoint", "--id", "sys-dms-test", "--endpoint", "ftp://x"], env=env
    )
    assert bad.exit_code == 2 and "not an http(s) URL" in bad.output
    unknown = runner.invoke(cli, ["systems", "set-endpoint", "--id", "nope", "--delivery", "none"], env=env)
    assert unknown.exit_code == 1 and "no system 'nope'" in unknown.output
    reserved = runner.invoke(
        cli,
        ["systems", "add", "--id", DEMO_SENDER, "--name", "x", "--kind", "dms", "--type", "WorkReport"],
        env=env,
    )
    assert reserved.exit_code == 2 and "reserved for the demo history" in reserved.output

    def add(*extra: str):
        args = [
            "systems",
            "add",
            "--id",
            "sys-dms-new",
            "--name",
            "x",
            "--kind",
            "dms",
            "--type",
            "WorkReport",
        ]
        return runner.invoke(cli, [*args, *extra], env=env)

    again = runner.invoke(
        cli,
        ["systems", "add", "--id", "sys-dms-test", "--name", "x", "--kind", "dms", "--type", "WorkReport"],
        env=env,
    )
    assert again.exit_code == 2 and "'sys-dms-test' is registered already" in again.output
    nowhere = add("--serves", "ou-ministry-housing", "--serves", "ou-x")
    assert nowhere.exit_code == 2 and "no org unit 'ou-x' in the directory" in nowhere.output
    assert add("--type", "Bogus").exit_code == 2  # not a document type a system sends
    assert add("--type", "Receipt").exit_code == 2  # the gateway's own
    assert all(isinstance(r.exception, SystemExit) for r in (again, nowhere))  # said, not raised
    with session_factory(gateway.engine)() as session:
        assert session.get(System, "sys-dms-new") is None  # nothing half-registered
    with session_factory(gateway.engine)() as session:
        assert session.get(System, "sys-dms-test").endpoint_url == "http://10.0.0.7/in"


def test_worker_refuses_a_misconfigured_deliverer(database_url, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["worker", "--once"],
        env={"ZVAROT_DATABASE_URL": database_url, "ZVAROT_DELIVERERS": "http=adapters.nowhere:Nothing"},
    )
    assert result.exit_code == 2  # could not do its work (README: exit status)
    assert "cannot import 'adapters.nowhere'" in result.output


def test_the_worker_extends_the_transparency_log_on_its_own_interval(client, gateway, signers):
    """Beside the housekeeping (every 5 min), the log keeper runs every ZVAROT_LOG_INTERVAL: a receipt is
    under a signed checkpoint within one interval of being issued."""
    now = [datetime(2026, 12, 7, 9, 0, tzinfo=UTC)]
    housekept: list[datetime] = []
    delivery = DeliveryWorker(
        gateway.sessions,
        DelivererRegistry.from_spec(DEFAULT_DELIVERERS, timeout=1.0),
        RetryPolicy(),
        clock=lambda: now[0],
        housekeeping=lambda: housekept.append(now[0]),
        housekeeping_seconds=300,
        log_keeper=gateway.log.extend,
        log_seconds=30,
    )
    try:
        new_appeal(client, signers, "off-housing-dept-head")
        delivery.tick_housekeeping()
        with gateway.sessions() as session:
            first = gateway.log.latest(session).tree_size
        new_appeal(client, signers, "off-housing-dept-head")
        now[0] += timedelta(seconds=29)
        delivery.tick_housekeeping()
        with gateway.sessions() as session:
            assert gateway.log.latest(session).tree_size == first  # not yet
        now[0] += timedelta(seconds=2)
        delivery.tick_housekeeping()
        with gateway.sessions() as session:
            assert gateway.log.latest(session).tree_size > first
        assert len(housekept) == 1  # the housekeeping keeps its own five minutes
    finally:
        delivery.close()
