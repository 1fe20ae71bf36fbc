"""`zvarot bench`: its documents are what it claims to send, it says which targets a run met, and it counts
the WAL frames an appeal writes on SQLite."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest

from gateway.bench import (
    PAGE_ONE,
    _core_gateway,
    _report_server,
    connections_by_process,
    cpu_line,
    cpu_seconds,
    idle_shares,
    interpreter,
    machine_ticks,
    make_appeals,
    median_cpu,
    median_run,
    process_tree,
    processes_named,
    ratio_of_rounds,
    target_lines,
    wal_frames,
    wal_pages,
    wrk_run,
)
from gateway.config import Settings
from gateway.demo.seed import seed_demo_world
from gateway.store.database import make_engine, migrate, session_factory
from gateway.xml import ns
from gateway.xml.parsing import parse_document


def test_benchmark_appeals_are_distinct_signed_appeals_of_the_asked_size(pki_dir, gateway):
    docs = make_appeals(pki_dir, 5, size=4096)
    ids = {parse_document(d).findtext("zv:Header/zv:MessageId", namespaces=ns.NSMAP) for d in docs}
    assert len(ids) == 5
    assert all(3800 <= len(d) <= 4600 for d in docs)
    outcomes = [gateway.pipeline.submit(d).outcome for d in docs]  # accepted by the real pipeline
    assert outcomes == ["accepted"] * 5


def test_the_core_pipeline_keeps_and_receipts_an_appeal_without_routing_it(
    pki_dir, settings, clean_db, served_worker
):
    """What the bench serves as the core issue's scope: the same front door and pipeline (verify, authorize,
    deduplicate, keep, receipt), none of an appeal's own work."""
    from sqlalchemy import func, select, text

    from gateway.store.models import Message

    seed_demo_world(session_factory(clean_db))
    client = served_worker(settings, build=_core_gateway).test_client()
    [appeal] = make_appeals(pki_dir, 1)
    headers = {"Content-Type": "application/xml"}
    first = client.post("/api/v1/messages", data=appeal, headers=headers)
    again = client.post("/api/v1/messages", data=appeal, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data == first.data  # deduplicated: the original receipt
    receipt = parse_document(first.data)
    assert receipt.findtext(".//zv:Outcome", namespaces=ns.NSMAP) == "accepted"
    assert receipt.find(".//zv:TrackingCode", ns.NSMAP) is None  # not routed
    with clean_db.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Message)) == 1
        for table in ("appeals", "appeal_events", "outbox", "inbox_items"):
            assert conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0  # noqa: S608 - our names


def _results(docs_s: float, p99: float, ratio: float) -> dict:
    return {"http": (docs_s, 10.0, 40.0, 0), "paced": (500.0, 8.0, p99, 0), "ratio_floor": ratio}


def test_targets_are_reported_met_or_not():
    met = target_lines(_results(1010, 24.5, 0.55), postgres=False, rate=500)
    assert met == [
        "target HTTP full >= 1000 docs/s on sqlite: 1010 (met)",
        "target p99 <= 50 ms at 500 docs/s: 24.5 ms (met)",
        "target ratio to the HTTP floor >= 0.5: 0.55 (met)",
    ]
    missed = target_lines(_results(790, 170.6, 0.38), postgres=True, rate=500)
    assert [line.rsplit("(", 1)[1] for line in missed] == ["NOT met)"] * 3
    assert missed[0].startswith("target HTTP full >= 800 docs/s on postgresql: 790")


