"""Demo traffic for the web page tests (Flask test client) and the browser tests (a running server).

Today, over HTTP with real signatures: an appeal replied to and reviewed (its tracking code is what a
citizen types), a work report on this week reviewed twice, a rejected (unsigned) document. In the past,
straight into the tables as tests/functional/test_ratings.py does (certificates made today cannot sign in
January): the housing department head's and the minister's appeals and reports of January 2026, rated for
2026-W04 to W06 with `zvarot ratings compute`. Then one of today's status updates is made a dead letter,
and an operator is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from lxml import etree
from sqlalchemy import func, select, update

from gateway.interfaces.cli.main import cli
from gateway.services.operators import add_operator
from gateway.store.appeals import OutboxMessage
from gateway.store.database import writing
from gateway.store.directory import Membership
from gateway.store.models import RejectedDocument
from gateway.xml import ns
from tests.functional.test_ratings import History, jan, reply, reviewed
from tests.helpers import about, example, new_appeal, post, signed

A, B = "off-housing-dept-head", "off-housing-minister"
A_NAME, B_NAME = "Maryna Kavalionak", "Ivan Petrov"
PORTAL = "sys-portal"
OPERATOR, PASSWORD = "duty-operator", "correct horse battery staple"
WEEKS = ("2026-W04", "2026-W05", "2026-W06")
MINSK = ZoneInfo("Europe/Minsk")
# The applicant of xsd/examples/Appeal.xml and what only the appeal itself says: never on a tracking page.
PERSONAL = (
    "Навумчык",
    "Алена",
    "alena.navumchyk@example.by",
    "123-45-67",
    "Комсомольская",
    "Протекает кровля",
)


@dataclass(frozen=True)
class WebWorld:
    appeal_id: str
    tracking_code: str
    report_id: str
    dead_letter: int
    rejected_id: int


def _body(root: etree._Element, **fields: str) -> etree._Element:
    for name, value in fields.items():
        root.find(f"zv:Body/{name}", ns.NSMAP).text = value
    return root


def _january(gateway) -> None:
    """A: ranked every week from W05 (as in test_ratings); B: enough appeals, mostly late, and no reports."""
    with writing(gateway.sessions) as session:
        session.execute(
            update(Membership).where(Membership.official_id.in_([A, B])).values(start_date=date(2026, 1, 5))
        )
        h = History(session)
        received = jan(5, 9)
        for stars in (5, 4, 5, 4):
            h.appeal(A, received, reply(A, jan(15)), reviewed(stars, jan(16)))
        h.appeal(A, received, reply(A, jan(22)))
        h.appeal(A, received, ("forwarded", jan(21, 10), {"from": A, "to": [B], "reason": "competence"}, A))
        for stars in (2, 3):
            h.appeal(B, received, reply(B, jan(14)), reviewed(stars, jan(15)))
        for _ in range(4):
            h.appeal(B, received, reply(B, jan(27)))
        first = h.report(A, date(2026, 1, 5), jan(12, 10))
        h.report(A, date(2026, 1, 12), jan(19, 10))
        h.report(A, date(2026, 1, 19), jan(28, 10))
        h.report(A, date(2026, 2, 2), jan(37, 10))
        h.review(first, 5, jan(13))
        h.review(first, 4, jan(14))
        session.commit()


def build_world(client, signers, gateway, database_url: str, home, *, ratings: bool = True) -> WebWorld:
    """`ratings=False`: without the January history and its ratings (what the console tests do not need)."""

    def send(uid: str, root: etree._Element) -> None:
        response = post(client, signed(signers, uid, root))
        assert response.status_code == 201, response.data[:2000]

    appeal_id, tracking_code = new_appeal(client, signers, A)
    send(A, about(example("AppealReply"), appeal_id))
    send(PORTAL, _body(about(example("ReplyReview"), appeal_id), **{"zv:Stars": "4"}))

    monday = datetime.now(MINSK).date() - timedelta(days=datetime.now(MINSK).weekday())
    send(A, _body(example("WorkReport"), **{"zv:Period/zv:Kind": "week", "zv:Period/zv:Start": str(monday)}))
    report_id = client.get(f"/api/v1/reports?official={A}").get_json()["items"][0]["id"]
    for stars, ref in (("5", "reviewer-one"), ("4", "reviewer-two")):
        send(
            PORTAL,
            _body(
                example("ReportReview"),
                **{"zv:ReportId": report_id, "zv:Stars": stars, "zv:ReviewerRef": ref},
            ),
        )

    unsigned = etree.tostring(example("Appeal"), xml_declaration=True, encoding="UTF-8")
    assert post(client, unsigned).status_code == 400  # signature-missing: kept for the operator

    if ratings:
        _january(gateway)
        env = {"ZVAROT_DATABASE_URL": database_url, "ZVAROT_HOME": str(home)}
        for week in WEEKS:
            result = CliRunner().invoke(cli, ["ratings", "compute", "--week", week], env=env)
            assert result.exit_code == 0, result.output

    with writing(gateway.sessions) as session:
        dead = session.scalar(select(func.min(OutboxMessage.id)))
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == dead)
            .values(
                status="dead",
                attempts=8,
                next_attempt_at=None,
                last_error="HTTP 503 Service Unavailable from https://portal.example.by/status",
            )
        )
        rejected = session.scalar(select(func.max(RejectedDocument.id)))
        add_operator(session, OPERATOR, PASSWORD, datetime.now(UTC))
        session.commit()
    return WebWorld(appeal_id, tracking_code, report_id, dead, rejected)
