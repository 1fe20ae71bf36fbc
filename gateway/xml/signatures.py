"""XMLDSig under the Zvarot profile (SPEC "Signature profile"): our strict policy in front of libxmlsec1,
and the gateway's own signatures (Signer).

Verification happens in three steps, each of which can reject:
1. the profile: one ds:Signature, a direct child of the root, of XMLDSig elements only; one Reference URI="";
   exactly the transforms enveloped-signature + exclusive c14n without comments; allowlisted algorithms; key
   material only from X509Data; key sizes and curves we accept;
2. the binding: we canonicalise the document without its signature ourselves and compare the digest with the
   Reference's DigestValue, so the content we hand on is byte for byte what was digested;
3. the engine: libxmlsec1 (python-xmlsec) checks the digest and the SignatureValue with the certificate's key
   (an ECDSA value must first be exactly as long as the curve makes it).

Trust in the certificate (chain, validity, revocation, identity) is gateway.trust's job, not this module's.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import Counter, OrderedDict
from copy import deepcopy
from dataclasses import dataclass, field
from functools import cached_property

import xmlsec
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from lxml import etree

from gateway.errors import Rejection
from gateway.xml import ns
from gateway.xml.parsing import parse_trusted

# The signer's certificate and at most 32 others (gateway.trust.chain.MAX_UNTRUSTED), which is more than any
# real chain needs.
MAX_X509_CERTIFICATES = 33
_RSA_METHODS = frozenset({ns.RSA_SHA256, ns.RSA_SHA384, ns.RSA_SHA512, ns.RSA_PSS_SHA256})
_EC_METHODS = frozenset({ns.ECDSA_SHA256, ns.ECDSA_SHA384})
_DIGESTS = {ns.SHA256: hashlib.sha256, ns.SHA384: hashlib.sha384, ns.SHA512: hashlib.sha512}


@dataclass(frozen=True)
class SignaturePolicy:
    """What we accept; the defaults are the SPEC profile and weaker settings must be asked for."""

    signature_methods: frozenset[str] = _RSA_METHODS | _EC_METHODS
    digest_methods: frozenset[str] = frozenset(_DIGESTS)
    min_rsa_bits: int = 2048
    # SPEC sets only a floor; no CA issues more than 8192 bits, and a huge key makes every check costly.
    max_rsa_bits: int = 8192
    ec_curves: frozenset[str] = frozenset({"secp256r1", "secp384r1"})


@dataclass(frozen=True)
class VerifiedSignature:
    """The outcome of a good signature: what was signed, and by which certificate (not yet trusted)."""

    signed_root: etree._Element  # re-parsed from the canonical signed bytes: no comments, no signature
    signed_bytes: bytes
    certificate: x509.Certificate
    untrusted_chain: tuple[x509.Certificate, ...]  # other certificates the signer supplied
    signature_method: str
    digest_method: str
    digest_values: tuple[str, ...] = field(default=())


def _one(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = parent.findall(tag)
    if len(found) != 1:
        raise Rejection("signature-profile", f"expected exactly one {what}, found {len(found)}")
    return found[0]


def _algorithm(el: etree._Element, what: str) -> str:
    algorithm = el.get("Algorithm")
    if not algorithm:
        raise Rejection("signature-profile", f"{what} has no Algorithm")
    return algorithm


def find_signature(root: etree._Element) -> etree._Element:
    """The document's only signature, which must be a direct child of the root."""
    everywhere = root.findall(".//" + ns.ds("Signature"))
    if not everywhere:
        raise Rejection("signature-missing", "the document carries no ds:Signature")
    if len(everywhere) > 1:
        raise Rejection("signature-profile", f"exactly one ds:Signature is allowed, found {len(everywhere)}")
    signature = everywhere[0]
    if signature.getparent() is not root:
        raise Rejection("signature-profile", "ds:Signature must be a direct child of the root element")
    return signature


_SIGNATURE_CHILDREN = [ns.ds("SignedInfo"), ns.ds("SignatureValue"), ns.ds("KeyInfo")]
# XMLDSig and its 1.1 additions (dsig11:ECKeyValue in an EC KeyValue, which SPEC says is ignored like any).
_SIGNATURE_NAMESPACES = (ns.ds(""), f"{{{ns.DSIG11}}}")


