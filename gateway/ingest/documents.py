"""What the pipeline reads from a document: the common header and a few body fields, from signed content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from gateway.xml import ns

# Documents that must carry the personal signature of the official named in Body/Official (SPEC).
PERSONALLY_SIGNED = frozenset({"AppealReply", "WorkReport"})


@dataclass(frozen=True)
class Header:
    document_type: str
    message_id: str
    sender_system: str
    sent_at: datetime | None
    in_reply_to: str | None


def text(el: etree._Element, path: str) -> str | None:
    """The stripped text of the first element at `path` (zv: and ds: prefixes), None where there is none."""
    found = el.find(path, ns.NSMAP)
    return None if found is None or found.text is None else found.text.strip()


_ANY_ZV = f"{{{ns.ZV}}}*"
_ZV_PREFIX = len(ns.ZV) + 2


def child(parent: etree._Element | None, local: str) -> etree._Element | None:
    """The first zv:`local` child element, without an ElementPath search (~4 µs each on the hot path)."""
    if parent is None:
        return None
    return next(parent.iterchildren(f"{{{ns.ZV}}}{local}"), None)


def child_text(parent: etree._Element | None, local: str) -> str | None:
    """The stripped text of the first zv:`local` child element; None where there is none, or it has none."""
    el = child(parent, local)
    return None if el is None or el.text is None else el.text.strip()


def local_name(el: etree._Element) -> str:
    """An element's name without its namespace (etree.QName(el).localname, without building a QName)."""
    tag = el.tag
    return tag[tag.index("}") + 1 :] if tag[0] == "{" else tag


def child_texts(parent: etree._Element | None) -> dict[str, str]:
    """The stripped texts of `parent`'s zv: child elements by local name, the first of each name, read in one
    pass: what several `text` calls would find, at a fraction of the cost."""
    texts: dict[str, str] = {}
    if parent is not None:
        for el in parent.iterchildren(_ANY_ZV):
            if el.text is not None:
                texts.setdefault(el.tag[_ZV_PREFIX:], el.text.strip())  # "{urn:zvarot:1}Name" -> "Name"
    return texts


def read_header(root: etree._Element) -> Header:
    fields = child_texts(child(root, "Header"))
    sent_at = fields.get("SentAt")
    try:
        parsed_sent_at = datetime.fromisoformat(sent_at.replace("Z", "+00:00")) if sent_at else None
    except ValueError:
        parsed_sent_at = None
    return Header(
        document_type=etree.QName(root).localname,
        message_id=fields.get("MessageId") or "",
        sender_system=fields.get("SenderSystem") or "",
        sent_at=parsed_sent_at,
        in_reply_to=fields.get("InReplyTo"),
    )


def named_official(root: etree._Element) -> str | None:
    """The official a document speaks for, if its type names one: Body/Official, or an AppealForward's
    FromOfficial (who forwards, and whom the event log records as having acted)."""
    body = child(root, "Body")
    return child_text(body, "Official") or child_text(body, "FromOfficial")
