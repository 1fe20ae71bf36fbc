"""The Zvarot 1 XML Schemas (xsd/) and their examples (xsd/examples/).

The schema is compiled with the same hardening the gateway uses (no DTD, no entities, no network); the
examples must validate, and a set of hand-made mutations of them must be rejected for the intended reason.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import ERROR_CODES
from gateway.xml.ns import DS, ENVELOPED, EXC_C14N, RSA_SHA256, SHA256, ZV

ROOT = Path(__file__).resolve().parents[2]
XSD_DIR = ROOT / "xsd"
ENTRY = XSD_DIR / "zvarot-1.xsd"
EXAMPLES = XSD_DIR / "examples"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FOREIGN = "urn:example:not-zvarot"

TYPES = (
    "Appeal",
    "AppealSupplement",
    "AppealForward",
    "AppealStatusChange",
    "AppealReply",
    "ReplyReview",
    "WorkReport",
    "ReportReview",
    "DirectoryUpdate",
    "Receipt",
    "StatusUpdate",
    "LogCheckpoint",
)
N = {"zv": ZV, "ds": DS}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False)


class _LocalOnly(etree.Resolver):
    """Records every URL the schema compiler asks for; serves only files inside xsd/."""

    def __init__(self) -> None:
        super().__init__()
        self.requested: list[str] = []

    def resolve(self, url, pubid, context):
        self.requested.append(url)
        path = (XSD_DIR / Path(url).name) if "://" not in url else None
        if path is None or not path.is_file():
            raise AssertionError(f"schema compilation asked for a non-local resource: {url}")
        return self.resolve_filename(str(path), context)


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(ENTRY), _parser()))


def example(name: str) -> etree._ElementTree:
    return etree.parse(str(EXAMPLES / f"{name}.xml"), _parser())


def q(local: str) -> str:
    return f"{{{ZV}}}{local}"


def one(tree, path: str) -> etree._Element:
    found = tree.xpath(path, namespaces=N)
    assert len(found) == 1, f"{path}: {len(found)} matches"
    return found[0]


def assert_valid(schema: etree.XMLSchema, tree) -> None:
    ok = schema.validate(tree)
    assert ok, "\n".join(str(e) for e in schema.error_log)


def assert_invalid(schema: etree.XMLSchema, tree, *expected: str) -> None:
    """Rejected, and the error log mentions every expected fragment (so it failed for the intended reason)."""
    assert not schema.validate(tree), "document unexpectedly valid"
    log = "\n".join(e.message for e in schema.error_log)
    for fragment in expected:
        assert fragment in log, f"{fragment!r} not in schema errors:\n{log}"


def with_text(name: str, path: str, text: str):
    tree = example(name)
    one(tree, path).text = text
    return tree


def signature_element() -> etree._Element:
    """A structurally valid enveloped ds:Signature (not cryptographically meaningful)."""
    digest = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    sig = etree.fromstring(
        f"""<ds:Signature xmlns:ds="{DS}">
  <ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="{EXC_C14N}"/>
    <ds:SignatureMethod Algorithm="{RSA_SHA256}"/>
    <ds:Reference URI="">
      <ds:Transforms>
        <ds:Transform Algorithm="{ENVELOPED}"/>
        <ds:Transform Algorithm="{EXC_C14N}"/>
      </ds:Transforms>
      <ds:DigestMethod Algorithm="{SHA256}"/>
      <ds:DigestValue>{digest}</ds:DigestValue>
    </ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue>{base64.b64encode(b"s" * 256).decode()}</ds:SignatureValue>
  <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{base64.b64encode(b"c" * 64).decode()}</ds:X509Certificate>
  </ds:X509Data></ds:KeyInfo>
