"""The configured trust store: trust anchors, intermediate CA certificates and CRLs, read from a directory.

Layout::

    <directory>/anchors/*.pem        trust anchors (each file may hold several PEM certificates)
    <directory>/intermediates/*.pem  intermediate CA certificates (untrusted; only help to build chains)
    <directory>/crls/*.pem|*.crl|*.der  CRLs, PEM (several blocks allowed) or DER

Nothing else is trusted: never certifi, never the operating system's store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

_CRL_SUFFIXES = (".pem", ".crl", ".der")
_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----\r?\n.+?-----END X509 CRL-----", re.DOTALL)


def _files(directory: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def _load_certificates(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()
    if not data.strip():
        return []  # an empty file (placeholder) holds nothing
    try:
        if b"-----BEGIN" not in data:
            return [x509.load_der_x509_certificate(data)]
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ValueError(f"{path}: not a certificate file: {exc}") from exc


def _load_crls(path: Path) -> list[x509.CertificateRevocationList]:
    data = path.read_bytes()
    if not data.strip():
        return []
    try:
        if b"-----BEGIN" not in data:
            return [x509.load_der_x509_crl(data)]
        blocks = _PEM_CRL.findall(data)
        if not blocks:
            raise ValueError("no 'X509 CRL' PEM block")
        return [x509.load_pem_x509_crl(block) for block in blocks]
    except ValueError as exc:
        raise ValueError(f"{path}: not a CRL file: {exc}") from exc


def _unique(items: list) -> tuple:
    seen: list = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return tuple(seen)


@dataclass(frozen=True)
class TrustStore:
    anchors: tuple[x509.Certificate, ...] = ()
    intermediates: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()

    @classmethod
    def load(cls, directory: Path | str) -> TrustStore:
        """Read a trust store directory (FileNotFoundError if it does not exist; ValueError on bad files)."""
        root = Path(directory)
        if not root.is_dir():
            raise FileNotFoundError(f"trust store directory {root} does not exist")
        anchors = [c for p in _files(root / "anchors", (".pem",)) for c in _load_certificates(p)]
        intermediates = [c for p in _files(root / "intermediates", (".pem",)) for c in _load_certificates(p)]
        crls = [c for p in _files(root / "crls", _CRL_SUFFIXES) for c in _load_crls(p)]
        return cls(_unique(anchors), _unique(intermediates), _unique(crls))
