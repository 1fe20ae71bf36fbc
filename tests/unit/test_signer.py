"""Our Signer makes the profile's signatures itself (gateway.xml.signatures.Signer); independent engines judge
them: libxmlsec1 in process (python-xmlsec, with nothing of our verifier's policy in front), signxml (pure
Python over `cryptography`) and Debian's xmlsec1 on the command line. Each key kind the dev PKI issues, and
documents with what canonicalisation must get right: comments outside the root and inside, whitespace,
namespaces declared on inner elements, non-ASCII text."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest
import signxml
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from gateway.pki.dev_ca import cert_pem, issue_cert, key_pem, new_key
from gateway.xml import ns
from gateway.xml.signatures import Signer

METHOD = {"ec-p256": ns.ECDSA_SHA256, "ec-p384": ns.ECDSA_SHA384, "rsa-2048": ns.RSA_SHA256}

TRICKY = """<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before the root: not signed -->
<Doc xmlns="urn:zvarot:1" xmlns:unused="urn:unused">
  <!-- a comment inside: not signed either -->
  <Text xml:lang="be">Звярот  з   прабеламі
  і радкамі</Text>
  <x:Inner xmlns:x="urn:other" b="2" a="1"><x:Leaf/></x:Inner>
  <Empty></Empty>
</Doc>
"""


def _signed(signer: Signer, text: str = TRICKY) -> bytes:
    tree = etree.ElementTree(etree.fromstring(text.encode()))
    return signer.sign_bytes(tree.getroot())


def _libxmlsec1_verifies(data: bytes, cert: x509.Certificate) -> bool:
    """libxmlsec1 alone: its own reference processing, digest and signature check with the leaf's key."""
    root = etree.fromstring(data)
    signature = root.find(ns.ds("Signature"))
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(
        cert.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        xmlsec.constants.KeyDataFormatPem,
    )
    try:
        ctx.verify(signature)
    except xmlsec.Error:
        return False
    return True


def test_signatures_follow_the_profile(signing_key):
    kind, _leaf, signer = signing_key
    root = etree.fromstring(_signed(signer))
    signature = root[-1]
    assert signature.tag == ns.ds("Signature") and signature.tail is None
    assert (
        signature.find(f"{{{ns.DS}}}SignedInfo/{{{ns.DS}}}SignatureMethod").get("Algorithm") == METHOD[kind]
    )
    reference = signature.find(f"{{{ns.DS}}}SignedInfo/{{{ns.DS}}}Reference")
    assert reference.get("URI") == ""
    assert [t.get("Algorithm") for t in reference.iter(ns.ds("Transform"))] == [ns.ENVELOPED, ns.EXC_C14N]
    value = base64.b64decode(signature.findtext(ns.ds("SignatureValue")))
    # ECDSA as r || s of the curve's width (RFC 4050), never DER; RSA as wide as the modulus.
    assert len(value) == {"ec-p256": 64, "ec-p384": 96, "rsa-2048": 256}[kind]


def test_libxmlsec1_verifies_our_signatures(signing_key):
    _kind, leaf, signer = signing_key
    data = _signed(signer)
    assert _libxmlsec1_verifies(data, leaf.cert)
    # The check can fail: one changed character of signed text and libxmlsec1 refuses.
    assert not _libxmlsec1_verifies(data.replace("радкамі".encode(), "радкамі!".encode()), leaf.cert)


def test_signxml_verifies_our_signatures(signing_key):
    _kind, leaf, signer = signing_key
    data = _signed(signer)
    config = signxml.SignatureConfiguration(location="./")
    result = signxml.XMLVerifier().verify(data, x509_cert=cert_pem(leaf.cert).decode(), expect_config=config)
    signed = etree.tostring(result.signed_xml, method="c14n", exclusive=True)
    assert "Звярот".encode() in signed and b"a comment" not in signed
    with pytest.raises(signxml.exceptions.InvalidSignature):
        signxml.XMLVerifier().verify(
            data.replace(b'b="2"', b'b="3"'),
            x509_cert=cert_pem(leaf.cert).decode(),
            expect_config=config,
        )


def test_a_processing_instruction_before_the_root_is_signed_with_the_document(signing_key):
    """URI="" is the whole document (XMLDSig 4.4.3.2): a processing instruction outside the root is signed
    and kept in what we write out, as libxmlsec1 reads it. (signxml canonicalises the root element only and
    would refuse such a document; the gateway's own documents never have one.)"""
    _kind, leaf, signer = signing_key
    data = _signed(signer, "<?zv-note before the root?>\n" + TRICKY.split("\n", 1)[1])
    assert b"<?zv-note before the root?>" in data
    assert _libxmlsec1_verifies(data, leaf.cert)
    assert not _libxmlsec1_verifies(data.replace(b"before the root?>", b"changed?>"), leaf.cert)