</ds:Signature>"""
    )
    return sig


# --------------------------------------------------------------------------- compilation


def test_schema_compiles_from_local_files_only():
    resolver = _LocalOnly()
    parser = _parser()
    parser.resolvers.add(resolver)
    compiled = etree.XMLSchema(etree.parse(str(ENTRY), parser))
    assert isinstance(compiled, etree.XMLSchema)
    names = {Path(u).name for u in resolver.requested}
    assert {"xmldsig-core-schema.xsd", "common.xsd"} <= names
    assert all("://" not in u for u in resolver.requested), resolver.requested


def test_schema_files_have_no_doctype_and_only_local_schema_locations():
    for xsd in sorted(XSD_DIR.glob("*.xsd")):
        raw = xsd.read_bytes()
        assert b"<!DOCTYPE" not in raw and b"<!ENTITY" not in raw, xsd.name
        doc = etree.parse(str(xsd), _parser())
        for loc in doc.xpath(
            "//xs:import/@schemaLocation | //xs:include/@schemaLocation", namespaces={"xs": XS}
        ):
            assert "/" not in loc and (XSD_DIR / loc).is_file(), (xsd.name, loc)
    imports = etree.parse(str(ENTRY), _parser()).xpath("//xs:import", namespaces={"xs": XS})
    assert [(i.get("namespace"), i.get("schemaLocation")) for i in imports] == [
        (DS, "xmldsig-core-schema.xsd")
    ]


def test_xmldsig_copy_declares_the_signature_namespace():
    doc = etree.parse(str(XSD_DIR / "xmldsig-core-schema.xsd"), _parser())
    assert doc.docinfo.doctype == ""
    assert doc.getroot().get("targetNamespace") == DS
    assert doc.xpath("/xs:schema/xs:element[@name='Signature']/@type", namespaces={"xs": XS}) == [
        "ds:SignatureType"
    ]


def test_our_schemas_have_no_wildcards_attributes_or_xs_id():
    for name in ("zvarot-1.xsd", "common.xsd"):
        doc = etree.parse(str(XSD_DIR / name), _parser())
        xs = {"xs": XS}
        assert doc.xpath("//xs:any | //xs:anyAttribute", namespaces=xs) == [], name
        assert doc.xpath("//xs:attribute | //xs:attributeGroup", namespaces=xs) == [], name
        assert doc.xpath("//@type[.='xs:ID' or .='xs:IDREF' or .='xs:IDREFS']") == [], name
        assert doc.getroot().get("targetNamespace") == ZV
        assert doc.getroot().get("elementFormDefault") == "qualified"


def test_global_elements_are_exactly_the_document_roots():
    xs = {"xs": XS}
    globals_ = []
    for name in ("zvarot-1.xsd", "common.xsd"):
        globals_ += etree.parse(str(XSD_DIR / name), _parser()).xpath(
            "/xs:schema/xs:element/@name", namespaces=xs
        )
    assert sorted(globals_) == sorted(TYPES)


def test_every_free_text_type_is_bounded():
    """Every string-like simple type of ours has a maxLength, an enumeration or a length-limiting pattern."""
    xs = {"xs": XS}
    doc = etree.parse(str(XSD_DIR / "common.xsd"), _parser())
    for st in doc.xpath("/xs:schema/xs:simpleType", namespaces=xs):
        base = st.xpath("string(xs:restriction/@base)", namespaces=xs)
        if base not in ("xs:string", "xs:token"):
            continue
        facets = {etree.QName(f).localname for f in st.xpath("xs:restriction/*", namespaces=xs)}
        bounded = "maxLength" in facets or "enumeration" in facets
        if not bounded:
            pattern = st.xpath("string(xs:restriction/xs:pattern/@value)", namespaces=xs)
            bounded = "*" not in pattern and "+" not in pattern.replace("\\+", "")
        assert bounded, st.get("name")


# --------------------------------------------------------------------------- examples


def test_there_is_one_example_per_type():
    assert sorted(p.stem for p in EXAMPLES.glob("*.xml")) == sorted(TYPES)


@pytest.mark.parametrize("name", TYPES)
def test_example_is_valid_unsigned_and_well_formed(schema, name):
    raw = (EXAMPLES / f"{name}.xml").read_bytes()
    assert b"<!DOCTYPE" not in raw
    tree = example(name)
    root = tree.getroot()
    assert root.tag == q(name)
    assert dict(root.attrib) == {}
    assert root.findall(f"{{{DS}}}Signature") == []
    assert [etree.QName(c).localname for c in root if isinstance(c.tag, str)] == ["Header", "Body"]
    assert_valid(schema, tree)


@pytest.mark.parametrize("name", TYPES)
def test_example_validates_with_a_signature_as_last_child(schema, name):
    tree = example(name)
    tree.getroot().append(signature_element())
    assert_valid(schema, tree)


def test_examples_use_distinct_message_ids_and_demo_senders():
    ids = [one(example(t), "/*/zv:Header/zv:MessageId").text for t in TYPES]
    assert len(set(ids)) == len(TYPES)
    senders = {t: one(example(t), "/*/zv:Header/zv:SenderSystem").text for t in TYPES}
    portal = {"Appeal", "AppealSupplement", "ReplyReview", "ReportReview"}
    gateway = {"Receipt", "StatusUpdate", "LogCheckpoint"}
    for t, sender in senders.items():
        if t in portal:
            assert sender == "sys-portal", t
        elif t in gateway:
            assert sender == "zvarot-gateway", t
        else:
            assert sender in {"sys-dms-housing", "sys-dms-minsk-region"}, t


def test_example_ids_exist_in_the_demo_world():
    from gateway.demo.world import OFFICIALS, ORG_UNITS

    officials = {o.id for o in OFFICIALS}
    units = {u.id for u in ORG_UNITS}
    used = set()
    for t in TYPES:
        tree = example(t)
        used |= set(
            tree.xpath(
                "//zv:Official[not(*)]/text() | //zv:FromOfficial/text() | //zv:ToOfficial/text()",
                namespaces=N,
            )
        )
        for unit in tree.xpath("//zv:Addressee/zv:OrgUnit/text()", namespaces=N):
            assert unit in units
    assert used and used <= officials, used - officials


def test_appeal_example_attachment_digest_matches_content():
    tree = example("Appeal")
    att = one(tree, "//zv:Attachment")
    content = base64.b64decode("".join(one(att, "zv:Content").text.split()))
    assert hashlib.sha256(content).hexdigest() == one(att, "zv:Sha256").text
    assert 1024 <= (EXAMPLES / "Appeal.xml").stat().st_size <= 4096


def test_receipt_example_digest_is_that_of_the_appeal_example():
    receipt = example("Receipt")
    appeal_bytes = (EXAMPLES / "Appeal.xml").read_bytes()
    assert one(receipt, "//zv:SubmissionSha256").text == hashlib.sha256(appeal_bytes).hexdigest()
    assert one(receipt, "//zv:RefToMessageId").text == one(example("Appeal"), "//zv:MessageId").text


# ----------------------------------------------------------------------- envelope: header, root, signature


def test_missing_message_id_is_rejected(schema):
    tree = example("Appeal")
    header = one(tree, "/*/zv:Header")
    header.remove(one(header, "zv:MessageId"))
    assert_invalid(schema, tree, "MessageId")


@pytest.mark.parametrize(
    "bad",
    [
        "3F6C2A1E-8B4D-4E7A-9C15-2D8E0B7F4A61",  # uppercase
        "3f6c2a1e8b4d4e7a9c152d8e0b7f4a61",  # no hyphens
        "{3f6c2a1e-8b4d-4e7a-9c15-2d8e0b7f4a61}",
        "3f6c2a1e-8b4d-4e7a-9c15-2d8e0b7f4a6",  # too short
        "3f6c2a1e-8b4d-4e7a-9c15-2d8e0b7f4a61 ",  # trailing space
        "",
    ],
)
def test_bad_uuid_is_rejected(schema, bad):
    assert_invalid(schema, with_text("Appeal", "/*/zv:Header/zv:MessageId", bad), "MessageId")
    assert_invalid(schema, with_text("Receipt", "/*/zv:Header/zv:InReplyTo", bad), "InReplyTo")


@pytest.mark.parametrize(
    "bad",
    [
        "2025-03-03T09:15:42",
        "2025-03-03",
        "2025-03-03 09:15:42Z",
        "2025-02-30T09:00:00Z",
        "12025-03-03T09:15:42Z",
        "2025-03-03T09:15:42+0300",
    ],
)
def test_sent_at_needs_a_time_zone_and_a_plain_form(schema, bad):
    assert_invalid(schema, with_text("Appeal", "/*/zv:Header/zv:SentAt", bad), "SentAt")


@pytest.mark.parametrize("good", ["2025-03-03T09:15:42Z", "2025-03-03T06:15:42.123456789-05:00"])
def test_sent_at_with_time_zone_is_accepted(schema, good):
    assert_valid(schema, with_text("Appeal", "/*/zv:Header/zv:SentAt", good))


def test_header_fields_must_come_in_order(schema):
    tree = example("Appeal")
    header = one(tree, "/*/zv:Header")
    header.insert(0, one(header, "zv:SenderSystem"))
    assert_invalid(schema, tree, "SenderSystem")


def test_root_carries_no_attributes(schema):
    for attr in ("Id", "ID", "id", f"{{{FOREIGN}}}flag", "version"):
        tree = example("AppealReply")
        tree.getroot().set(attr, "r1")
        assert_invalid(schema, tree, "attribute")


def _reply_with_typed_official(xsi_type: str, value: str):
    raw = (EXAMPLES / "AppealReply.xml").read_text(encoding="utf-8")
    raw = raw.replace(
        '<AppealReply xmlns="urn:zvarot:1">',
        f'<AppealReply xmlns="urn:zvarot:1" xmlns:zv="{ZV}" xmlns:xs="{XS}" xmlns:xsi="{XSI}">',
    )
    raw = raw.replace(
        "<Official>off-housing-dept-head</Official>", f'<Official xsi:type="{xsi_type}">{value}</Official>'
    )
    assert xsi_type in raw
    return etree.ElementTree(etree.fromstring(raw.encode("utf-8"), _parser()))


@pytest.mark.parametrize(
    ("xsi_type", "value"), [("xs:string", "NOT AN ID"), ("zv:AppealId", "ap-7m2kq4xw9r3tz8b5n6c1d0fhj2")]
)
def test_xsi_type_cannot_swap_in_another_type(schema, xsi_type, value):
    """blockDefault="#all": xsi:type may neither widen a type nor substitute a derived one."""
    assert_invalid(
        schema, _reply_with_typed_official(xsi_type, value), "xsi:type, is blocked or not validly derived"
    )


@pytest.mark.parametrize("name", TYPES)
def test_two_signatures_are_rejected(schema, name):
    tree = example(name)
    tree.getroot().append(signature_element())
    tree.getroot().append(signature_element())
    assert_invalid(schema, tree, "Signature")


@pytest.mark.parametrize("name", TYPES)
def test_signature_before_body_is_rejected(schema, name):
    tree = example(name)
    tree.getroot().insert(1, signature_element())
    assert_invalid(schema, tree, "Signature")


@pytest.mark.parametrize("where", ["/*/zv:Body", "/*/zv:Header", "/*/zv:Body/zv:Items/zv:Item[1]"])
def test_signature_nested_inside_the_document_is_rejected(schema, where):
    tree = example("WorkReport")
    one(tree, where).append(signature_element())
    assert_invalid(schema, tree, "Signature")


def test_signature_must_be_in_the_xmldsig_namespace(schema):
    tree = example("Appeal")
    sig = signature_element()
    sig.tag = q("Signature")
    tree.getroot().append(sig)
    assert_invalid(schema, tree, "Signature")


def test_nothing_may_follow_the_signature(schema):
    tree = example("Appeal")
    tree.getroot().append(signature_element())
    tree.getroot().append(copy.deepcopy(one(tree, "/*/zv:Body")))
    assert_invalid(schema, tree, "Body")


def test_a_document_needs_a_body(schema):
    tree = example("ReplyReview")
    tree.getroot().remove(one(tree, "/*/zv:Body"))
    assert_invalid(schema, tree, "Body")


def test_only_document_roots_are_accepted_as_roots(schema):
    header = copy.deepcopy(one(example("Appeal"), "/*/zv:Header"))
    assert_invalid(schema, etree.ElementTree(header), "Header")
    body = copy.deepcopy(one(example("Appeal"), "/*/zv:Body"))
    assert_invalid(schema, etree.ElementTree(body), "Body")


@pytest.mark.parametrize("ns", [None, "urn:zvarot:2", "urn:zvarot:1 "])
def test_wrong_namespace_is_rejected(schema, ns):
    tree = example("ReplyReview")
    for el in tree.iter():
        if isinstance(el.tag, str):
            local = etree.QName(el).localname
            el.tag = local if ns is None else f"{{{ns}}}{local}"
    etree.cleanup_namespaces(tree)
    assert_invalid(schema, tree, "ReplyReview")


def test_body_of_another_type_is_rejected(schema):
    tree = example("AppealReply")
    body = one(tree, "/*/zv:Body")
    tree.getroot().replace(body, copy.deepcopy(one(example("AppealSupplement"), "/*/zv:Body")))
    assert_invalid(schema, tree, "Official")


# --------------------------------------------------------------------------- no hiding places


def test_unknown_zvarot_element_in_body_is_rejected(schema):
    tree = example("Appeal")
    one(tree, "/*/zv:Body").append(etree.Element(q("Priority")))
    assert_invalid(schema, tree, "Priority")


@pytest.mark.parametrize("name", TYPES)
def test_a_foreign_element_is_rejected_everywhere(schema, name):
    """For every element of the example, appending a foreign-namespace child makes the document invalid."""
    base = example(name)
    paths = [base.getpath(el) for el in base.iter() if isinstance(el.tag, str)]
    assert len(paths) > 5
    for path in paths:
        tree = example(name)
        target = tree.xpath(path)[0]
        etree.SubElement(target, f"{{{FOREIGN}}}Extra").text = "x"
        assert not schema.validate(tree), f"foreign element accepted under {path}"


@pytest.mark.parametrize("name", TYPES)
def test_a_foreign_or_unknown_attribute_is_rejected_everywhere(schema, name):
    base = example(name)
    paths = [base.getpath(el) for el in base.iter() if isinstance(el.tag, str)]
    for path in paths:
        for attr in (f"{{{FOREIGN}}}extra", "Id"):
            tree = example(name)
            tree.xpath(path)[0].set(attr, "x")
            assert not schema.validate(tree), f"attribute {attr} accepted on {path}"


# --------------------------------------------------------------------------- identifiers and codes


@pytest.mark.parametrize(
    "bad",
    [
        "Off-housing",
        "1off",
        "o",
        "off_housing",
        "off housing",
        " off-housing-minister",
        "o" + "x" * 64,
        "офіцыйны",
    ],
)
def test_bad_official_id_is_rejected(schema, bad):
    assert_invalid(schema, with_text("AppealReply", "/*/zv:Body/zv:Official", bad), "Official")


def test_id_of_64_characters_is_accepted(schema):
    assert_valid(schema, with_text("AppealReply", "/*/zv:Body/zv:Official", "o" + "x" * 63))


@pytest.mark.parametrize(
    "bad",
    [
        "ap-7m2kq4xw9r3tz8b5n6c1d0fhj",
        "ap-7M2KQ4XW9R3TZ8B5N6C1D0FHJ2",
        "wr-7m2kq4xw9r3tz8b5n6c1d0fhj2",
        "ap-7m2kq4xw9r3tz8b5n6c1d0fhj2x",
        "7m2kq4xw9r3tz8b5n6c1d0fhj2",
    ],
)
def test_bad_appeal_id_is_rejected(schema, bad):
    assert_invalid(schema, with_text("ReplyReview", "/*/zv:Body/zv:AppealId", bad), "AppealId")


@pytest.mark.parametrize(
    "bad",
    [
        "k7qd-2mxa-p4rz-w6nb-h3tc",
        "K7QD2MXAP4RZW6NBH3TC",
        "K7QD-2MXA-P4RZ-W6NB",
        "K7QD-2MXA-P4RZ-W6NB-H3T1",
        "K7QD-2MXA-P4RZ-W6NB-H3T8",
        "K7QD-2MXA-P4RZ-W6NB-H3TC-AAAA",
    ],
)
def test_bad_tracking_code_is_rejected(schema, bad):
    assert_invalid(schema, with_text("StatusUpdate", "/*/zv:Body/zv:TrackingCode", bad), "TrackingCode")


def test_report_id_needs_its_prefix(schema):
    assert_invalid(
        schema,
        with_text("ReportReview", "/*/zv:Body/zv:ReportId", "rp-3k9d2m7q5x8b1n4c6t0z2r7hvp"),
        "ReportId",
    )


@pytest.mark.parametrize("bad", ["short", "has space in it", "x" * 65, "ünïcödé-ref"])
def test_bad_reviewer_ref_is_rejected(schema, bad):
    assert_invalid(schema, with_text("ReportReview", "/*/zv:Body/zv:ReviewerRef", bad), "ReviewerRef")


# --------------------------------------------------------------------------- numbers and enumerations


@pytest.mark.parametrize("bad", ["0", "6", "05", "-1", "4.5", "five", "", "256"])
def test_stars_outside_one_to_five_are_rejected(schema, bad):
    assert_invalid(schema, with_text("ReplyReview", "/*/zv:Body/zv:Stars", bad), "Stars")
    assert_invalid(schema, with_text("ReportReview", "/*/zv:Body/zv:Stars", bad), "Stars")


@pytest.mark.parametrize("stars", ["1", "2", "3", "4", "5"])
def test_stars_one_to_five_are_accepted(schema, stars):
    assert_valid(schema, with_text("ReplyReview", "/*/zv:Body/zv:Stars", stars))


@pytest.mark.parametrize("bad", ["closed", "reply_sent", "received", "IN_PROCESS", "in process"])
def test_status_change_accepts_only_dms_statuses(schema, bad):
    assert_invalid(schema, with_text("AppealStatusChange", "/*/zv:Body/zv:NewStatus", bad), "NewStatus")


def test_status_update_enumerations(schema):
    assert_invalid(schema, with_text("StatusUpdate", "/*/zv:Body/zv:Status", "overdue"), "Status")
    assert_invalid(schema, with_text("StatusUpdate", "/*/zv:Body/zv:Status", "supplemented"), "Status")
    assert_valid(schema, with_text("StatusUpdate", "/*/zv:Body/zv:Event", "supplemented"))
    assert_invalid(schema, with_text("StatusUpdate", "/*/zv:Body/zv:Event", "escalated"), "Event")
    assert_invalid(schema, with_text("StatusUpdate", "/*/zv:Body/zv:EventSeq", "0"), "EventSeq")
    assert_invalid(
        schema, with_text("StatusUpdate", "/*/zv:Body/zv:EventSeq", "9223372036854775808"), "EventSeq"
    )


def test_period_kind_is_week_month_or_year(schema):
    for kind in ("week", "month", "year"):
        assert_valid(schema, with_text("WorkReport", "//zv:Period/zv:Kind", kind))
    assert_invalid(schema, with_text("WorkReport", "//zv:Period/zv:Kind", "quarter"), "Kind")


@pytest.mark.parametrize("bad", ["2025-03-01Z", "2025-03-01+03:00", "2025-3-1", "01.03.2025"])
def test_dates_are_plain_calendar_dates(schema, bad):
    assert_invalid(schema, with_text("WorkReport", "//zv:Period/zv:Start", bad), "Start")


def test_metric_value_is_a_decimal(schema):
    assert_valid(schema, with_text("WorkReport", "(//zv:Metric/zv:Value)[1]", "-12.5"))
    assert_invalid(schema, with_text("WorkReport", "(//zv:Metric/zv:Value)[1]", "12,5"), "Value")
    assert_invalid(schema, with_text("WorkReport", "(//zv:Metric/zv:Value)[1]", "1e3"), "Value")


def test_receipt_error_codes_are_exactly_the_spec_codes(schema):
    xs = {"xs": XS}
    doc = etree.parse(str(XSD_DIR / "common.xsd"), _parser())
    codes = set(
        doc.xpath("/xs:schema/xs:simpleType[@name='ErrorCode']//xs:enumeration/@value", namespaces=xs)
    )
    assert codes == set(ERROR_CODES)
    assert len(codes) == 18


def rejected_receipt(codes) -> etree._ElementTree:
    tree = example("Receipt")
    body = one(tree, "/*/zv:Body")
    one(body, "zv:Outcome").text = "rejected"
    body.remove(one(body, "zv:Appeal"))
    errors = etree.SubElement(body, q("Errors"))
    for i, code in enumerate(codes, start=1):
        err = etree.SubElement(errors, q("Error"))
        etree.SubElement(err, q("Code")).text = code
        etree.SubElement(err, q("Message")).text = f"Problem {i}: описание ошибки"
        etree.SubElement(err, q("Line")).text = str(i)
        etree.SubElement(err, q("Path")).text = "/zv:Appeal/zv:Body/zv:Subject"
    return tree


def test_rejection_receipt_with_every_error_code_is_valid(schema):
    assert_valid(schema, rejected_receipt(sorted(ERROR_CODES)))


def test_unknown_error_code_is_rejected(schema):
    assert_invalid(schema, rejected_receipt(["schema-invalid", "oops"]), "Code")


def test_receipt_for_unreadable_submission_is_minimal(schema):
    tree = example("Receipt")
    header = one(tree, "/*/zv:Header")
    header.remove(one(header, "zv:InReplyTo"))
    body = one(tree, "/*/zv:Body")
    for local in ("RefToMessageId", "RefSenderSystem", "SenderDigests", "Appeal"):
        body.remove(one(body, f"zv:{local}"))
    one(body, "zv:Outcome").text = "rejected"
    errors = etree.SubElement(body, q("Errors"))
    err = etree.SubElement(errors, q("Error"))
    etree.SubElement(err, q("Code")).text = "malformed-xml"
    etree.SubElement(err, q("Message")).text = "not well-formed (invalid token)"
    assert_valid(schema, tree)


def test_receipt_element_order_is_fixed(schema):
    tree = example("Receipt")
    body = one(tree, "/*/zv:Body")
    body.insert(1, one(body, "zv:ReceivedAt"))
    assert_invalid(schema, tree, "ReceivedAt")
    tree = example("Receipt")
    body = one(tree, "/*/zv:Body")
    body.append(one(body, "zv:Outcome"))
    assert_invalid(schema, tree, "Outcome")


@pytest.mark.parametrize("bad", ["duplicated", "ACCEPTED", ""])
def test_bad_outcome_is_rejected(schema, bad):
    assert_invalid(schema, with_text("Receipt", "//zv:Outcome", bad), "Outcome")


@pytest.mark.parametrize(
    "bad",
    [base64.b64encode(b"x" * 20).decode(), base64.b64encode(b"x" * 65).decode(), "not base64!"],
)
def test_sender_digest_must_be_a_sha2_sized_base64_value(schema, bad):
    assert_invalid(schema, with_text("Receipt", "//zv:SenderDigests/zv:DigestValue", bad), "DigestValue")


# --------------------------------------------------------------------------- hashes, contacts, attachments


@pytest.mark.parametrize("bad", ["A" * 64, "0" * 63, "0" * 65, "g" * 64])
def test_sha256_is_64_lowercase_hex(schema, bad):
    assert_invalid(schema, with_text("Appeal", "//zv:Attachment/zv:Sha256", bad), "Sha256")
    assert_invalid(schema, with_text("Receipt", "//zv:SubmissionSha256", bad), "SubmissionSha256")


@pytest.mark.parametrize(
    "bad",
    [
        "alena",
        "alena@",
        "@example.by",
        "alena@example",
        "a b@example.by",
        "alena@example..by",
        "x" * 65 + "@example.by",
    ],
)
def test_bad_email_is_rejected(schema, bad):
    assert_invalid(schema, with_text("Appeal", "//zv:Applicant/zv:Email", bad), "Email")


@pytest.mark.parametrize("bad", ["123", "+375 29 123 45 67 ext. 5", "phone", "+" + "1" * 33])
def test_bad_phone_is_rejected(schema, bad):
    assert_invalid(schema, with_text("Appeal", "//zv:Applicant/zv:Phone", bad), "Phone")


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "dir/file.txt", "a\\b.txt", ".hidden", " lead.txt", "", "x" * 256]
)
def test_bad_attachment_name_is_rejected(schema, bad):
    assert_invalid(schema, with_text("Appeal", "//zv:Attachment/zv:Name", bad), "Name")


@pytest.mark.parametrize("bad", ["pdf", "application/", "application/pdf; charset=x", "text /plain"])
def test_bad_media_type_is_rejected(schema, bad):
    assert_invalid(schema, with_text("Appeal", "//zv:Attachment/zv:MediaType", bad), "MediaType")


def test_bad_base64_content_is_rejected(schema):
    assert_invalid(schema, with_text("Appeal", "//zv:Attachment/zv:Content", "@@not-base64@@"), "Content")


def _appeal_with_attachments(count: int):
    tree = example("Appeal")
    atts = one(tree, "//zv:Attachments")
    first = one(atts, "zv:Attachment")
    for _ in range(count - 1):
        atts.append(copy.deepcopy(first))
    return tree


def test_at_most_twenty_attachments(schema):
    assert_valid(schema, _appeal_with_attachments(20))
    assert_invalid(schema, _appeal_with_attachments(21), "Attachment")


# --------------------------------------------------------------------------- lengths


@pytest.mark.parametrize(
    ("name", "path", "limit"),
    [
        ("Appeal", "//zv:Subject", 500),
        ("Appeal", "//zv:Individual/zv:FamilyName", 300),
        ("Appeal", "//zv:Body/zv:Text", 100_000),
        ("ReplyReview", "//zv:Comment", 5000),
        ("AppealForward", "//zv:Reason", 5000),
        ("WorkReport", "(//zv:Item/zv:Title)[1]", 500),
        ("DirectoryUpdate", "(//zv:Official/zv:Name)[1]", 300),
        ("StatusUpdate", "//zv:Body/zv:Text", 5000),
        ("Appeal", "//zv:ClientReference", 128),
    ],
)
def test_free_text_is_bounded(schema, name, path, limit):
    local = path.rsplit(":", 1)[1].rstrip("[]()1")
    assert_valid(schema, with_text(name, path, "ж" * limit))
    assert_invalid(schema, with_text(name, path, "ж" * (limit + 1)), local)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("Appeal", "//zv:Body/zv:Text"),
        ("Appeal", "//zv:Subject"),
        ("ReplyReview", "//zv:Comment"),
        ("AppealReply", "//zv:Body/zv:Text"),
        ("Appeal", "//zv:PostalAddress"),
    ],
)
def test_blank_text_is_rejected(schema, name, path):
    assert_invalid(schema, with_text(name, path, " \n\t "))
    assert_invalid(schema, with_text(name, path, ""))


# --------------------------------------------------------------------------- type-specific structure


def test_addressee_is_either_officials_or_unit_and_topic(schema):
    tree = example("Appeal")
    addressee = one(tree, "//zv:Addressee")
    for child in list(addressee):
        addressee.remove(child)
    for off in ("off-housing-minister", "off-housing-dept-head"):
        etree.SubElement(addressee, q("Official")).text = off
    assert_valid(schema, tree)
    etree.SubElement(addressee, q("OrgUnit")).text = "ou-ministry-housing"
    assert_invalid(schema, tree, "OrgUnit")


def test_addressee_unit_needs_a_topic(schema):
    tree = example("Appeal")
    addressee = one(tree, "//zv:Addressee")
    addressee.remove(one(addressee, "zv:Topic"))
    assert_invalid(schema, tree, "Addressee")


def test_applicant_is_an_individual_or_a_legal_entity_not_both(schema):
    tree = example("Appeal")
    applicant = one(tree, "//zv:Applicant")
    individual = one(applicant, "zv:Individual")
    legal = etree.Element(q("LegalEntity"))
    etree.SubElement(legal, q("Name")).text = "ТСЖ «Комсомольская, 12»"
    etree.SubElement(legal, q("RegistrationNumber")).text = "690123456"
    applicant.replace(individual, legal)
    assert_valid(schema, tree)
    applicant.insert(0, individual)
    assert_invalid(schema, tree, "LegalEntity")


def test_applicant_needs_a_postal_address(schema):
    tree = example("Appeal")
    applicant = one(tree, "//zv:Applicant")
    applicant.remove(one(applicant, "zv:PostalAddress"))
    assert_invalid(schema, tree, "PostalAddress")


def test_work_report_items_are_bounded(schema):
    tree = example("WorkReport")
    items = one(tree, "//zv:Items")
    first = items[0]
    for child in list(items):
        items.remove(child)
    assert_invalid(schema, tree, "Items")
    for _ in range(200):
        items.append(copy.deepcopy(first))
    assert_valid(schema, tree)
    items.append(copy.deepcopy(first))
    assert_invalid(schema, tree, "Item")


def test_forward_needs_a_target_and_a_reason(schema):
    tree = example("AppealForward")
    body = one(tree, "/*/zv:Body")
    body.remove(one(body, "zv:ToOfficial"))
    assert_invalid(schema, tree, "Reason")
    tree = example("AppealForward")
    body = one(tree, "/*/zv:Body")
    body.remove(one(body, "zv:Reason"))
    assert_invalid(schema, tree)


def test_directory_containers_are_optional(schema):
    tree = example("DirectoryUpdate")
    body = one(tree, "/*/zv:Body")
    for local in ("OrgUnits", "Posts", "Officials"):
        body.remove(one(body, f"zv:{local}"))
    assert_valid(schema, tree)
    etree.SubElement(body, q("Officials"))
    assert_valid(schema, tree)
    body.insert(1, etree.Element(q("OrgUnits")))
    assert_valid(schema, tree)
    body.append(etree.Element(q("Posts")))
    assert_invalid(schema, tree, "Posts")


def test_directory_official_needs_id_name_and_post(schema):
    for local in ("Id", "Name", "Post"):
        tree = example("DirectoryUpdate")
        official = one(tree, "(//zv:Officials/zv:Official)[1]")
        official.remove(one(official, f"zv:{local}"))
        assert not schema.validate(tree), local


def test_directory_official_areas_hold_topics(schema):
    assert_invalid(schema, with_text("DirectoryUpdate", "(//zv:Areas/zv:Topic)[1]", "Housing"), "Topic")


# --------------------------------------------------------------------------- a second validator agrees


@pytest.fixture(scope="module")
def pyschema():
    import xmlschema

    return xmlschema.XMLSchema10(str(ENTRY), allow="local", defuse="always")


def test_xmlschema_library_compiles_the_same_roots(pyschema):
    assert sorted(pyschema.elements) == sorted(TYPES)


@pytest.mark.parametrize("name", TYPES)
def test_xmlschema_library_accepts_every_example(pyschema, name):
    tree = example(name)
    pyschema.validate(tree)
    tree.getroot().append(signature_element())
    pyschema.validate(tree)


@pytest.mark.parametrize(
    ("name", "path", "bad"),
    [
        ("Appeal", "/*/zv:Header/zv:SentAt", "2025-03-03T09:15:42"),
        ("Appeal", "/*/zv:Header/zv:MessageId", "3F6C2A1E-8B4D-4E7A-9C15-2D8E0B7F4A61"),
        ("ReplyReview", "/*/zv:Body/zv:Stars", "6"),
        ("Appeal", "//zv:Body/zv:Text", " \n "),
        ("Appeal", "//zv:Attachment/zv:Name", "../x.txt"),
        ("Appeal", "//zv:Applicant/zv:Email", "alena@example"),
        ("StatusUpdate", "//zv:TrackingCode", "K7QD-2MXA-P4RZ-W6NB-H3T1"),
        ("AppealReply", "/*/zv:Body/zv:Official", " off-housing-dept-head"),
    ],
)
def test_xmlschema_library_rejects_what_lxml_rejects(schema, pyschema, name, path, bad):
    tree = with_text(name, path, bad)
    assert not schema.validate(tree)
    assert not pyschema.is_valid(tree)
