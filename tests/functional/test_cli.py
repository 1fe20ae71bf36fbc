"""The `zvarot` command: dev PKI, sign, verify (exit codes, human and JSON output), and `up` serving HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from gateway.interfaces.cli.main import cli
from tests.helpers import ROOT, example, free_port


@pytest.fixture(scope="module")
def own_pki(tmp_path_factory) -> Path:
    """A PKI made by the CLI itself, so that revocation cannot disturb the session's shared one."""
    directory = tmp_path_factory.mktemp("cli-pki")
    result = CliRunner().invoke(cli, ["pki", "init"], env={"ZVAROT_PKI_DIR": str(directory)})
    assert result.exit_code == 0, result.output
    assert (directory / "manifest.json").exists()
    return directory


def _run(*args: str, pki: Path):
    return CliRunner().invoke(cli, list(args), env={"ZVAROT_PKI_DIR": str(pki)})


def _sign(pki: Path, uid: str, tmp_path: Path) -> Path:
    unsigned = tmp_path / "unsigned.xml"
    unsigned.write_bytes(etree.tostring(example("Appeal"), xml_declaration=True, encoding="UTF-8"))
    out = tmp_path / f"{uid}.xml"
    identities = pki / "identities"
    result = _run(
        "sign",
        str(unsigned),
        "--key",
        str(identities / f"{uid}.key.pem"),
        "--cert",
        str(identities / f"{uid}.pem"),
        "-o",
        str(out),
        pki=pki,
    )
    assert result.exit_code == 0, result.output
    return out


def test_sign_then_verify_reports_signer_chain_and_revocation(own_pki, tmp_path):
    signed_file = _sign(own_pki, "sys-portal", tmp_path)
    result = _run("verify", "--json", str(signed_file), pki=own_pki)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["valid"] is True
    assert report["uid"] == "sys-portal"
    assert report["algorithm"].endswith("ecdsa-sha256")
    assert len(report["chain"]) == 3
    assert report["revocation"].startswith("good")

    human = _run("verify", str(signed_file), pki=own_pki)
    assert human.exit_code == 0
    assert "uid: sys-portal" in human.output


def test_verify_says_exactly_what_failed(own_pki, tmp_path):
    signed_file = _sign(own_pki, "sys-portal", tmp_path)
    signed_file.write_bytes(signed_file.read_bytes().replace(b"<Subject>", b"<Subject>X"))
    result = _run("verify", "--json", str(signed_file), pki=own_pki)
    assert result.exit_code == 1
    error = json.loads(result.output)["error"]
    assert error["code"] == "signature-invalid"
    human = _run("verify", str(signed_file), pki=own_pki)
    assert human.exit_code == 1
    assert f"error: signature-invalid: {error['message']}" in human.output.splitlines()  # not a Python dict


def test_issue_and_revoke(own_pki, tmp_path):
    issued = _run("pki", "issue", "--uid", "sys-newcomer", "--kind", "system", pki=own_pki)
    assert issued.exit_code == 0, issued.output
    assert "warning" not in issued.output
    again = _run("pki", "issue", "--uid", "sys-newcomer", "--kind", "system", pki=own_pki)
    assert again.exit_code == 0 and "warning: sys-newcomer had a certificate already" in again.output
    signed_file = _sign(own_pki, "sys-newcomer", tmp_path)
    assert _run("verify", str(signed_file), pki=own_pki).exit_code == 0

    revoked = _run("pki", "revoke", "--uid", "sys-newcomer", pki=own_pki)
    assert revoked.exit_code == 0, revoked.output
    result = _run("verify", "--json", str(signed_file), pki=own_pki)
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == "certificate-revoked"