def _check_signature_children(signature: etree._Element) -> None:
    # No ds:Object: unsigned content must not ride along in the evidence (nor a second, wrapped signature).
    children = [child.tag for child in signature if isinstance(child.tag, str)]
    if children != _SIGNATURE_CHILDREN:
        names = [etree.QName(tag).localname for tag in children]
        raise Rejection(
            "signature-profile",
            f"ds:Signature must hold exactly SignedInfo, SignatureValue and KeyInfo, found {names}",
        )
    # Nor in KeyInfo or X509Data, which take any element of another namespace (a whole zv:Body too).
    for element in signature.iter(etree.Element):
        if not element.tag.startswith(_SIGNATURE_NAMESPACES):
            raise Rejection(
                "signature-profile",
                f"{etree.QName(element).text} on line {element.sourceline}: inside ds:Signature only XMLDSig "
                "(1.0 and 1.1) elements are allowed; unsigned content must not ride along in the evidence",
                line=element.sourceline,
            )


def _check_signed_info(signature: etree._Element, policy: SignaturePolicy) -> tuple[str, str, str]:
    """Enforce the profile on SignedInfo; returns (signature method, digest method, digest value b64)."""
    signed_info = _one(signature, ns.ds("SignedInfo"), "ds:SignedInfo")
    c14n = _algorithm(
        _one(signed_info, ns.ds("CanonicalizationMethod"), "CanonicalizationMethod"), "CanonicalizationMethod"
    )
    if c14n != ns.EXC_C14N:
        raise Rejection("signature-profile", f"canonicalization {c14n} is not allowed; use exclusive c14n")
    method = _algorithm(_one(signed_info, ns.ds("SignatureMethod"), "SignatureMethod"), "SignatureMethod")
    if method not in policy.signature_methods:
        raise Rejection("signature-profile", f"signature algorithm {method} is not allowed")
    if len(_one(signed_info, ns.ds("SignatureMethod"), "SignatureMethod")):
        raise Rejection(
            "signature-profile", "SignatureMethod parameters (e.g. HMACOutputLength) are not allowed"
        )
    reference = _one(signed_info, ns.ds("Reference"), "ds:Reference")
    if reference.get("URI") != "":
        raise Rejection("signature-profile", f'the Reference must have URI="", not {reference.get("URI")!r}')
    transforms = reference.findall(f"{ns.ds('Transforms')}/{ns.ds('Transform')}")
    algorithms = [t.get("Algorithm") for t in transforms]
    if algorithms != [ns.ENVELOPED, ns.EXC_C14N] or any(len(t) for t in transforms):
        raise Rejection(
            "signature-profile",
            f"transforms must be exactly enveloped-signature then exclusive c14n, got {algorithms}",
        )
    digest_method = _algorithm(_one(reference, ns.ds("DigestMethod"), "DigestMethod"), "DigestMethod")
    if digest_method not in policy.digest_methods:
        raise Rejection("signature-profile", f"digest algorithm {digest_method} is not allowed")
    # base64 may be wrapped over several lines (xmlsec1 wraps at 64 characters): compare it without whitespace
    digest_value = "".join((_one(reference, ns.ds("DigestValue"), "DigestValue").text or "").split())
    return method, digest_method, digest_value


@dataclass(frozen=True)
class _Known:
    """A certificate as read once: the same system's seal arrives on every document it sends."""

    cert: x509.Certificate
    is_ca: bool
    fingerprint: bytes  # SHA-256 of the DER

    @cached_property
    def public_key(self):
        """Loaded only for the signer's certificate: another one (a cross-certificate, a CA's) whose key
        `cryptography` cannot load (bign, GOST) is gateway.trust's to pass over, not a refusal here."""
        return _public_key(self.cert)


