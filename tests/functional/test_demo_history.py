"""The demo history (gateway.demo.history): what a fresh `zvarot up` shows — real demo officials, their
appeals, reports and reviews, and weekly ratings computed from them — through the pages and the JSON API.

The first tests run the bootstrap of `zvarot up` on a database of their own (so that the history never reaches
the other tests' database, whose `clean_db` reseeds only the demo world), on today's date. The last ones seed
a fixed day on the shared test database, where the numbers are known.
"""

from __future__ import annotations

import contextlib
import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from gateway.app import build_gateway, create_app, quiet_closures
from gateway.config import Settings
from gateway.demo import world
from gateway.demo.history import CONDUCT, NEWCOMERS, plan_history, seed_demo_history
from gateway.domain.appeals import lifecycle
from gateway.domain.appeals.events import EventKind
from gateway.domain.ratings.policy import RatingPolicy
from gateway.domain.ratings.weeks import IsoWeek
from gateway.domain.reports.schedule import DECIDED, ReceivedReport, official_schedule
from gateway.interfaces.cli.main import bootstrap
from gateway.interfaces.http.openapi import openapi_document
from gateway.services.operators import add_operator
from gateway.store.appeals import Appeal, AppealEvent, InboxItem, OutboxMessage
from gateway.store.database import make_engine, scratch_database, writing
from gateway.store.directory import Membership
from gateway.store.models import DEMO_SENDER, DEMO_SIGNER_KIND, Base, Message
from gateway.store.reports import RatingRun, ReportReview, WorkReport
from tests.functional.test_openapi import Responses
from tests.functional.test_web_console import log_in

NAMES = {o.id: o.name for o in world.OFFICIALS}
NEWCOMER = next(iter(NEWCOMERS))
BEST = {uid for uid, c in CONDUCT.items() if c.on_time > 0.9 and c.appeals_per_week >= 1}
WORST = {uid for uid, c in CONDUCT.items() if c.on_time < 0.6}


def text_of(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.data[:500])
    return response.get_data(as_text=True)


def counts(sessions) -> dict[str, int]:
    with sessions() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
        }


def run_bootstrap(settings: Settings, demo_history: bool | None = True) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bootstrap(settings, demo_history)
    return out.getvalue()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, database_url, pki_dir):
    """A database of its own after the bootstrap of `zvarot up` (migrations, dev PKI, demo world, history)."""
    home = tmp_path_factory.mktemp("demo-history")
    with scratch_database(database_url, home / "zvarot.db", prefix="zh") as url:
        settings = Settings(home=home, database_url=url, pki_dir=pki_dir, trust_dir=pki_dir / "trust")
        output = run_bootstrap(settings)
        engine = make_engine(url)
        gateway = build_gateway(settings, engine=engine)
        app = create_app(gateway=gateway)
        app.testing = True
        yield gateway, app.test_client(), output
        engine.dispose()


def test_the_bootstrap_writes_a_marked_history_and_rates_its_weeks(fresh):
    gateway, _client, output = fresh
    line = next(x for x in output.splitlines() if x.startswith("demo history: "))
    found = re.fullmatch(
        r"demo history: (\d+) appeals \((\d+) events\), (\d+) work reports, (\d+) report reviews of 37 "
        r"officials since (\S+); ratings of (\d+) weeks (\S+) to (\S+), (\d+) ranked in (\S+)",
        line,
    )
    assert found, line
    appeals, events, reports, reviews, weeks = (int(found[i]) for i in (1, 2, 3, 4, 6))
    today = datetime.now(UTC).date()
    last = IsoWeek.containing(today).previous()
    assert found[8] == found[10] and found[8] in (str(last), str(last.next()))  # Minsk may be a day ahead
    assert 8 <= weeks <= 13
    table = counts(gateway.sessions)
    assert table["appeals"] == appeals > 200 and table["appeal_events"] == events > 2 * appeals
    assert table["work_reports"] == reports > 150 and table["report_reviews"] == reviews > 50
    assert table["messages"] == appeals + reports + reviews
    assert table["rating_runs"] == weeks and table["rating_snapshots"] > 8 * 30
    assert table["outbox"] == table["inbox_items"] == 0  # nothing to deliver: nobody is told about the past
    with gateway.sessions() as session:
        # every messages row says it is demo data, and none pretends to a certificate or a receipt
        rows = session.execute(
            select(
                Message.sender_system, Message.signer_uid, Message.signer_kind, Message.signer_cert_sha256
            ).distinct()
        ).all()
        assert rows == [(DEMO_SENDER, DEMO_SENDER, DEMO_SIGNER_KIND, "")]
        body = session.scalars(select(Message.body).limit(1)).one()
        assert b"demo data: not a received document, not signed" in body
        assert session.scalar(select(func.count()).where(Message.receipt != b"")) == 0
        # every event log is one the appeals' lifecycle accepts, and nothing happened today or later
        latest = session.scalar(select(func.max(AppealEvent.at)))
        assert gateway.ratings.deadlines.local_date(latest.replace(tzinfo=latest.tzinfo or UTC)) < (
            gateway.ratings.deadlines.local_date(datetime.now(UTC))
        )
        kinds = set(session.scalars(select(AppealEvent.kind).distinct()))
        assert {"received", "forwarded", "in_process", "reply_sent", "reviewed"} <= kinds
        # the demo officials' memberships begin with the history
        starts = dict(session.execute(select(Membership.official_id, Membership.start_date)).tuples().all())
        assert starts[NEWCOMER] > starts["off-president"] == date.fromisoformat(found[5])


