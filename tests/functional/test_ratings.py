"""Weekly ratings from stored events: a hand-computed week, recomputation, the JSON API and the CLI.

The history is written straight into the tables (as the pipeline would have stored it) so that it can lie in
the past: received documents carry the gateway's real clock, and certificates made today cannot sign in 2026's
January. End to end over HTTP: test_a_rating_from_documents_sent_today.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select, update

from gateway.domain.ratings.formulas import wilson_lower_bound
from gateway.domain.ratings.weeks import IsoWeek
from gateway.interfaces.cli.main import cli
from gateway.services.appeals import new_appeal_id, new_tracking_code
from gateway.services.reports import new_report_id
from gateway.store.appeals import Appeal, AppealEvent
from gateway.store.database import writing
from gateway.store.directory import Membership
from gateway.store.models import Message
from gateway.store.reports import RatingRun, RatingSnapshot, ReportReview, WorkReport
from gateway.xml import ns
from tests.helpers import about, example, new_appeal, post, signed

MINSK = ZoneInfo("Europe/Minsk")
A, B = "off-housing-dept-head", "off-housing-minister"
W06 = IsoWeek(2026, 6)  # Monday 2 to Sunday 8 February 2026; as of Monday 9 February 00:00 Minsk time


def jan(day: int, hour: int = 12) -> datetime:
    """A moment in January 2026 (day 32 = 1 February …), Minsk time."""
    return datetime(2026, 1, 1, hour, tzinfo=MINSK) + timedelta(days=day - 1)


class History:
    def __init__(self, session):
        self.session = session

    def message(self, document_type: str, at: datetime) -> int:
        row = Message(
            sender_system="sys-portal",
            message_id=str(uuid.uuid4()),
            document_type=document_type,
            sha256="0" * 64,
            received_at=at,
            signer_uid="sys-portal",
            signer_kind="system",
            signer_cert_sha256="0" * 64,
            body=b"<stored-elsewhere/>",
            receipt_id=f"rc-{uuid.uuid4().hex}",
            receipt=b"",
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def appeal(self, official: str, received: datetime, *steps: tuple[str, datetime, dict, str]) -> str:
        """`steps`: (event kind, at, data, actor official or '' for the citizen)."""
        appeal_id = new_appeal_id()
        self.session.add(
            Appeal(
                id=appeal_id,
                tracking_code=new_tracking_code(),
                received_at=received,
                origin_system="sys-portal",
                message_id=self.message("Appeal", received),
                subject="s",
                applicant={},
                addressee={"officials": [official]},
            )
        )
        self.session.flush()
        rows = [("received", received, {"assignees": [official], "origin_system": "sys-portal"}, "")]
        for seq, (kind, at, data, actor) in enumerate([*rows, *steps], start=1):
            self.session.add(
                AppealEvent(
                    appeal_id=appeal_id,
                    seq=seq,
                    kind=kind,
                    at=at,
                    actor_kind="official" if actor else ("system" if seq == 1 else "citizen"),
                    actor_id=actor or ("sys-portal" if seq == 1 else None),
                    data=data,
                    message_id=None,
                )
            )
        return appeal_id

    def report(self, official: str, week_start: date, at: datetime) -> str:
        report_id = new_report_id()
        self.session.add(
            WorkReport(
                id=report_id,
                official_id=official,
                period_kind="week",
                period_start=week_start,
                summary="…",
                items=[],
                received_at=at,
                message_id=self.message("WorkReport", at),
            )
        )
        self.session.flush()
        return report_id

    def review(self, report_id: str, stars: int, at: datetime) -> None:
        self.session.add(
            ReportReview(
                report_id=report_id,
                reviewer_ref=f"reviewer-{uuid.uuid4().hex[:12]}",
                stars=stars,
                comment=None,
                received_at=at,
                origin_system="sys-portal",
                message_id=self.message("ReportReview", at),
            )
        )


def reply(official: str, at: datetime) -> tuple[str, datetime, dict, str]:
    return ("reply_sent", at, {"official": official}, official)


def reviewed(stars: int, at: datetime) -> tuple[str, datetime, dict, str]:
    return ("reviewed", at, {"stars": stars}, "")


@pytest.fixture
def january(gateway):
    """A and B took up their posts on Monday 5 January 2026. Appeals to A arrive on 5 January at 09:00 and are
    due on 5 + 15 = Tuesday 20 January."""
    with writing(gateway.sessions) as session:
        session.execute(
            update(Membership).where(Membership.official_id.in_([A, B])).values(start_date=date(2026, 1, 5))
        )
        h = History(session)
        received = jan(5, 9)
        for stars in (5, 4, 5, 4):  # 4 replies on time, reviewed
            h.appeal(A, received, reply(A, jan(15)), reviewed(stars, jan(16)))
        h.appeal(A, received, reply(A, jan(22)))  # late: A held it when the due date ended
        h.appeal(  # forwarded to B after the due date: late for A; B's reply comes after the week
            A,
            received,
            ("forwarded", jan(21, 10), {"from": A, "to": [B], "reason": "competence"}, A),
            reply(B, jan(41)),
        )
        h.appeal(B, jan(26, 9))  # due on 10 February: not charged yet
        # A's weekly reports (due on the Mondays after): on time, on time, late, missing, early
        first = h.report(A, date(2026, 1, 5), jan(12, 10))
        h.report(A, date(2026, 1, 12), jan(19, 10))
        h.report(A, date(2026, 1, 19), jan(28, 10))
        h.report(A, date(2026, 2, 2), jan(37, 10))
        h.review(first, 5, jan(13))
        h.review(first, 4, jan(14))
        h.review(first, 1, jan(41))  # after the week
        session.commit()
    return gateway


def expected_a() -> dict:
    return {
        # reply stars: (5·3 + 5 + 4 + 5 + 4) / (5 + 4) = 33 / 9 = 3.666667 → (v − 1) / 4 = 0.666667
        "reply_stars": (3.666667, 0.666667, 4),
        # on time: 4 of 6 appeals → Wilson lower bound
        "on_time": (round(wilson_lower_bound(4, 6), 6), round(wilson_lower_bound(4, 6), 6), 6),
        # weeks of 5, 12, 19, 26 January and 2 February decided: 3 on time, 1 late, 1 missing (9 Feb: pending)
        # (2·0.5 + 3 + 0.5·1) / (2 + 5) = 4.5 / 7 = 0.642857
        "report_schedule": (0.642857, 0.642857, 5),
        # two reviews of one report before the week's end: (5·3 + 2·4.5) / (5 + 2) = 24 / 7 = 3.428571
        # → (v − 1) / 4 = 0.607143
        "report_stars": (3.428571, 0.607143, 2),
    }


def test_a_week_computed_by_hand(january):
    gateway = january
    result = gateway.ratings.compute_and_store(gateway.sessions, W06, now=datetime(2026, 2, 10, tzinfo=UTC))
    assert result.as_of == datetime(2026, 2, 8, 21, 0, tzinfo=UTC)
    with gateway.sessions() as session:
        rows = {r.official_id: r for r in session.scalars(select(RatingSnapshot))}
        run = session.get(RatingRun, "2026-W06")
    a = rows[A]
    got = {name: (c["value"], c["normalised"], c["sample"]) for name, c in a.components.items()}
    assert got == expected_a()
    assert math.isclose(wilson_lower_bound(4, 6), 0.29999, abs_tol=1e-4)  # (0.98680 − 0.49474) / 1.64027
    # 0.30·0.666667 + 0.35·0.299990 + 0.20·0.642857 + 0.15·0.607143 = 0.524639
    composite = 0.3 * 0.666667 + 0.35 * round(wilson_lower_bound(4, 6), 6) + 0.2 * 0.642857 + 0.15 * 0.607143
    assert a.composite == pytest.approx(composite, abs=1e-6)
    assert (a.rank, a.status, a.org_unit_id) == (1, "ranked", "ou-housing-department")
    assert a.components["on_time"]["late"] == 2
    assert a.components["report_schedule"]["missing"] == 1
    # B: nothing charged yet (the forwarded appeal was A's when it went overdue): not ranked
    assert (rows[B].rank, rows[B].status, rows[B].composite) == (None, "insufficient-data", None)
    assert rows[B].components["on_time"]["sample"] == 0
    assert rows[B].components["report_schedule"]["missing"] == 4  # weeks of 5, 12, 19 and 26 January
    assert run.officials == len(rows) and run.ranked == 1
    assert run.policy["weight_on_time"] == 0.35


def test_recomputing_a_week_replaces_it_with_the_same_numbers(january):
    gateway = january
    first = gateway.ratings.compute_and_store(gateway.sessions, W06, now=datetime(2026, 2, 10, tzinfo=UTC))
    # things that happen later do not change the week
    with writing(gateway.sessions) as session:
        History(session).appeal(A, jan(40), reply(A, jan(41)), reviewed(1, jan(42)))
        session.commit()
    again = gateway.ratings.compute_and_store(gateway.sessions, W06, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert again.ratings == first.ratings
    with gateway.sessions() as session:
        assert session.query(RatingSnapshot).count() == len(first.ratings)
        assert session.get(RatingRun, "2026-W06").computed_at.replace(tzinfo=UTC) == datetime(
            2026, 3, 1, tzinfo=UTC
        )


def test_a_week_that_has_not_ended_is_not_computed(gateway):
    this_week = IsoWeek.containing(datetime.now(MINSK).date())
    with pytest.raises(ValueError, match="has not ended"):
        gateway.ratings.compute_and_store(gateway.sessions, this_week)


def test_the_ratings_api(january, client):
    gateway = january
    assert client.get("/api/v1/ratings").status_code == 404  # nothing computed yet
    gateway.ratings.compute_and_store(gateway.sessions, W06.previous(), now=datetime(2026, 2, 10, tzinfo=UTC))
    gateway.ratings.compute_and_store(gateway.sessions, W06, now=datetime(2026, 2, 10, tzinfo=UTC))

    week = client.get("/api/v1/ratings").get_json()  # the latest week
    assert week["week"] == "2026-W06"
    assert [(e["rank"], e["official"]["id"]) for e in week["ranking"]] == [(1, A)]
    assert week["best"] == week["worst"] == week["ranking"]
    entry = week["ranking"][0]
    assert entry["official"] == {"id": A, "name": "Maryna Kavalionak", "post": "Head of Housing Department"}
    assert entry["org_unit"]["id"] == "ou-housing-department"
    assert entry["components"]["reply_stars"]["sample"] == 4
    assert entry["score"] == round(entry["composite"] * 100, 1)
    assert B in {e["official"]["id"] for e in week["insufficient_data"]}
    assert set(week["method"]["formulas"]) == {
        "reply_stars",
        "on_time",
        "report_schedule",
        "report_stars",
        "composite",
    }
    assert week["method"]["policy"]["min_appeals"] == 5

    assert client.get("/api/v1/ratings?week=2026-W05").get_json()["week"] == "2026-W05"
    in_ministry = client.get("/api/v1/ratings?week=2026-W06&unit=ou-ministry-housing").get_json()
    assert [e["official"]["id"] for e in in_ministry["ranking"]] == [
        A
    ]  # the department is below the ministry
    elsewhere = client.get("/api/v1/ratings?week=2026-W06&unit=ou-ministry-education").get_json()
    assert elsewhere["ranking"] == [] and elsewhere["best"] == []
    assert client.get("/api/v1/ratings?week=2026-W40").status_code == 404
    assert client.get("/api/v1/ratings?week=last").status_code == 400

    history = client.get(f"/api/v1/ratings/{A}").get_json()
    assert [h["week"] for h in history["history"]] == ["2026-W05", "2026-W06"]
    assert history["history"][1]["rank"] == 1
    assert client.get("/api/v1/ratings/off-nobody").status_code == 404

    profile = client.get(f"/api/v1/officials/{A}").get_json()
    assert (profile["rating"]["week"], profile["rating"]["rank"]) == ("2026-W06", 1)


def test_the_ratings_commands(january, database_url, tmp_path):
    env = {"ZVAROT_DATABASE_URL": database_url, "ZVAROT_HOME": str(tmp_path)}
    runner = CliRunner()
    computed = runner.invoke(cli, ["ratings", "compute", "--week", "2026-W06"], env=env)
    assert computed.exit_code == 0, computed.output
    assert "ratings 2026-W06" in computed.output and "1 ranked" in computed.output
    # both on the gateway's legal clock (Minsk), with the offset: the Monday after the week, midnight
    assert "(as of 2026-02-09T00:00:00+03:00)" in computed.output
    shown = runner.invoke(cli, ["ratings", "show", "--week", "2026-W06"], env=env)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith("week 2026-W06 (as of 2026-02-09T00:00:00+03:00, computed 20")
    assert lines[1:3] == ["overall", " best:"]
    assert "Maryna Kavalionak" in lines[3] and "#1" in lines[3]
    assert "Ministry of Housing and Utilities [ou-ministry-housing]" in shown.output  # per org unit
    default = runner.invoke(cli, ["ratings", "compute"], env=env)  # the last complete week
    assert default.exit_code == 0, default.output
    this_week = str(IsoWeek.containing(datetime.now(MINSK).date()))
    refused = runner.invoke(cli, ["ratings", "compute", "--week", this_week], env=env)
    assert refused.exit_code == 1 and "has not ended" in refused.output
    assert runner.invoke(cli, ["ratings", "show", "--week", "2020-W01"], env=env).exit_code == 1


def test_a_rating_from_documents_sent_today(client, signers, gateway):
    """Signed documents over HTTP: an appeal replied and reviewed, a report on this week reviewed; then this
    week is rated as if it had ended."""

    def send(uid: str, root: etree._Element) -> None:
        assert post(client, signed(signers, uid, root)).status_code == 201

    def body(root: etree._Element, **fields: str) -> etree._Element:
        for name, value in fields.items():
            root.find(f"zv:Body/{name}", ns.NSMAP).text = value
        return root

    appeal_id, _ = new_appeal(client, signers, A)
    send(A, about(example("AppealReply"), appeal_id))
    send("sys-portal", body(about(example("ReplyReview"), appeal_id), **{"zv:Stars": "4"}))
    monday = datetime.now(MINSK).date() - timedelta(days=datetime.now(MINSK).weekday())
    send(
        A,
        body(
            example("WorkReport"), **{"zv:Period/zv:Kind": "week", "zv:Period/zv:Start": monday.isoformat()}
        ),
    )
    report_id = client.get(f"/api/v1/reports?official={A}").get_json()["items"][0]["id"]
    send("sys-portal", body(example("ReportReview"), **{"zv:ReportId": report_id, "zv:Stars": "5"}))

    this_week = IsoWeek.containing(monday)
    with writing(gateway.sessions) as session:
        result = gateway.ratings.compute(session, this_week, now=this_week.end("Europe/Minsk"))
        session.commit()
    rating = next(r for r in result.ratings if r.official_id == A)
    c = rating.components
    assert (c["reply_stars"].sample, c["reply_stars"].value) == (1, round((5 * 3 + 4) / 6, 6))
    assert (c["on_time"].sample, c["on_time"].detail["on_time"]) == (1, 1)
    assert c["report_schedule"].detail["on_time"] == 1  # this week's report, early
    assert (c["report_stars"].sample, c["report_stars"].value) == (1, round((5 * 3 + 5) / 6, 6))
    assert rating.rank is None  # one appeal is not enough to be ranked
    week = client.get(f"/api/v1/ratings?week={this_week}").get_json()
    assert A in {e["official"]["id"] for e in week["insufficient_data"]}


def test_the_workers_weekly_hook_computes_the_week_that_ended(january):
    gateway = january
    said: list[str] = []
    hook = gateway.ratings.weekly_hook(gateway.sessions, said.append)
    hook(2026, 7)  # 2026-W07 begins: 2026-W06 is computed
    assert said == [f"ratings 2026-W06: {said[0].split(': ')[1]}"] and "1 ranked" in said[0]
    with gateway.sessions() as session:
        assert session.get(RatingRun, "2026-W06") is not None
    next_week = IsoWeek.containing(datetime.now(MINSK).date()).next()
    hook(next_week.year, next_week.week)  # the week before it has not ended: logged, not raised
    assert "failed: ValueError" in said[1]


@pytest.mark.slow
def test_the_long_running_worker_computes_last_weeks_ratings(settings, gateway):
    """`zvarot worker` (not --once) computes the week that has just ended when it starts and each new week."""
    env = {
        **os.environ,
        "ZVAROT_HOME": str(settings.home),
        "ZVAROT_DATABASE_URL": settings.sqlalchemy_url,
        "ZVAROT_PKI_DIR": str(settings.pki_dir),
        "ZVAROT_TRUST_DIR": str(settings.trust_dir),
        "ZVAROT_WORKER_POLL": "0.2",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "gateway", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    last_week = IsoWeek.containing(
        datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()
    ).previous()
    try:
        deadline = time.monotonic() + 60
        while True:
            with gateway.sessions() as session:
                run = session.scalars(select(RatingRun).where(RatingRun.week == str(last_week))).first()
            if run is not None:
                break
            assert worker.poll() is None, worker.stdout.read()
            assert time.monotonic() < deadline, "no ratings were computed within 60 s"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        worker.stdout.close()
