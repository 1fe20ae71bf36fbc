"""Trust: the configured trust store, signer certificate validation (chain, validity, CRLs) and identity.

Mechanics only: cryptography, the standard library and gateway.errors (import-linter enforces it).
"""

from gateway.trust.chain import CertificateVerifier, VerifiedSigner
from gateway.trust.identity import subject_uid, subject_uids
from gateway.trust.store import TrustStore

__all__ = ["CertificateVerifier", "TrustStore", "VerifiedSigner", "subject_uid", "subject_uids"]