class _CertificateCache:
    """Parsed certificates by their DER bytes; parsing and inspecting one costs ~90 us.

    The cache is filled before the certificate is trusted (the chain is checked later, in gateway.trust), so
    anyone can put entries in it: it is bounded by bytes as well as by count, and a certificate larger than
    any real one is parsed every time rather than kept.
    """

    MAX_CACHED_DER = 16 * 1024  # real X.509 certificates are 1-3 KB; a national CA's rarely pass 8 KB
    BUDGET_BYTES = 8 * 1024 * 1024

    def __init__(self, size: int = 4096, budget_bytes: int = BUDGET_BYTES):
        self._known: OrderedDict[bytes, _Known] = OrderedDict()
        self._size = size
        self._budget = budget_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._known)

    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def get(self, der: bytes) -> _Known:
        with self._lock:
            known = self._known.get(der)
            if known is not None:
                self._known.move_to_end(der)
                return known
        # An unreadable certificate (ValueError) is not cached; the key of one is loaded only if it signs.
        cert = x509.load_der_x509_certificate(der)
        known = _Known(cert, _is_ca(cert), cert.fingerprint(_SHA256))
        if len(der) > self.MAX_CACHED_DER:
            return known
        with self._lock:
            if der not in self._known:
                self._known[der] = known
                self._bytes += len(der)
            while len(self._known) > self._size or self._bytes > self._budget:
                evicted, _ = self._known.popitem(last=False)
                self._bytes -= len(evicted)
        return known


def _certificates(signature: etree._Element) -> tuple[_Known, tuple[x509.Certificate, ...]]:
    """The signer's certificate and the others it sent, from X509Data only."""
    key_info = signature.find(ns.ds("KeyInfo"))
    blobs = [] if key_info is None else key_info.findall(f"{ns.ds('X509Data')}/{ns.ds('X509Certificate')}")
    if not blobs:
        raise Rejection("signature-profile", "the signer's certificate must be given in ds:X509Data")
    if len(blobs) > MAX_X509_CERTIFICATES:  # before decoding any: each costs ~35 us to parse
        raise Rejection(
            "signature-profile",
            f"X509Data holds {len(blobs)} certificates; at most {MAX_X509_CERTIFICATES} are accepted",
        )
    certs = []
    for blob in blobs:
        try:
            certs.append(_CERTS.get(base64.b64decode("".join((blob.text or "").split()))))
        except ValueError as exc:
            raise Rejection("signature-profile", f"unreadable X509Certificate: {exc}") from None
    leaves = [c for c in certs if not c.is_ca]
    if len(leaves) != 1:
        # Then the signer's is the one at the end of the chain the others form: a CA certificate, or one
        # issued by an end-entity certificate. Whether it may sign is gateway.trust's call.
        leaves = _chain_ends(certs)
    if len(leaves) != 1:
        raise Rejection(
            "signature-profile",
            "cannot tell the signer's certificate: X509Data must hold exactly one end-entity certificate, or "
            f"exactly one that issued none of the others (found {len(leaves)})",
        )
    return leaves[0], tuple(c.cert for c in certs if c is not leaves[0])


def _chain_ends(certs: list[_Known]) -> list[_Known]:
    """The certificates that issued none of the others, by name (a self-issued one is not its own issuer)."""
    issuers = Counter(c.cert.issuer for c in certs)

    def issued_others(known: _Known) -> bool:
        return issuers[known.cert.subject] - (known.cert.issuer == known.cert.subject) > 0

    return [c for c in certs if not issued_others(c)]


def _public_key(cert: x509.Certificate):
    try:
        return cert.public_key()
    except UnsupportedAlgorithm as exc:  # bign, GOST, SM2...: outside the profile, and no reason for a 500
        raise Rejection(
            "signature-profile",
            f"X509Certificate {cert.subject.rfc4514_string()} holds an unsupported public key "
            f"(algorithm {cert.public_key_algorithm_oid.dotted_string}: {exc})",
        ) from None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _check_key(key, method: str, policy: SignaturePolicy) -> None:
    if isinstance(key, rsa.RSAPublicKey):
        if method not in _RSA_METHODS:
            raise Rejection("signature-profile", f"{method} does not match the certificate's RSA key")
        if key.key_size < policy.min_rsa_bits:
            raise Rejection(
                "signature-profile",
                f"RSA key of {key.key_size} bits; at least {policy.min_rsa_bits} required",
            )
        if key.key_size > policy.max_rsa_bits:
            raise Rejection(
                "signature-profile",
                f"RSA key of {key.key_size} bits; at most {policy.max_rsa_bits} accepted",
            )
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if method not in _EC_METHODS:
            raise Rejection("signature-profile", f"{method} does not match the certificate's EC key")
        if key.curve.name not in policy.ec_curves:
            raise Rejection("signature-profile", f"elliptic curve {key.curve.name} is not allowed")
    else:
        raise Rejection("signature-profile", f"key type {type(key).__name__} is not allowed")


