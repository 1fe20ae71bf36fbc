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


def _text(el: etree._Element, path: str) -> str | None:
    found = el.find(path, ns.NSMAP)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def read_header(root: etree._Element) -> Header:
    sent_at = _text(root, "zv:Header/zv:SentAt")
    try:
        parsed_sent_at = datetime.fromisoformat(sent_at.replace("Z", "+00:00")) if sent_at else None
    except ValueError:
        parsed_sent_at = None
    return Header(
        document_type=etree.QName(root).localname,
        message_id=_text(root, "zv:Header/zv:MessageId") or "",
        sender_system=_text(root, "zv:Header/zv:SenderSystem") or "",
        sent_at=parsed_sent_at,
        in_reply_to=_text(root, "zv:Header/zv:InReplyTo"),
    )


def named_official(root: etree._Element) -> str | None:
    """The official a document speaks for, if its type names one: Body/Official, or an AppealForward's
    FromOfficial (who forwards, and whom the event log records as having acted)."""
    return _text(root, "zv:Body/zv:Official") or _text(root, "zv:Body/zv:FromOfficial")