@pytest.mark.slow
def test_up_sets_up_and_serves_and_a_posted_appeal_gets_a_verifiable_receipt(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "ZVAROT_HOME": str(tmp_path / "var"),
        "ZVAROT_PORT": str(port),
        "ZVAROT_WORKERS": "1",
    }
    env.pop("ZVAROT_DATABASE_URL", None)  # `up` is the embedded default
    env.pop("ZVAROT_PKI_DIR", None)
    env.pop("ZVAROT_TRUST_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway", "up"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    assert json.load(response) == {"status": "ok"}
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "gateway did not come up within 60 s"
                time.sleep(0.2)
        pki = tmp_path / "var" / "pki"
        signed_file = _sign(pki, "sys-portal", tmp_path)
        request = urllib.request.Request(
            f"{base}/api/v1/messages",
            data=signed_file.read_bytes(),
            headers={"Content-Type": "application/xml"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
            receipt = response.read()
        receipt_file = tmp_path / "receipt.xml"
        receipt_file.write_bytes(receipt)
        verified = _run("verify", "--json", str(receipt_file), pki=pki)
        assert verified.exit_code == 0, verified.output
        assert json.loads(verified.output)["uid"] == "zvarot-gateway"
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()


@pytest.mark.slow
def test_demo_drives_an_appeal_through_its_whole_life_over_http(tmp_path):
    env = {**os.environ, "ZVAROT_HOME": str(tmp_path / "var")}
    for name in ("ZVAROT_DATABASE_URL", "ZVAROT_PKI_DIR", "ZVAROT_TRUST_DIR"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "demo"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("HTTP 201  accepted") == 7
    assert "(status closed)" in result.stdout
    assert "Forwarded to" in result.stdout and "Reply sent" in result.stdout


def test_a_bad_setting_is_named_without_a_traceback(tmp_path):
    result = CliRunner().invoke(
        cli, ["migrate"], env={"ZVAROT_HOME": str(tmp_path), "ZVAROT_SQLITE_SYNCHRONOUS": "off"}
    )
    assert result.exit_code == 2
    assert "Error: ZVAROT_SQLITE_SYNCHRONOUS='OFF': expected one of FULL, NORMAL" in result.output
    assert isinstance(result.exception, SystemExit) and not (tmp_path / "zvarot.db").exists()


def test_demo_history_flags_belong_to_a_gateway_the_demo_starts():
    result = CliRunner().invoke(cli, ["demo", "--url", "http://127.0.0.1:9", "--no-demo-history"])
    assert result.exit_code == 2 and "apply to a gateway this command starts" in result.output


def test_verify_judges_the_certificates_as_of_a_given_moment(own_pki, tmp_path):
    """An auditor checks an old receipt as of the moment it states (--at signed), not as of today, when its
    certificate may have expired; any other moment can be given too. Only the gateway's own documents are
    trusted for their time: anyone else's SentAt is a claim."""
    sent_at = datetime.now(UTC).replace(microsecond=0)
    unsigned = tmp_path / "unsigned-receipt.xml"
    receipt = example("Receipt", SentAt=sent_at.isoformat())
    unsigned.write_bytes(etree.tostring(receipt, xml_declaration=True, encoding="UTF-8"))
    identities = own_pki / "identities"
    signed_file = tmp_path / "receipt.xml"
    signing = _run(
        "sign", str(unsigned), "--key", str(identities / "zvarot-gateway.key.pem"),
        "--cert", str(identities / "zvarot-gateway.pem"), "-o", str(signed_file), pki=own_pki,
    )  # fmt: skip
    assert signing.exit_code == 0, signing.output

    at_signing = _run("verify", "--json", "--at", "signed", str(signed_file), pki=own_pki)
    assert at_signing.exit_code == 0, at_signing.output
    assert json.loads(at_signing.output)["checked_at"] == sent_at.isoformat()

    much_later = _run("verify", "--json", "--at", "2100-01-01T00:00:00Z", str(signed_file), pki=own_pki)
    assert much_later.exit_code == 1
    report = json.loads(much_later.output)
    assert report["error"]["code"] == "certificate-expired" and report["checked_at"].startswith("2100-01-01")

    appeal = _sign(own_pki, "sys-portal", tmp_path)  # a sender's document: its SentAt is its own claim
    claimed = json.loads(_run("verify", "--json", "--at", "signed", str(appeal), pki=own_pki).output)
    assert claimed["valid"] is False and claimed["error"]["code"] == "signer-not-authorized"
    assert "ReceivedAt of its receipt" in claimed["error"]["message"]

    no_zone = _run("verify", "--at", "2030-01-01T00:00:00", str(signed_file), pki=own_pki)
    assert no_zone.exit_code == 2 and "no time zone" in no_zone.output


def test_serve_refuses_a_database_that_is_not_migrated_before_it_listens(tmp_path):
    empty = tmp_path / "never-migrated.db"
    env = {"ZVAROT_HOME": str(tmp_path), "ZVAROT_DATABASE_URL": f"sqlite:///{empty}", "ZVAROT_PORT": "1"}
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 2, result.output
    assert "has not been migrated: run `zvarot migrate`" in result.output
    assert "listening" not in result.output and result.exception.__class__ is SystemExit  # no traceback


def test_serve_names_a_database_it_cannot_reach_in_one_line(tmp_path):
    port = free_port()  # nobody listens there
    url = f"postgresql://nobody:secret@127.0.0.1:{port}/zvarot"
    env = {"ZVAROT_HOME": str(tmp_path), "ZVAROT_DATABASE_URL": url}
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 2, result.output
    assert f"cannot reach the database postgresql://…@127.0.0.1:{port}/zvarot: " in result.output
    assert "secret" not in result.output and isinstance(result.exception, SystemExit)  # said, not raised


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["pki", "revoke", "--uid", "nobody"], "Error: no identity 'nobody' in "),
        (["pki", "issue", "--uid", "bad uid", "--kind", "system"], "Error: invalid uid 'bad uid'"),
        (["verify", "--trust-dir", "/nonexistent/trust", "{file}"], "/nonexistent/trust does not exist"),
        (["sign", "/etc/hostname", "--key", "{key}", "--cert", "{cert}"], "Error: malformed-xml: "),
        (["sign", "{file}", "--key", "{cert}", "--cert", "{cert}"], "Error: "),  # the certificate as the key
    ],
)
def test_a_command_that_cannot_do_its_work_says_why_in_one_line_with_status_2(own_pki, tmp_path, args, said):
    """Status 2, not 1: `zvarot verify` exits 1 for an invalid document and must not be read as one."""
    signed_file = _sign(own_pki, "sys-portal", tmp_path)
    identities = own_pki / "identities"
    names = {
        "file": signed_file,
        "key": identities / "sys-portal.key.pem",
        "cert": identities / "sys-portal.pem",
    }
    result = _run(*(a.format(**names) for a in args), pki=own_pki)
    assert result.exit_code == 2, result.output
    assert said in result.output and "(ZVAROT_DEBUG=1 shows where)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert isinstance(result.exception, SystemExit)  # said in that line, not raised


def test_zvarot_debug_lets_the_traceback_through(own_pki):
    result = CliRunner().invoke(
        cli, ["pki", "revoke", "--uid", "nobody"], env={"ZVAROT_PKI_DIR": str(own_pki), "ZVAROT_DEBUG": "1"}
    )
    assert isinstance(result.exception, KeyError)


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"ZVAROT_DATABASE_URL": "mysql://x@127.0.0.1/x"}, "scheme 'mysql': Zvarot runs on SQLite"),
        ({"ZVAROT_PORT": "abc"}, "ZVAROT_PORT='abc': expected a whole number"),
        ({"ZVAROT_DELIVERY_TIMEOUT": "soon"}, "ZVAROT_DELIVERY_TIMEOUT='soon': expected a number"),
    ],
)
def test_a_configuration_it_cannot_use_is_named(tmp_path, env, said):
    result = CliRunner().invoke(cli, ["systems", "list"], env={"ZVAROT_HOME": str(tmp_path), **env})
    assert result.exit_code == 2 and said in result.output and isinstance(result.exception, SystemExit)


def test_a_command_on_a_database_that_is_not_migrated_says_so(tmp_path):
    env = {"ZVAROT_HOME": str(tmp_path), "ZVAROT_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = CliRunner().invoke(cli, ["systems", "list"], env=env)
    assert result.exit_code == 2 and "has not been migrated: run `zvarot migrate`" in result.output


def test_serve_takes_host_port_and_workers_over_the_environment(monkeypatch, database_url, engine, tmp_path):
    from gateway.interfaces.cli import server

    served = []
    monkeypatch.setattr(server, "run_server", lambda settings, announce=None: served.append(settings))
    env = {"ZVAROT_HOME": str(tmp_path), "ZVAROT_DATABASE_URL": database_url, "ZVAROT_HOST": "127.0.0.2"}
    result = CliRunner().invoke(cli, ["serve", "--host", "::1", "--port", "8123", "--workers", "3"], env=env)
    assert result.exit_code == 0, result.output
    assert [(s.host, s.port, s.workers) for s in served] == [("::1", 8123, 3)]
    CliRunner().invoke(cli, ["serve"], env={**env, "ZVAROT_PORT": "8124"})
    assert (served[-1].host, served[-1].port) == ("127.0.0.2", 8124)  # the environment, where not overridden
