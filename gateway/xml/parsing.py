"""Hardened XML parsing: no DTD, no entities, no network, bounded size and depth."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

from lxml import etree

from gateway.errors import Rejection


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 64
    # For containers with a rule of their own (SOAP refuses processing instructions anywhere, an SMDO card's
    # reader drops them); Zvarot documents carry none.
    allow_processing_instructions: bool = False


def _parser() -> etree.XMLParser:
    # huge_tree: an attachment the XSD allows (8 MiB) is more base64 than libxml2's cap of 10,000,000
    # characters on one text node. Our byte and depth limits and the DOCTYPE refusal bound the input; libxml2
    # still stops nesting at 2048 and entity amplification.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


_local = threading.local()


def _thread_parser() -> etree.XMLParser:
    # lxml parser objects must not be shared between threads.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _parser()
    return parser


def check_size(data: bytes, limits: ParseLimits) -> None:
    if len(data) > limits.max_bytes:
        raise Rejection("too-large", f"document is {len(data)} bytes; the limit is {limits.max_bytes}")


def parse_document(data: bytes, limits: ParseLimits = ParseLimits()) -> etree._Element:
    """Parse untrusted bytes into a root element or raise Rejection."""
    check_size(data, limits)
    if _prolog_has_doctype(data):
        raise Rejection("forbidden-dtd", "documents must not contain a DOCTYPE")
    try:
        root = etree.fromstring(data, _thread_parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg or exc)
        if "amplification" in message:  # only entities declared in a DTD can amplify
            raise Rejection("forbidden-dtd", f"documents must not declare entities: {message}") from None
        if "depth" in message.lower():
            raise Rejection("too-large", f"nesting deeper than the parser allows: {message}") from None
        raise Rejection("malformed-xml", message, line=exc.lineno) from None
    except ValueError as exc:  # e.g. an encoding declaration lxml cannot honour
        raise Rejection("malformed-xml", str(exc)) from None
    if root is None:
        raise Rejection("malformed-xml", "empty document")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Rejection("forbidden-dtd", "documents must not contain a DOCTYPE")
    _check_depth(root, limits.max_depth)
    if not limits.allow_processing_instructions:
        _refuse_processing_instructions(root)
    return root


def _refuse_processing_instructions(root: etree._Element) -> None:
    # Exclusive c14n keeps them, so one inside a signed field would split it: the XSD and XPath read the whole
    # string, .text only the part before it. (Outside the root they are signed as a whole and harmless.)
    instruction = next(root.iter(etree.ProcessingInstruction), None)  # iterated in C: under a microsecond
    if instruction is not None:
        raise Rejection(
            "schema-invalid",
            f"processing instruction <?{instruction.target}?> on line {instruction.sourceline}: "
            "Zvarot documents carry no processing instructions",
            line=instruction.sourceline,
        )


def _prolog_has_doctype(data: bytes) -> bool:
    """Whether a DOCTYPE stands in the prolog: found before libxml2 reads the DTD at all.

    Only the prolog is scanned (XML declaration, comments, processing instructions, white space), so the text
    "<!DOCTYPE" inside a CDATA section or a comment of the document is not taken for one.
    """
    head = data[:65536]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4]:
        try:
            text = head.decode("utf-16")
        except UnicodeDecodeError:
            return False  # the parser will report it; the docinfo check still applies
    else:
        text = head.decode("latin-1")
    text = text.lstrip("\ufeff\xef\xbb\xbf")
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
        else:
            return text.startswith("<!DOCTYPE", pos)
        if end < 0:
            return False
        pos = end + 2


def _check_depth(root: etree._Element, max_depth: int) -> None:
    if not _deeper_than(max_depth)(root):  # libxml2 answers in C: a fifth of the Python walk below
        return
    # Walk with an explicit stack, to name the line: recursion would fail on exactly these documents.
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise Rejection("too-large", f"nesting depth exceeds {max_depth}", line=node.sourceline)
        stack.extend((child, depth + 1) for child in node)


@functools.lru_cache(maxsize=8)
def _deeper_than(max_depth: int) -> etree.XPath:
    """Whether any element stands deeper than `max_depth` (the root at depth 1): /*/*/… one step deeper."""
    return etree.XPath("boolean(/" + "/".join(["*"] * (max_depth + 1)) + ")")


def parse_trusted(data: bytes) -> etree._Element:
    """Parse bytes we produced ourselves (canonical signed content, our own receipts)."""
    return etree.fromstring(data, _thread_parser())