def test_targets_are_judged_on_the_core_pipeline_and_on_appeals_with_their_effects_where_both_ran():
    results = {
        **_results(744, 25.5, 0.33),
        "core": (1290.0, 6.0, 20.0, 0),
        "core_paced": (500.0, 5.0, 12.0, 0),
        "ratio_core_floor": 0.54,
    }
    assert target_lines(results, postgres=False, rate=500) == [
        "the core pipeline (verify, authorize, deduplicate, keep, receipt; the core issue's scope):",
        "target HTTP core >= 1000 docs/s on sqlite: 1290 (met)",
        "target p99 <= 50 ms at 500 docs/s (core): 12.0 ms (met)",
        "target ratio core / HTTP floor >= 0.5: 0.54 (met)",
        "appeals with all their effects (routing, event, StatusUpdate for two systems, inbox):",
        "target HTTP full >= 1000 docs/s on sqlite: 744 (NOT met)",
        "target p99 <= 50 ms at 500 docs/s: 25.5 ms (met)",
        "target ratio to the HTTP floor >= 0.5: 0.33 (NOT met)",
    ]


def test_the_median_run_is_taken_by_the_figure_judged():
    runs = [(700.0, 9.0, 80.0, 0), (500.0, 12.0, 30.0, 0), (600.0, 10.0, 50.0, 0)]
    assert median_run(runs, key=0) == (600.0, 10.0, 50.0, 0)  # docs/s
    assert median_run(runs, key=2, lower_is_better=True) == (600.0, 10.0, 50.0, 0)  # p99
    # Of an even count's middle two, the worse: the lower docs/s, the higher p99.
    assert median_run(runs[:2], key=0) == (500.0, 12.0, 30.0, 0)
    assert median_run(runs[:2], key=2, lower_is_better=True) == (700.0, 9.0, 80.0, 0)
    assert median_run(runs[:1], key=2, lower_is_better=True) == runs[0]


def test_the_ratio_pairs_runs_of_the_same_round():
    floors = [(2000.0, 0, 0, 0), (1000.0, 0, 0, 0), (1500.0, 0, 0, 0)]
    fulls = [(500.0, 0, 0, 0), (600.0, 0, 0, 0), (700.0, 0, 0, 0)]
    # Rounds: 0.25, 0.60, 0.47 -> 0.47, where the quotient of the medians (600 / 1500) would say 0.40.
    assert round(ratio_of_rounds(floors, fulls), 2) == 0.47
    assert ratio_of_rounds(floors[:2], fulls[:2]) == 0.25  # even: the lower of the middle two


def _sqlite_has_dbstat() -> bool:
    with closing(sqlite3.connect(":memory:")) as conn:
        try:
            conn.execute("SELECT 1 FROM dbstat LIMIT 1")
        except sqlite3.OperationalError:
            return False
    return True


@pytest.mark.skipif(not _sqlite_has_dbstat(), reason="this SQLite was built without the dbstat table")
def test_wal_frames_are_counted_per_appeal_and_by_table(pki_dir, tmp_path):
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'frames.db'}",
        pki_dir=pki_dir,
        trust_dir=pki_dir / "trust",
    )
    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    seed_demo_world(session_factory(engine))
    engine.dispose()

    per_appeal, by_table = wal_frames(settings, make_appeals(pki_dir, 4))

    assert sum(by_table.values()) == pytest.approx(per_appeal)
    # An appeal's rows: the document with its receipt, the appeal, its first event, its status updates and
    # the officials' inbox items; and the header, rewritten by every commit that grows the database.
    assert {"messages", "appeals", "appeal_events", "outbox", "inbox_items", PAGE_ONE} <= set(by_table)
    assert by_table["messages"] >= 3  # a leaf and overflow pages: document and receipt are ~9 KB together
    assert per_appeal > 15
    with closing(sqlite3.connect(tmp_path / "frames.db")) as conn:
        assert conn.execute("SELECT count(*) FROM appeals").fetchone()[0] == 4