def _check_ecdsa_value_size(signature: etree._Element, key) -> None:
    # r || s, each exactly as wide as the curve (XMLDSig 1.1): libxmlsec1 1.3 also takes them zero-padded,
    # Debian's xmlsec1 (the auditors' tool) does not, and one signature must have one encoding.
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return
    expected = 2 * ((key.curve.key_size + 7) // 8)
    text = "".join((signature.findtext(ns.ds("SignatureValue")) or "").split())
    try:
        size = len(base64.b64decode(text, validate=True))
    except ValueError:
        raise Rejection("signature-invalid", "the SignatureValue is not base64") from None
    if size != expected:
        raise Rejection(
            "signature-invalid",
            f"an ECDSA SignatureValue on {key.curve.name} is {expected} bytes (r and s of "
            f"{expected // 2} each), not {size}",
        )


def canonical_without_signature(root: etree._Element, signature: etree._Element) -> bytes:
    """Exclusive c14n (no comments) of the whole document after the enveloped-signature transform."""
    parent = signature.getparent()
    index = parent.index(signature)
    previous = signature.getprevious()
    tail = signature.tail
    saved = previous.tail if previous is not None else parent.text
    parent.remove(signature)  # lxml removes the tail with the element; the transform keeps it
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    try:
        return etree.tostring(root.getroottree(), method="c14n", exclusive=True, with_comments=False)
    finally:
        if previous is not None:
            previous.tail = saved
        else:
            parent.text = saved
        parent.insert(index, signature)
        signature.tail = tail


class _KeyCache:
    """xmlsec key objects per certificate: building one from a certificate is the costly part."""

    def __init__(self, size: int = 4096):
        self._keys: OrderedDict[bytes, xmlsec.Key] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def key_for(self, known: _Known) -> xmlsec.Key:
        fingerprint = known.fingerprint
        with self._lock:
            key = self._keys.get(fingerprint)
            if key is not None:
                self._keys.move_to_end(fingerprint)
                return key
        # The bare public key, not the certificate: a key that carries its certificate is copied with it into
        # every verification context (~60 us).
        public_pem = known.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key = xmlsec.Key.from_memory(public_pem, xmlsec.constants.KeyDataFormatPem)
        with self._lock:
            self._keys[fingerprint] = key
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)
        return key


_SHA256 = hashes.SHA256()
_KEYS = _KeyCache()
_CERTS = _CertificateCache()


def _engine_verify(signature: etree._Element, known: _Known) -> None:
    ctx = xmlsec.SignatureContext()
    ctx.key = _KEYS.key_for(known)
    # Belt and braces: the engine itself refuses any Reference transform outside the profile. (SignedInfo's
    # algorithms were allowlisted above; restricting them here too would also shut out RSA-PSS, which
    # libxmlsec1 supports but python-xmlsec has no constant for.)
    for transform in (
        xmlsec.constants.TransformEnveloped,
        xmlsec.constants.TransformExclC14N,
        xmlsec.constants.TransformSha256,
        xmlsec.constants.TransformSha384,
        xmlsec.constants.TransformSha512,
    ):
        ctx.enable_reference_transform(transform)
    try:
        ctx.verify(signature)
    except xmlsec.Error as exc:
        raise Rejection("signature-invalid", f"the signature value does not verify ({exc})") from None


def verify_document(root: etree._Element, policy: SignaturePolicy = SignaturePolicy()) -> VerifiedSignature:
    """Check the signature of a parsed document under the profile; returns the signed content."""
    if any(name.lower() == "id" for name in root.attrib):
        raise Rejection("signature-profile", "the root element must not carry an Id attribute")
    signature = find_signature(root)
    _check_signature_children(signature)
    method, digest_method, digest_value = _check_signed_info(signature, policy)
    signer, others = _certificates(signature)
    _check_key(signer.public_key, method, policy)
    signed_bytes = canonical_without_signature(root, signature)
    digest = base64.b64encode(_DIGESTS[digest_method](signed_bytes).digest()).decode()
    if digest != digest_value:
        raise Rejection(
            "signature-invalid", "the content does not match the signed digest (altered after signing)"
        )
    _check_ecdsa_value_size(signature, signer.public_key)
    _engine_verify(signature, signer)
    return VerifiedSignature(
        signed_root=parse_trusted(signed_bytes),
        signed_bytes=signed_bytes,
        certificate=signer.cert,
        untrusted_chain=others,
        signature_method=method,
        digest_method=digest_method,
        digest_values=(digest_value,),
    )


