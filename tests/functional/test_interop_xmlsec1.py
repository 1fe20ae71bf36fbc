"""Interop with an independent implementation, Debian's xmlsec1, in both directions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from gateway.store.appeals import OutboxMessage
from gateway.xml import ns
from tests.fixtures.attacks._kit import Kit, corpus
from tests.helpers import about, error_codes, example, new_appeal, post, receipt_field, receipt_of, signed

XMLSEC1 = shutil.which("xmlsec1")
pytestmark = pytest.mark.skipif(
    XMLSEC1 is None and not __import__("os").environ.get("CI"),
    reason="Debian's xmlsec1 is not installed (.ci/run installs it)",
)

_TEMPLATE = f"""<ds:Signature xmlns:ds="{ns.DS}"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="{ns.EXC_C14N}"/><ds:SignatureMethod Algorithm="{{method}}"/>
<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="{ns.ENVELOPED}"/>
<ds:Transform Algorithm="{ns.EXC_C14N}"/></ds:Transforms><ds:DigestMethod Algorithm="{{digest}}"/>
<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>
<ds:KeyInfo>{{key_info}}</ds:KeyInfo></ds:Signature>"""
X509_DATA = "<ds:X509Data><ds:X509Certificate/></ds:X509Data>"


def xmlsec1_sign(
    root: etree._Element,
    identity: dict,
    method: str,
    digest: str,
    tmp_path: Path,
    key_info: str = X509_DATA,
) -> bytes:
    root.append(etree.fromstring(_TEMPLATE.format(method=method, digest=digest, key_info=key_info)))
    template = tmp_path / "template.xml"
    template.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    out = tmp_path / "signed.xml"
    subprocess.run(
        [
            XMLSEC1,
            "--sign",
            "--privkey-pem",
            f"{identity['key']},{identity['cert']}",
            "--output",
            str(out),
            str(template),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out.read_bytes()


def xmlsec1_verify(
    data: bytes, manifest: dict, tmp_path: Path, untrusted: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """`untrusted`: CA certificates the document does not carry (demo signers send their own only)."""
    path = tmp_path / "to-verify.xml"
    path.write_bytes(data)
    return subprocess.run(
        [
            XMLSEC1,
            "--verify",
            "--trusted-pem",
            manifest["root_ca"]["cert"],
            *(arg for pem in untrusted for arg in ("--untrusted-pem", pem)),
            "--enabled-key-data",
            "x509",
            str(path),
        ],
        capture_output=True,
        timeout=60,
    )


def identity(manifest: dict, uid: str) -> dict:
    return next(entry for entry in manifest["identities"] if entry["uid"] == uid)


@pytest.mark.parametrize(
    ("document_type", "uid", "method", "digest"),
    [
        ("Appeal", "sys-portal", ns.ECDSA_SHA256, ns.SHA256),
        ("DirectoryUpdate", "sys-dms-housing", ns.ECDSA_SHA256, ns.SHA512),
        ("AppealReply", "off-housing-dept-head", ns.RSA_SHA256, ns.SHA256),
        ("WorkReport", "off-housing-dept-head", ns.RSA_SHA512, ns.SHA384),
        ("WorkReport", "off-housing-dept-head", ns.RSA_SHA384, ns.SHA512),
    ],
)
def test_documents_signed_by_xmlsec1_are_accepted(
    client, signers, manifest, tmp_path, document_type, uid, method, digest
):
    root = example(document_type)
    if document_type == "AppealReply":  # a reply needs an appeal held by the official who replies
        about(root, new_appeal(client, signers, "off-housing-dept-head")[0])
    data = xmlsec1_sign(root, identity(manifest, uid), method, digest, tmp_path)
    response = post(client, data)
    assert response.status_code == 201, receipt_of(response).findtext(".//{urn:zvarot:1}Message")
    assert receipt_field(receipt_of(response), "zv:Outcome") == "accepted"


def test_key_name_key_value_and_retrieval_method_beside_x509_data_are_ignored(client, manifest, tmp_path):
    """SPEC: KeyValue, KeyName and RetrievalMethod are ignored, not refused; inside ds:Signature only elements
    outside the XMLDSig namespace are (signature-profile__unsigned_body_in_key_info)."""
    key_info = "<ds:KeyName>off-housing-dept-head</ds:KeyName><ds:KeyValue/>" + X509_DATA
    data = xmlsec1_sign(
        example("WorkReport"),
        identity(manifest, "off-housing-dept-head"),
        ns.RSA_SHA256,
        ns.SHA256,
        tmp_path,
        key_info,
    )
    root = etree.fromstring(data)
    assert root.find("ds:Signature/ds:KeyInfo/ds:KeyValue/ds:RSAKeyValue", ns.NSMAP) is not None  # filled in
    retrieval = etree.SubElement(root.find("ds:Signature/ds:KeyInfo", ns.NSMAP), ns.ds("RetrievalMethod"))
    retrieval.set("URI", "http://198.51.100.7/cert.der")  # never fetched: the test would fail on a connection

    response = post(client, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    assert response.status_code == 201, receipt_of(response).findtext(".//{urn:zvarot:1}Message")


def test_xmlsec1_refuses_the_zero_padded_ecdsa_value_the_profile_refuses(manifest, signers, tmp_path):
    """Why the profile wants an ECDSA SignatureValue of exactly twice the curve size: the auditors' tool
    refuses r || s zero-padded, though libxmlsec1 1.3 in process took it."""
    attack = next(a for a in corpus() if a.id == "signature-invalid__ecdsa_padded_signature_value")
    kit = Kit(manifest, signers)
    issuing = (manifest["issuing_ca"]["cert"],)
    honest = kit.sign("sys-portal", kit.example("Appeal"))
    assert xmlsec1_verify(honest, manifest, tmp_path, issuing).returncode == 0
    assert xmlsec1_verify(attack.data(kit), manifest, tmp_path, issuing).returncode != 0


def test_every_kind_of_receipt_verifies_with_xmlsec1(client, signers, manifest, tmp_path):
    data = signed(signers, "sys-portal", example("Appeal"))
    accepted = post(client, data)
    duplicate = post(client, data)
    rejected = post(client, etree.tostring(example("Appeal")))  # unsigned
    assert [r.status_code for r in (accepted, duplicate, rejected)] == [201, 200, 400]
    assert error_codes(receipt_of(rejected)) == ["signature-missing"]
    for response in (accepted, duplicate, rejected):
        result = xmlsec1_verify(response.data, manifest, tmp_path)
        assert result.returncode == 0, result.stderr.decode()
        assert b"OK" in result.stdout + result.stderr


def test_every_status_update_verifies_with_xmlsec1(client, signers, gateway, manifest, tmp_path):
    """SPEC: xmlsec1 verifies every signature the gateway issues -- the StatusUpdates too, of every event."""
    appeal_id, _ = new_appeal(client, signers, "off-housing-dept-head")
    change = example("AppealStatusChange")
    about(change, appeal_id)
    change.find("zv:Body/zv:NewStatus", ns.NSMAP).text = "in_process"
    for tag in ("NewDueDate", "Reason"):
        change.find("zv:Body", ns.NSMAP).remove(change.find(f"zv:Body/zv:{tag}", ns.NSMAP))
    assert post(client, signed(signers, "sys-dms-housing", change)).status_code == 201
    with gateway.sessions() as session:
        documents = session.scalars(
            select(OutboxMessage.document).where(
                OutboxMessage.appeal_id == appeal_id, OutboxMessage.document_type == "StatusUpdate"
            )
        ).all()
    assert len(documents) >= 4  # two events, each for the portal and the housing DMS
    for document in documents:
        result = xmlsec1_verify(document, manifest, tmp_path)
        assert result.returncode == 0, result.stderr.decode()


def test_xmlsec1_notices_a_tampered_receipt(client, signers, manifest, tmp_path):
    """The check above can fail: the same command refuses a receipt altered after signing."""
    response = post(client, signed(signers, "sys-portal", example("Appeal")))
    tampered = response.data.replace(b"<Outcome>accepted</Outcome>", b"<Outcome>rejected</Outcome>")
    assert tampered != response.data
    result = xmlsec1_verify(tampered, manifest, tmp_path)
    assert result.returncode != 0


def test_the_transparency_log_checkpoints_verify_with_xmlsec1(client, signers, gateway, manifest, tmp_path):
    """An auditor checks a LogCheckpoint with the same standard tool as a receipt."""
    new_appeal(client, signers, "off-housing-dept-head")
    checkpoint = gateway.log.extend()
    result = xmlsec1_verify(checkpoint.document, manifest, tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    edited = checkpoint.document.replace(b"<TreeSize>", b"<TreeSize>1")
    assert xmlsec1_verify(edited, manifest, tmp_path).returncode != 0
