"""The gateway's own documents are written in canonical form by hand (gateway.xml.compose) and signed from
those bytes (Signer.sign_canonical). Whether that is right is judged by others: lxml's exclusive c14n of the
parsed document must give the same bytes, and libxmlsec1, signxml and Debian's xmlsec1 must verify the
signatures -- for text that needs escaping, non-ASCII and astral characters, and characters XML cannot
carry."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import signxml
from lxml import etree

from gateway.pki.dev_ca import cert_pem, issue_cert, key_pem, make_issuing_ca, make_root_ca, new_key
from gateway.xml import ns
from gateway.xml.compose import Composer, canonical_text
from gateway.xml.signatures import Signer
from tests.unit.test_signer import KEY_KINDS, _libxmlsec1_verifies

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


@pytest.fixture(scope="module")
def pki():
    root = make_root_ca("Compose Test Root")
    return root, make_issuing_ca(root, "Compose Test Issuing CA")


@pytest.fixture(scope="module", params=KEY_KINDS)
def certified(request, pki):
    _root, issuing = pki
    leaf = issue_cert(issuing, "sys-compose-test", "Compose test", "system", key=new_key(request.param))
    return leaf, Signer(key_pem(leaf.key), [cert_pem(leaf.cert)])


def test_sign_canonical_makes_what_sign_bytes_makes_from_the_tree(certified):
    """Same document, same key: the same bytes but for the randomised ECDSA value, and the same digest."""
    leaf, signer = certified
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


def test_signxml_verifies_a_composed_document(certified):
    leaf, signer = certified
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
def test_debian_xmlsec1_verifies_a_composed_document(certified, pki, tmp_path):
    _leaf, signer = certified
    root_ca, issuing = pki
    anchor, intermediate = tmp_path / "root.pem", tmp_path / "issuing.pem"
    anchor.write_bytes(cert_pem(root_ca.cert))
    intermediate.write_bytes(cert_pem(issuing.cert))
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(signer.sign_canonical(_document(TEXTS)))
    bad.write_bytes(good.read_bytes().replace(b"carriage&#xD;", b"carriage"))
    command = ["xmlsec1", "--verify", "--trusted-pem", str(anchor), "--untrusted-pem", str(intermediate)]
    command += ["--enabled-key-data", "x509"]
    assert subprocess.run([*command, str(good)], capture_output=True, timeout=60).returncode == 0
    assert subprocess.run([*command, str(bad)], capture_output=True, timeout=60).returncode != 0