_SIGNING_CURVES = frozenset({"secp256r1", "secp384r1"})


class Signer:
    """Signs documents under the profile with one key loaded once (loading a PEM key costs ~100 ms).

    The signature is made here, not by libxmlsec1: the profile fixes every choice (enveloped signature of the
    whole document, exclusive c14n, SHA-256, one key), which leaves two canonicalisations, one digest and one
    private-key operation. libxmlsec1's general machinery (templates, transform chains, node sets) cost
    ~100 us per signature where these steps take ~45 us, and the gateway signs twice per appeal. Whether
    what we make is right is not ours to judge: the tests verify our signatures with libxmlsec1 (in process
    and Debian's xmlsec1) and with signxml.
    """

    def __init__(self, key_pem: bytes, cert_pems: list[bytes]):
        certs = [c for pem in cert_pems for c in x509.load_pem_x509_certificates(pem)]
        private = serialization.load_pem_private_key(key_pem, password=None)
        # Refused here rather than found out by every verifier: a key that is not the first certificate's, or
        # one the profile does not allow.
        if not certs or certs[0].public_key().public_numbers() != private.public_key().public_numbers():
            raise ValueError("the signing key is not the key of the first certificate given")
        if isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name not in _SIGNING_CURVES:
            raise ValueError(f"elliptic curve {private.curve.name} is not in the profile (P-256, P-384)")
        if isinstance(private, rsa.RSAPrivateKey) and private.key_size < SignaturePolicy().min_rsa_bits:
            raise ValueError(f"a {private.key_size}-bit RSA key is below the profile's minimum")
        if isinstance(private, ec.EllipticCurvePrivateKey):
            self._hash = hashes.SHA384() if private.curve.key_size == 384 else hashes.SHA256()
            method = ns.ECDSA_SHA384 if private.curve.key_size == 384 else ns.ECDSA_SHA256
            self._scalar_bytes = (private.curve.key_size + 7) // 8
        elif isinstance(private, rsa.RSAPrivateKey):
            self._hash, method = hashes.SHA256(), ns.RSA_SHA256
        else:
            raise ValueError(f"cannot sign under the profile with a {type(private).__name__}")
        self._private = private
        self._template = _signature_template(
            method, [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certs]
        )
        # Exclusive c14n renders ds:SignedInfo the same wherever it stands (only the namespaces it uses, and
        # no inherited xml:* attributes), so its canonical form is computed once, split around the digest.
        # tests/unit/test_signer.py compares it with lxml's canonicalisation in the signed document.
        self._signed_info = _split(
            etree.tostring(_with_digest(self._template, _DIGEST_SLOT)[0], method="c14n", exclusive=True),
            _DIGEST_SLOT,
        )
        self._signature_xml = _split(
            etree.tostring(_with_digest(self._template, _DIGEST_SLOT)), _DIGEST_SLOT, _VALUE_SLOT
        )

    @classmethod
    def from_files(cls, key_path, cert_paths) -> Signer:
        with open(key_path, "rb") as fh:
            key_pem = fh.read()
        certs = []
        for path in cert_paths:
            with open(path, "rb") as fh:
                certs.append(fh.read())
        return cls(key_pem, certs)

    def sign(self, root: etree._Element) -> etree._Element:
        """Append an enveloped signature to `root` (in place) and return it."""
        # Digested before the signature is appended (as the last child, with no tail): that is exactly the
        # document the enveloped-signature transform leaves, canonicalised like a verifier does.
        canonical = etree.tostring(root.getroottree(), method="c14n", exclusive=True, with_comments=False)
        digest, value = self._digest_and_value(canonical)
        signature = _with_digest(self._template, digest)
        signature[1].text = value.decode()
        root.append(signature)
        return root

    def sign_canonical(self, canonical: bytes) -> bytes:
        """The signed document for `canonical`: a document already in exclusive-c14n form (as
        gateway.xml.compose writes the gateway's own documents). Its bytes are what is digested, and the
        signature goes in as the root's last child; no tree is built."""
        digest, value = self._digest_and_value(canonical)
        before, between, after = self._signature_xml
        end = canonical.rindex(b"</")  # c14n writes every element with an end tag: this is the root's
        return b"".join(
            (_XML_DECLARATION, canonical[:end], before, digest, between, value, after, canonical[end:])
        )

    def _digest_and_value(self, canonical: bytes) -> tuple[bytes, bytes]:
        digest = base64.b64encode(hashlib.sha256(canonical).digest())
        before, after = self._signed_info
        return digest, base64.b64encode(self._signature_value(before + digest + after))

    def _signature_value(self, data: bytes) -> bytes:
        if isinstance(self._private, rsa.RSAPrivateKey):
            return self._private.sign(data, padding.PKCS1v15(), self._hash)
        # XMLDSig's ECDSA SignatureValue is r || s, each as wide as the curve (RFC 4050), not DER.
        r, s = decode_dss_signature(self._private.sign(data, ec.ECDSA(self._hash)))
        return r.to_bytes(self._scalar_bytes, "big") + s.to_bytes(self._scalar_bytes, "big")

    def sign_bytes(self, root: etree._Element) -> bytes:
        # The whole document, as digested: comments and processing instructions around the root included
        # (the root alone would drop a processing instruction that was signed).
        return etree.tostring(self.sign(root).getroottree(), xml_declaration=True, encoding="UTF-8")


