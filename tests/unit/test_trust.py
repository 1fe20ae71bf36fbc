"""Signer certificate validation: chain, validity, key usage, UID, CRL hard-fail, cache. Real certificates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from gateway.errors import Rejection
from gateway.pki import (
    CertifiedKey,
    cert_pem,
    crl_pem,
    issue_cert,
    make_crl,
    make_issuing_ca,
    make_root_ca,
    make_self_signed,
    new_key,
)
from gateway.trust import CertificateVerifier, TrustStore, VerifiedSigner, subject_uid
from tests.fixtures.attacks._kit import reissue

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Pki:
    root: CertifiedKey
    issuing: CertifiedKey
    system: CertifiedKey
    official: CertifiedKey


@pytest.fixture(scope="module")
def pki() -> Pki:
    root = make_root_ca("Test Root CA", not_before=NOW - timedelta(days=30))
    issuing = make_issuing_ca(root, "Test Issuing CA", not_before=NOW - timedelta(days=30))
    system = issue_cert(issuing, "sys-portal", "Portal", "system")
    official = issue_cert(issuing, "off-president", "Alesia Hrynevich", "official")
    return Pki(root, issuing, system, official)


@pytest.fixture(scope="module")
def stranger() -> Pki:
    """An unrelated hierarchy whose names equal ours: only keys tell them apart."""
    root = make_root_ca("Test Root CA", key=new_key("ec-p384"))
    issuing = make_issuing_ca(root, "Test Issuing CA", key=new_key("ec-p256"))
    return Pki(root, issuing, issue_cert(issuing, "sys-portal", "Portal"), issue_cert(issuing, "off-x", "X"))


def write_store(
    directory: Path,
    anchors: Iterable[x509.Certificate],
    intermediates: Iterable[x509.Certificate] = (),
    crls: Iterable[x509.CertificateRevocationList] = (),
) -> TrustStore:
    for sub in ("anchors", "intermediates", "crls"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    (directory / "anchors" / "anchors.pem").write_bytes(b"".join(cert_pem(c) for c in anchors))
    (directory / "intermediates" / "all.pem").write_bytes(b"".join(cert_pem(c) for c in intermediates))
    for i, crl in enumerate(crls):
        (directory / "crls" / f"{i}.crl.pem").write_bytes(crl_pem(crl))
    return TrustStore.load(directory)


def good_crls(pki: Pki, revoked_leaves=(), revoked_cas=()) -> list[x509.CertificateRevocationList]:
    return [make_crl(pki.root, revoked_cas), make_crl(pki.issuing, revoked_leaves)]


@pytest.fixture
def store(tmp_path: Path, pki: Pki) -> TrustStore:
    return write_store(tmp_path / "trust", [pki.root.cert], [pki.issuing.cert], good_crls(pki))


def rejected(verifier: CertificateVerifier, leaf: x509.Certificate, untrusted=(), at=None) -> Rejection:
    with pytest.raises(Rejection) as info:
        verifier.verify(leaf, untrusted, at)
    return info.value


# ---------------------------------------------------------------------------------------------------- good


def test_good_chain_with_the_intermediate_from_the_store(store: TrustStore, pki: Pki) -> None:
    signer = CertificateVerifier(store).verify(pki.system.cert)
    assert isinstance(signer, VerifiedSigner)
    assert signer.uid == "sys-portal"
    assert signer.subject == pki.system.cert.subject.rfc4514_string()
    assert "UID=sys-portal" in signer.subject
    assert signer.issuer == pki.issuing.cert.subject.rfc4514_string()
    assert signer.serial == pki.system.cert.serial_number
    assert signer.fingerprint_sha256 == pki.system.cert.fingerprint(hashes.SHA256()).hex()
    assert signer.not_before == pki.system.cert.not_valid_before_utc
    assert signer.not_after == pki.system.cert.not_valid_after_utc
    assert signer.not_after.tzinfo is not None
    assert signer.chain == (pki.system.cert, pki.issuing.cert, pki.root.cert)
    assert signer.key_usage == ("digitalSignature", "nonRepudiation")
    assert signer.revocation.startswith("good (CRL issued by CN=Test Issuing CA")


def test_good_chain_with_the_intermediate_from_the_document(tmp_path: Path, pki: Pki) -> None:
    store = write_store(tmp_path, [pki.root.cert], [], good_crls(pki))
    verifier = CertificateVerifier(store)
    assert rejected(verifier, pki.official.cert).code == "certificate-untrusted"
    signer = verifier.verify(pki.official.cert, [pki.issuing.cert, pki.official.cert])
    assert signer.uid == "off-president"
    assert signer.chain == (pki.official.cert, pki.issuing.cert, pki.root.cert)


def test_rsa_and_ec_signers_and_an_ec_hierarchy(tmp_path: Path, stranger: Pki) -> None:
    store = write_store(tmp_path, [stranger.root.cert], [stranger.issuing.cert], good_crls(stranger))
    assert CertificateVerifier(store).verify(stranger.system.cert).uid == "sys-portal"


def test_trust_store_reads_several_pem_blocks_and_der_crls(tmp_path: Path, pki: Pki, stranger: Pki) -> None:
    write_store(tmp_path, [pki.root.cert, stranger.root.cert], [pki.issuing.cert, stranger.issuing.cert])
    (tmp_path / "crls" / "root.crl").write_bytes(make_crl(pki.root).public_bytes(serialization.Encoding.DER))
    (tmp_path / "crls" / "both.pem").write_bytes(
        crl_pem(make_crl(pki.issuing)) + crl_pem(make_crl(stranger.issuing))
    )
    store = TrustStore.load(tmp_path)
    assert len(store.anchors) == 2 and len(store.intermediates) == 2 and len(store.crls) == 3
    assert CertificateVerifier(store).verify(pki.system.cert).uid == "sys-portal"


# --------------------------------------------------------------------------------------------- untrusted


def test_self_signed_leaf_is_untrusted(store: TrustStore) -> None:
    selfie = make_self_signed("sys-portal", "Portal")
    assert rejected(CertificateVerifier(store), selfie.cert, [selfie.cert]).code == "certificate-untrusted"


def test_leaf_of_an_unrelated_root_with_the_same_names_is_untrusted(store: TrustStore, stranger: Pki) -> None:
    verifier = CertificateVerifier(store)
    assert rejected(verifier, stranger.system.cert).code == "certificate-untrusted"
    problem = rejected(verifier, stranger.system.cert, [stranger.issuing.cert, stranger.root.cert])
    assert problem.code == "certificate-untrusted"


def test_forged_issuer_signature_is_untrusted(store: TrustStore, pki: Pki) -> None:
    # Same issuer name, signed by a key that is not the issuing CA's.
    impostor = CertifiedKey(pki.issuing.cert, new_key("rsa-2048"))
    forged = issue_cert(impostor, "sys-portal", "Portal")
    assert rejected(CertificateVerifier(store), forged.cert).code == "certificate-untrusted"


def test_key_usage_without_signing_bits_is_untrusted(store: TrustStore, pki: Pki) -> None:
    verifier = CertificateVerifier(store)
    cert_sign = issue_cert(pki.issuing, "sys-portal", "Portal", key_usage=("keyCertSign",))
    problem = rejected(verifier, cert_sign.cert)
    assert problem.code == "certificate-untrusted"
    assert "key usage" in problem.message
    encipher = issue_cert(pki.issuing, "sys-portal", "Portal", key_usage=("keyEncipherment",))
    assert rejected(verifier, encipher.cert).code == "certificate-untrusted"


def test_missing_key_usage_is_untrusted(store: TrustStore, pki: Pki) -> None:
    bare = issue_cert(pki.issuing, "sys-portal", "Portal", key_usage=None)
    problem = rejected(CertificateVerifier(store), bare.cert)
    assert problem.code == "certificate-untrusted"
    assert "key usage" in problem.message.lower()


def test_non_repudiation_alone_is_enough(store: TrustStore, pki: Pki) -> None:
    only_nr = issue_cert(pki.issuing, "off-president", "A", "official", key_usage=("nonRepudiation",))
    assert CertificateVerifier(store).verify(only_nr.cert).key_usage == ("nonRepudiation",)


def test_missing_uid_is_untrusted(store: TrustStore, pki: Pki) -> None:
    anonymous = issue_cert(pki.issuing, None, "Nobody")
    assert subject_uid(anonymous.cert) is None
    problem = rejected(CertificateVerifier(store), anonymous.cert)
    assert problem.code == "certificate-untrusted"
    assert "UID" in problem.message


def test_a_ca_certificate_as_signer_is_untrusted_and_named_so(store: TrustStore, pki: Pki) -> None:
    # Issued by the root, so that only the CA flag is wrong (under the issuing CA, pathLen 0 would be too).
    ca = make_issuing_ca(pki.root, "Portal seal")
    problem = rejected(CertificateVerifier(store), ca.cert)
    assert problem.code == "certificate-untrusted"
    assert "is a CA certificate" in problem.message and "not an end-entity one" in problem.message


def test_a_signer_issued_by_an_end_entity_certificate_is_untrusted_and_named_so(
    store: TrustStore, pki: Pki
) -> None:
    offspring = issue_cert(pki.system, "sys-portal", "Issued by the portal's seal")
    problem = rejected(CertificateVerifier(store), offspring.cert, [pki.system.cert])
    assert problem.code == "certificate-untrusted"
    assert f"is issued by {pki.system.cert.subject.rfc4514_string()}, an end-entity certificate" in (
        problem.message
    )


def test_empty_trust_store_trusts_nothing(tmp_path: Path, pki: Pki) -> None:
    tmp_path.joinpath("anchors").mkdir()
    verifier = CertificateVerifier(TrustStore.load(tmp_path))
    assert rejected(verifier, pki.system.cert).code == "certificate-untrusted"


# ----------------------------------------------------------------------------------------------- validity


def test_expired_leaf(store: TrustStore, pki: Pki) -> None:
    old = issue_cert(
        pki.issuing,
        "sys-portal",
        "Portal",
        not_before=NOW - timedelta(days=20),
        not_after=NOW - timedelta(days=1),
    )
    problem = rejected(CertificateVerifier(store), old.cert)
    assert problem.code == "certificate-expired"
    assert "expired" in problem.message


def test_not_yet_valid_leaf(store: TrustStore, pki: Pki) -> None:
    future = issue_cert(
        pki.issuing,
        "sys-portal",
        "Portal",
        not_before=NOW + timedelta(days=1),
        not_after=NOW + timedelta(days=20),
    )
    problem = rejected(CertificateVerifier(store), future.cert)
    assert problem.code == "certificate-expired"
    assert "not valid before" in problem.message


def test_expired_intermediate(tmp_path: Path, pki: Pki) -> None:
    old_ca = make_issuing_ca(
        pki.root, "Old Issuing CA", not_before=NOW - timedelta(days=20), not_after=NOW - timedelta(days=1)
    )
    leaf = issue_cert(
        old_ca,
        "sys-portal",
        "Portal",
        not_before=NOW - timedelta(days=10),
        not_after=NOW + timedelta(days=10),
    )
    store = write_store(tmp_path, [pki.root.cert], [old_ca.cert], [make_crl(pki.root), make_crl(old_ca)])
    problem = rejected(CertificateVerifier(store), leaf.cert)
    assert problem.code == "certificate-expired"
    assert "Old Issuing CA" in problem.message


def test_expired_leaf_of_an_unrelated_root_is_untrusted(store: TrustStore, stranger: Pki) -> None:
    old = issue_cert(
        stranger.issuing,
        "sys-portal",
        "Portal",
        not_before=NOW - timedelta(days=20),
        not_after=NOW - timedelta(days=1),
    )
    problem = rejected(CertificateVerifier(store), old.cert, [stranger.issuing.cert])
    assert problem.code == "certificate-untrusted"


def test_explicit_time(store: TrustStore, pki: Pki) -> None:
    verifier = CertificateVerifier(store)
    assert verifier.verify(pki.system.cert, at=NOW + timedelta(hours=1)).uid == "sys-portal"
    later = pki.system.cert.not_valid_after_utc + timedelta(seconds=1)
    assert rejected(verifier, pki.system.cert, at=later).code == "certificate-expired"


# --------------------------------------------------------------------------------------------- revocation


def test_revoked_leaf(tmp_path: Path, pki: Pki) -> None:
    store = write_store(
        tmp_path, [pki.root.cert], [pki.issuing.cert], good_crls(pki, revoked_leaves=[pki.system.serial])
    )
    verifier = CertificateVerifier(store)
    problem = rejected(verifier, pki.system.cert)
    assert problem.code == "certificate-revoked"
    assert format(pki.system.serial, "x") in problem.message
    assert verifier.verify(pki.official.cert).uid == "off-president"


def test_revoked_intermediate(tmp_path: Path, pki: Pki) -> None:
    store = write_store(
        tmp_path, [pki.root.cert], [pki.issuing.cert], good_crls(pki, revoked_cas=[pki.issuing.serial])
    )
    problem = rejected(CertificateVerifier(store), pki.system.cert)
    assert problem.code == "certificate-revoked"
    assert "CA certificate" in problem.message


def test_no_crl_for_the_issuing_ca(tmp_path: Path, pki: Pki) -> None:
    store = write_store(tmp_path, [pki.root.cert], [pki.issuing.cert], [make_crl(pki.root)])
    assert rejected(CertificateVerifier(store), pki.system.cert).code == "revocation-unknown"


def test_no_crl_for_the_root_ca(tmp_path: Path, pki: Pki) -> None:
    store = write_store(tmp_path, [pki.root.cert], [pki.issuing.cert], [make_crl(pki.issuing)])
    assert rejected(CertificateVerifier(store), pki.system.cert).code == "revocation-unknown"


def test_stale_crl(tmp_path: Path, pki: Pki) -> None:
    stale = make_crl(pki.issuing, last_update=NOW - timedelta(days=10), next_update=NOW - timedelta(days=3))
    store = write_store(tmp_path, [pki.root.cert], [pki.issuing.cert], [make_crl(pki.root), stale])
    problem = rejected(CertificateVerifier(store), pki.system.cert)
    assert problem.code == "revocation-unknown"
    assert "nextUpdate" in problem.message


def test_crl_from_the_future(tmp_path: Path, pki: Pki) -> None:
    early = make_crl(pki.issuing, last_update=NOW + timedelta(days=1), next_update=NOW + timedelta(days=8))
    store = write_store(tmp_path, [pki.root.cert], [pki.issuing.cert], [make_crl(pki.root), early])
    assert rejected(CertificateVerifier(store), pki.system.cert).code == "revocation-unknown"


def test_crl_signed_by_the_wrong_key(tmp_path: Path, pki: Pki) -> None:
    # Right issuer name, wrong key: it must not be believed, even though it lists nothing.
    forged = make_crl(CertifiedKey(pki.issuing.cert, new_key("rsa-2048")))
    store = write_store(tmp_path, [pki.root.cert], [pki.issuing.cert], [make_crl(pki.root), forged])
    assert rejected(CertificateVerifier(store), pki.system.cert).code == "revocation-unknown"


def test_a_forged_crl_does_not_hide_a_revocation(tmp_path: Path, pki: Pki) -> None:
    forged_empty = make_crl(CertifiedKey(pki.issuing.cert, new_key("rsa-2048")), last_update=NOW)
    genuine = make_crl(pki.issuing, [pki.system.serial], last_update=NOW - timedelta(hours=1))
    store = write_store(
        tmp_path, [pki.root.cert], [pki.issuing.cert], [make_crl(pki.root), genuine, forged_empty]
    )
    assert rejected(CertificateVerifier(store), pki.system.cert).code == "certificate-revoked"


# -------------------------------------------------------------------------------------------------- cache


def test_cache_reuses_the_result_and_reload_sees_a_revocation(tmp_path: Path, pki: Pki) -> None:
    store = write_store(tmp_path / "a", [pki.root.cert], [pki.issuing.cert], good_crls(pki))
    verifier = CertificateVerifier(store)
    first = verifier.verify(pki.system.cert)
    assert verifier.verify(pki.system.cert) is first
    # A re-parsed copy of the same certificate hits the same entry.
    copy = x509.load_pem_x509_certificate(cert_pem(pki.system.cert))
    assert verifier.verify(copy) is first

    revoked = write_store(
        tmp_path / "b",
        [pki.root.cert],
        [pki.issuing.cert],
        good_crls(pki, revoked_leaves=[pki.system.serial]),
    )
    assert verifier.verify(pki.system.cert) is first  # no reload yet: same trust store
    verifier.reload(revoked)
    assert rejected(verifier, pki.system.cert).code == "certificate-revoked"
    # failures are not cached: going back to the good store succeeds again
    verifier.reload(store)
    assert verifier.verify(pki.system.cert) == first


def test_cache_is_not_used_outside_its_validity_window(store: TrustStore, pki: Pki) -> None:
    verifier = CertificateVerifier(store)
    first = verifier.verify(pki.system.cert)
    crl_expiry = min(c.next_update_utc for c in store.crls if c.next_update_utc is not None)
    after_crl = crl_expiry + timedelta(seconds=1)
    assert rejected(verifier, pki.system.cert, at=after_crl).code == "revocation-unknown"
    after_leaf = first.not_after + timedelta(days=1)
    assert rejected(verifier, pki.system.cert, at=after_leaf).code == "certificate-expired"
    assert verifier.verify(pki.system.cert) is first


def test_cache_is_bounded(store: TrustStore, pki: Pki) -> None:
    verifier = CertificateVerifier(store, cache_size=2)
    leaves = [issue_cert(pki.issuing, f"sys-{i}", f"S{i}", key=new_key("ec-p256")).cert for i in range(3)]
    results = [verifier.verify(leaf) for leaf in leaves]
    assert verifier.verify(leaves[2]) is results[2]
    assert verifier.verify(leaves[0]) is not results[0]  # the oldest entry was dropped
    assert verifier.verify(leaves[0]) == results[0]


def test_the_cache_keeps_no_certificate_a_sender_supplied(store: TrustStore, pki: Pki) -> None:
    """X509Data is outside what is signed: anyone can resend a good document with megabytes of extra
    certificates. The cache is keyed by their SHA-256, and only the chain actually used is kept."""
    verifier = CertificateVerifier(store)
    junk = [issue_cert(pki.issuing, f"sys-junk-{i}", "Junk", key=new_key("ec-p256")).cert for i in range(3)]
    first = verifier.verify(pki.system.cert, junk)
    assert first.chain == (pki.system.cert, pki.issuing.cert, pki.root.cert)
    (key,) = verifier._state.cache
    assert [len(part) for part in key] == [32, 32, 32, 32] and all(isinstance(p, bytes) for p in key)
    assert verifier.verify(pki.system.cert, junk) is first  # still a cache hit
    assert verifier.verify(pki.system.cert) is not first  # other certificates supplied: another entry


# ------------------------------------------------------------------------- keys `cryptography` cannot load

# OIDs as DER, each replaced by one of the same length that `cryptography` cannot load a key for.
P256, SM2_CURVE = bytes.fromhex("06082a8648ce3d030107"), bytes.fromhex("06082a811ccf5501822d")
RSA, UNKNOWN_KEY_TYPE = bytes.fromhex("06092a864886f70d010101"), bytes.fromhex("06092a864886f70d010163")


def test_a_supplied_ca_certificate_whose_key_cannot_be_loaded_is_passed_over(
    store: TrustStore, pki: Pki, stranger: Pki
) -> None:
    """X509Data is the sender's: a CA certificate there with a key of a type `cryptography` does not know is
    tried as an issuer like any other, and a chain that needs it fails with a refusal, not an exception."""
    odd_ca = reissue(pki.issuing.cert, pki.root, replace=(RSA, UNKNOWN_KEY_TYPE))
    verifier = CertificateVerifier(store)
    assert verifier.verify(pki.system.cert, [odd_ca]).uid == "sys-portal"
    # Same issuer name as ours: the search for a path ignoring time tries odd_ca's key too.
    assert rejected(verifier, stranger.system.cert, [odd_ca]).code == "certificate-untrusted"


def test_the_chain_check_does_not_load_the_signers_own_key(store: TrustStore, pki: Pki) -> None:
    """The chain's signatures are the issuers'; a signer key outside the profile is refused earlier, by
    gateway.xml.signatures (signature-profile), and must not crash this step either."""
    odd = reissue(pki.system.cert, pki.issuing, replace=(P256, SM2_CURVE))
    assert CertificateVerifier(store).verify(odd).uid == "sys-portal"
