"""`zvarot serve` as a real server on loopback: what a slow or absent client body, a second server on the same
port and a killed server do to it, and that a worker's request to connect anew closes the connection
(gateway.interfaces.cli.server)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.helpers import ROOT, gateway_process

# `zvarot serve` refuses a database that is not migrated: `engine` migrates the session's.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("engine")]


def _healthy(base: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_client_that_never_sends_its_body_holds_the_worker_only_until_the_request_timeout(
    tmp_path, database_url, pki_dir
):
    with gateway_process(tmp_path, database_url, pki_dir, ZVAROT_REQUEST_TIMEOUT="2") as served:
        stuck = socket.create_connection(("127.0.0.1", served.port))
        try:
            stuck.sendall(
                b"POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
                b"Content-Length: 100\r\n\r\n<a/>"
            )
            time.sleep(0.3)
            assert not _healthy(served.base), "one worker, one thread: the stuck body holds it"
            # The watchdog ends the worker after 2 s; granian starts another, which answers.
            assert _until(lambda: _healthy(served.base), 30), served.log_path.read_text()
        finally:
            stuck.close()
        assert "a request ran over 2 s" in served.log_path.read_text()


def test_a_second_server_on_a_taken_port_refuses_to_start(tmp_path, database_url, pki_dir):
    with gateway_process(tmp_path, database_url, pki_dir) as served:
        env = {**os.environ, "ZVAROT_HOST": "127.0.0.1", "ZVAROT_PORT": str(served.port)}
        env["ZVAROT_HOME"], env["ZVAROT_DATABASE_URL"] = str(tmp_path / "second"), database_url
        env["ZVAROT_PKI_DIR"], env["ZVAROT_TRUST_DIR"] = str(pki_dir), str(pki_dir / "trust")
        second = subprocess.run(
            [sys.executable, "-m", "gateway", "serve"], env=env, cwd=ROOT, capture_output=True, timeout=60
        )
        assert second.returncode != 0
        assert b"is a gateway already running?" in second.stderr
        assert b"listening" not in second.stdout  # it never said it was
        assert _healthy(served.base)


def test_the_workers_of_a_killed_server_stop_answering(tmp_path, database_url, pki_dir):
    with gateway_process(tmp_path, database_url, pki_dir) as served:
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=10)
        # Left alone, the worker would go on serving on the port; it notices within a second and ends.
        assert _until(lambda: not _healthy(served.base, timeout=0.5), 15)


def _get_on(sock: socket.socket, path: str = "/healthz") -> dict[str, str]:
    """One keep-alive GET on an open connection; the answer's headers, lower-cased."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: gateway\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "the gateway closed the connection before answering"
        head += chunk
    head, _, body = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200"), lines[0]
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(4096)
        assert chunk, "the gateway closed the connection in the middle of an answer"
        body += chunk
    return headers


def test_a_worker_asks_a_client_to_connect_anew_and_the_server_closes_that_connection(
    tmp_path, database_url, pki_dir
):
    """With 2 workers and the threshold at 0, the worker holding the one connection is always busier than the
    idle other: within a window or two one of its answers says `Connection: close`, and granian closes the
    connection after it (a header WSGI leaves to the server, which granian honours). The client connects
    again and is answered."""
    overrides = {"ZVAROT_WORKERS": "2", "ZVAROT_REBALANCE_BUSY": "0"}
    with gateway_process(tmp_path, database_url, pki_dir, **overrides) as served:
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
            for _ in range(5000):  # bounded: ~2 s of /healthz at most on this machine
                if _get_on(sock).get("connection") == "close":
                    break
            else:
                pytest.fail("no answer asked the client to connect anew")
            assert sock.recv(1) == b"", "the server kept the connection open"
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as again:
            assert "content-length" in _get_on(again)
