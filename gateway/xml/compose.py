"""The gateway's own documents (receipts, status updates), written directly in their canonical form.

What the gateway signs is exclusive XML-C14N: building an lxml tree only to canonicalise it again cost more
than the signature (an element made by etree.Element is a document of its own until it is appended: ~5 us
each, and a receipt has 25). These documents are simple enough to write canonically by hand: elements of the
Zvarot namespace, declared once on the root, no attributes, no comments, text only in leaves. Signer.
sign_canonical digests exactly these bytes; tests/unit/test_compose.py checks that lxml canonicalises the
parsed result to the same bytes and that the signatures verify with libxmlsec1, xmlsec1 and signxml.
"""

from __future__ import annotations

import re
from datetime import datetime

from gateway.xml import ns

# Characters XML 1.0 cannot carry. lxml refuses them; here they become U+FFFD, so that a receipt quoting a
# sender's unreadable input is still issued.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")


def xml_time(moment: datetime) -> str:
    """A moment as the gateway writes it in its documents: ISO 8601 to the millisecond, UTC as Z."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def canonical_text(value: str) -> str:
    """Text content as exclusive c14n writes it (C14N 1.0, section 5: "Text Nodes")."""
    value = _NOT_XML.sub("\ufffd", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")


class Composer:
    """One document of the Zvarot namespace: open, leaf and close elements in document order, then
    `canonical()`."""

    def __init__(self, root: str):
        self._parts = [f'<{_name(root)} xmlns="{ns.ZV}">']
        self._open = [root]

    def open(self, tag: str) -> Composer:
        self._parts.append(f"<{_name(tag)}>")
        self._open.append(tag)
        return self

    def close(self) -> Composer:
        self._parts.append(f"</{self._open.pop()}>")
        return self

    def leaf(self, tag: str, text: str) -> Composer:
        self._parts.append(f"<{_name(tag)}>{canonical_text(text)}</{tag}>")
        return self

    def canonical(self) -> bytes:
        """The document's bytes in exclusive c14n, every element still open closed."""
        while self._open:
            self.close()
        return "".join(self._parts).encode("utf-8")


def _name(tag: str) -> str:
    # Names come from our code, never from input; a typo must not produce a document of another shape.
    if not _NAME.fullmatch(tag):
        raise ValueError(f"not an element name of the Zvarot schemas: {tag!r}")
    return tag
