"""Reading appeal documents: signed XML in, plain data for the appeals service out (no lxml beyond here)."""

from __future__ import annotations

from datetime import date

from lxml import etree

from gateway.services.appeals import ActionData, IntakeData
from gateway.xml import ns


def _text(el: etree._Element, path: str) -> str | None:
    found = el.find(path, ns.NSMAP)
    return None if found is None or found.text is None else found.text.strip()


def _texts(el: etree._Element, path: str) -> tuple[str, ...]:
    return tuple((e.text or "").strip() for e in el.findall(path, ns.NSMAP))


def read_appeal(root: etree._Element) -> IntakeData:
    body = root.find("zv:Body", ns.NSMAP)
    applicant_el = body.find("zv:Applicant", ns.NSMAP)
    applicant: dict = {}
    for child in applicant_el.iter():
        if child is applicant_el or len(child):
            continue
        applicant[etree.QName(child).localname] = (child.text or "").strip()
    applicant["kind"] = "individual" if applicant_el.find("zv:Individual", ns.NSMAP) is not None else "legal"
    return IntakeData(
        applicant=applicant,
        officials=_texts(body, "zv:Addressee/zv:Official"),
        org_unit=_text(body, "zv:Addressee/zv:OrgUnit"),
        topic=_text(body, "zv:Addressee/zv:Topic"),
        subject=_text(body, "zv:Subject") or "",
    )


def read_action(document_type: str, root: etree._Element) -> ActionData:
    body = root.find("zv:Body", ns.NSMAP)
    due = _text(body, "zv:NewDueDate")
    stars = _text(body, "zv:Stars")
    return ActionData(
        document_type=document_type,
        appeal_id=_text(body, "zv:AppealId") or "",
        official=_text(body, "zv:Official") or _text(body, "zv:FromOfficial"),
        to=_texts(body, "zv:ToOfficial"),
        status=_text(body, "zv:NewStatus"),
        new_due_date=date.fromisoformat(due) if due else None,
        reason=_text(body, "zv:Reason"),
        note=_text(body, "zv:Note") or _text(body, "zv:Comment"),
        stars=int(stars) if stars else None,
    )
