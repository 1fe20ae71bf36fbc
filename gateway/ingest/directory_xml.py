"""Reading a DirectoryUpdate: its (signed, schema-valid) XML in, plain data for gateway.directory.service out.

Names are whitespace-collapsed as the XSD's xs:token types compare them; long texts are stripped at both ends;
dates are YYYY-MM-DD.
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from gateway.domain.directory.model import (
    Contacts,
    DirectoryUpdateData,
    OfficialData,
    OrgUnitData,
    PostData,
)
from gateway.xml import ns


def _text(el: etree._Element, path: str) -> str | None:
    found = el.find(path, ns.NSMAP)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _name(el: etree._Element, path: str) -> str:
    return " ".join((_text(el, path) or "").split())


def _date(el: etree._Element, path: str) -> date | None:
    value = _text(el, path)
    return date.fromisoformat(value) if value else None


def read_directory_update(root: etree._Element) -> DirectoryUpdateData:
    """Map a DirectoryUpdate document (already validated against the XSD) to DirectoryUpdateData."""
    body = root.find("zv:Body", ns.NSMAP)
    effective_from = _date(body, "zv:EffectiveFrom")
    if effective_from is None:  # the XSD requires it; only a document that skipped validation lacks it
        raise ValueError("DirectoryUpdate without EffectiveFrom")
    units = tuple(
        OrgUnitData(
            id=_text(u, "zv:Id") or "",
            name=_name(u, "zv:Name"),
            parent_id=_text(u, "zv:Parent"),
            kind=_text(u, "zv:Kind"),
        )
        for u in body.iterfind("zv:OrgUnits/zv:OrgUnit", ns.NSMAP)
    )
    posts = tuple(
        PostData(
            id=_text(p, "zv:Id") or "",
            title=_name(p, "zv:Title"),
            org_unit_id=_text(p, "zv:OrgUnit") or "",
            reports_to_post_id=_text(p, "zv:ReportsTo"),
        )
        for p in body.iterfind("zv:Posts/zv:Post", ns.NSMAP)
    )
    officials = tuple(_official(o) for o in body.iterfind("zv:Officials/zv:Official", ns.NSMAP))
    return DirectoryUpdateData(
        effective_from=effective_from, org_units=units, posts=posts, officials=officials
    )


def _official(o: etree._Element) -> OfficialData:
    return OfficialData(
        id=_text(o, "zv:Id") or "",
        name=_name(o, "zv:Name"),
        post_id=_text(o, "zv:Post") or "",
        authority=_text(o, "zv:Authority"),
        duties=_text(o, "zv:Duties"),
        contacts=Contacts(
            email=_text(o, "zv:Contacts/zv:Email"),
            phone=_text(o, "zv:Contacts/zv:Phone"),
            address=_text(o, "zv:Contacts/zv:Address"),
        ),
        biography=_text(o, "zv:Biography"),
        topics=tuple(t.text.strip() for t in o.iterfind("zv:Areas/zv:Topic", ns.NSMAP) if t.text),
        start_date=_date(o, "zv:StartDate"),
        end_date=_date(o, "zv:EndDate"),
    )
