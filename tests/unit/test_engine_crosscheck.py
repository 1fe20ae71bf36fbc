"""A second engine: signxml (pure Python over `cryptography`, nothing shared with libxmlsec1) must agree
with our verifier on every valid document, on every receipt the gateway issues, and on every signature-level
attack of the corpus -- or, where signxml is laxer than our profile even when configured as strictly as it
allows, the difference is written down here and our verifier must be the one that refuses."""

from __future__ import annotations

import base64

import pytest
import signxml
from cryptography.exceptions import UnsupportedAlgorithm
from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import SignXMLException

from gateway.errors import Rejection
from gateway.pki.dev_ca import issue_cert, new_key
from gateway.xml import ns
from gateway.xml.parsing import parse_document
from gateway.xml.signatures import verify_document
from tests.fixtures.attacks._kit import Kit, corpus
from tests.functional.test_submit import SIGNED_BY
from tests.helpers import post

# signxml as strict as it can be made to match our profile: X.509 only, the signature a direct child of the
# root, one Reference, the profile's algorithms only.
STRICT = SignatureConfiguration(
    require_x509=True,
    location="./",
    expect_references=1,
    signature_methods=frozenset(
        {
            SignatureMethod.RSA_SHA256,
            SignatureMethod.RSA_SHA384,
            SignatureMethod.RSA_SHA512,
            SignatureMethod.SHA256_RSA_MGF1,
            SignatureMethod.ECDSA_SHA256,
            SignatureMethod.ECDSA_SHA384,
        }
    ),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}),
)
SIGNXML_REFUSES = (SignXMLException, etree.DocumentInvalid)

SIGNATURE_CODES = {"signature-profile", "signature-invalid", "signature-missing"}
SIGNATURE_ATTACKS = [a for a in corpus() if a.code in SIGNATURE_CODES]

# Attacks that signxml 5.2 accepts even with STRICT, and why; only our verifier refuses them.
SIGNXML_IS_LAXER = {
    # SignatureConfiguration has no setting for the canonicalization method or the Reference transforms.
    "signature-profile__c14n_with_comments",
    # location="./" finds the root's own signature and verifies it; a second one nested in its ds:Object is
    # never looked at.
    "signature-profile__second_signature",
    # The Reference "#body" is resolved by Id to the ds:Object and verified; signxml returns that Object as
    # signed_xml and leaves it to the application to notice that this is not the document it was given.
    "signature-profile__reference_to_id_in_object",
    # No minimum key size: a 1024-bit RSA key certified by a CA in ca_pem_file verifies.
    "signature-profile__rsa_1024",
    # ds:Object content is outside SignedInfo and is simply ignored; our profile refuses any ds:Object.
    "signature-profile__unsigned_object",
    # Likewise foreign elements in KeyInfo and X509Data, which the XMLDSig schema admits (##other, lax); our
    # profile refuses any element outside the XMLDSig namespace inside ds:Signature.
    "signature-profile__unsigned_body_in_key_info",
    "signature-profile__foreign_element_in_x509_data",
    # No limit on the certificates in X509Data: it parses all 41 and verifies.
    "signature-profile__too_many_certificates",
}


# Attacks that signxml refuses only by letting `cryptography`'s exception through (for a key it cannot load);
# our verifier answers them with a signed refusal.
SIGNXML_REFUSES_BY_CRASHING = {
    "signature-profile__unsupported_curve",
    "signature-profile__unsupported_key_algorithm",
}


@pytest.fixture
def kit(manifest, signers) -> Kit:
    return Kit(manifest, signers)


@pytest.fixture(scope="session")
def ca_pem_file(manifest, tmp_path_factory) -> str:
    """The dev root and issuing CA as signxml's trust anchors (demo signatures carry only the leaf)."""
    path = tmp_path_factory.mktemp("signxml") / "cas.pem"
    with (
        open(manifest["root_ca"]["cert"], "rb") as root,
        open(manifest["issuing_ca"]["cert"], "rb") as issuing,
    ):
        path.write_bytes(root.read() + issuing.read())
    return str(path)


def _pem(path: str) -> str:
    with open(path) as fh:
        return fh.read()


