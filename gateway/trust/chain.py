"""Signer certificate validation: chain to a trust anchor, validity, key usage, UID, CRLs (hard-fail).

SPEC "Signature profile": key material only from X509Data; the chain must reach a trust anchor of the
configured trust store, with KeyUsage digitalSignature or nonRepudiation, valid now; CRLs are checked
hard-fail for every non-root certificate. Every failure is a `Rejection` with one of the codes
`certificate-untrusted`, `certificate-expired`, `certificate-revoked` or `revocation-unknown`.

Chain building and signature/basicConstraints/pathLen checks are delegated to `cryptography.x509.verification`
(the web-PKI profile for CA certificates; for the signer certificate the end-entity profile without the
subjectAltName and extendedKeyUsage requirements, which document-signing certificates do not meet). Which
code a failure gets is decided here:

* the signer's own profile (not a CA certificate, KeyUsage, UID) is checked first -> `certificate-untrusted`;
* when the library finds no chain, we look for a path ignoring time; if one exists, some certificate on it is
  outside its validity at `at`, and the library accepts that path at a moment where every certificate on it is
  valid, the answer is `certificate-expired`, otherwise `certificate-untrusted`. (So an expired certificate
  that chains to nothing trusted is `certificate-untrusted`: being expired is not its problem.)

Results are cached per (signer certificate, untrusted certificates) -- keyed by certificate content, i.e. the
DER -- and reused while `at` lies inside the window where every certificate of the chain and every CRL used is
valid. Failures are never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import verification

from gateway.errors import Rejection
from gateway.trust.identity import subject_uids
from gateway.trust.store import TrustStore

CACHE_SIZE = 4096
_SHA256 = hashes.SHA256()
MAX_UNTRUSTED = 32  # certificates a document may carry in X509Data besides the signer's
MAX_CHAIN_DEPTH = 8
_CRL_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)

_KEY_USAGE_BITS = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)


@dataclass(frozen=True)
class VerifiedSigner:
    uid: str
    subject: str  # RFC 4514
    issuer: str  # RFC 4514
    serial: int
    fingerprint_sha256: str  # hex
    not_before: datetime  # aware, UTC
    not_after: datetime  # aware, UTC
    chain: tuple[x509.Certificate, ...]  # signer first, trust anchor last
    key_usage: tuple[str, ...]
    revocation: str


@dataclass(frozen=True)
class _Cached:
    signer: VerifiedSigner
    valid_from: datetime
    valid_until: datetime


@dataclass
class _State:
    """Everything derived from one TrustStore; replaced as a whole by `reload`."""

    store: TrustStore
    anchors: verification.Store | None
    intermediates: list[x509.Certificate]
    crls_by_issuer: dict[x509.Name, list[x509.CertificateRevocationList]]
    crl_signature_ok: dict[tuple[int, x509.Certificate], bool] = field(default_factory=dict)
    # By the SHA-256 of the signer's and the supplied certificates: X509Data is outside what is signed, so a
    # key holding the certificates themselves would let anyone park megabytes of them here.
    cache: OrderedDict[tuple[bytes, ...], _Cached] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _describe(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or f"serial {cert.serial_number:x}"


def _is_valid_at(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def _time_problem(cert: x509.Certificate, at: datetime, role: str) -> str:
    if at < cert.not_valid_before_utc:
        return f"{role} {_describe(cert)} is not valid before {cert.not_valid_before_utc.isoformat()}"
    return f"{role} {_describe(cert)} expired on {cert.not_valid_after_utc.isoformat()}"


def _key_usage_names(cert: x509.Certificate) -> tuple[str, ...] | None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    return tuple(name for attr, name in _KEY_USAGE_BITS if getattr(usage, attr))


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _end_entity_issuer(leaf: x509.Certificate, helpers: list[x509.Certificate]) -> x509.Certificate | None:
    """A certificate that is not a CA's but signed `leaf` (e.g. a signer's seal used to issue another)."""
    for cert in helpers:
        if cert.subject != leaf.issuer:
            continue
        try:
            if not _is_ca(cert):
                leaf.verify_directly_issued_by(cert)
                return cert
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
    return None


def _may_sign_crls(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value.crl_sign
    except x509.ExtensionNotFound:
        return True  # no KeyUsage: not restricted (RFC 5280 4.2.1.3)


def _leaf_policy() -> verification.ExtensionPolicy:
    # Web-PKI end-entity profile (no CA flag, no keyCertSign, no unknown critical extensions, ...) minus the
    # TLS-specific requirements: document-signing certificates need neither a subjectAltName nor clientAuth.
    return (
        verification.ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None)
        .may_be_present(x509.ExtendedKeyUsage, verification.Criticality.AGNOSTIC, None)
    )


_CA_POLICY = verification.ExtensionPolicy.webpki_defaults_ca()
_EE_POLICY = _leaf_policy()


class CertificateVerifier:
    """Validates signer certificates against one TrustStore (thread-safe; `reload` swaps the store)."""

    def __init__(self, store: TrustStore, *, cache_size: int = CACHE_SIZE):
        self._cache_size = cache_size
        self._state = self._make_state(store)

    @property
    def store(self) -> TrustStore:
        return self._state.store

    def reload(self, store: TrustStore) -> None:
        """Use another trust store (e.g. new CRLs); forgets every cached result."""
        self._state = self._make_state(store)

    def cache_clear(self) -> None:
        state = self._state
        with state.lock:
            state.cache.clear()

    @staticmethod
    def _make_state(store: TrustStore) -> _State:
        by_issuer: dict[x509.Name, list[x509.CertificateRevocationList]] = {}
        for crl in store.crls:
            by_issuer.setdefault(crl.issuer, []).append(crl)
        return _State(
            store=store,
            anchors=verification.Store(list(store.anchors)) if store.anchors else None,
            intermediates=list(store.intermediates),
            crls_by_issuer=by_issuer,
        )

    # ----------------------------------------------------------------------------------------------------

    def verify(
        self,
        leaf: x509.Certificate,
        untrusted: Sequence[x509.Certificate] = (),
        at: datetime | None = None,
    ) -> VerifiedSigner:
        """Validate `leaf` at `at` (default: now) using `untrusted` (the document's other X509Data
        certificates) and the store's intermediates; raise `Rejection` or return the verified signer."""
        state = self._state
        moment = _utc(at)
        key = tuple(c.fingerprint(_SHA256) for c in (leaf, *untrusted))
        hit = state.cache.get(key)
        if hit is not None and hit.valid_from <= moment <= hit.valid_until:
            return hit.signer

        cached = self._verify_uncached(state, leaf, tuple(untrusted), moment)
        with state.lock:
            state.cache[key] = cached
            state.cache.move_to_end(key)
            while len(state.cache) > self._cache_size:
                state.cache.popitem(last=False)
        return cached.signer

    def issued_under_an_anchor(
        self, leaf: x509.Certificate, untrusted: Sequence[x509.Certificate] = ()
    ) -> bool:
        """Whether `leaf` chains, by signatures, to one of the store's trust anchors, whatever the time and
        revocation: for evidence kept beyond its certificate's life (an auditor's witness file, verified in
        full when it was written), that it was issued under our anchors and not under anyone's own CA."""
        state = self._state
        if state.anchors is None:
            return False
        helpers = [*untrusted, *state.store.intermediates]
        return bool(self._paths_ignoring_time(state, leaf, helpers))

    def _verify_uncached(
        self, state: _State, leaf: x509.Certificate, untrusted: tuple[x509.Certificate, ...], at: datetime
    ) -> _Cached:
        if len(untrusted) > MAX_UNTRUSTED:
            raise Rejection(
                "certificate-untrusted",
                f"the document carries {len(untrusted)} certificates; at most {MAX_UNTRUSTED} are accepted",
            )
        uid, usage = self._check_signer_profile(leaf)
        helpers = [c for c in untrusted if c != leaf] + state.intermediates
        chain = self._build_chain(state, leaf, helpers, at)
        revocation, crl_from, crl_until = self._check_revocation(state, chain, at)

        signer = VerifiedSigner(
            uid=uid,
            subject=leaf.subject.rfc4514_string(),
            issuer=leaf.issuer.rfc4514_string(),
            serial=leaf.serial_number,
            fingerprint_sha256=leaf.fingerprint(hashes.SHA256()).hex(),
            not_before=leaf.not_valid_before_utc,
            not_after=leaf.not_valid_after_utc,
            chain=chain,
            key_usage=usage,
            revocation=revocation,
        )
        valid_from = max([c.not_valid_before_utc for c in chain] + [crl_from])
        valid_until = min([c.not_valid_after_utc for c in chain] + [crl_until])
        return _Cached(signer, valid_from, valid_until)

    # ----------------------------------------------------------------------------------------------------

    @staticmethod
    def _check_signer_profile(leaf: x509.Certificate) -> tuple[str, tuple[str, ...]]:
        who = _describe(leaf)
        try:
            usage = _key_usage_names(leaf)
            uids = subject_uids(leaf)
            is_ca = _is_ca(leaf)
        except ValueError as exc:  # malformed/duplicate extensions
            raise Rejection("certificate-untrusted", f"signer certificate {who} is malformed: {exc}") from exc
        if is_ca:
            raise Rejection(
                "certificate-untrusted",
                f"signer certificate {who} is a CA certificate (basicConstraints CA:TRUE), "
                "not an end-entity one",
            )
        if usage is None:
            raise Rejection(
                "certificate-untrusted",
                f"signer certificate {who} has no KeyUsage extension "
                "(key usage digitalSignature or nonRepudiation is required)",
            )
        if "digitalSignature" not in usage and "nonRepudiation" not in usage:
            raise Rejection(
                "certificate-untrusted",
                f"signer certificate {who} has key usage {', '.join(usage) or 'none'}; "
                "digitalSignature or nonRepudiation is required",
            )
        if not uids or not uids[0]:
            raise Rejection("certificate-untrusted", f"signer certificate {who} has no UID in its subject")
        if len(uids) > 1:
            raise Rejection(
                "certificate-untrusted", f"signer certificate {who} has several UIDs in its subject"
            )
        return uids[0], usage

    @staticmethod
    def _library_verify(
        state: _State, leaf: x509.Certificate, helpers: list[x509.Certificate], at: datetime
    ) -> tuple[x509.Certificate, ...]:
        assert state.anchors is not None
        verifier = (
            verification.PolicyBuilder()
            .store(state.anchors)
            .time(at)
            .max_chain_depth(MAX_CHAIN_DEPTH)
            .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
            .build_client_verifier()
        )
        return tuple(verifier.verify(leaf, helpers).chain)

    def _build_chain(
        self, state: _State, leaf: x509.Certificate, helpers: list[x509.Certificate], at: datetime
    ) -> tuple[x509.Certificate, ...]:
        if state.anchors is None:
            raise Rejection("certificate-untrusted", "the trust store has no trust anchors")
        try:
            return self._library_verify(state, leaf, helpers, at)
        except verification.VerificationError as exc:
            library_error = str(exc)
        raise self._classify_failure(state, leaf, helpers, at, library_error)

    def _classify_failure(
        self,
        state: _State,
        leaf: x509.Certificate,
        helpers: list[x509.Certificate],
        at: datetime,
        library_error: str,
    ) -> Rejection:
        """The library found no valid chain at `at`: is time the only reason (expired) or not (untrusted)?"""
        for path in self._paths_ignoring_time(state, leaf, helpers):
            outside = [(i, c) for i, c in enumerate(path) if not _is_valid_at(c, at)]
            if not outside:
                continue  # this path fails for another reason
            index, cert = outside[0]
            role = (
                "signer certificate"
                if index == 0
                else ("trust anchor" if index == len(path) - 1 else "CA certificate")
            )
            expired = Rejection("certificate-expired", _time_problem(cert, at, role))
            window_start = max(c.not_valid_before_utc for c in path)
            window_end = min(c.not_valid_after_utc for c in path)
            if window_start <= window_end:
                try:
                    self._library_verify(state, leaf, helpers, window_start)
                except verification.VerificationError:
                    continue
                return expired
            # The validity periods never overlap: signatures hold (checked while building), CA flags too?
            if all(_is_ca(c) for c in path[1:]) and not _is_ca(leaf):
                return expired
        issuer = _end_entity_issuer(leaf, helpers)
        if issuer is not None:
            return Rejection(
                "certificate-untrusted",
                f"signer certificate {_describe(leaf)} is issued by {_describe(issuer)}, an end-entity "
                "certificate, not a CA",
            )
        return Rejection(
            "certificate-untrusted",
            f"no valid chain from {_describe(leaf)} to a trust anchor ({library_error})",
        )

    @staticmethod
    def _paths_ignoring_time(
        state: _State, leaf: x509.Certificate, helpers: list[x509.Certificate]
    ) -> list[tuple[x509.Certificate, ...]]:
        """Paths leaf -> anchor whose signatures verify, validity periods ignored (bounded search)."""
        anchors = list(state.store.anchors)
        candidates = anchors + [c for c in helpers if c not in anchors]
        found: list[tuple[x509.Certificate, ...]] = []
        budget = [64]  # signature checks

        def extend(path: tuple[x509.Certificate, ...]) -> None:
            current = path[-1]
            if current in anchors:
                found.append(path)
                return
            if len(path) > MAX_CHAIN_DEPTH:
                return
            for issuer in candidates:
                if issuer in path or issuer.subject != current.issuer or budget[0] <= 0:
                    continue
                budget[0] -= 1
                try:
                    current.verify_directly_issued_by(issuer)
                except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                    continue
                extend((*path, issuer))

        extend((leaf,))
        return found

    # ----------------------------------------------------------------------------------------------------

    def _check_revocation(
        self, state: _State, chain: tuple[x509.Certificate, ...], at: datetime
    ) -> tuple[str, datetime, datetime]:
        """Hard-fail CRL check of every non-root certificate; returns (summary, CRL window start, end)."""
        notes: list[str] = []
        window_start = datetime.min.replace(tzinfo=UTC)
        window_end = datetime.max.replace(tzinfo=UTC)
        for index in range(len(chain) - 1):
            cert, issuer = chain[index], chain[index + 1]
            crl, horizon = self._current_crl(
                state, cert, issuer, at, "signer certificate" if index == 0 else "CA certificate"
            )
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                role = "signer certificate" if index == 0 else "CA certificate"
                raise Rejection(
                    "certificate-revoked",
                    f"{role} {_describe(cert)} (serial {cert.serial_number:x}) was revoked on "
                    f"{entry.revocation_date_utc.isoformat()} (CRL of {_describe(issuer)} issued "
                    f"{crl.last_update_utc.isoformat()})",
                )
            assert crl.next_update_utc is not None
            window_start = max(window_start, crl.last_update_utc)
            window_end = min(window_end, crl.next_update_utc, horizon)
            note = (
                f"good (CRL issued by {_describe(issuer)} at {crl.last_update_utc.isoformat()}, "
                f"valid until {crl.next_update_utc.isoformat()})"
            )
            notes.append(note if index == 0 else f"{_describe(cert)}: {note}")
        return "; ".join(notes), window_start, window_end

    def _current_crl(
        self, state: _State, cert: x509.Certificate, issuer: x509.Certificate, at: datetime, role: str
    ) -> tuple[x509.CertificateRevocationList, datetime]:
        """The newest acceptable CRL of `issuer` current at `at`, and the time the choice may change
        (the earliest lastUpdate of a not-yet-current CRL); `revocation-unknown` if there is none."""
        who = f"{role} {_describe(cert)}"
        candidates = state.crls_by_issuer.get(cert.issuer, [])
        if not candidates:
            raise Rejection("revocation-unknown", f"no CRL of {_describe(issuer)} for {who}")
        if not _may_sign_crls(issuer):
            raise Rejection(
                "revocation-unknown", f"{_describe(issuer)} may not sign CRLs (no cRLSign) for {who}"
            )
        authentic = [crl for crl in candidates if self._crl_acceptable(state, crl, issuer, cert)]
        if not authentic:
            raise Rejection(
                "revocation-unknown",
                f"no CRL for {who} is signed by its issuer {_describe(issuer)} with an accepted "
                "algorithm and full scope",
            )
        current = []
        horizon = datetime.max.replace(tzinfo=UTC)
        for crl in authentic:
            if crl.next_update_utc is None:
                continue
            if crl.last_update_utc > at:
                horizon = min(horizon, crl.last_update_utc)
            elif at <= crl.next_update_utc:
                current.append(crl)
        if not current:
            newest = max(authentic, key=lambda c: c.last_update_utc)
            if newest.next_update_utc is None:
                detail = "has no nextUpdate"
            elif newest.last_update_utc > at:
                detail = f"is not valid before {newest.last_update_utc.isoformat()}"
            else:
                detail = f"expired at its nextUpdate {newest.next_update_utc.isoformat()}"
            raise Rejection("revocation-unknown", f"the CRL of {_describe(issuer)} for {who} {detail}")
        return max(current, key=lambda c: (c.last_update_utc, _crl_number(c))), horizon

    @staticmethod
    def _crl_acceptable(
        state: _State, crl: x509.CertificateRevocationList, issuer: x509.Certificate, cert: x509.Certificate
    ) -> bool:
        key = (id(crl), issuer)  # the CRL objects live as long as the state (state.store holds them)
        ok = state.crl_signature_ok.get(key)
        if ok is None:
            try:
                ok = isinstance(crl.signature_hash_algorithm, _CRL_HASHES) and crl.is_signature_valid(
                    issuer.public_key()
                )
            except (ValueError, TypeError, UnsupportedAlgorithm):
                ok = False
            with state.lock:
                if len(state.crl_signature_ok) >= CACHE_SIZE:
                    state.crl_signature_ok.clear()
                state.crl_signature_ok[key] = ok
        return ok and _full_scope(crl, cert)


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (x509.ExtensionNotFound, ValueError):
        return -1


def _full_scope(crl: x509.CertificateRevocationList, cert: x509.Certificate) -> bool:
    """Is this a complete CRL covering `cert`? Delta and partitioned CRLs are not supported (ignored)."""
    try:
        extensions = crl.extensions
    except ValueError:
        return False
    for ext in extensions:
        if isinstance(ext.value, x509.DeltaCRLIndicator):
            return False
        if isinstance(ext.value, x509.IssuingDistributionPoint):
            idp = ext.value
            if (
                idp.full_name
                or idp.relative_name
                or idp.only_some_reasons
                or idp.indirect_crl
                or idp.only_contains_attribute_certs
            ):
                return False
            if idp.only_contains_user_certs and _is_ca(cert):
                return False
            if idp.only_contains_ca_certs and not _is_ca(cert):
                return False
        elif ext.critical and not isinstance(ext.value, x509.CRLNumber | x509.AuthorityKeyIdentifier):
            return False  # a critical extension we do not understand
    return True