def test_a_second_run_adds_nothing(fresh):
    gateway, _client, _output = fresh
    before = counts(gateway.sessions)
    with gateway.sessions() as session:
        computed = sorted(session.execute(select(RatingRun.week, RatingRun.computed_at)).tuples())
    output = run_bootstrap(gateway.settings)
    assert "demo history: none added (the demo history is there already)" in output
    assert "demo rows added: 0" in output
    assert counts(gateway.sessions) == before
    with gateway.sessions() as session:
        assert sorted(session.execute(select(RatingRun.week, RatingRun.computed_at)).tuples()) == computed


def test_the_ratings_api_ranks_demo_officials_with_components_and_samples(fresh):
    gateway, client, _output = fresh
    week = Responses(openapi_document()).check(client.get("/api/v1/ratings"), "/api/v1/ratings")
    with gateway.sessions() as session:
        assert week["week"] == gateway.ratings.weeks(session)[0]
    assert week["demo_history"] is True
    ranking = week["ranking"]
    assert len(ranking) >= 10 and week["officials"] == len(ranking) + len(week["insufficient_data"])
    assert [e["rank"] for e in ranking] == sorted(e["rank"] for e in ranking)
    for entry in ranking:
        assert entry["official"]["name"] == NAMES[entry["official"]["id"]]
        assert entry["status"] == "ranked" and entry["score"] == round(entry["composite"] * 100, 1)
        components = entry["components"]
        assert set(components) == {"reply_stars", "on_time", "report_schedule", "report_stars"}
        assert components["on_time"]["sample"] >= 5 and components["report_schedule"]["sample"] >= 3
        assert (
            components["on_time"]["on_time"] + components["on_time"]["late"]
            == components["on_time"]["sample"]
        )
    best, worst = week["best"][0], week["worst"][0]
    assert best["official"]["id"] != worst["official"]["id"] and best["score"] > worst["score"]
    assert best == ranking[0] and worst == ranking[-1]
    # the newcomer took up the post a week before the week: too few reports due for a rank
    waiting = {e["official"]["id"]: e for e in week["insufficient_data"]}
    assert waiting[NEWCOMER]["components"]["report_schedule"]["sample"] < 3
    assert waiting[NEWCOMER]["rank"] is None and waiting[NEWCOMER]["composite"] is None


def test_the_ranking_page_shows_best_worst_and_says_it_is_demo_data(fresh):
    _gateway, client, _output = fresh
    week = client.get("/api/v1/ratings").get_json()
    html = page(client, "/ratings")
    text = text_of(html)
    assert f"Week {week['week']}" in text and f"{len(week['ranking'])} ranked" in text
    assert "These ratings rest on the demo history" in text
    best = html[html.index('id="best"') : html.index("</table>", html.index('id="best"'))]
    worst = html[html.index('id="worst"') : html.index("</table>", html.index('id="worst"'))]
    for table, entries in ((text_of(best), week["best"]), (text_of(worst), week["worst"])):
        names = [e["official"]["name"] for e in entries]
        assert [table.index(name) for name in names] == sorted(table.index(name) for name in names)
    ranking = text_of(html[html.index('id="ranking"') : html.index("</table>", html.index('id="ranking"'))])
    for entry in week["ranking"]:
        assert entry["official"]["name"] in ranking
    first = week["ranking"][0]["components"]
    assert f"({first['on_time']['on_time']} of {first['on_time']['sample']} appeals)" in ranking
    assert NAMES[NEWCOMER] in text_of(html[html.index('id="insufficient-heading"') :])


