"""`zvarot serve` as a real server on loopback: what a slow or absent client body, a second server on the same
port and a killed server do to it (gateway.interfaces.cli.server)."""

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

pytestmark = pytest.mark.slow


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
        assert _healthy(served.base)


def test_the_workers_of_a_killed_server_stop_answering(tmp_path, database_url, pki_dir):
    with gateway_process(tmp_path, database_url, pki_dir) as served:
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=10)
        # Left alone, the worker would go on serving on the port; it notices within a second and ends.
        assert _until(lambda: not _healthy(served.base, timeout=0.5), 15)
