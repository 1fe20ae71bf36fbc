"""The attack corpus (tests/fixtures/attacks/) over HTTP: every attack is refused with the code its file name
says, answered by a receipt the gateway signed (or a problem document when the bytes cannot be read as XML),
and nothing reaches the messages table."""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import func, select

from gateway.app import build_gateway, create_app
from gateway.ingest.pipeline import UNREADABLE
from gateway.store.models import Message, RejectedDocument
from gateway.xml import ns
from gateway.xml.parsing import parse_document
from gateway.xml.schemas import SchemaRegistry
from gateway.xml.signatures import verify_document
from tests.fixtures.attacks._kit import Kit, corpus
from tests.helpers import error_codes, post, receipt_field, receipt_of

ATTACKS = corpus()


def _cases(attacks):
    """Parameters per attack; an attack the gateway still accepts (KNOWN_BUG) is a strict xfail."""
    return [
        pytest.param(
            a,
            id=a.id,
            marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=a.known_bug)]
            if a.known_bug
            else [],
        )
        for a in attacks
    ]


# The attacks the corpus must hold at least (more are welcome): <error-code>__<attack_name>.
REQUIRED = {
    # input hardening, no signature needed
    "forbidden-dtd__doctype",
    "forbidden-dtd__xxe_file",
    "forbidden-dtd__billion_laughs",
    "forbidden-dtd__doctype_utf16",
    "too-large__deep_nesting",
    "too-large__oversize",
    "malformed-xml__not_xml",
    "malformed-xml__truncated",
    "unknown-type__foreign_namespace",
    "unknown-type__receipt",
    # signature structure and wrapping
    "signature-profile__wrapping_signed_body_in_object",
    "signature-profile__second_signature",
    "schema-invalid__signature_inside_body",
    "schema-invalid__reference_to_body_id",
    "schema-invalid__root_id_attribute",
    "signature-invalid__text_added_next_to_comment",
    "signature-invalid__tampered_content",
    "signature-invalid__tampered_signature_value",
    "signature-missing__unsigned",
    # algorithms, transforms, keys
    "signature-profile__sha1_digest",
    "signature-profile__rsa_sha1",
    "signature-profile__hmac_sha256",
    "signature-profile__unknown_algorithm",
    "signature-profile__xpath_transform",
    "signature-profile__c14n_with_comments",
    "signature-profile__key_value_only",
    "signature-profile__rsa_1024",
    # certificates
    "certificate-untrusted__self_signed",
    "certificate-untrusted__unrelated_root",
    "certificate-untrusted__no_signing_key_usage",
    "certificate-expired__expired",
    "certificate-expired__not_yet_valid",
    "certificate-revoked__revoked",
    "revocation-unknown__missing_crl",
    "revocation-unknown__stale_crl",
    # identity
    "signer-not-authorized__sender_impersonation",
    "signer-not-authorized__reply_signed_by_other_official",
    "signer-not-authorized__reply_sealed_by_system",
    "signer-not-authorized__official_of_another_agency",
    "signer-not-authorized__unregistered_uid",
    # beyond the list above
    "forbidden-dtd__doctype_after_64k_prolog",
    "too-large__nesting_beyond_depth_limit",
    "unknown-type__enveloping_signature",
    "signature-profile__reference_to_id_in_object",
    "schema-invalid__second_signature_at_root",
    "signature-profile__unsigned_object",
    "signature-profile__too_many_certificates",
    "schema-invalid__attachment_digest_mismatch",
    "schema-invalid__attachment_digest_split_by_comment",
    "signer-not-authorized__status_change_signed_by_other_official",
    "signer-not-authorized__forward_signed_by_other_official",
    "signer-not-authorized__directory_update_signed_by_an_official",
}


@pytest.fixture
def kit(manifest, signers) -> Kit:
    return Kit(manifest, signers)


def _count(gateway, model) -> int:
    with gateway.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_corpus_covers_every_required_attack():
    assert REQUIRED <= {attack.id for attack in ATTACKS}, sorted(REQUIRED - {a.id for a in ATTACKS})


@pytest.mark.parametrize("attack", [a for a in ATTACKS if not a.is_static], ids=lambda a: a.id)
def test_built_attacks_explain_themselves(attack):
    assert (attack.module.__doc__ or "").strip(), f"{attack.path.name} needs a docstring saying what it does"
    assert callable(getattr(attack.module, "build", None))
    assert attack.trust in (None, "revoked", "no_crl", "stale_crl")


@pytest.mark.parametrize("attack", _cases(ATTACKS))
def test_attack_is_refused_with_the_code_its_name_says(attack, kit, gateway, settings, tmp_path):
    data = attack.data(kit)
    target = gateway
    if attack.trust:
        trust_dir = kit.make_trust_dir(attack.trust, tmp_path / "trust")
        target = build_gateway(settings.with_(trust_dir=trust_dir), engine=gateway.engine)
    client = create_app(gateway=target).test_client()

    response = post(client, data)

    assert 400 <= response.status_code < 500, response.data[:500]
    if attack.code in UNREADABLE:
        assert response.content_type == "application/problem+json"
        assert response.json["title"] == attack.code, response.json
    else:
        assert response.headers["Zvarot-Outcome"] == "rejected"
        receipt = receipt_of(response)
        assert receipt.tag == ns.zv("Receipt")
        SchemaRegistry().validate(receipt)
        # Signed by the gateway: checked against the shared trust store (a test's modified store may not
        # vouch for the gateway's own certificate, e.g. without the issuing CA's CRL).
        verified = verify_document(parse_document(response.data))
        assert (
            gateway.certificates.verify(verified.certificate, verified.untrusted_chain).uid
            == "zvarot-gateway"
        )
        assert receipt_field(receipt, "zv:Outcome") == "rejected"
        codes = error_codes(receipt)
        assert codes and codes[0] == attack.code, codes
        with gateway.sessions() as session:
            rejected = session.scalars(select(RejectedDocument)).one()
        assert (rejected.error_code, rejected.body, rejected.receipt) == (attack.code, data, response.data)
    assert _count(gateway, Message) == 0


