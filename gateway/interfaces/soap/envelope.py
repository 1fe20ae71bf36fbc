"""SOAP 1.1 envelopes: read a request with the gateway's hardened parser, write responses and Faults."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from lxml import etree

from gateway.domain.ids import MAX_ROW_NUMBER, whole_number
from gateway.errors import Rejection
from gateway.xml.parsing import ParseLimits, parse_document

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
ZS = "urn:zvarot:soap:1"
NSMAP = {"soap": SOAP_ENV, "zs": ZS}

# Room for the envelope around a base64 payload of the largest allowed document (4/3 of it, plus line breaks
# that some SOAP stacks insert every 76 characters): the decoded document is then held to the exact limit.
ENVELOPE_OVERHEAD = 64 * 1024


def envelope_limits(max_document_bytes: int, max_depth: int) -> ParseLimits:
    return ParseLimits(
        max_bytes=max_document_bytes * 3 // 2 + ENVELOPE_OVERHEAD,
        max_depth=max_depth,
        allow_processing_instructions=True,  # read_request refuses them in the whole message, as SOAP says
    )


def zs(local: str) -> str:
    return f"{{{ZS}}}{local}"


def soap(local: str) -> str:
    return f"{{{SOAP_ENV}}}{local}"


@dataclass
class SoapFault(Exception):
    """A fault to answer with. `faultcode` is a SOAP 1.1 code, possibly specialised ("Client.Forbidden");
    `code` is the error code in the detail: one of SPEC's for documents, or one of the interface's own."""

    faultcode: str
    code: str
    message: str
    line: int | None = None
    path: str | None = None
    receipt_id: str | None = None
    receipt: bytes | None = None

    def __str__(self) -> str:
        return f"{self.faultcode} {self.code}: {self.message}"


def client_fault(code: str, message: str, specialisation: str = "") -> SoapFault:
    return SoapFault(f"Client.{specialisation}" if specialisation else "Client", code, message)


def bad_request(message: str) -> SoapFault:
    return client_fault("bad-request", message, "BadRequest")


def read_request(data: bytes, limits: ParseLimits) -> etree._Element:
    """The operation element of a SOAP 1.1 request (the single child of Body), or a SoapFault."""
    try:
        root = parse_document(data, limits)  # no DOCTYPE, no entities, no network, size and depth bounded
    except Rejection as rejection:
        raise SoapFault(
            "Client", rejection.code, rejection.message, line=rejection.problems[0].line
        ) from None
    if etree.QName(root).localname == "Envelope" and root.tag != soap("Envelope"):
        raise SoapFault(
            "VersionMismatch",
            "version-mismatch",
            f"this endpoint speaks SOAP 1.1 ({SOAP_ENV}), not {etree.QName(root).namespace}",
        )
    if root.tag != soap("Envelope"):
        raise bad_request(f"expected a SOAP 1.1 Envelope, found {root.tag}")
    if root.xpath("boolean(//processing-instruction())"):  # the whole document, prolog and epilogue too
        raise bad_request("a SOAP message must not contain processing instructions")
    children = _elements(root)
    header = None
    if children and children[0].tag == soap("Header"):
        header = children.pop(0)
    if not children or children[0].tag != soap("Body"):
        raise bad_request("the Envelope has no Body")
    if header is not None:
        _check_headers(header)
    operations = _elements(children[0])
    if len(operations) != 1:
        raise bad_request(f"the Body must hold exactly one operation element, not {len(operations)}")
    return operations[0]


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [node for node in parent if isinstance(node.tag, str)]


def _check_headers(header: etree._Element) -> None:
    # We understand no header blocks (WS-Security is out of scope: the bearer token travels in HTTP), so any
    # block the sender marks mustUnderstand="1" is a MustUnderstand fault; the others are ignored.
    for block in _elements(header):
        if block.get(soap("mustUnderstand"), "0").strip() in ("1", "true"):
            raise SoapFault(
                "MustUnderstand",
                "must-understand",
                f"header {block.tag} is marked mustUnderstand and this endpoint does not process it",
            )


# --- reading operation parameters ---------------------------------------------------------------------------

_XML_SPACE = re.compile(r"[ \t\r\n]+")


def child(operation: etree._Element, name: str) -> etree._Element | None:
    found = operation.findall(zs(name))
    if len(found) > 1:
        raise bad_request(f"{name} appears {len(found)} times")
    return found[0] if found else None


def text_param(operation: etree._Element, name: str) -> str:
    element = child(operation, name)
    value = (element.text or "").strip() if element is not None else ""
    if not value:
        raise bad_request(f"{etree.QName(operation).localname} needs {{{ZS}}}{name}")
    return value


def whole_param(operation: etree._Element, name: str, default: int | None = None) -> int:
    element = child(operation, name)
    if element is None:
        if default is None:
            raise bad_request(f"{etree.QName(operation).localname} needs {{{ZS}}}{name}")
        return default
    return _whole(name, (element.text or "").strip())


def whole_params(operation: etree._Element, name: str, most: int) -> list[int]:
    """Every value of a repeated whole-number parameter (none when it is absent), at most `most`."""
    found = operation.findall(zs(name))
    if len(found) > most:
        raise bad_request(f"{name} appears {len(found)} times; at most {most}")
    return [_whole(name, (element.text or "").strip()) for element in found]


def _whole(name: str, value: str) -> int:
    number = whole_number(value.removeprefix("+"))  # xs:unsignedLong's lexical form may carry a plus
    if number is None:
        raise bad_request(f"{name} must be a whole number from 0 to {MAX_ROW_NUMBER}, not {value[:40]!r}")
    return number


def base64_param(operation: etree._Element, name: str) -> bytes:
    element = child(operation, name)
    if element is None:
        raise bad_request(f"{etree.QName(operation).localname} needs {{{ZS}}}{name}")
    try:
        return base64.b64decode(_XML_SPACE.sub("", element.text or ""), validate=True)
    except ValueError:
        raise bad_request(f"{name} is not valid base64") from None


# --- writing responses --------------------------------------------------------------------------------------


def element(parent: etree._Element, name: str, value: object | None = None) -> etree._Element:
    """Append zs:name to `parent`; bytes are written as base64, None leaves the element empty."""
    node = etree.SubElement(parent, zs(name))
    if isinstance(value, bytes):
        node.text = base64.b64encode(value).decode("ascii")
    elif value is not None:
        node.text = str(value)
    return node


def operation_response(name: str) -> etree._Element:
    """An empty <zs:{name}Response> to fill; `envelope()` wraps it."""
    return etree.Element(zs(f"{name}Response"), nsmap={"zs": ZS})


def envelope(body_child: etree._Element) -> bytes:
    root = etree.Element(soap("Envelope"), nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(root, soap("Body"))
    body.append(body_child)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def fault_envelope(fault: SoapFault) -> bytes:
    # SOAP 1.1: faultcode, faultstring and detail are unqualified; faultcode is a QName (soap:Client).
    node = etree.Element(soap("Fault"), nsmap={"soap": SOAP_ENV})
    etree.SubElement(node, "faultcode").text = f"soap:{fault.faultcode}"
    etree.SubElement(node, "faultstring").text = f"{fault.code}: {fault.message}"
    detail = etree.SubElement(node, "detail")
    problem = etree.SubElement(detail, zs("Problem"), nsmap={"zs": ZS})
    element(problem, "code", fault.code)
    element(problem, "message", fault.message)
    if fault.line is not None:
        element(problem, "line", fault.line)
    if fault.path:
        element(problem, "path", fault.path)
    if fault.receipt_id:
        element(problem, "receiptId", fault.receipt_id)
    if fault.receipt is not None:
        element(problem, "receipt", fault.receipt)
    return envelope(node)