def test_a_profile_shows_reports_and_the_rating_history(fresh):
    gateway, client, _output = fresh
    week = client.get("/api/v1/ratings").get_json()
    official = week["best"][0]["official"]
    history = client.get(f"/api/v1/ratings/{official['id']}").get_json()["history"]
    with gateway.sessions() as session:
        assert [h["week"] for h in history] == sorted(gateway.ratings.weeks(session))
    assert sum(h["rank"] is not None for h in history) >= 2
    html = page(client, f"/officials/{official['id']}")
    text = text_of(html)
    assert official["name"] in text
    assert f"Week {week['week']}: score {week['best'][0]['score']}" in text and "rank 1" in text
    assert html.count("<svg") == 1 and html.count("<circle") >= 2
    assert re.search(r"Reports due so far: \d+ on time, \d+ late, \d+ missing", text)
    reports = client.get(f"/api/v1/reports?official={official['id']}").get_json()
    assert reports["total"] >= 3 and all(r["demo"] for r in reports["items"])
    assert f'href="/reports/{reports["items"][0]["id"]}"' in html
    assert "· demo history" in text


def test_a_report_page_shows_its_reviews_and_that_it_is_not_signed(fresh):
    gateway, client, _output = fresh
    with gateway.sessions() as session:
        report_id = session.scalars(
            select(ReportReview.report_id)
            .join(WorkReport, WorkReport.id == ReportReview.report_id)
            .where(ReportReview.comment.is_not(None), WorkReport.period_kind == "week")
            .group_by(ReportReview.report_id)
            .having(func.count() >= 2)
            .order_by(ReportReview.report_id)
            .limit(1)
        ).one()
    detail = Responses(openapi_document()).check(
        client.get(f"/api/v1/reports/{report_id}"), "/api/v1/reports/{report_id}"
    )
    assert detail["demo"] is True and len(detail["review_list"]) == detail["reviews"]["count"] >= 2
    assert detail["items"] and detail["summary"]
    text = text_of(page(client, f"/reports/{report_id}"))
    assert "Weekly report" in text and detail["official"]["name"] in text
    assert "seeded by this gateway on the first run of the demo world, not a signed document" in text
    assert "personally signed" not in text
    assert f"{detail['reviews']['count']}, on average" in text
    for review in detail["review_list"]:
        assert f"{review['stars']} of 5" in text and f"reviewer {review['reviewer_ref']}" in text
        if review["comment"]:
            assert review["comment"] in text
    for item in detail["items"]:
        assert item["title"] in text


def test_the_ratings_are_exactly_recomputable(fresh):
    gateway, _client, _output = fresh

    def snapshots(week: str) -> list[tuple]:
        with gateway.sessions() as session:
            return [
                (s.official_id, s.org_unit_id, s.status, s.composite, s.rank, s.components)
                for s in gateway.ratings.snapshots(session, week)
            ]

    with gateway.sessions() as session:
        weeks = gateway.ratings.weeks(session)
    for week in weeks:
        before = snapshots(week)
        assert before
        gateway.ratings.compute_and_store(gateway.sessions, IsoWeek.parse(week))
        assert snapshots(week) == before, week


def test_a_database_named_by_url_gets_no_history_unless_asked(tmp_path, database_url, pki_dir):
    """Made-up reports and ratings must never land unasked in a real database: `zvarot up` with
    ZVAROT_DATABASE_URL sets up the demo world (directory, systems) but writes no history."""
    with scratch_database(database_url, tmp_path / "named.db", prefix="zn") as url:
        settings = Settings(home=tmp_path, database_url=url, pki_dir=pki_dir, trust_dir=pki_dir / "trust")
        output = run_bootstrap(settings, demo_history=None)
        assert "demo history: not written" in output and "--demo-history" in output
        engine = make_engine(url)
        try:
            gateway = build_gateway(settings, engine=engine)
            table = counts(gateway.sessions)
        finally:
            engine.dispose()
    assert table["systems"] > 0 and table["officials"] > 0  # the demo world is there
    assert table["messages"] == table["work_reports"] == table["rating_runs"] == 0


def test_the_embedded_default_gets_it_unless_told_not_to(tmp_path, pki_dir):
    settings = Settings(home=tmp_path, pki_dir=pki_dir, trust_dir=pki_dir / "trust")
    assert settings.database_url == "" and settings.sqlalchemy_url.startswith("sqlite:///")
    output = run_bootstrap(settings, demo_history=False)
    assert "demo history: not written (--no-demo-history)" in output
    output = run_bootstrap(settings, demo_history=None)  # `zvarot up` on the embedded default
    assert re.search(r"demo history: \d+ appeals", output), output


def test_the_same_day_gives_the_same_history(gateway):
    roster = [o.id for o in world.OFFICIALS]
    ratings = gateway.ratings
    day = date(2026, 3, 4)
    first = plan_history(day, roster, ratings.deadlines, ratings.schedule)
    assert plan_history(day, roster, ratings.deadlines, ratings.schedule) == first
    other = plan_history(day + timedelta(days=7), roster, ratings.deadlines, ratings.schedule)
    assert other.appeals[0].id != first.appeals[0].id and other.weeks[-1] == first.weeks[-1].next()
    assert [str(w) for w in first.weeks] == [f"2026-W{n:02d}" for n in range(2, 10)]  # from 1 January
    cutoff = datetime(2026, 3, 3, 21, tzinfo=UTC)  # 4 March 00:00 in Minsk
    for appeal in first.appeals:
        state = lifecycle.fold(appeal.events)  # a log the lifecycle accepts
        assert state.received_at < cutoff and appeal.events[-1].at < cutoff
    for report in first.reports:
        assert report.start <= ratings.deadlines.local_date(report.at) and report.at < cutoff
        assert all(report.at < review.at < cutoff for review in report.reviews)


