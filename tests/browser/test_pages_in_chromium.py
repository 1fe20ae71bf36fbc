"""The web pages in headless Debian Chromium driven by Playwright, against a real `python -m gateway serve`
on a loopback port: search → profile → report, the ranking, tracking by code, the record (a receipt checked in
the transparency log), and the operator console (login, requeue a dead letter, logout; a wrong password).
Screenshots go to test-artifacts/.

Chromium is Debian's (/usr/bin/chromium, `apt-get install chromium`; .ci/run installs it), never a browser
downloaded by `playwright install`. Without it the tests skip with the reason; with ZVAROT_REQUIRE_BROWSER=1
(set by .ci/run) they fail instead, so that CI cannot pass without running them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.app import build_gateway, create_app
from gateway.config import Settings
from gateway.delivery.outbox import list_outbox
from gateway.demo.seed import seed_demo_world
from gateway.store.database import session_factory
from gateway.store.models import Base
from tests.functional.web_world import A_NAME, B_NAME, OPERATOR, PASSWORD, PERSONAL, build_world
from tests.helpers import ROOT, running_gateway

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"


def _unavailable(reason: str) -> None:
    if os.environ.get("ZVAROT_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests required (ZVAROT_REQUIRE_BROWSER) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"no {CHROMIUM}: apt-get install chromium (.ci/run installs it)")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except Exception as exc:  # any launch failure: the reason is in the message
            _unavailable(f"{CHROMIUM} does not start: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory, engine, pki_dir, database_url, signers):
    """The demo world with demo traffic, once for the module (as `clean_db` would, then web_world)."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    seed_demo_world(session_factory(engine))
    home = tmp_path_factory.mktemp("browser-world")
    settings = Settings(home=home, database_url=database_url, pki_dir=pki_dir, trust_dir=pki_dir / "trust")
    gateway = build_gateway(settings, engine=engine)
    app = create_app(gateway=gateway)
    app.testing = True
    return build_world(app.test_client(), signers, gateway, database_url, home), gateway


@pytest.fixture(scope="module")
def server(browser, world, tmp_path_factory, pki_dir, database_url) -> Iterator[str]:
    """`python -m gateway serve` on a free loopback port, on the tests' database and PKI."""
    with running_gateway(tmp_path_factory.mktemp("browser-server"), database_url, pki_dir) as base:
        yield base


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_search_then_profile_then_report(page):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.get_by_label("Name, post or area").fill("kavalionak")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/\?q=kavalionak"))
    assert page.get_by_role("heading", level=2, name="1 official found").is_visible()
    shot(page, "01-search")

    page.locator("ul.results").get_by_role("link", name=A_NAME).click()
    page.wait_for_url(re.compile(r"/officials/off-housing-dept-head$"))
    assert page.get_by_role("heading", level=1).inner_text() == A_NAME
    assert page.get_by_text("Reports to").is_visible()
    chart = page.locator("figure.chart svg[role=img]")
    assert chart.is_visible() and chart.locator("circle").count() == 2
    assert page.locator("table", has_text="Score and rank by week").locator("tbody tr").count() == 3
    shot(page, "02-profile")

    page.locator("ul.results").get_by_role("link", name=re.compile(r"^Weekly report ")).first.click()
    page.wait_for_url(re.compile(r"/reports/wr-"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Weekly report")
    assert page.get_by_role("heading", name="What was done").is_visible()
    assert page.locator("ul.reviews li").count() == 2
    shot(page, "03-report")


def test_the_ranking(page):
    page.goto("/ratings")
    assert page.get_by_role("heading", level=1).inner_text() == "Weekly ranking of officials"
    best = page.locator("table#best tbody tr")
    assert best.count() == 2 and A_NAME in best.first.inner_text()
    assert B_NAME in page.locator("table#worst tbody tr").first.inner_text()
    assert page.get_by_role("heading", name="How the score is computed").is_visible()
    shot(page, "04-ranking")
    page.get_by_label("Week", exact=True).select_option("2026-W05")
    page.get_by_label("Organisation unit", exact=True).select_option("ou-ministry-education")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"week=2026-W05"))
    assert "0 ranked" in page.locator("main").inner_text()