def test_comment_injected_into_signed_text_is_accepted_but_never_read(kit, client, gateway):
    """Comments are outside exclusive c14n, so `ab<!-- x -->c` still matches the digest of `abc`; what the
    gateway reads must be the signed text, not the text node before the comment."""
    root = kit.example("Appeal")
    kit.find(root, "zv:Body/zv:Subject").text = "abc"
    signed = kit.sign("sys-portal", root)
    injected = signed.replace(b"<Subject>abc</Subject>", b"<Subject>ab<!-- x -->c</Subject>").replace(
        b"<SenderSystem>sys-portal</SenderSystem>", b"<SenderSystem>sys-<!-- x -->portal</SenderSystem>"
    )
    assert injected.count(b"<!-- x -->") == 2
    naive = kit.parse(injected)  # what a reader of the raw tree would see
    assert kit.find(naive, "zv:Body/zv:Subject").text == "ab"
    assert kit.find(naive, "zv:Header/zv:SenderSystem").text == "sys-"

    response = post(client, injected)

    assert response.status_code == 201, response.data
    with gateway.sessions() as session:
        row = session.scalars(select(Message)).one()
    assert row.body == injected  # kept verbatim as evidence
    assert (row.sender_system, row.signer_uid) == ("sys-portal", "sys-portal")
    signed_root = verify_document(parse_document(row.body)).signed_root
    assert kit.find(signed_root, "zv:Body/zv:Subject").text == "abc"
    assert kit.find(signed_root, "zv:Header/zv:SenderSystem").text == "sys-portal"


def test_a_processing_instruction_around_the_root_is_signed_with_the_document_and_accepted(kit, client):
    """Only those inside the root are refused (schema-invalid__processing_instruction_*): one before the root
    splits no field, and URI="" signs it with the rest, so adding one later breaks the signature."""
    root = kit.parse(b"<?zv-note before the root?>\n" + etree.tostring(kit.example("Appeal")))
    data = kit.signers["sys-portal"].sign_bytes(root)  # the whole tree (kit.sign copies the root only)
    assert data.index(b"<?zv-note before the root?>") < data.index(b"<Appeal")

    assert post(client, data).status_code == 201
    added = data.replace(b"<Appeal", b"<?zv-note added?>\n<Appeal", 1)
    assert error_codes(receipt_of(post(client, added))) == ["signature-invalid"]


def test_a_signer_certificate_that_may_not_sign_is_refused_for_what_it_is(kit, client):
    """Without the CA flag to tell the signer's certificate, it is the one that issued none of the others;
    the refusal then says what is wrong with it."""
    expected = {
        "certificate-untrusted__ca_certificate_as_signer": "is a CA certificate",
        "certificate-untrusted__signer_issued_by_end_entity": "an end-entity certificate, not a CA",
    }
    attacks = {a.id: a for a in ATTACKS}
    for attack_id, said in expected.items():
        error = receipt_of(post(client, attacks[attack_id].data(kit))).find(
            "zv:Body/zv:Errors/zv:Error", ns.NSMAP
        )
        assert error.findtext("zv:Code", namespaces=ns.NSMAP) == "certificate-untrusted"
        assert said in error.findtext("zv:Message", namespaces=ns.NSMAP), attack_id


def test_two_unrelated_end_entity_certificates_leave_the_signer_unknown(kit, client):
    portal, housing = kit.certified("sys-portal"), kit.certified("sys-dms-housing")
    data = kit.sign_with(portal.key, [portal.cert, housing.cert], kit.example("Appeal"))
    assert error_codes(receipt_of(post(client, data))) == ["signature-profile"]


def test_the_kit_signs_under_the_profile_when_not_told_otherwise(kit, client):
    """Control for the signxml-made attacks: with profile algorithms, a signxml signature is accepted, so each
    of those attacks fails only because of the one thing it changes."""
    portal = kit.certified("sys-portal")
    data = kit.signxml_sign(
        kit.example("Appeal"), key=portal.key, certs=[portal.cert], signature_algorithm="ecdsa-sha256"
    )
    assert post(client, data).status_code == 201


def test_cdata_that_mentions_a_doctype_is_not_a_doctype(kit, client):
    """The DTD defence must refuse declarations, not text: a citizen may quote HTML in a CDATA section."""
    root = kit.example("Appeal")
    kit.find(root, "zv:Body/zv:Text").text = etree.CDATA("The page says: <!DOCTYPE html><html>...</html>")
    data = kit.sign("sys-portal", root)
    assert b"<![CDATA[" in data

    response = post(client, data)

    assert response.status_code == 201, error_codes(receipt_of(response))
