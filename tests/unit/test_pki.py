"""The development PKI: directory layout, idempotent init, chains, UIDs, revocation, key file modes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from gateway.demo.world import OFFICIALS, SYSTEMS
from gateway.pki import (
    cert_pem,
    crl_pem,
    init_pki,
    issue,
    issue_cert,
    key_pem,
    load_manifest,
    make_crl,
    make_issuing_ca,
    make_root_ca,
    make_self_signed,
    new_key,
    refresh_crls,
    revoke,
)

SYSTEM_IDS = [(s.id, s.name) for s in SYSTEMS]
OFFICIAL_IDS = [(o.id, o.name) for o in OFFICIALS[:2]]


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    init_pki(directory, SYSTEM_IDS, OFFICIAL_IDS)
    return directory


def _cert(path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def _crl(path: Path) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(path.read_bytes())


def _uid(cert: x509.Certificate) -> str:
    (attr,) = cert.subject.get_attributes_for_oid(NameOID.USER_ID)
    return str(attr.value)


def test_init_creates_the_layout_and_manifest(pki_dir: Path) -> None:
    for relative in (
        "ca/root.pem",
        "ca/root.key.pem",
        "ca/issuing.pem",
        "ca/issuing.key.pem",
        "trust/anchors/root.pem",
        "trust/intermediates/issuing.pem",
        "trust/crls/root.crl.pem",
        "trust/crls/issuing.crl.pem",
        "manifest.json",
    ):
        assert (pki_dir / relative).is_file(), relative
    manifest = json.loads((pki_dir / "manifest.json").read_text())
    assert manifest == load_manifest(pki_dir)
    assert manifest["version"] == 1
    assert manifest["trust_dir"] == str((pki_dir / "trust").absolute())
    assert manifest["gateway"]["uid"] == "zvarot-gateway"
    assert Path(manifest["gateway"]["cert"]).is_file() and Path(manifest["gateway"]["key"]).is_file()
    entries = {e["uid"]: e for e in manifest["identities"]}
    assert set(entries) == {uid for uid, _ in SYSTEM_IDS + OFFICIAL_IDS}
    for entry in entries.values():
        assert Path(entry["cert"]).is_absolute() and Path(entry["cert"]).is_file()
        assert Path(entry["key"]).is_file()
        assert entry["revoked"] is False
        cert = _cert(entry["cert"])
        assert int(entry["serial"], 16) == cert.serial_number
        assert entry["not_after"] == cert.not_valid_after_utc.isoformat()
    assert entries["sys-portal"]["kind"] == "system"
    assert entries[OFFICIAL_IDS[0][0]]["kind"] == "official"
    assert entries[OFFICIAL_IDS[0][0]]["name"] == OFFICIAL_IDS[0][1]


def test_init_is_idempotent(pki_dir: Path) -> None:
    before = {p: p.read_bytes() for p in pki_dir.rglob("*") if p.is_file()}
    again = init_pki(pki_dir, [("sys-other", "Other")], [])
    assert again == load_manifest(pki_dir)
    assert "sys-other" not in {e["uid"] for e in again["identities"]}
    after = {p: p.read_bytes() for p in pki_dir.rglob("*") if p.is_file()}
    assert after == before


def test_certificates_chain_root_issuing_leaf_and_carry_the_uid(pki_dir: Path) -> None:
    manifest = load_manifest(pki_dir)
    root = _cert(manifest["root_ca"]["cert"])
    issuing = _cert(manifest["issuing_ca"]["cert"])
    assert root.subject == root.issuer
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    assert issuing.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Zvarot Dev Root CA"
    assert issuing.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Zvarot Dev Issuing CA"
    assert (pki_dir / "trust/anchors/root.pem").read_bytes() == cert_pem(root)
    assert (pki_dir / "trust/intermediates/issuing.pem").read_bytes() == cert_pem(issuing)

    for entry in [manifest["gateway"], *manifest["identities"]]:
        leaf = _cert(entry["cert"])
        leaf.verify_directly_issued_by(issuing)
        assert _uid(leaf) == entry["uid"]
        assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == entry["kind"]
        assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Zvarot dev"
        assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and usage.content_commitment
        public = leaf.public_key()
        if entry["kind"] == "official":
            assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
        else:
            assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"

    for which, issuer in (("root", root), ("issuing", issuing)):
        crl = _crl(pki_dir / f"trust/crls/{which}.crl.pem")
        assert crl.issuer == issuer.subject
        assert crl.is_signature_valid(issuer.public_key())
        assert len(crl) == 0
        assert crl.next_update_utc is not None and crl.last_update_utc is not None
        assert 6.9 < (crl.next_update_utc - crl.last_update_utc).total_seconds() / 86400 <= 7


def test_key_files_are_private(pki_dir: Path) -> None:
    keys = list(pki_dir.rglob("*.key.pem"))
    assert len(keys) == 2 + 1 + len(SYSTEM_IDS) + len(OFFICIAL_IDS)
    for path in keys:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert b"PRIVATE KEY" in path.read_bytes() and b"ENCRYPTED" not in path.read_bytes()


def test_revoke_puts_the_serial_into_the_issuing_crl(tmp_path: Path) -> None:
    init_pki(tmp_path, [("sys-a", "A"), ("sys-b", "B")], [])
    entry = revoke(tmp_path, "sys-a")
    assert entry["revoked"] is True
    crl = _crl(tmp_path / "trust/crls/issuing.crl.pem")
    serial = int(entry["serial"], 16)
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    other = next(e for e in load_manifest(tmp_path)["identities"] if e["uid"] == "sys-b")
    assert crl.get_revoked_certificate_by_serial_number(int(other["serial"], 16)) is None
    issuing = _cert(load_manifest(tmp_path)["issuing_ca"]["cert"])
    assert crl.is_signature_valid(issuing.public_key())
    assert {e["uid"]: e["revoked"] for e in load_manifest(tmp_path)["identities"]} == {
        "sys-a": True,
        "sys-b": False,
    }

    # Re-signing keeps the revocation; re-issuing gives a fresh, unrevoked certificate
    # and keeps the old serial listed.
    refresh_crls(tmp_path, days=3)
    crl = _crl(tmp_path / "trust/crls/issuing.crl.pem")
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl.next_update_utc is not None and crl.last_update_utc is not None
    assert round((crl.next_update_utc - crl.last_update_utc).total_seconds() / 86400) == 3
    renewed = issue(tmp_path, "sys-a", "system")
    assert renewed["revoked"] is False and int(renewed["serial"], 16) != serial
    refresh_crls(tmp_path)
    crl = _crl(tmp_path / "trust/crls/issuing.crl.pem")
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl.get_revoked_certificate_by_serial_number(int(renewed["serial"], 16)) is None


def test_issue_adds_or_replaces_an_identity(tmp_path: Path) -> None:
    init_pki(tmp_path, [("sys-a", "A")], [])
    added = issue(tmp_path, "off-x", "official", name="Official X")
    assert isinstance(_cert(added["cert"]).public_key(), rsa.RSAPublicKey)
    assert _uid(_cert(added["cert"])) == "off-x"
    replaced = issue(tmp_path, "sys-a", "system", key_kind="ec-p384")
    assert replaced["name"] == "A"
    uids = [e["uid"] for e in load_manifest(tmp_path)["identities"]]
    assert sorted(uids) == ["off-x", "sys-a"]
    assert stat.S_IMODE(Path(replaced["key"]).stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        issue(tmp_path, "../escape", "system")
    with pytest.raises(ValueError):
        issue(tmp_path, "sys-c", "gateway")


def test_building_blocks_for_attack_tests() -> None:
    root = make_root_ca("Test Root", key=new_key("ec-p384"))
    issuing = make_issuing_ca(root, "Test Issuing", key=new_key("ec-p256"))
    assert issuing.cert.not_valid_after_utc <= root.cert.not_valid_after_utc
    weak = issue_cert(
        issuing, "sys-weak", "Weak", "system", key=new_key("rsa-1024"), key_usage=None, serial=42
    )
    assert weak.cert.serial_number == 42
    with pytest.raises(x509.ExtensionNotFound):
        weak.cert.extensions.get_extension_for_class(x509.KeyUsage)
    no_uid = issue_cert(issuing, None, "Nobody")
    assert no_uid.cert.subject.get_attributes_for_oid(NameOID.USER_ID) == []
    selfie = make_self_signed("sys-portal")
    assert selfie.cert.subject == selfie.cert.issuer
    selfie.cert.verify_directly_issued_by(selfie.cert)
    crl = make_crl(issuing, [7, 9])
    assert {r.serial_number for r in crl} == {7, 9}
    assert x509.load_pem_x509_crl(crl_pem(crl)) == crl
    assert b"BEGIN PRIVATE KEY" in key_pem(weak.key)
    with pytest.raises(ValueError):
        new_key("dsa-1024")
