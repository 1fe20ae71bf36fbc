"""The WSDL 1.1 document of the SOAP endpoint: document/literal wrapped over SOAP 1.1 with an embedded XSD.

Signed documents, receipts and status updates travel as base64Binary, never as embedded XML: a signature
covers exact bytes, and a SOAP stack that re-serialises or re-indents an embedded element would break it.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from gateway.interfaces.soap.envelope import ZS

OPERATIONS = ("Submit", "FetchInbox", "Acknowledge", "GetAppealStatus")

_SCHEMA = """
    <xsd:schema targetNamespace="urn:zvarot:soap:1" elementFormDefault="qualified">
      <xsd:element name="Submit">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="document" type="xsd:base64Binary"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="SubmitResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="outcome" type="zs:Outcome"/>
            <xsd:element name="receiptId" type="xsd:string"/>
            <xsd:element name="receipt" type="xsd:base64Binary"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:simpleType name="Outcome">
        <xsd:restriction base="xsd:string">
          <xsd:enumeration value="accepted"/>
          <xsd:enumeration value="duplicate"/>
        </xsd:restriction>
      </xsd:simpleType>

      <xsd:element name="FetchInbox">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="official" type="xsd:string"/>
            <xsd:element name="after" type="xsd:long" minOccurs="0"/>
            <xsd:element name="limit" type="xsd:int" minOccurs="0"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="FetchInboxResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="item" type="zs:InboxItem" minOccurs="0" maxOccurs="unbounded"/>
            <xsd:element name="nextAfter" type="xsd:long"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:complexType name="InboxItem">
        <xsd:sequence>
          <xsd:element name="cursor" type="xsd:long"/>
          <xsd:element name="appealId" type="xsd:string"/>
          <xsd:element name="trackingCode" type="xsd:string"/>
          <xsd:element name="kind" type="xsd:string"/>
          <xsd:element name="eventSeq" type="xsd:int"/>
          <xsd:element name="createdAt" type="xsd:dateTime"/>
          <xsd:element name="document" type="xsd:base64Binary" minOccurs="0"/>
          <xsd:element name="statusUpdate" type="xsd:base64Binary" minOccurs="0"/>
        </xsd:sequence>
      </xsd:complexType>

      <!-- cursor: every item handed out up to and including it; or id: exactly these items (at most 1000) -->
      <xsd:element name="Acknowledge">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="official" type="xsd:string"/>
            <xsd:choice>
              <xsd:element name="cursor" type="xsd:long"/>
              <xsd:element name="id" type="xsd:long" maxOccurs="1000"/>
            </xsd:choice>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="AcknowledgeResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="acknowledged" type="xsd:int"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>

      <xsd:element name="GetAppealStatus">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="trackingCode" type="xsd:string"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="GetAppealStatusResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="trackingCode" type="xsd:string"/>
            <xsd:element name="appealId" type="xsd:string"/>
            <xsd:element name="status" type="xsd:string"/>
            <xsd:element name="receivedAt" type="xsd:dateTime"/>
            <xsd:element name="dueDate" type="xsd:date" minOccurs="0"/>
            <xsd:element name="dueDateStep" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>
            <xsd:element name="timeliness" type="xsd:string"/>
            <xsd:element name="holder" type="zs:Holder" minOccurs="0" maxOccurs="unbounded"/>
            <xsd:element name="entry" type="zs:TimelineEntry" maxOccurs="unbounded"/>
            <xsd:element name="statusUpdate" type="xsd:base64Binary" minOccurs="0"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:complexType name="Holder">
        <xsd:sequence>
          <xsd:element name="official" type="xsd:string"/>
          <xsd:element name="name" type="xsd:string"/>
          <xsd:element name="post" type="xsd:string"/>
        </xsd:sequence>
      </xsd:complexType>
      <xsd:complexType name="TimelineEntry">
        <xsd:sequence>
          <xsd:element name="seq" type="xsd:int"/>
          <xsd:element name="event" type="xsd:string"/>
          <xsd:element name="text" type="xsd:string"/>
          <xsd:element name="at" type="xsd:dateTime"/>
          <xsd:element name="by" type="xsd:string"/>
        </xsd:sequence>
      </xsd:complexType>

      <!-- The detail of every SOAP Fault: the error code (SPEC's codes for documents), its message, and for a
           rejected submission the id of the rejection and the signed rejection receipt. -->
      <xsd:element name="Problem">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="code" type="xsd:string"/>
            <xsd:element name="message" type="xsd:string"/>
            <xsd:element name="line" type="xsd:int" minOccurs="0"/>
            <xsd:element name="path" type="xsd:string" minOccurs="0"/>
            <xsd:element name="receiptId" type="xsd:string" minOccurs="0"/>
            <xsd:element name="receipt" type="xsd:base64Binary" minOccurs="0"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
    </xsd:schema>"""


def _messages() -> str:
    parts = []
    for name in OPERATIONS:
        parts.append(
            f'  <wsdl:message name="{name}Request"><wsdl:part name="parameters" element="zs:{name}"/>'
            "</wsdl:message>\n"
            f'  <wsdl:message name="{name}Response">'
            f'<wsdl:part name="parameters" element="zs:{name}Response"/></wsdl:message>\n'
        )
    parts.append(
        '  <wsdl:message name="ProblemFault"><wsdl:part name="detail" element="zs:Problem"/></wsdl:message>\n'
    )
    return "".join(parts)


def _port_type() -> str:
    operations = "".join(
        f'    <wsdl:operation name="{name}">\n'
        f'      <wsdl:input message="zs:{name}Request"/>\n'
        f'      <wsdl:output message="zs:{name}Response"/>\n'
        '      <wsdl:fault name="Problem" message="zs:ProblemFault"/>\n'
        "    </wsdl:operation>\n"
        for name in OPERATIONS
    )
    return f'  <wsdl:portType name="ZvarotPortType">\n{operations}  </wsdl:portType>\n'


def _binding() -> str:
    operations = "".join(
        f'    <wsdl:operation name="{name}">\n'
        f'      <soap:operation soapAction="{ZS}#{name}" style="document"/>\n'
        '      <wsdl:input><soap:body use="literal"/></wsdl:input>\n'
        '      <wsdl:output><soap:body use="literal"/></wsdl:output>\n'
        '      <wsdl:fault name="Problem"><soap:fault name="Problem" use="literal"/></wsdl:fault>\n'
        "    </wsdl:operation>\n"
        for name in OPERATIONS
    )
    return (
        '  <wsdl:binding name="ZvarotBinding" type="zs:ZvarotPortType">\n'
        '    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>\n'
        f"{operations}  </wsdl:binding>\n"
    )


_TEMPLATE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<wsdl:definitions name="Zvarot" targetNamespace="urn:zvarot:soap:1"\n'
    '    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"\n'
    '    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"\n'
    '    xmlns:xsd="http://www.w3.org/2001/XMLSchema"\n'
    '    xmlns:zs="urn:zvarot:soap:1">\n'
    "  <wsdl:documentation>Zvarot gateway: submit signed documents, pull officials' inboxes, follow appeals. "
    "Inbox operations need the HTTP header Authorization: Bearer &lt;token of a system serving the "
    "official's agency&gt;.</wsdl:documentation>\n"
    f"  <wsdl:types>{_SCHEMA}\n  </wsdl:types>\n"
    f"{_messages()}{_port_type()}{_binding()}"
    '  <wsdl:service name="ZvarotService">\n'
    '    <wsdl:port name="ZvarotPort" binding="zs:ZvarotBinding">\n'
    "      <soap:address location=__ADDRESS__/>\n"
    "    </wsdl:port>\n"
    "  </wsdl:service>\n"
    "</wsdl:definitions>\n"
)


def wsdl_document(address: str) -> bytes:
    """The WSDL with the service address of this request (the URL the client reached us by)."""
    return _TEMPLATE.replace("__ADDRESS__", quoteattr(address), 1).encode("utf-8")