def signxml_verify(data: bytes, **trust) -> signxml.VerifyResult:
    result = XMLVerifier().verify(data, expect_config=STRICT, **trust)
    assert isinstance(result, signxml.VerifyResult)
    return result


# --- valid documents --------------------------------------------------------------------------------------


@pytest.mark.parametrize("document_type", sorted(SIGNED_BY))
def test_both_engines_accept_every_example_and_agree_on_what_was_signed(kit, ca_pem_file, document_type):
    uid = SIGNED_BY[document_type]
    data = kit.sign(uid, kit.example(document_type))

    ours = verify_document(parse_document(data))
    pinned = signxml_verify(data, x509_cert=_pem(kit.identity(uid)["cert"]))
    chained = signxml_verify(data, ca_pem_file=ca_pem_file)

    assert pinned.signed_data == chained.signed_data == ours.signed_bytes


@pytest.mark.parametrize(
    ("document_type", "method", "digest"),
    [
        ("Appeal", "ecdsa-sha256", "sha256"),
        ("AppealForward", "ecdsa-sha384", "sha512"),
        ("AppealReply", "rsa-sha256", "sha256"),
        ("WorkReport", "rsa-sha512", "sha384"),
        ("DirectoryUpdate", "ecdsa-sha256", "sha384"),
        ("AppealReply", "sha256-rsa-MGF1", "sha256"),
    ],
)
def test_our_verifier_accepts_what_signxml_signs_under_the_profile(kit, document_type, method, digest):
    signer = kit.certified(SIGNED_BY[document_type])
    data = kit.signxml_sign(
        kit.example(document_type),
        key=signer.key,
        certs=[signer.cert],
        signature_algorithm=method,
        digest_algorithm=digest,
    )

    ours = verify_document(parse_document(data))

    assert ours.signed_bytes == signxml_verify(data, x509_cert=kit.pem(signer.cert)).signed_data


def test_both_engines_read_the_signed_text_not_the_injected_comment(kit, ca_pem_file):
    root = kit.example("Appeal")
    kit.find(root, "zv:Body/zv:Subject").text = "abc"
    injected = kit.sign("sys-portal", root).replace(
        b"<Subject>abc</Subject>", b"<Subject>ab<!-- x -->c</Subject>"
    )

    ours = verify_document(parse_document(injected)).signed_root
    theirs = signxml_verify(injected, ca_pem_file=ca_pem_file).signed_xml

    assert theirs is not None
    assert kit.find(ours, "zv:Body/zv:Subject").text == kit.find(theirs, "zv:Body/zv:Subject").text == "abc"


@pytest.mark.parametrize("curve", ["ec-p256", "ec-p384"])
def test_an_ecdsa_signature_value_is_exactly_twice_the_curve_size(kit, ca_pem_file, curve):
    """64 bytes on P-256, 96 on P-384, as both engines accept; r || s zero-padded or one byte short is
    refused before the engine runs (signature-invalid__ecdsa_padded_signature_value)."""
    signer = issue_cert(kit.issuing_ca, "sys-portal", "Portal", "system", key=new_key(curve))
    data = kit.sign_with(signer.key, [signer.cert], kit.example("Appeal"))
    root = parse_document(data)
    value = root.find("ds:Signature/ds:SignatureValue", ns.NSMAP)
    raw = base64.b64decode(value.text)
    assert len(raw) == {"ec-p256": 64, "ec-p384": 96}[curve]
    assert verify_document(root).signed_bytes == signxml_verify(data, ca_pem_file=ca_pem_file).signed_data

    half = len(raw) // 2
    for other in (b"\0" + raw[:half] + b"\0" + raw[half:], raw[:-1]):
        value.text = base64.b64encode(other).decode()
        with pytest.raises(Rejection) as refused:
            verify_document(root)
        assert refused.value.code == "signature-invalid"
        assert (
            f"is {len(raw)} bytes" in refused.value.message and f"not {len(other)}" in refused.value.message
        )


# --- receipts ---------------------------------------------------------------------------------------------


