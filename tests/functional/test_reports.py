"""Work reports and report reviews end to end: signed documents in, the public reports API out."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import select

from gateway.services.reports import ReportsService
from gateway.store.reports import ReportReview, WorkReport
from gateway.xml import ns
from tests.helpers import error_codes, example, post, receipt_field, receipt_of, signed, submit_at_once

DEPT_HEAD, MINISTER = "off-housing-dept-head", "off-housing-minister"


def work_report(kind: str = "month", start: str = "2025-03-01", official: str = DEPT_HEAD) -> etree._Element:
    root = example("WorkReport")
    root.find("zv:Body/zv:Official", ns.NSMAP).text = official
    root.find("zv:Body/zv:Period/zv:Kind", ns.NSMAP).text = kind
    root.find("zv:Body/zv:Period/zv:Start", ns.NSMAP).text = start
    return root


def review(report_id: str, stars: int = 5, reviewer: str = "p7Qm_2xK9rTz-4bN") -> etree._Element:
    root = example("ReportReview")
    root.find("zv:Body/zv:ReportId", ns.NSMAP).text = report_id
    root.find("zv:Body/zv:Stars", ns.NSMAP).text = str(stars)
    root.find("zv:Body/zv:ReviewerRef", ns.NSMAP).text = reviewer
    return root


def submit(client, signers, uid: str, root: etree._Element, expect: int = 201) -> list[str]:
    response = post(client, signed(signers, uid, root))
    codes = error_codes(receipt_of(response))
    assert response.status_code == expect, codes
    return codes


def reports_of(client, official: str = DEPT_HEAD) -> list[dict]:
    response = client.get(f"/api/v1/reports?official={official}")
    assert response.status_code == 200
    return response.get_json()["items"]


def test_a_work_report_is_stored_and_published(client, signers, gateway):
    submit(client, signers, DEPT_HEAD, work_report())
    [item] = reports_of(client)
    assert re.fullmatch(r"wr-[a-z2-7]{26}", item["id"])
    assert item["official"] == {"id": DEPT_HEAD, "name": "Maryna Kavalionak"}
    assert (item["kind"], item["period"], item["start"], item["end"]) == (
        "month",
        "2025-03",
        "2025-03-01",
        "2025-03-31",
    )
    # due by 5 April 2025, a Saturday: moved to Monday 7 April; received long after
    assert (item["due"], item["on_time"]) == ("2025-04-07", False)
    assert item["summary"].startswith("В марте 2025 года")
    assert item["reviews"] == {"count": 0, "average_stars": None}

    detail = client.get(f"/api/v1/reports/{item['id']}").get_json()
    assert [i["title"] for i in detail["items"]][:2] == [
        "Рассмотрение обращений граждан",
        "Выездные проверки организаций ЖКХ",
    ]
    assert detail["items"][0]["metric"] == {
        "name": "Обращений рассмотрено в срок",
        "value": "93.6",
        "unit": "%",
    }
    assert "metric" not in detail["items"][2]
    with gateway.sessions() as session:
        row = session.scalars(select(WorkReport)).one()
    assert row.message_id is not None and row.period_start == date(2025, 3, 1)


def test_a_period_must_begin_on_its_first_day(client, signers):
    codes = submit(client, signers, DEPT_HEAD, work_report("week", "2025-03-04"), expect=400)  # a Tuesday
    assert codes == ["schema-invalid"]
    codes = submit(client, signers, DEPT_HEAD, work_report("year", "2025-03-01"), expect=400)
    assert codes == ["schema-invalid"]
    submit(client, signers, DEPT_HEAD, work_report("week", "2025-03-03"))  # a Monday
    submit(client, signers, DEPT_HEAD, work_report("year", "2024-01-01"))


def _gateway_today(client) -> date:
    """Today on the gateway's legal clock (Europe/Minsk by default), not the test machine's: the two differ
    for some hours around midnight UTC."""
    return datetime.now(ZoneInfo(client.application.extensions["zvarot"].settings.timezone)).date()


def test_a_period_that_has_not_begun_is_refused(client, signers):
    next_year = _gateway_today(client).year + 1
    codes = submit(client, signers, DEPT_HEAD, work_report("year", f"{next_year}-01-01"), expect=409)
    assert codes == ["invalid-transition"]


def test_a_second_report_for_the_same_period_is_refused(client, signers):
    submit(client, signers, DEPT_HEAD, work_report())
    response = post(client, signed(signers, DEPT_HEAD, work_report()))
    assert response.status_code == 409
    receipt = receipt_of(response)
    assert error_codes(receipt) == ["invalid-transition"]
    assert "already reported on the month 2025-03" in receipt_field(receipt, "zv:Errors/zv:Error/zv:Message")
    submit(client, signers, DEPT_HEAD, work_report(start="2025-04-01"))  # another month is fine
    assert len(reports_of(client)) == 2


def test_a_work_report_must_be_signed_by_the_official_it_names(client, signers):
    codes = submit(client, signers, DEPT_HEAD, work_report(official=MINISTER), expect=403)
    assert codes == ["signer-not-authorized"]
    codes = submit(client, signers, "sys-dms-housing", work_report(), expect=403)  # a seal is not enough
    assert codes == ["signer-not-authorized"]


def test_reviews_of_a_report(client, signers, gateway):
    submit(client, signers, DEPT_HEAD, work_report())
    report_id = reports_of(client)[0]["id"]
    submit(client, signers, "sys-portal", review(report_id, 5, "reviewer-0001"))
    submit(client, signers, "sys-portal", review(report_id, 2, "reviewer-0002"))

    # one review per reviewer and report
    codes = submit(client, signers, "sys-portal", review(report_id, 1, "reviewer-0001"), expect=409)
    assert codes == ["invalid-transition"]
    # no such report
    codes = submit(client, signers, "sys-portal", review("wr-" + "a" * 26), expect=409)
    assert codes == ["invalid-transition"]
    # only systems registered for ReportReview send them
    codes = submit(
        client,
        signers,
        "sys-dms-housing",
        review(
            report_id,
            5,
            "reviewer-0003",
        ),
        expect=403,
    )
    assert codes == ["signer-not-authorized"]

    detail = client.get(f"/api/v1/reports/{report_id}").get_json()
    assert detail["reviews"] == {"count": 2, "average_stars": 3.5}
    assert [(r["stars"], r["reviewer_ref"]) for r in detail["review_list"]] == [
        (5, "reviewer-0001"),
        (2, "reviewer-0002"),
    ]
    assert detail["review_list"][0]["comment"].startswith("Конкретные цифры")
    assert reports_of(client)[0]["reviews"] == {"count": 2, "average_stars": 3.5}
    with gateway.sessions() as session:
        assert session.scalars(select(ReportReview.origin_system)).all() == ["sys-portal", "sys-portal"]


def test_the_reports_api_filters_by_official_and_period(client, signers):
    submit(client, signers, DEPT_HEAD, work_report("month", "2025-03-01"))
    submit(client, signers, DEPT_HEAD, work_report("week", "2025-03-03"))
    submit(client, signers, DEPT_HEAD, work_report("year", "2024-01-01"))

    def periods(query: str) -> list[str]:
        response = client.get(f"/api/v1/reports?{query}")
        assert response.status_code == 200, response.get_json()
        return [i["period"] for i in response.get_json()["items"]]

    assert periods(f"official={DEPT_HEAD}") == ["2025-W10", "2025-03", "2024"]  # newest period first
    assert periods("period=week") == ["2025-W10"]
    assert periods("period=2025-03") == ["2025-03"]
    assert periods("period=2025-W10") == ["2025-W10"]
    assert periods("period=2024") == ["2024"]
    assert periods(f"official={MINISTER}") == []
    page = client.get("/api/v1/reports?limit=1&offset=1").get_json()
    assert (page["total"], [i["period"] for i in page["items"]]) == (3, ["2025-03"])
    assert client.get("/api/v1/reports?period=2025-13").status_code == 400
    assert client.get("/api/v1/reports?limit=x").status_code == 400
    assert client.get("/api/v1/reports/wr-nothing").status_code == 404


def test_the_report_schedule_of_an_official(client, signers):
    today = _gateway_today(client)
    this_monday = today - timedelta(days=today.weekday())
    last_monday = this_monday - timedelta(days=7)
    submit(client, signers, DEPT_HEAD, work_report("week", this_monday.isoformat()))
    submit(client, signers, DEPT_HEAD, work_report("week", last_monday.isoformat()))
    schedule = client.get(f"/api/v1/officials/{DEPT_HEAD}/report-schedule?kind=week").get_json()
    # in post since 2 September 2024 (a Monday): every week from then on is due
    assert schedule["items"][-1]["start"] == "2024-09-02"
    this_week, last_week = schedule["items"][:2]
    assert this_week["start"] == this_monday.isoformat()
    assert this_week["status"] == "on_time" and this_week["report_id"].startswith("wr-")  # before it ends
    # Due by the end of this week's first working day: on time or late depending on today's weekday.
    assert last_week["start"] == last_monday.isoformat()
    assert last_week["status"] in ("on_time", "late") and last_week["report_id"].startswith("wr-")
    assert schedule["counts"]["missing"] == len(schedule["items"]) - 2
    assert client.get(f"/api/v1/officials/{DEPT_HEAD}/report-schedule?kind=decade").status_code == 400
    assert client.get("/api/v1/officials/off-nobody/report-schedule").status_code == 404


def test_two_reports_racing_for_one_period(client, signers, gateway, monkeypatch):
    """Both pass the check for an earlier report; the unique constraint refuses the second one's INSERT, which
    is answered like any second report (and the first one stays)."""
    submit(client, signers, DEPT_HEAD, work_report())
    original = ReportsService._existing
    calls = []

    def not_yet(session, official, kind, start):
        calls.append(kind)
        return None if len(calls) == 1 else original(session, official, kind, start)

    monkeypatch.setattr(ReportsService, "_existing", staticmethod(not_yet))
    response = post(client, signed(signers, DEPT_HEAD, work_report()))
    assert response.status_code == 409
    receipt = receipt_of(response)
    assert error_codes(receipt) == ["invalid-transition"]
    [existing] = reports_of(client)
    assert existing["id"] in receipt_field(receipt, "zv:Errors/zv:Error/zv:Message")


def test_two_reports_sent_at_once(signers, gateway):
    documents = [signed(signers, DEPT_HEAD, work_report()) for _ in range(2)]
    outcomes = submit_at_once(gateway.pipeline, documents)
    assert sorted(o.outcome for o in outcomes) == ["accepted", "rejected"]
    assert next(o for o in outcomes if o.outcome == "rejected").problem.code == "invalid-transition"
    with gateway.sessions() as session:
        assert len(session.scalars(select(WorkReport)).all()) == 1


def test_a_week_is_rated_from_what_came_before_its_end_in_its_own_zone(client, signers, gateway):
    """The week ends Monday 00:00 on the gateway's clock (Minsk, UTC+3). A review received an hour after
    that end must not count, on SQLite too, which compares stored UTC times as text (a Minsk bound let three
    more hours in, and recomputing a week later gave other numbers)."""
    submit(client, signers, DEPT_HEAD, work_report())
    report_id = reports_of(client)[0]["id"]
    submit(client, signers, "sys-portal", review(report_id, stars=2))
    with gateway.sessions() as session:
        received = session.scalar(select(ReportReview.received_at).where(ReportReview.report_id == report_id))
        received = received if received.tzinfo else received.replace(tzinfo=UTC)
        zone = ZoneInfo(gateway.settings.timezone)

        def stars_counted(as_of: datetime) -> int:
            records = gateway.ratings.records(session, as_of.astimezone(zone))
            return sum(len(r.report_stars) for r in records if r.official_id == DEPT_HEAD)

        assert stars_counted(received - timedelta(hours=1)) == 0
        assert stars_counted(received + timedelta(hours=1)) == 1
