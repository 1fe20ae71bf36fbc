"""Who a certificate names: the subject's UID attribute (OID 0.9.2342.19200300.100.1.1)."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID


def subject_uids(cert: x509.Certificate) -> tuple[str, ...]:
    """Every UID value in the subject (normally exactly one)."""
    return tuple(
        attr.value
        for attr in cert.subject.get_attributes_for_oid(NameOID.USER_ID)
        if isinstance(attr.value, str)
    )


def subject_uid(cert: x509.Certificate) -> str | None:
    """The subject's UID; None if it is absent, empty or ambiguous (several UID attributes)."""
    uids = subject_uids(cert)
    if len(uids) != 1 or not uids[0]:
        return None
    return uids[0]