def test_signxml_accepts_every_receipt_of_a_small_flow(kit, client, manifest, tmp_path):
    root = kit.example("Appeal")
    appeal = kit.sign("sys-portal", root)
    kit.find(root, "zv:Body/zv:Subject").text = "Other content, same MessageId"
    submissions = {
        "accepted": appeal,
        "duplicate": appeal,
        "duplicate-conflict": kit.sign("sys-portal", root),
        "reply accepted": kit.sign("off-housing-dept-head", kit.example("AppealReply")),
        "signature-missing": kit.tostring(kit.example("Appeal")),
        "signer-not-authorized": kit.sign(
            "sys-dms-housing", kit.example("Appeal", SenderSystem="sys-portal")
        ),
        "unknown-type": kit.tostring(kit.example("Receipt")),
        "forbidden-dtd": b"<!DOCTYPE Appeal><Appeal xmlns='urn:zvarot:1'/>",
    }
    root_only = tmp_path / "root.pem"  # receipts carry the gateway's certificate and the intermediate
    root_only.write_text(_pem(manifest["root_ca"]["cert"]))
    gateway_cert = _pem(manifest["gateway"]["cert"])

    outcomes = {}
    for label, data in submissions.items():
        response = post(client, data)
        assert response.mimetype == "application/xml", (label, response.data[:300])
        outcomes[label] = response.headers["Zvarot-Outcome"]

        ours = verify_document(parse_document(response.data))
        chained = signxml_verify(response.data, ca_pem_file=str(root_only))
        pinned = signxml_verify(response.data, x509_cert=gateway_cert)

        assert chained.signed_data == pinned.signed_data == ours.signed_bytes, label
    assert set(outcomes.values()) == {"accepted", "duplicate", "rejected"}


# --- signature-level attacks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param(
            a,
            id=a.id,
            marks=[pytest.mark.xfail(strict=True, raises=pytest.fail.Exception, reason=a.known_bug)]
            if a.known_bug
            else [],
        )
        for a in SIGNATURE_ATTACKS
    ],
)
def test_signature_attacks_are_refused_by_our_verifier(kit, attack):
    with pytest.raises(Rejection) as refused:
        verify_document(parse_document(attack.data(kit)))
    assert refused.value.code == attack.code, refused.value.message


@pytest.mark.parametrize("attack", SIGNATURE_ATTACKS, ids=lambda a: a.id)
def test_signxml_refuses_the_same_attacks_unless_documented_laxer(kit, ca_pem_file, attack):
    data = attack.data(kit)
    if attack.id in SIGNXML_IS_LAXER:
        signxml_verify(data, ca_pem_file=ca_pem_file)  # accepted: the note above must stay true
    elif attack.id in SIGNXML_REFUSES_BY_CRASHING:
        with pytest.raises(UnsupportedAlgorithm):
            signxml_verify(data, ca_pem_file=ca_pem_file)
    else:
        with pytest.raises(SIGNXML_REFUSES):
            signxml_verify(data, ca_pem_file=ca_pem_file)


def test_every_laxity_note_names_an_attack_of_the_corpus():
    assert {a.id for a in SIGNATURE_ATTACKS} >= SIGNXML_IS_LAXER | SIGNXML_REFUSES_BY_CRASHING


def test_the_structural_attacks_the_schema_stops_are_refused_by_our_verifier_alone(kit):
    """Defence in depth: the wrapping/placement attacks answered `schema-invalid` (the schema runs first) are
    signature-profile violations for the verifier on its own."""
    # Not structure, and their signatures are good: a wrong attachment digest is content, and a processing
    # instruction inside the root is refused by the parser.
    content = {
        "schema-invalid__attachment_digest_mismatch",
        "schema-invalid__attachment_digest_split_by_comment",
        "schema-invalid__processing_instruction_in_due_date",
        "schema-invalid__processing_instruction_in_message_id",
        "schema-invalid__processing_instruction_in_sender_system",
    }
    structural = [a for a in corpus() if a.code == "schema-invalid" and a.id not in content]
    assert structural and content <= {a.id for a in corpus()}
    for attack in structural:
        root = etree.fromstring(attack.data(kit))  # parsed, but no schema in the way
        with pytest.raises(Rejection) as refused:
            verify_document(root)
        assert refused.value.code == "signature-profile", (attack.id, refused.value.message)