def test_the_digest_is_the_one_libxmlsec1_computes(signing_key):
    """Signed by libxmlsec1's own template machinery, the same document has the same DigestValue: both
    canonicalise the enveloped document the same way (only the ECDSA values differ: they are randomised)."""
    _kind, leaf, signer = signing_key
    ours = etree.fromstring(_signed(signer))
    theirs = etree.fromstring(TRICKY.encode())
    template = xmlsec.template.create(theirs, xmlsec.constants.TransformExclC14N, _transform(leaf), ns="ds")
    theirs.append(template)
    reference = xmlsec.template.add_reference(template, xmlsec.constants.TransformSha256, uri="")
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(key_pem(leaf.key), xmlsec.constants.KeyDataFormatPem)
    ctx.sign(template)
    digest = f"{{{ns.DS}}}SignedInfo/{{{ns.DS}}}Reference/{{{ns.DS}}}DigestValue"
    assert ours[-1].findtext(digest) == template.findtext(digest)


def _transform(leaf):
    name = getattr(getattr(leaf.key, "curve", None), "name", None)
    return {
        "secp256r1": xmlsec.constants.TransformEcdsaSha256,
        "secp384r1": xmlsec.constants.TransformEcdsaSha384,
    }.get(name, xmlsec.constants.TransformRsaSha256)


def debian_xmlsec1_verifies(data: bytes, signing_pki, directory) -> bool:
    """Debian's xmlsec1 on the command line, trusting only the test root, given the issuing CA."""
    root_ca, issuing = signing_pki
    anchor, intermediate, document = directory / "root.pem", directory / "issuing.pem", directory / "doc.xml"
    anchor.write_bytes(cert_pem(root_ca.cert))
    intermediate.write_bytes(cert_pem(issuing.cert))
    document.write_bytes(data)
    command = ["xmlsec1", "--verify", "--trusted-pem", str(anchor), "--untrusted-pem", str(intermediate)]
    command += ["--enabled-key-data", "x509", str(document)]
    return subprocess.run(command, capture_output=True, timeout=60).returncode == 0


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="Debian's xmlsec1 is not installed")
def test_debian_xmlsec1_verifies_our_signatures(signing_key, signing_pki, tmp_path):
    _kind, _leaf, signer = signing_key
    good = _signed(signer)
    assert "радкамі".encode() in good
    assert debian_xmlsec1_verifies(good, signing_pki, tmp_path)
    assert not debian_xmlsec1_verifies(
        good.replace("радкамі".encode(), "радкам".encode()), signing_pki, tmp_path
    )


def test_a_key_that_is_not_the_certificate_s_or_outside_the_profile_is_refused(signing_pki):
    _root, issuing = signing_pki
    leaf = issue_cert(issuing, "sys-signer-test", "Signer test", "system", key=new_key("ec-p256"))
    other = new_key("ec-p256")
    with pytest.raises(ValueError, match="not the key of the first certificate"):
        Signer(key_pem(other), [cert_pem(leaf.cert)])
    with pytest.raises(ValueError, match="not the key of the first certificate"):
        Signer(key_pem(leaf.key), [])
    weak = issue_cert(issuing, "sys-signer-test", "Weak", "system", key=new_key("rsa-1024"))
    with pytest.raises(ValueError, match="1024-bit RSA key"):
        Signer(key_pem(weak.key), [cert_pem(weak.cert)])
    from cryptography.hazmat.primitives.asymmetric import ec

    p521 = ec.generate_private_key(ec.SECP521R1())
    odd = issue_cert(issuing, "sys-signer-test", "P-521", "system", key=p521)
    with pytest.raises(ValueError, match="secp521r1 is not in the profile"):
        Signer(key_pem(odd.key), [cert_pem(odd.cert)])


# The root's context that inclusive c14n would carry into ds:SignedInfo and exclusive c14n must not: xml:*
# attributes, a default namespace, and another namespace bound to the prefix "ds".
CONTEXT = """<Doc xmlns="urn:zvarot:1" xmlns:ds="urn:not-xmldsig" xml:lang="be" xml:space="preserve">
<ds:Note>the prefix ds, bound to something else</ds:Note></Doc>"""


def test_signed_info_is_canonicalised_as_a_verifier_does_where_it_stands(signing_key):
    """The Signer canonicalises ds:SignedInfo once, not in each document: exclusive c14n renders it the same
    in any context. Checked against lxml canonicalising it in the signed document, and by libxmlsec1, which
    does that itself, on a root whose context inclusive c14n would have carried in."""
    _kind, leaf, signer = signing_key
    for text in (TRICKY, CONTEXT):
        data = _signed(signer, text)
        signed_info = etree.fromstring(data)[-1][0]
        in_place = etree.tostring(signed_info, method="c14n", exclusive=True, with_comments=False)
        before, after = signer._signed_info
        digest = signed_info.findtext(f"{{{ns.DS}}}Reference/{{{ns.DS}}}DigestValue").encode()
        assert in_place == before + digest + after
        assert _libxmlsec1_verifies(data, leaf.cert)
    assert not _libxmlsec1_verifies(data.replace(b"something else", b"something new"), leaf.cert)
