"""The document schemas (xsd/), compiled once; validation on lxml, which is fast enough for the hot path."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path

from lxml import etree

from gateway.errors import Problem, Rejection
from gateway.xml import ns

XSD_DIR = Path(__file__).resolve().parents[2] / "xsd"
ENTRY = "zvarot-1.xsd"

DOCUMENT_TYPES = frozenset(
    {
        "Appeal",
        "AppealSupplement",
        "AppealForward",
        "AppealStatusChange",
        "AppealReply",
        "ReplyReview",
        "WorkReport",
        "ReportReview",
        "DirectoryUpdate",
    }
)
# Documents only the gateway issues; a submission of one of these is refused as unknown-type.
ISSUED_TYPES = frozenset({"Receipt", "StatusUpdate", "LogCheckpoint"})


def document_type(root: etree._Element) -> str:
    """The type a root element names, if it is one we accept from outside."""
    qname = etree.QName(root)
    if qname.namespace != ns.ZV or qname.localname not in DOCUMENT_TYPES:
        raise Rejection(
            "unknown-type",
            f"{{{qname.namespace}}}{qname.localname} is not a document type this "
            f"gateway accepts ({ns.ZV}: {', '.join(sorted(DOCUMENT_TYPES))})",
        )
    return qname.localname


class SchemaRegistry:
    """One compiled XMLSchema; lxml schema objects are not thread-safe, so each thread gets its own copy."""

    def __init__(self, xsd_dir: Path = XSD_DIR):
        self._path = xsd_dir / ENTRY
        self._local = threading.local()
        self._schema()  # compile now: a broken schema must fail at start-up, not on the first document

    def _schema(self) -> etree.XMLSchema:
        schema = getattr(self._local, "schema", None)
        if schema is None:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            schema = self._local.schema = etree.XMLSchema(etree.parse(str(self._path), parser))
        return schema

    def validate(self, root: etree._Element) -> None:
        """The XSD, then what it cannot express (each attachment's declared SHA-256); Rejection if not."""
        schema = self._schema()
        if schema.validate(root):
            check_attachment_digests(root)
            return
        problems = [
            Problem("schema-invalid", e.message, e.line or None, e.path or None) for e in schema.error_log
        ]
        first = problems[0]
        raise Rejection(
            "schema-invalid", first.message, line=first.line, path=first.path, more=tuple(problems[1:10])
        )


class AttachmentDigestMismatch(Rejection):
    """`schema-invalid` for an attachment whose declared Sha256 is not its content's (adapters that speak
    another vocabulary tell it apart)."""


_ATTACHMENTS = f"{ns.zv('Body')}/{ns.zv('Attachments')}/{ns.zv('Attachment')}"


def check_attachment_digests(root: etree._Element) -> None:
    """Each attachment's Sha256 must be that of its decoded Content: the declared digest is what officials,
    auditors and the citizen's portal will check the file against later, so a wrong one is refused now."""
    for attachment in root.iterfind(_ATTACHMENTS):
        declared = attachment.find(ns.zv("Sha256"))
        content = attachment.find(ns.zv("Content"))
        # All of its text: .text stops at the first comment or processing instruction inside Content, which
        # the XSD and the signature (canonical form without comments) both read past.
        encoded = "".join("".join(content.itertext(ns.zv("Content"))).split())
        actual = hashlib.sha256(base64.b64decode(encoded)).hexdigest()
        if actual != declared.text:
            name = attachment.findtext(ns.zv("Name"))
            raise AttachmentDigestMismatch(
                "schema-invalid",
                f"attachment {name!r}: Sha256 {declared.text} does not match its content (SHA-256 {actual})",
                line=declared.sourceline,
                path=root.getroottree().getpath(declared),
            )
