"""The pipeline's readers of signed content walk children once (documents.child, child_texts) rather than
searching an ElementPath per field: they must read exactly what the searches read, on every example."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.ingest.appeal_documents import read_action, read_appeal
from gateway.ingest.documents import child, child_text, child_texts, local_name, named_official, read_header
from gateway.xml import ns

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "xsd" / "examples").glob("*.xml"))
ACTIONS = ("AppealForward", "AppealStatusChange", "AppealSupplement", "AppealReply", "ReplyReview")


def _searched(el, path: str) -> str | None:
    found = el.find(path, ns.NSMAP)
    return None if found is None or found.text is None else found.text.strip()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_the_header_and_the_named_official_read_as_the_searches_read_them(example):
    root = etree.parse(str(example)).getroot()
    header = read_header(root)
    assert header.message_id == _searched(root, "zv:Header/zv:MessageId")
    assert header.sender_system == _searched(root, "zv:Header/zv:SenderSystem")
    assert header.in_reply_to == _searched(root, "zv:Header/zv:InReplyTo")
    assert (header.sent_at is None) == (_searched(root, "zv:Header/zv:SentAt") is None)
    assert named_official(root) == (
        _searched(root, "zv:Body/zv:Official") or _searched(root, "zv:Body/zv:FromOfficial")
    )


def test_an_appeal_reads_as_the_searches_read_it():
    root = etree.parse(str(_example("Appeal"))).getroot()
    appeal = read_appeal(root)
    assert appeal.subject == _searched(root, "zv:Body/zv:Subject")
    assert appeal.org_unit == _searched(root, "zv:Body/zv:Addressee/zv:OrgUnit")
    assert appeal.topic == _searched(root, "zv:Body/zv:Addressee/zv:Topic")
    assert appeal.officials == tuple(
        e.text.strip() for e in root.findall("zv:Body/zv:Addressee/zv:Official", ns.NSMAP)
    )
    assert appeal.applicant["kind"] in ("individual", "legal") and len(appeal.applicant) > 1


@pytest.mark.parametrize("document_type", ACTIONS)
def test_every_action_reads_as_the_searches_read_it(document_type):
    root = etree.parse(str(_example(document_type))).getroot()
    action = read_action(document_type, root)
    body = root.find("zv:Body", ns.NSMAP)
    assert action.appeal_id == _searched(body, "zv:AppealId")
    assert action.official == (_searched(body, "zv:Official") or _searched(body, "zv:FromOfficial"))
    assert action.status == _searched(body, "zv:NewStatus")
    assert action.reason == _searched(body, "zv:Reason")
    assert action.note == (_searched(body, "zv:Note") or _searched(body, "zv:Comment"))
    stars = _searched(body, "zv:Stars")
    assert action.stars == (int(stars) if stars else None)


def _example(document_type: str) -> Path:
    return next(p for p in EXAMPLES if p.stem == document_type)


def test_child_texts_takes_the_first_of_each_name_stripped_and_nothing_of_another_namespace():
    parent = etree.fromstring(
        f'<zv:P xmlns:zv="{ns.ZV}" xmlns:x="urn:other">'
        "<zv:A> first </zv:A><zv:A>second</zv:A><x:B>foreign</x:B><!-- a comment --><zv:C/>"
        "<?pi data?><zv:D>\n  text\n</zv:D></zv:P>"
    )
    assert child_texts(parent) == {"A": "first", "D": "text"}  # C has no text: absent, as a search finds None
    assert child(parent, "A").text == " first "
    assert child(parent, "B") is None  # x:B is not zv:B
    assert child(None, "A") is None and child_texts(None) == {}


def test_child_text_and_local_name():
    parent = etree.fromstring(f'<zv:P xmlns:zv="{ns.ZV}"><zv:A>  a </zv:A><zv:E/><plain/></zv:P>')
    assert child_text(parent, "A") == "a"
    assert child_text(parent, "E") is None and child_text(parent, "Missing") is None
    assert [local_name(el) for el in parent] == ["A", "E", "plain"]