_XML_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"  # as lxml writes it
_DIGEST_SLOT, _VALUE_SLOT = b"zvarotdigestvalueslot", b"zvarotsignaturevalueslot"


def _with_digest(template: etree._Element, digest: bytes) -> etree._Element:
    signature = deepcopy(template)
    signature[0][2][2].text = digest.decode()
    return signature


def _split(serialized: bytes, *slots: bytes) -> tuple[bytes, ...]:
    """`serialized` cut at each slot (each found exactly once, in order); ds:SignatureValue's slot is filled
    here when asked for, since the template leaves it empty."""
    if _VALUE_SLOT in slots:
        serialized = serialized.replace(
            b"<ds:SignatureValue/>", b"<ds:SignatureValue>" + _VALUE_SLOT + b"</ds:SignatureValue>"
        )
    parts, rest = [], serialized
    for slot in slots:
        head, found, rest = rest.partition(slot)
        if not found or slot in rest:
            raise ValueError("signature template: a value slot is missing or repeated")
        parts.append(head)
    return (*parts, rest)


def _signature_template(method: str, certificates_b64: list[str]) -> etree._Element:
    """The profile's ds:Signature with empty DigestValue and SignatureValue, copied for every signature."""
    signature = etree.Element(ns.ds("Signature"), nsmap=ns.NSMAP_DS)
    signed_info = etree.SubElement(signature, ns.ds("SignedInfo"))
    etree.SubElement(signed_info, ns.ds("CanonicalizationMethod"), Algorithm=ns.EXC_C14N)
    etree.SubElement(signed_info, ns.ds("SignatureMethod"), Algorithm=method)
    reference = etree.SubElement(signed_info, ns.ds("Reference"), URI="")
    transforms = etree.SubElement(reference, ns.ds("Transforms"))
    etree.SubElement(transforms, ns.ds("Transform"), Algorithm=ns.ENVELOPED)
    etree.SubElement(transforms, ns.ds("Transform"), Algorithm=ns.EXC_C14N)
    etree.SubElement(reference, ns.ds("DigestMethod"), Algorithm=ns.SHA256)
    etree.SubElement(reference, ns.ds("DigestValue"))
    etree.SubElement(signature, ns.ds("SignatureValue"))
    x509_data = etree.SubElement(etree.SubElement(signature, ns.ds("KeyInfo")), ns.ds("X509Data"))
    for b64 in certificates_b64:
        etree.SubElement(x509_data, ns.ds("X509Certificate")).text = b64
    return signature
