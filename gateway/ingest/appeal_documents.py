"""Reading appeal documents: signed XML in, plain data for the appeals service out (no lxml beyond here)."""

from __future__ import annotations

from datetime import date

from lxml import etree

from gateway.ingest.documents import child, child_text, child_texts, local_name
from gateway.services.appeals import ActionData, IntakeData
from gateway.xml import ns


def _texts(el: etree._Element, path: str) -> tuple[str, ...]:
    return tuple((e.text or "").strip() for e in el.findall(path, ns.NSMAP))


def _officials(addressee: etree._Element | None) -> list[etree._Element]:
    return [] if addressee is None else list(addressee.iterchildren(f"{{{ns.ZV}}}Official"))


def read_appeal(root: etree._Element) -> IntakeData:
    body = child(root, "Body")
    applicant_el = child(body, "Applicant")
    applicant: dict = {}
    for el in applicant_el.iter(etree.Element):
        if el is applicant_el or len(el):
            continue
        applicant[local_name(el)] = (el.text or "").strip()
    applicant["kind"] = "individual" if child(applicant_el, "Individual") is not None else "legal"
    addressee = child(body, "Addressee")
    to = child_texts(addressee)
    return IntakeData(
        applicant=applicant,
        officials=tuple((e.text or "").strip() for e in _officials(addressee)),
        org_unit=to.get("OrgUnit"),
        topic=to.get("Topic"),
        subject=child_text(body, "Subject") or "",
    )


def read_action(document_type: str, root: etree._Element) -> ActionData:
    body = child(root, "Body")
    fields = child_texts(body)
    due, stars = fields.get("NewDueDate"), fields.get("Stars")
    return ActionData(
        document_type=document_type,
        appeal_id=fields.get("AppealId") or "",
        official=fields.get("Official") or fields.get("FromOfficial"),
        to=_texts(body, "zv:ToOfficial"),
        status=fields.get("NewStatus"),
        new_due_date=date.fromisoformat(due) if due else None,
        reason=fields.get("Reason"),
        note=fields.get("Note") or fields.get("Comment"),
        stars=int(stars) if stars else None,
    )
