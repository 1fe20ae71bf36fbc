"""The ingest pipeline: bytes in, a signed receipt out. Each step either returns the next value or raises
Rejection(code); the sequence reads top to bottom in `IngestPipeline.submit`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from lxml import etree
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.ids import sortable_id
from gateway.errors import Problem, Rejection
from gateway.ingest.authorize import Authority, authorize
from gateway.ingest.documents import Header, named_official, read_header
from gateway.ingest.effects import CHANGES_DIRECTORY, PLANNED, DocumentEffects, SourceDocument
from gateway.ingest.receipts import ReceiptFacts, ReceiptIssuer
from gateway.services.appeals import ConcurrentAppend
from gateway.store.database import writing
from gateway.store.messages import MessageStore
from gateway.store.models import Message, RejectedDocument
from gateway.store.registry import Registry
from gateway.trust.chain import CertificateVerifier, VerifiedSigner
from gateway.xml.parsing import ParseLimits, parse_document
from gateway.xml.schemas import SchemaRegistry, document_type
from gateway.xml.signatures import SignaturePolicy, VerifiedSignature, verify_document

# Refusals that happen before the bytes could be read as XML: answered with a problem document, not a receipt.
UNREADABLE = frozenset({"malformed-xml", "too-large"})
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ID = re.compile(r"[a-z][a-z0-9-]{1,63}")


@dataclass(frozen=True)
class Outcome:
    outcome: str  # accepted | duplicate | rejected
    receipt: bytes | None  # the signed Receipt; None only for UNREADABLE refusals
    receipt_id: str | None
    problem: Problem | None  # the cause of a rejection
    message_id: str | None = None


@dataclass(frozen=True)
class _Accepted:
    header: Header
    signature: VerifiedSignature
    signer: VerifiedSigner
    authority: Authority


def utc_now() -> datetime:
    return datetime.now(UTC)


class IngestPipeline:
    def __init__(
        self,
        *,
        limits: ParseLimits,
        schemas: SchemaRegistry,
        policy: SignaturePolicy,
        certificates: CertificateVerifier,
        receipts: ReceiptIssuer,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = utc_now,
        effects: DocumentEffects | None = None,
    ):
        self.limits = limits
        self.schemas = schemas
        self.policy = policy
        self.certificates = certificates
        self.receipts = receipts
        self.sessions = sessions
        self.store = MessageStore(sessions)
        self.registry = Registry(sessions)
        self.clock = clock
        self.effects = effects

    def submit(self, data: bytes) -> Outcome:
        received_at = self.clock()
        sha256 = hashlib.sha256(data).hexdigest()
        root: etree._Element | None = None
        try:
            root = parse_document(data, self.limits)
            document_type(root)
            self.schemas.validate(root)
            signature = verify_document(root, self.policy)
            signer = self.certificates.verify(
                signature.certificate, signature.untrusted_chain, at=received_at
            )
            header = read_header(signature.signed_root)  # from here on, only signed content is read
            authority = self._authorize(header, signer, signature)
            return self._accept(data, sha256, received_at, _Accepted(header, signature, signer, authority))
        except Rejection as rejection:
            original = self._original_receipt(root, sha256)
            return original or self._reject(data, sha256, received_at, root, rejection)

    def _original_receipt(self, root: etree._Element | None, sha256: str) -> Outcome | None:
        """These exact bytes were accepted before: the answer is that acceptance's receipt (SPEC: a resend
        returns the original receipt), whatever has changed since -- a certificate expired or was revoked, a
        CRL went stale, the signer left the post, the appeal moved on. The unverified header serves only to
        look the document up; the SHA-256 of the whole submission is what matches it. Asked only once a
        document is refused, so the accepting path pays nothing for it."""
        if root is None:
            return None
        header = read_header(root)
        existing = self.store.find(header.sender_system, header.message_id)
        if existing is None or existing.sha256 != sha256:
            return None
        return Outcome("duplicate", existing.receipt, existing.receipt_id, None, header.message_id)

    def _authorize(self, header: Header, signer: VerifiedSigner, signature: VerifiedSignature) -> Authority:
        return authorize(
            header,
            signer.uid,
            sender=self.registry.system(header.sender_system),
            signer_system=self.registry.system(signer.uid),
            signer_official=self.registry.official(signer.uid),
            named_official=named_official(signature.signed_root),
        )

    def _accept(self, data: bytes, sha256: str, received_at: datetime, doc: _Accepted) -> Outcome:
        header = doc.header
        receipt_id = sortable_id("rc-")
        row = {
            "sender_system": header.sender_system,
            "message_id": header.message_id,
            "document_type": header.document_type,
            "sha256": sha256,
            "received_at": received_at,
            "signer_uid": doc.signer.uid,
            "signer_kind": doc.authority.signer_kind,
            "signer_cert_sha256": doc.signer.fingerprint_sha256,
            "body": data,
            "receipt_id": receipt_id,
        }
        facts = ReceiptFacts(
            receipt_id=receipt_id,
            received_at=received_at,
            submission_sha256=sha256,
            outcome="accepted",
            ref_message_id=header.message_id,
            ref_sender_system=header.sender_system,
            sender_digests=doc.signature.digest_values,
        )
        effect = self.effects.for_type(header.document_type) if self.effects else None
        if self.effects is not None and header.document_type in PLANNED:
            receipt, existing = self._accept_planned(row, facts, doc, received_at)
        elif effect is None:
            # Kept, nothing else: signed before the transaction so the write lock is held only for the INSERT.
            receipt = self.receipts.issue(facts, now=received_at)
            existing = self.store.record_accepted({**row, "receipt": receipt})
        else:
            receipt, existing = self._accept_with_effect(row, facts, doc, effect, received_at)
        if existing is None:
            return Outcome("accepted", receipt, receipt_id, None, header.message_id)
        if existing.sha256 == sha256:
            # Idempotent retry: the original receipt, byte for byte, so the legal clock is the first one.
            return Outcome("duplicate", existing.receipt, existing.receipt_id, None, header.message_id)
        conflict = Rejection(
            "duplicate-conflict",
            f"message {header.message_id} from {header.sender_system} was already accepted with other "
            f"content (receipt {existing.receipt_id})",
        )
        return self._reject(data, sha256, received_at, None, conflict, header=header)

    def _accept_planned(self, row: dict, facts: ReceiptFacts, doc: _Accepted, received_at: datetime):
        """A new appeal: decided, its receipt and StatusUpdate signed, then one short transaction of INSERTs
        with the document (the receipt is still sent only after the commit)."""
        try:
            with self.sessions() as session:  # queries only to reload a stale directory view
                plan = self.effects.plan_intake(
                    session, doc.signature.signed_root, doc.authority.sender, received_at
                )
        except Rejection:
            # A retry of a document accepted before the directory changed still gets its original receipt.
            existing = self.store.find(row["sender_system"], row["message_id"])
            if existing is None:
                raise
            return None, existing
        receipt = self.receipts.issue(replace(facts, appeal=plan.routing), now=received_at)
        return receipt, self.store.record_accepted({**row, "receipt": receipt}, plan.rows)

    def _accept_with_effect(
        self, row: dict, facts: ReceiptFacts, doc: _Accepted, effect, received_at: datetime
    ):
        """Store the document, apply it and queue its status updates in one transaction; the receipt (which
        names the appeal and its routing) is signed inside it and sent only after the commit."""
        for _attempt in range(3):
            try:
                with writing(self.sessions) as session:
                    # No read first: the common case is new, and the unique constraint answers a duplicate.
                    message = Message(**row, receipt=b"")
                    session.add(message)
                    session.flush()
                    change = effect(
                        session, doc.signature.signed_root, doc.authority.sender, message.id, received_at
                    )
                    receipt = self.receipts.issue(
                        replace(facts, appeal=self.effects.routing(change)), now=received_at
                    )
                    message.receipt = receipt
                    if change is not None:
                        source = SourceDocument(row["document_type"], row["body"], row["sender_system"])
                        self.effects.publish(session, change, received_at, source)
                    session.commit()
                if row["document_type"] in CHANGES_DIRECTORY:
                    self.registry.clear()
                    self.effects.appeals.directory.invalidate()
                return receipt, None
            except ConcurrentAppend:
                continue  # another document about the same appeal committed first: decide again
            except IntegrityError:
                existing = self.store.find(row["sender_system"], row["message_id"])
                if existing is None:
                    raise
                return None, existing
        raise Rejection(
            "invalid-transition", "the appeal kept changing while this document was applied; resend it"
        )

    def _reject(
        self,
        data: bytes,
        sha256: str,
        received_at: datetime,
        root: etree._Element | None,
        rejection: Rejection,
        header: Header | None = None,
    ) -> Outcome:
        if header is None and root is not None:
            header = read_header(root)  # unsigned or untrusted: used only to address the rejection receipt
        problem = rejection.problems[0]
        receipt_id = sortable_id("rc-")
        receipt = None
        if problem.code not in UNREADABLE:
            receipt = self.receipts.issue(
                ReceiptFacts(
                    receipt_id=receipt_id,
                    received_at=received_at,
                    submission_sha256=sha256,
                    outcome="rejected",
                    ref_message_id=_uuid_or_none(header.message_id if header else None),
                    ref_sender_system=_id_or_none(header.sender_system if header else None),
                    errors=rejection.problems,
                ),
                now=received_at,
            )
        self.store.record_rejection(
            RejectedDocument(
                receipt_id=receipt_id,
                received_at=received_at,
                sha256=sha256,
                sender_system=header.sender_system[:64] if header else None,
                message_id=header.message_id[:36] if header else None,
                document_type=header.document_type[:64] if header else None,
                error_code=problem.code,
                error_message=problem.message,
                body=data,
                receipt=receipt,
            )
        )
        return Outcome("rejected", receipt, receipt_id, problem, header.message_id if header else None)


def _uuid_or_none(value: str | None) -> str | None:
    # A rejection receipt must itself be schema-valid, so an unreadable reference is left out.
    return value if value and _UUID.fullmatch(value) else None


def _id_or_none(value: str | None) -> str | None:
    return value if value and _ID.fullmatch(value) else None