def test_tracking_by_code(page, world):
    built, _ = world
    page.goto("/track")
    typed = built.tracking_code.replace("-", " ").lower()  # as a citizen might type it
    page.get_by_label("Tracking code").fill(typed)
    page.get_by_role("button", name="Track").click()
    page.wait_for_url(re.compile(rf"/track/{built.tracking_code}$"))
    assert page.locator("#appeal-status").inner_text() == "Closed"
    timeline = page.locator("ol.timeline li")
    assert timeline.count() == 3 and "Reply sent" in timeline.nth(1).inner_text()
    content = page.content()
    for personal in PERSONAL:
        assert personal not in content
    shot(page, "05-tracking")


def test_the_record_checks_an_uploaded_receipt(page, world, tmp_path):
    from sqlalchemy import select

    from gateway.store.models import DEMO_SIGNER_KIND, Message

    _, gateway = world
    gateway.log.extend()
    with gateway.sessions() as session:
        checkpoint = gateway.log.latest(session)
        receipt = session.scalars(
            select(Message.receipt)
            .where(Message.signer_kind != DEMO_SIGNER_KIND)
            .order_by(Message.id)
            .limit(1)
        ).one()
    upload = tmp_path / "receipt.xml"
    upload.write_bytes(bytes(receipt))
    page.goto("/")
    page.get_by_role("link", name="The record").click()
    page.wait_for_url(re.compile(r"/log$"))
    assert f"{checkpoint.tree_size:,}" in page.locator("dl.facts").first.inner_text()
    page.get_by_label("Receipt or status update").set_input_files(str(upload))
    page.get_by_role("button", name="Check").click()
    assert "In the record: entry 0 of the" in page.get_by_role("status").inner_text()
    shot(page, "08-the-record")


def test_console_login_requeue_a_dead_letter_and_logout(page, world):
    built, gateway = world
    page.goto("/console/dead-letters")
    page.wait_for_url(re.compile(r"/console/login\?next="))
    page.get_by_label("Name").fill(OPERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/console/dead-letters$"))
    row = page.locator(f"#outbox-{built.dead_letter}")
    assert "HTTP 503" in row.inner_text()
    shot(page, "06-console-dead-letters")

    row.get_by_role("button", name=f"Requeue row {built.dead_letter}").click()
    page.wait_for_url(re.compile(r"/console/dead-letters$"))
    assert page.get_by_text(f"Outbox row {built.dead_letter} is pending again").is_visible()
    assert page.get_by_text("No dead letters.").is_visible()
    with gateway.sessions() as session:
        pending, _ = list_outbox(session, status="pending")
    assert built.dead_letter in {e.id for e in pending}

    page.get_by_role("link", name="Rejected documents").click()
    page.get_by_role("link", name=re.compile(r"^rc-")).first.click()
    assert page.locator("pre.raw").first.inner_text().startswith("<?xml")  # shown as text, not markup
    page.get_by_role("link", name="Systems and certificates").click()
    assert "days left" in page.locator("main").inner_text()
    shot(page, "07-console-systems")

    page.get_by_role("button", name=f"Log out {OPERATOR}").click()
    page.wait_for_url(re.compile(r"/console/login$"))
    assert page.get_by_text("You have logged out.").is_visible()
    page.goto("/console/")
    page.wait_for_url(re.compile(r"/console/login\?next="))


def test_console_refuses_a_wrong_password(page):
    page.goto("/console/login")
    page.get_by_label("Name").fill(OPERATOR)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "The name or the password is wrong."
    assert page.url.endswith("/console/login")
    shot(page, "08-console-wrong-password")
