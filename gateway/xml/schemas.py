"""The document schemas (xsd/), compiled once; validation on lxml, which is fast enough for the hot path."""

from __future__ import annotations

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
ISSUED_TYPES = frozenset({"Receipt", "StatusUpdate"})


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
        schema = self._schema()
        if schema.validate(root):
            return
        problems = [
            Problem("schema-invalid", e.message, e.line or None, e.path or None) for e in schema.error_log
        ]
        first = problems[0]
        raise Rejection(
            "schema-invalid", first.message, line=first.line, path=first.path, more=tuple(problems[1:10])
        )
