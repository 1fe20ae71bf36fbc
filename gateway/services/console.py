"""The operator's read model for the web console: rejected documents, registered systems with their
certificates and days to expiry, and the trust store. JSON-ready plain data, like gateway.services.catalog.

Which certificates a system has (docs/web.md): the gateway holds no registry of certificates, only a trust
store of CAs, so the console shows, for each registered system,

- the certificate its **last accepted document** was sealed with (taken from that document's own X509Data,
  matched by the fingerprint the pipeline recorded: the certificate actually in use, in any deployment), and
- its certificate in the **dev PKI manifest** (`<ZVAROT_PKI_DIR>/manifest.json`) when there is one (what the
  development and demo set-ups issue; with the manifest's revocation flag);

the same certificate from both sources is listed once. Next to them: the trust store's anchors, intermediates
and CRLs (with their next update: a stale CRL makes every signature fail) and the gateway's own receipt
certificate.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.store.directory import System, SystemAgency
from gateway.store.models import Message, RejectedDocument
from gateway.trust.store import TrustStore
from gateway.xml import ns
from gateway.xml.parsing import ParseLimits, parse_document

MAX_PAGE = 100
EXPIRING_DAYS = 30  # a certificate with fewer days left is flagged
CRL_EXPIRING_DAYS = 2  # a CRL is re-signed often (the dev PKI's live 7 days): flagged when nearly stale


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


# --- rejected documents -------------------------------------------------------------------------------------


def rejected_documents(session: Session, *, limit: int = 50, offset: int = 0) -> dict:
    """Rejected submissions, newest first, without their bytes."""
    r = RejectedDocument
    limit, offset = min(max(limit, 1), MAX_PAGE), max(offset, 0)
    total = session.scalar(select(func.count()).select_from(r)) or 0
    rows = session.execute(
        select(
            r.id,
            r.receipt_id,
            r.received_at,
            r.sender_system,
            r.message_id,
            r.document_type,
            r.error_code,
            r.error_message,
            func.length(r.body),
        )
        .order_by(r.received_at.desc(), r.id.desc())
        .limit(limit)
        .offset(offset)
    ).tuples()
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": [
            {
                "id": id_,
                "receipt_id": receipt_id,
                "received_at": _aware(received_at),
                "sender_system": sender,
                "message_id": message_id,
                "document_type": document_type,
                "error_code": code,
                "error_message": message,
                "size": size,
            }
            for id_, receipt_id, received_at, sender, message_id, document_type, code, message, size in rows
        ],
    }


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", errors="replace")


def rejected_document(session: Session, rejected_id: int) -> dict | None:
    """One rejected submission with its raw bytes (as text, undecodable bytes replaced) and the signed
    rejection receipt, if one was issued (not for unreadable input)."""
    row = session.get(RejectedDocument, rejected_id)
    if row is None:
        return None
    return {
        "id": row.id,
        "receipt_id": row.receipt_id,
        "received_at": _aware(row.received_at),
        "sha256": row.sha256,
        "sender_system": row.sender_system,
        "message_id": row.message_id,
        "document_type": row.document_type,
        "error_code": row.error_code,
        "error_message": row.error_message,
        "size": len(row.body),
        "body": _text(row.body),
        "receipt": _text(row.receipt),
    }


# --- certificates -------------------------------------------------------------------------------------------


def _days_left(not_after: datetime, now: datetime) -> int:
    return int((not_after - now).total_seconds() // 86400)


def _state(
    not_before: datetime | None, not_after: datetime, now: datetime, warn_days: int = EXPIRING_DAYS
) -> str:
    if not_after <= now:
        return "expired"
    if not_before is not None and not_before > now:
        return "not-yet-valid"
    return "expiring" if _days_left(not_after, now) < warn_days else "valid"


def certificate_info(cert: x509.Certificate, now: datetime, source: str, revoked: bool | None = None) -> dict:
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "not_before": not_before,
        "not_after": not_after,
        "days_left": _days_left(not_after, now),
        "state": _state(not_before, not_after, now),
        "sources": [source],
        "revoked": revoked,
    }


def _manifest_identities(pki_dir: Path | None) -> dict[str, dict]:
    """uid → entry of the dev PKI manifest (empty without a dev PKI, or if it cannot be read)."""
    if pki_dir is None:
        return {}
    try:
        manifest = json.loads((pki_dir / "manifest.json").read_text(encoding="utf-8"))
        entries = [manifest.get("gateway") or {}, *manifest.get("identities", [])]
    except (OSError, ValueError, AttributeError):
        return {}
    return {e["uid"]: e for e in entries if isinstance(e, dict) and e.get("uid")}


def _manifest_certificate(entry: dict, now: datetime) -> dict | None:
    source = "dev PKI manifest"
    try:
        cert = x509.load_pem_x509_certificate(Path(entry["cert"]).read_bytes())
    except (OSError, KeyError, TypeError, ValueError):
        try:  # the certificate file is gone: what the manifest says about it
            not_after = datetime.fromisoformat(entry["not_after"])
        except (KeyError, TypeError, ValueError):
            return None
        return {
            "subject": f"UID={entry['uid']}",
            "issuer": "",
            "serial": entry.get("serial", ""),
            "sha256": "",
            "not_before": None,
            "not_after": not_after,
            "days_left": _days_left(not_after, now),
            "state": _state(None, not_after, now),
            "sources": [source],
            "revoked": bool(entry.get("revoked")),
        }
    return certificate_info(cert, now, source, revoked=bool(entry.get("revoked")))


def _signer_certificate(body: bytes, fingerprint: str) -> x509.Certificate | None:
    """The certificate with this SHA-256 fingerprint in the X509Data of a stored (accepted) document."""
    try:
        root = parse_document(body, ParseLimits(max_bytes=len(body) + 1))
    except Exception:  # an accepted document parses; if not, there is nothing to show
        return None
    for element in root.findall("ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", ns.NSMAP):
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode("".join((element.text or "").split())))
        except ValueError:
            continue
        if cert.fingerprint(hashes.SHA256()).hex() == fingerprint:
            return cert
    return None


def _last_seen_certificate(session: Session, system_id: str, now: datetime, tries: int = 3) -> dict | None:
    """The seal of the system's last accepted document (received last; of the last few, the newest whose
    certificate can be read back)."""
    rows = session.execute(
        select(Message.received_at, Message.signer_cert_sha256, Message.body)
        .where(Message.sender_system == system_id, Message.signer_uid == system_id)
        .order_by(Message.received_at.desc(), Message.id.desc())
        .limit(tries)
    )
    for row in rows:
        cert = _signer_certificate(row.body, row.signer_cert_sha256)
        if cert is not None:
            info = certificate_info(cert, now, "last accepted document")
            info["last_seen_at"] = _aware(row.received_at)
            return info
    return None


def _merged(certificates: list[dict]) -> list[dict]:
    merged: list[dict] = []
    for cert in certificates:
        same = next((m for m in merged if cert["sha256"] and m["sha256"] == cert["sha256"]), None)
        if same is None:
            merged.append(cert)
            continue
        same["sources"] = [*same["sources"], *cert["sources"]]
        same["revoked"] = same["revoked"] if cert["revoked"] is None else cert["revoked"]
        same.setdefault("last_seen_at", cert.get("last_seen_at"))
    return sorted(merged, key=lambda c: c["not_after"])


def systems_overview(session: Session, now: datetime, pki_dir: Path | None = None) -> list[dict]:
    """Every registered system: what it is, which units it serves, how status updates reach it, and its
    certificates (soonest expiry first)."""
    manifest = _manifest_identities(pki_dir)
    served: dict[str, list[str]] = {}
    for system_id, unit_id in session.execute(
        select(SystemAgency.system_id, SystemAgency.org_unit_id).order_by(SystemAgency.org_unit_id)
    ).tuples():
        served.setdefault(system_id, []).append(unit_id)
    overview = []
    for system in session.scalars(select(System).order_by(System.id)):
        certificates = []
        seen = _last_seen_certificate(session, system.id, now)
        if seen is not None:
            certificates.append(seen)
        if system.id in manifest:
            issued = _manifest_certificate(manifest[system.id], now)
            if issued is not None:
                certificates.append(issued)
        certificates = _merged(certificates)
        overview.append(
            {
                "id": system.id,
                "name": system.name,
                "kind": system.kind,
                "document_types": list(system.document_types or []),
                "serves": served.get(system.id, []),
                "delivery": system.delivery,
                "endpoint_url": system.endpoint_url,
                "created_at": _aware(system.created_at),
                "certificates": certificates,
                "days_left": min((c["days_left"] for c in certificates), default=None),
            }
        )
    return overview


def trust_overview(store: TrustStore, now: datetime, receipt_cert: Path | None = None) -> dict:
    """The trust store's anchors, intermediates and CRLs, and the gateway's receipt certificate."""
    crls = []
    for crl in store.crls:
        next_update = crl.next_update_utc
        crls.append(
            {
                "issuer": crl.issuer.rfc4514_string(),
                "last_update": crl.last_update_utc,
                "next_update": next_update,
                "days_left": None if next_update is None else _days_left(next_update, now),
                "state": "valid"
                if next_update is None
                else _state(None, next_update, now, CRL_EXPIRING_DAYS),
                "revoked": len(crl),
            }
        )
    receipt = None
    if receipt_cert is not None:
        try:
            receipt = certificate_info(
                x509.load_pem_x509_certificate(receipt_cert.read_bytes()),
                now,
                "the gateway's receipt certificate",
            )
        except (OSError, ValueError):
            receipt = None
    return {
        "anchors": [certificate_info(c, now, "trust anchor") for c in store.anchors],
        "intermediates": [certificate_info(c, now, "intermediate") for c in store.intermediates],
        "crls": crls,
        "receipt_certificate": receipt,
    }
