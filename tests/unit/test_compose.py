"""The gateway's own documents are written in canonical form by hand (gateway.xml.compose) and signed from
those bytes (Signer.sign_canonical). Whether that is right is judged by others: lxml's exclusive c14n of the
parsed document must give the same bytes, and libxmlsec1, signxml and Debian's xmlsec1 must verify the
signatures -- for text that needs escaping, non-ASCII and astral characters, and characters XML cannot
carry."""

from __future__ import annotations

import shutil

import pytest
import signxml
from lxml import etree

from gateway.pki.dev_ca import cert_pem
from gateway.xml import ns
from gateway.xml.compose import Composer, canonical_text
from tests.unit.test_signer import _libxmlsec1_verifies, debian_xmlsec1_verifies

TEXTS = [
    "",
    "plain",
    "a & b < c > d",
    "quotes \" and ' stay as they are",
    "]]> is not special in text",
    "carriage\r\nreturn and\ttab",
    "Звярот Ніне Пятровіч",
    "astral 𝔷𝔳𝔞𝔯𝔬𝔱 and 🙂",
    "&amp; already escaped stays text",
]


def _document(texts: list[str]) -> bytes:
    doc = Composer("StatusUpdate").open("Header").leaf("MessageId", "m-1").close().open("Body")
    for text in texts:
        doc.leaf("Text", text)
    return doc.open("Empty").close().canonical()


def _lxml_canonical(data: bytes) -> bytes:
    return etree.tostring(etree.fromstring(data).getroottree(), method="c14n", exclusive=True)


def test_composed_bytes_are_what_lxml_canonicalises_them_to():
    data = _document(TEXTS)
    assert _lxml_canonical(data) == data
    parsed = etree.fromstring(data)
    assert parsed.tag == ns.zv("StatusUpdate")
    assert [t.text or "" for t in parsed.iter(ns.zv("Text"))] == TEXTS  # what was written is what is read


def test_characters_xml_cannot_carry_become_the_replacement_character():
    text = "nul\x00 bell\x07 escape\x1b surrogate-free \ufffe end"
    data = _document([text])
    assert _lxml_canonical(data) == data
    assert etree.fromstring(data).findtext(f"{{{ns.ZV}}}Body/{{{ns.ZV}}}Text") == (
        "nul\ufffd bell\ufffd escape\ufffd surrogate-free \ufffd end"
    )
    assert canonical_text("\r") == "&#xD;"


def test_an_element_name_outside_the_schemas_naming_is_refused():
    for name in ("Bad Name", "x:Prefixed", "lower", "Inject><Evil", ""):
        with pytest.raises(ValueError):
            Composer("Receipt").leaf(name, "x")


def test_sign_canonical_makes_what_sign_bytes_makes_from_the_tree(signing_key):
    """Same document, same key: the same bytes but for the randomised ECDSA value, and the same digest."""
    _kind, leaf, signer = signing_key
    data = _document(TEXTS)
    fast = signer.sign_canonical(data)
    slow = signer.sign_bytes(etree.fromstring(data))

    def without_value(signed: bytes) -> bytes:
        root = etree.fromstring(signed)
        root[-1][1].text = ""
        return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")

    assert without_value(fast) == without_value(slow)
    assert fast.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<StatusUpdate")
    assert _libxmlsec1_verifies(fast, leaf.cert)
    assert not _libxmlsec1_verifies(fast.replace("Пятровіч".encode(), "Пятровіча".encode()), leaf.cert)


def test_signxml_verifies_a_composed_document(signing_key):
    _kind, leaf, signer = signing_key
    signed = signer.sign_canonical(_document(TEXTS))
    config = signxml.SignatureConfiguration(location="./")
    result = signxml.XMLVerifier().verify(
        signed, x509_cert=cert_pem(leaf.cert).decode(), expect_config=config
    )
    assert "🙂".encode() in etree.tostring(result.signed_xml, encoding="UTF-8")
    with pytest.raises(signxml.exceptions.InvalidSignature):
        signxml.XMLVerifier().verify(
            signed.replace(b"a &amp; b", b"a &amp; c"),
            x509_cert=cert_pem(leaf.cert).decode(),
            expect_config=config,
        )


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="Debian's xmlsec1 is not installed")
def test_debian_xmlsec1_verifies_a_composed_document(signing_key, signing_pki, tmp_path):
    _kind, _leaf, signer = signing_key
    good = signer.sign_canonical(_document(TEXTS))
    assert debian_xmlsec1_verifies(good, signing_pki, tmp_path)
    bad = good.replace(b"carriage&#xD;", b"carriage")
    assert bad != good and not debian_xmlsec1_verifies(bad, signing_pki, tmp_path)
