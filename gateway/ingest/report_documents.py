"""Reading work reports and report reviews: signed XML in, plain data for the reports service out."""

from __future__ import annotations

from datetime import date

from lxml import etree

from gateway.ingest.documents import text
from gateway.services.reports import ReportReviewData, WorkReportData
from gateway.xml import ns


def read_work_report(root: etree._Element) -> WorkReportData:
    body = root.find("zv:Body", ns.NSMAP)
    items = []
    for item in body.findall("zv:Items/zv:Item", ns.NSMAP):
        entry: dict = {"title": text(item, "zv:Title") or "", "result": text(item, "zv:Result") or ""}
        metric = item.find("zv:Metric", ns.NSMAP)
        if metric is not None:
            # The value stays a decimal string: exactly what was signed, no binary floating point.
            entry["metric"] = {
                "name": text(metric, "zv:Name") or "",
                "value": text(metric, "zv:Value") or "",
                "unit": text(metric, "zv:Unit"),
            }
        items.append(entry)
    return WorkReportData(
        official=text(body, "zv:Official") or "",
        period_kind=text(body, "zv:Period/zv:Kind") or "",
        period_start=date.fromisoformat(text(body, "zv:Period/zv:Start") or ""),
        summary=text(body, "zv:Summary") or "",
        items=tuple(items),
    )


def read_report_review(root: etree._Element) -> ReportReviewData:
    body = root.find("zv:Body", ns.NSMAP)
    return ReportReviewData(
        report_id=text(body, "zv:ReportId") or "",
        stars=int(text(body, "zv:Stars") or "0"),
        comment=text(body, "zv:Comment"),
        reviewer_ref=text(body, "zv:ReviewerRef") or "",
    )