def test_the_newcomer_has_too_few_reports_due_for_a_rank_whatever_the_day(gateway):
    """The demo history is drawn from a seed that includes the day it is made. Whatever the day, the reports
    the newcomer owes by the end of the rated week and that are decided by then (on time, late, missing; a
    weekly report sent before its week ended counts) stay below the ratings' minimum: the newcomer is never
    ranked by the draw. (With a start two weeks before the rated week, the draws of 8 December 2026 made it
    three.)"""
    ratings = gateway.ratings
    for offset in range(35):  # five weeks of days, every weekday and both month ends among them
        today = date(2026, 11, 23) + timedelta(days=offset)
        plan = plan_history(today, [NEWCOMER], ratings.deadlines, ratings.schedule)
        as_of = plan.weeks[-1].end(ratings.timezone)
        received = [ReceivedReport(r.kind, r.start, r.at, r.id) for r in plan.reports]
        due = official_schedule([(plan.starts[NEWCOMER], None)], received, as_of, ratings.schedule)
        decided = [d for d in due if d.status in DECIDED]
        assert len(decided) < RatingPolicy().min_reports, (today, decided)


def test_on_a_fixed_day_the_best_and_the_worst_are_who_the_demo_means(gateway, client):
    summary = seed_demo_history(
        gateway.sessions, gateway.ratings, today=date(2026, 3, 4), now=datetime(2026, 3, 4, 12, tzinfo=UTC)
    )
    assert summary.weeks[-1] == "2026-W09" and summary.skipped is None and summary.ranked >= 20
    week = client.get("/api/v1/ratings").get_json()
    assert week["week"] == "2026-W09"
    assert week["best"][0]["official"]["id"] in BEST
    assert week["worst"][0]["official"]["id"] in WORST
    waiting = {e["official"]["id"] for e in week["insufficient_data"]}
    assert {NEWCOMER, "off-president"} <= waiting
    with gateway.sessions() as session:
        forwarded = session.scalars(
            select(AppealEvent.appeal_id).where(AppealEvent.kind == str(EventKind.forwarded)).limit(1)
        ).one()
        code = session.get(Appeal, forwarded).tracking_code
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(InboxItem)) == 0
    # a demo appeal's timeline by its tracking code, and the operator console, work on demo rows
    timeline = client.get(f"/api/v1/appeals/{code}").get_json()
    assert timeline["timeline"][1]["event"] == "forwarded"
    assert "Forwarded to" in text_of(page(client, f"/track/{code}"))
    with writing(gateway.sessions) as session:
        add_operator(session, "duty-operator", "correct horse battery staple", datetime.now(UTC))
        session.commit()
    assert log_in(client, "duty-operator", "correct horse battery staple").status_code == 303
    for path in ("/console/", "/console/systems", "/console/rejected", "/console/dead-letters"):
        assert client.get(path).status_code == 200, path
    # seeding again adds nothing
    before = counts(gateway.sessions)
    again = seed_demo_history(gateway.sessions, gateway.ratings, today=date(2026, 3, 11))
    assert again.skipped == "the demo history is there already" and again.added == 0
    assert counts(gateway.sessions) == before


def test_the_worker_closes_quiet_demo_appeals_and_tells_no_system(tmp_path, database_url, pki_dir):
    """docs/reports.md: nobody is told about the past. The closures are the worker's, made days after the
    history was seeded; a real appeal's closure is still published (test_appeals)."""
    with scratch_database(database_url, tmp_path / "zvarot.db", prefix="zq") as url:
        settings = Settings(home=tmp_path, database_url=url, pki_dir=pki_dir, trust_dir=pki_dir / "trust")
        run_bootstrap(settings)
        engine = make_engine(url)
        try:
            gateway = build_gateway(settings, engine=engine)
            closed = quiet_closures(gateway).run()
            assert closed > 0  # the history holds replies older than the quiet period, never reviewed
            with gateway.sessions() as session:
                by_gateway = select(func.count()).where(
                    AppealEvent.kind == EventKind.closed, AppealEvent.actor_kind == "gateway"
                )
                assert session.scalar(by_gateway) == closed
                assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
                assert session.scalar(select(func.count()).select_from(InboxItem)) == 0
        finally:
            engine.dispose()
