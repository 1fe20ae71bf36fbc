"""`zvarot verify`: the same checks the gateway runs, reported step by step for a person or a script."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from gateway.errors import Rejection
from gateway.trust.chain import CertificateVerifier
from gateway.trust.store import TrustStore
from gateway.xml import ns
from gateway.xml.parsing import ParseLimits, parse_document
from gateway.xml.schemas import DOCUMENT_TYPES, ISSUED_TYPES, SchemaRegistry
from gateway.xml.signatures import verify_document

SIGNED_TIME = "signed"  # --at signed: the moment the document states it was sent (its Header/SentAt)


def verify_file(
    data: bytes,
    trust_dir: Path,
    limits: ParseLimits = ParseLimits(),
    at: datetime | str | None = None,
    gateway_uid: str = "zvarot-gateway",
) -> dict:
    """`at`: when the certificate chain, validity and revocation are judged: None for now, a moment, or
    SIGNED_TIME for the document's own SentAt -- how an auditor checks, years later, a receipt issued when
    its certificate was valid (with the CRLs of that time in the trust store's crls/). A SentAt is only the
    signer's claim, so SIGNED_TIME is taken only from what the gateway signed (`gateway_uid`); for anyone
    else's document, give the ReceivedAt of its receipt."""
    report: dict = {"valid": False, "steps": []}

    def step(name: str, detail: str) -> None:
        report["steps"].append(f"{name}: {detail}")

    try:
        root = parse_document(data, limits)
        step("parse", "well-formed, no DTD")
        qname = etree.QName(root)
        report["document_type"] = qname.localname
        if qname.namespace == ns.ZV and qname.localname in DOCUMENT_TYPES | ISSUED_TYPES:
            SchemaRegistry().validate(root)
            step("schema", "valid")
        else:
            step("schema", f"not a Zvarot document ({qname}); signature checked only")
        signature = verify_document(root)
        report["algorithm"] = signature.signature_method
        report["digest_algorithm"] = signature.digest_method
        step("signature", "profile respected, digest and signature value verify")
        if at == SIGNED_TIME and report["document_type"] not in ISSUED_TYPES:
            raise Rejection(
                "signer-not-authorized",
                f"--at signed: a {report['document_type']}'s SentAt is only its signer's claim; "
                "verify it --at the ReceivedAt of its receipt",
            )
        moment = _signed_time(signature.signed_root) if at == SIGNED_TIME else at
        report["checked_at"] = (moment or datetime.now(UTC)).isoformat()
        signer = CertificateVerifier(TrustStore.load(trust_dir)).verify(
            signature.certificate, signature.untrusted_chain, at=moment
        )
        report.update(
            signer=signer.subject,
            uid=signer.uid,
            issuer=signer.issuer,
            serial=format(signer.serial, "x"),
            not_before=signer.not_before.isoformat(),
            not_after=signer.not_after.isoformat(),
            chain=[c.subject.rfc4514_string() for c in signer.chain],
            revocation=signer.revocation,
        )
        step("certificate", "chain to a trust anchor, key usage, validity and CRL checked")
        if at == SIGNED_TIME and signer.uid != gateway_uid:
            raise Rejection(
                "signer-not-authorized",
                f"--at signed: the time is {signer.uid}'s claim, not the gateway's ({gateway_uid})",
            )
        report["valid"] = True
    except Rejection as rejection:
        report["error"] = {"code": rejection.code, "message": rejection.message}
        if rejection.problems[0].line:
            report["error"]["line"] = rejection.problems[0].line
    return report


def _signed_time(signed_root: etree._Element) -> datetime:
    sent_at = (signed_root.findtext("zv:Header/zv:SentAt", namespaces=ns.NSMAP) or "").strip()
    try:
        moment = datetime.fromisoformat(sent_at.replace("Z", "+00:00"))
    except ValueError:
        raise Rejection("schema-invalid", f"--at signed: no usable Header/SentAt ({sent_at!r})") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
