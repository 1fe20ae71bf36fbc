"""Reading work reports and report reviews: signed XML in, plain data for the reports service out."""

from __future__ import annotations

from datetime import date

from lxml import etree

from gateway.services.reports import ReportReviewData, WorkReportData
from gateway.xml import ns


def _text(el: etree._Element, path: str) -> str | None:
    found = el.find(path, ns.NSMAP)
    return None if found is None or found.text is None else found.text.strip()


def read_work_report(root: etree._Element) -> WorkReportData:
    body = root.find("zv:Body", ns.NSMAP)
    items = []
    for item in body.findall("zv:Items/zv:Item", ns.NSMAP):
        entry: dict = {"title": _text(item, "zv:Title") or "", "result": _text(item, "zv:Result") or ""}
        metric = item.find("zv:Metric", ns.NSMAP)
        if metric is not None:
            # The value stays a decimal string: exactly what was signed, no binary floating point.
            entry["metric"] = {
                "name": _text(metric, "zv:Name") or "",
                "value": _text(metric, "zv:Value") or "",
                "unit": _text(metric, "zv:Unit"),
            }
        items.append(entry)
    return WorkReportData(
        official=_text(body, "zv:Official") or "",
        period_kind=_text(body, "zv:Period/zv:Kind") or "",
        period_start=date.fromisoformat(_text(body, "zv:Period/zv:Start") or ""),
        summary=_text(body, "zv:Summary") or "",
        items=tuple(items),
    )


def read_report_review(root: etree._Element) -> ReportReviewData:
    body = root.find("zv:Body", ns.NSMAP)
    return ReportReviewData(
        report_id=_text(body, "zv:ReportId") or "",
        stars=int(_text(body, "zv:Stars") or "0"),
        comment=_text(body, "zv:Comment"),
        reviewer_ref=_text(body, "zv:ReviewerRef") or "",
    )