def test_wal_frames_are_not_counted_on_postgresql(pki_dir, tmp_path):
    settings = Settings(home=tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert wal_frames(settings, [b"never sent"]) is None


def test_only_frames_of_the_current_wal_are_read(tmp_path):
    """Frames with other salts were left from before the WAL restarted: reading stops at the first."""
    page_size, salts = 512, b"SALTsalt"
    header = b"7\x7f\x06\x82" + (3007000).to_bytes(4, "big") + page_size.to_bytes(4, "big") + bytes(4) + salts
    header += bytes(32 - len(header))

    def frame(page: int, frame_salts: bytes) -> bytes:
        return page.to_bytes(4, "big") + bytes(4) + frame_salts + bytes(8) + bytes(page_size)

    wal = tmp_path / "db-wal"
    wal.write_bytes(header + frame(7, salts) + frame(1, salts) + frame(9, b"oldsalts") + frame(3, salts))
    assert wal_pages(wal) == [7, 1]
    wal.write_bytes(b"")
    assert wal_pages(wal) == []


def test_wal_pages_agree_with_sqlite_on_a_real_wal(tmp_path):
    path = tmp_path / "real.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
        for n in range(20):
            conn.execute("INSERT INTO t (body) VALUES (?)", (bytes([n]) * 5000,))  # overflow pages too
        pages = wal_pages(tmp_path / "real.db-wal")
        _busy, frames_in_wal, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert len(pages) == frames_in_wal > 20
    assert 1 in pages  # the header page, rewritten as the database grows


# --- what the server did during a run ---------------------------------------------------------------------


def test_connections_are_counted_for_the_process_that_accepted_them():
    """Three clients connect to a port this process listens on: the three accepted connections are this
    process's (the clients' own sockets, whose local port is another, are not counted), and a process that
    holds none of them holds 0."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        accepted = [listener.accept()[0] for _ in clients]
        try:
            with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as bystander:
                try:
                    assert connections_by_process(port, [os.getpid(), bystander.pid]) == [0, 3]
                finally:
                    bystander.kill()
            accepted.pop().close()
            assert connections_by_process(port, [os.getpid()]) == [2]
        finally:
            for sock in clients + accepted:
                sock.close()


def test_a_process_tree_holds_the_children_and_cpu_is_read_from_it():
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as child:
        try:
            tree = process_tree(os.getpid())
            assert tree[0] == os.getpid()
            assert child.pid in tree
        finally:
            child.kill()
    before = cpu_seconds([os.getpid()])
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # bounded: 0.2 s of this process's CPU
        pass
    assert cpu_seconds([os.getpid()]) - before >= 0.1
    assert cpu_seconds([child.pid]) == 0  # gone and reaped: counts nothing, raises nothing


def test_processes_are_found_by_their_command_name():
    with subprocess.Popen(["sleep", "30"]) as child:
        try:
            deadline = time.monotonic() + 5
            while child.pid not in processes_named("sleep") and time.monotonic() < deadline:
                time.sleep(0.01)  # bounded: until the child has exec'd sleep
            assert child.pid in processes_named("sleep")
            assert os.getpid() not in processes_named("sleep")
            assert child.pid not in processes_named("postgres")
        finally:
            child.kill()


def test_a_served_run_reports_the_database_servers_cpu_per_appeal_only_where_it_was_measured(capsys):
    seen = {"cpu": 3.0, "split": [4, 4], "machine": (0.1, 0.05)}
    assert _report_server(seen, (1000.0, 5.0, 9.0, 0), 2) == pytest.approx(1.5)  # 2,000 appeals
    assert "1.50 ms of CPU per appeal; client" in capsys.readouterr().out
    # What it returns is all the appeal cost: the gateway's CPU and the database server's.
    assert _report_server({**seen, "database_cpu": 1.2}, (1000.0, 5.0, 9.0, 0), 2) == pytest.approx(2.1)
    assert "1.50 ms of CPU per appeal (and PostgreSQL's processes 0.60 ms)" in capsys.readouterr().out
    assert _report_server(seen, (0.0, 0.0, 0.0, 8), 2) is None  # nothing answered: no cost per appeal


def test_the_cpu_per_document_is_the_median_of_rounds_and_never_flattered():
    assert median_cpu([1.4, 1.2, 1.3]) == 1.3
    assert median_cpu([1.2, 1.4]) == 1.4  # of the middle two, the higher cost
    assert median_cpu([]) is None


def test_the_cpu_line_names_each_server_and_the_floors_share_of_the_core_pipelines_cost():
    line = cpu_line({"floor": 0.68, "core": 1.36, "http": 2.2}, rounds=3, postgres=True)
    assert line == (
        "CPU per document, saturated (the median of 3 rounds, the server's processes and a local "
        "PostgreSQL's): HTTP floor 0.68 ms, core pipeline 1.36 ms, full pipeline 2.20 ms; floor / core: 0.50"
    )
    assert cpu_line({"floor": 0.68, "core": None, "http": None}, rounds=1) == (
        "CPU per document, saturated (the server's processes): HTTP floor 0.68 ms, core pipeline n/a, "
        "full pipeline n/a"
    )


def test_the_machine_idle_and_io_wait_shares_come_from_the_difference_of_two_readings():
    before = [100, 0, 50, 1000, 10, 0, 5, 0]
    after = [400, 0, 150, 1400, 110, 0, 35, 0]  # 300 user, 100 system, 400 idle, 100 I/O wait, 30 softirq
    idle, io_wait = idle_shares(before, after)
    assert idle == pytest.approx(400 / 930)
    assert io_wait == pytest.approx(100 / 930)
    assert idle_shares(after, after) == (0.0, 0.0)


def test_the_machine_ticks_are_read_and_grow():
    first = machine_ticks()
    assert len(first) == 8
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:  # bounded: 0.2 s, this process busy or the machine idle
        pass
    second = machine_ticks()
    assert sum(second) > sum(first)
    assert all(b >= a for a, b in zip(first, second, strict=True))


@pytest.fixture
def counting_server():
    """A loopback HTTP server that answers every POST with 201 and keeps each body it was sent."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - the name http.server dispatches to
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # wrk drops its connections at the end of the run, mid-request

    server = Server(("127.0.0.1", 0), Handler)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk (Debian's package) is not installed")
def test_wrk_counts_a_document_sent_again_as_an_error_not_as_throughput(counting_server, tmp_path):
    """Three documents for a one-second run: wrk's threads start their documents again once they have sent
    them all. Those requests are duplicates, which the gateway would answer without storing anything, so the
    run's throughput counts only the three first sendings."""
    port, bodies = counting_server
    docs = [b"<doc>%d</doc>" % i for i in range(3)]
    rate, _p50, _p99, errors = wrk_run(port, docs, connections=2, seconds=1, home=tmp_path)
    assert set(bodies) == set(docs)
    assert len(bodies) > 100  # it did send them again, many times
    assert errors >= len(bodies) - len(docs)  # all but the first sendings
    assert rate <= len(docs) * 1.1  # docs/s of a one-second run: only the first sendings count


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk (Debian's package) is not installed")
def test_for_the_http_floor_a_document_sent_again_is_throughput(counting_server, tmp_path):
    """The floor keeps nothing and does the same work for every document, sent before or not: a wrk thread
    that has sent its share and starts again is still measuring the floor."""
    port, bodies = counting_server
    docs = [b"<doc>%d</doc>" % i for i in range(3)]
    rate, _p50, _p99, errors = wrk_run(
        port, docs, connections=2, seconds=1, home=tmp_path, resends_are_errors=False
    )
    assert len(bodies) > 100
    assert errors == 0
    assert rate > len(docs) * 10  # the resends count: far more than the three first sendings


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk (Debian's package) is not installed")
def test_wrk_reports_no_error_while_every_document_is_new(counting_server, tmp_path):
    port, bodies = counting_server
    docs = [b"<doc>%d</doc>" % i for i in range(200_000)]
    rate, _p50, _p99, errors = wrk_run(port, docs, connections=2, seconds=1, home=tmp_path)
    assert errors == 0
    assert 0 < len(bodies) < len(docs)
    assert len(set(bodies)) == len(bodies)  # no document twice
    assert rate > 0


def test_the_interpreter_is_named_by_its_version_and_its_file():
    line = interpreter()
    assert line.startswith(f"Python {platform.python_version()} (") and line.endswith(")")
    path = line[line.index("(") + 1 : -1]
    assert os.path.isabs(path) and os.path.samefile(path, sys.executable)
