"""The verifier's certificate cache is filled before any trust check, so a stranger can put entries in it: it
must stay bounded in bytes, keep no oversized certificate, and give the same answers as parsing afresh."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier
from lxml import etree

from gateway.errors import Rejection
from gateway.pki.dev_ca import issue_cert, new_key
from gateway.xml import ns
from gateway.xml.parsing import parse_document
from gateway.xml.signatures import SignaturePolicy, _CertificateCache, verify_document
from tests.fixtures.attacks._kit import Kit, reissue

_PADDING_OID = ObjectIdentifier("1.3.6.1.4.1.99999.1")  # a private arc: no real extension uses it


def _stranger(padding: int = 0) -> bytes:
    """A self-signed certificate's DER, optionally inflated by an unknown non-critical extension."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stranger")])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
    )
    if padding:
        builder = builder.add_extension(x509.UnrecognizedExtension(_PADDING_OID, b"\0" * padding), False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_a_certificate_seen_again_is_the_same_parsed_object():
    cache = _CertificateCache()
    der = _stranger()
    first = cache.get(der)
    assert cache.get(der) is first
    assert len(cache) == 1 and cache.cached_bytes == len(der)


def test_an_oversized_certificate_is_parsed_every_time_and_never_kept():
    cache = _CertificateCache()
    der = _stranger(padding=32 * 1024)
    assert len(der) > _CertificateCache.MAX_CACHED_DER
    first = cache.get(der)
    assert first.cert.public_bytes(serialization.Encoding.DER) == der
    assert cache.get(der) is not first
    assert len(cache) == 0 and cache.cached_bytes == 0


def test_the_cache_stays_within_its_byte_budget_oldest_out_first():
    ders = [_stranger(padding=4000) for _ in range(6)]
    budget = 3 * max(len(d) for d in ders)  # room for three (ECDSA signatures vary by a byte or two)
    cache = _CertificateCache(size=100, budget_bytes=budget)
    for der in ders:
        cache.get(der)
        assert cache.cached_bytes <= budget
    assert len(cache) == 3
    assert cache.cached_bytes == sum(len(d) for d in ders[3:])
    kept = cache.get(ders[-1])
    assert cache.get(ders[-1]) is kept  # the newest are the ones still held


def test_the_cache_stays_within_its_count():
    cache = _CertificateCache(size=2)
    for _ in range(5):
        cache.get(_stranger())
    assert len(cache) == 2


def test_an_unreadable_certificate_is_refused_and_not_kept():
    cache = _CertificateCache()
    with pytest.raises(ValueError):
        cache.get(b"\x30\x03\x02\x01\x00")
    assert len(cache) == 0


def test_an_rsa_key_above_the_policy_ceiling_is_refused(manifest, signers):
    # The ceiling (8192 bits by default) is tested lowered to 2048: making a real 8193-bit key takes minutes.
    kit = Kit(manifest, signers)
    big = issue_cert(kit.issuing_ca, "off-housing-dept-head", "Big key", "official", key=new_key("rsa-3072"))
    root = parse_document(kit.sign_with(big.key, [big.cert], kit.example("AppealReply")))
    verify_document(root)  # within the default ceiling: the signature itself is good
    root = parse_document(kit.sign_with(big.key, [big.cert], kit.example("AppealReply")))
    with pytest.raises(Rejection) as refused:
        verify_document(root, SignaturePolicy(max_rsa_bits=2048))
    assert refused.value.code == "signature-profile"
    assert "at most 2048" in refused.value.message


def _unloadable_keys(kit) -> dict[str, x509.Certificate]:
    """The portal's seal re-issued with OIDs (as DER) replaced by ones of the same length that `cryptography`
    cannot load a key for, as it cannot load a bign, GOST or SM2 one; by what the refusal must name."""
    portal = kit.certified("sys-portal")
    ec_public_key, unknown_key_type = bytes.fromhex("06072a8648ce3d0201"), bytes.fromhex("06072a8648ce3d0209")
    p256, sm2_curve = bytes.fromhex("06082a8648ce3d030107"), bytes.fromhex("06082a811ccf5501822d")
    return {
        "algorithm 1.2.840.10045.2.9": kit.reissued(portal.cert, replace=(ec_public_key, unknown_key_type)),
        "Curve 1.2.156.10197.1.301": kit.reissued(portal.cert, replace=(p256, sm2_curve)),
    }


def test_a_signer_key_cryptography_cannot_load_is_refused_naming_its_algorithm(manifest, signers):
    """`cert.public_key()` raises UnsupportedAlgorithm, which must become a refusal that says what the key
    is, not an internal error; and only when that certificate is the signer's."""
    cache = _CertificateCache()
    for named, cert in _unloadable_keys(Kit(manifest, signers)).items():
        known = cache.get(cert.public_bytes(serialization.Encoding.DER))  # read, not yet refused
        with pytest.raises(Rejection) as refused:
            _ = known.public_key
        assert refused.value.code == "signature-profile"
        assert "unsupported public key" in refused.value.message and named in refused.value.message


def test_a_ca_certificate_whose_key_cannot_be_loaded_beside_a_good_seal_is_passed_over(
    manifest, signers, gateway
):
    """A cross-certificate or a CA's with a bign or GOST key in X509Data beside a good seal: the signature
    layer hands it on as an untrusted helper, and gateway.trust passes over what it cannot use."""
    kit = Kit(manifest, signers)
    rsa_encryption, unknown = bytes.fromhex("06092a864886f70d010101"), bytes.fromhex("06092a864886f70d01017f")
    odd_ca = reissue(kit.issuing_ca.cert, kit.root_ca, replace=(rsa_encryption, unknown))
    root = etree.fromstring(kit.sign("sys-portal", kit.example("Appeal")))
    extra = etree.SubElement(
        root.find("ds:Signature/ds:KeyInfo/ds:X509Data", ns.NSMAP), ns.ds("X509Certificate")
    )
    extra.text = base64.b64encode(odd_ca.public_bytes(serialization.Encoding.DER)).decode()
    signature = verify_document(root)
    assert signature.certificate == kit.certified("sys-portal").cert
    assert signature.untrusted_chain == (odd_ca,)
    assert gateway.certificates.verify(signature.certificate, signature.untrusted_chain).uid == "sys-portal"
