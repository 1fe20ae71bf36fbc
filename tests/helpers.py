"""Helpers for building, signing and posting documents in tests."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway.xml import ns
from gateway.xml.signatures import Signer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "xsd" / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


# --- documents ----------------------------------------------------------------------------------------------


def example(document_type: str, **replace: str) -> etree._Element:
    """An example document with a fresh MessageId; `replace` sets header fields, e.g. SenderSystem="x"."""
    root = etree.fromstring((EXAMPLES / f"{document_type}.xml").read_bytes())
    root.find("zv:Header/zv:MessageId", ns.NSMAP).text = str(uuid.uuid4())
    for field, value in replace.items():
        root.find(f"zv:Header/zv:{field}", ns.NSMAP).text = value
    return root


def signed(signers: dict[str, Signer], uid: str, root: etree._Element) -> bytes:
    return signers[uid].sign_bytes(copy.deepcopy(root))  # signing appends to the tree: keep `root` reusable


def post(client, data: bytes, content_type: str = "application/xml"):
    return client.post("/api/v1/messages", data=data, content_type=content_type)


def receipt_of(response) -> etree._Element:
    return etree.fromstring(response.data)


def receipt_field(receipt: etree._Element, path: str) -> str | None:
    found = receipt.find(f"zv:Body/{path}", ns.NSMAP)
    return None if found is None else found.text


def error_codes(receipt: etree._Element) -> list[str]:
    return [e.text for e in receipt.findall("zv:Body/zv:Errors/zv:Error/zv:Code", ns.NSMAP)]


def new_appeal(client, signers: dict[str, Signer], *officials: str) -> tuple[str, str]:
    """Submit an appeal from the portal addressed to `officials`; returns (appeal id, tracking code)."""
    root = example("Appeal")
    addressee = root.find("zv:Body/zv:Addressee", ns.NSMAP)
    for child in list(addressee):
        addressee.remove(child)
    for official in officials:
        etree.SubElement(addressee, ns.zv("Official")).text = official
    response = post(client, signed(signers, "sys-portal", root))
    assert response.status_code == 201, error_codes(receipt_of(response))
    appeal = receipt_of(response).find("zv:Body/zv:Appeal", ns.NSMAP)
    return appeal.findtext("zv:AppealId", namespaces=ns.NSMAP), appeal.findtext(
        "zv:TrackingCode", namespaces=ns.NSMAP
    )


def about(root: etree._Element, appeal_id: str) -> etree._Element:
    """Point a document at an existing appeal."""
    root.find("zv:Body/zv:AppealId", ns.NSMAP).text = appeal_id
    return root


def system_token(settings, system_id: str) -> str:
    """A fresh bearer token for `system_id`, issued by the real CLI against the test database."""
    from click.testing import CliRunner

    from gateway.interfaces.cli.main import cli

    env = {
        "ZVAROT_HOME": str(settings.home),
        "ZVAROT_DATABASE_URL": settings.sqlalchemy_url,
        "ZVAROT_PKI_DIR": str(settings.pki_dir),
    }
    result = CliRunner().invoke(cli, ["systems", "token", "--id", system_id], env=env)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def submit_at_once(pipeline, documents: list[bytes]) -> list:
    """Submit `documents` from as many threads released together; returns their outcomes."""
    import threading

    outcomes: list = []
    barrier = threading.Barrier(len(documents))

    def submit(data: bytes) -> None:
        barrier.wait()
        outcomes.append(pipeline.submit(data))

    threads = [threading.Thread(target=submit, args=(data,)) for data in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class GatewayProcess:
    base: str
    port: int
    process: object  # subprocess.Popen
    log_path: Path


@contextmanager
def gateway_process(
    home: Path, database_url: str, pki_dir: Path, **env_overrides: str
) -> Iterator[GatewayProcess]:
    """`python -m gateway serve` (one worker) on a free loopback port, on the given database and PKI, with
    `env_overrides` as ZVAROT_* settings; stopped afterwards. The server log is kept in `home/server.log`."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    env = {
        **os.environ,
        "ZVAROT_HOME": str(home),
        "ZVAROT_DATABASE_URL": database_url,
        "ZVAROT_PKI_DIR": str(pki_dir),
        "ZVAROT_TRUST_DIR": str(pki_dir / "trust"),
        "ZVAROT_HOST": "127.0.0.1",
        "ZVAROT_PORT": str(port),
        "ZVAROT_WORKERS": "1",
        **env_overrides,
    }
    log_path = home / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"], env=env, cwd=ROOT, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the gateway did not come up within 60 s"
                time.sleep(0.2)
        yield GatewayProcess(base, port, process, log_path)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


@contextmanager
def running_gateway(home: Path, database_url: str, pki_dir: Path) -> Iterator[str]:
    """gateway_process's base URL."""
    with gateway_process(home, database_url, pki_dir) as served:
        yield served.base


# --- the database -------------------------------------------------------------------------------------------


@contextmanager
def committed_late(gateway, table, *where, **changes) -> Iterator[None]:
    """The row of `table` that `where` selects, invisible inside the block and committed again at its end with
    its key (and `changes`): what a transaction that took its id or time early and committed late looks like
    to a reader."""
    from sqlalchemy import delete, insert, select

    with gateway.sessions() as session:
        row = session.execute(select(table.__table__).where(*where)).mappings().one()
        session.execute(delete(table).where(*where))
        session.commit()
    yield
    with gateway.sessions() as session:
        session.execute(insert(table.__table__).values({**row, **changes}))
        session.commit()
