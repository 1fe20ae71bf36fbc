"""The public web pages through the Flask test client, on the demo world with demo traffic: search and
the org tree, units, profiles with the rating chart, reports, the ranking with its method, tracking without
personal data, schema.org JSON-LD, and the security headers."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from gateway.interfaces.web.charts import score_chart
from gateway.services.tracking import normalise_code
from tests.functional.web_world import A_NAME, B_NAME, PERSONAL, WEEKS, A, B, build_world


@pytest.fixture
def world(client, signers, gateway, database_url, tmp_path):
    return build_world(client, signers, gateway, database_url, tmp_path)


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.data[:500])
    if status == 200:
        assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """The visible text, roughly: tags dropped, entities decoded, whitespace collapsed."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(html: str, heading_id: str) -> str:
    """The text of the <section> labelled by the heading with this id."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    return text_of(html[start : html.index("</section>", start)])


def jsonld(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S)
    assert blocks, "no JSON-LD on the page"
    return [json.loads(b) for b in blocks]


def headings(html: str) -> list[int]:
    return [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]


def assert_accessible_basics(html: str) -> None:
    assert '<html lang="en">' in html
    assert '<a class="skip" href="#main">' in html and '<main id="main"' in html
    levels = headings(html)
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels  # no level skipped
    for field in re.findall(r'<(?:input|select)[^>]*\sid="([^"]+)"', html):
        assert f'<label for="{field}"' in html, f"#{field} has no label"
    # nothing loaded from elsewhere, and no script at all (JSON-LD blocks are data)
    assert not re.search(r'<(?:link|img|iframe)[^>]+(?:href|src)="(?:https?:)?//', html)
    assert not re.search(r"<script(?![^>]*application/ld\+json)", html)


# --- officials and the org tree -----------------------------------------------------------------------------


def test_the_home_page_lists_officials_and_the_org_tree(client):
    html = page(client, "/")
    assert_accessible_basics(html)
    text = text_of(html)
    assert "Find a public official" in text and "All officials (37)" in text
    assert "Next page" in text  # 20 per page
    assert 'href="/units/ou-ministry-housing"' in html and 'href="/units/ou-housing-department"' in html
    # the tree is nested lists: the department sits inside the ministry's item
    ministry = html.index('href="/units/ou-ministry-housing"')
    assert html.index("<ul>", ministry) < html.index('href="/units/ou-housing-department"')
    [graph] = jsonld(html)
    units = {n["identifier"]: n for n in graph["@graph"]}
    assert all(n["@type"] == "GovernmentOrganization" for n in units.values())
    department = units["ou-housing-department"]
    assert department["parentOrganization"]["@id"] == units["ou-ministry-housing"]["@id"]
    assert department["@id"].startswith("http://localhost/units/")
    assert "parentOrganization" not in units["ou-presidential-administration"]


def test_search_by_name_post_area_and_unit(client):
    text = section(page(client, "/?q=kavalionak"), "results-heading")
    assert "1 official found" in text and A_NAME in text and B_NAME not in text
    assert "Head of Housing Department" in text
    in_ministry = section(page(client, "/?q=&unit=ou-ministry-housing"), "results-heading")
    assert A_NAME in in_ministry and B_NAME in in_ministry and "In Ministry of Housing" in in_ministry
    by_topic = page(client, "/?topic=elevators")
    assert "Area of responsibility: elevators" in text_of(by_topic)
    assert 'name="topic" value="elevators"' in by_topic  # kept by the form
    assert "No official matches" in text_of(page(client, "/?q=nobody-is-called-this"))
    housing = section(page(client, "/?unit=ou-ministry-housing"), "results-heading")
    assert "Minister of Education" not in housing
    second = text_of(page(client, "/?page=2"))
    assert "Page 2 of 2" in second and "Previous page" in second
    # past the last page (an old link, a narrower search; a number past any the database takes): the last
    for past in ("/?page=3", "/?page=99999999999999999999"):
        assert text_of(page(client, past)) == second, past
    assert text_of(page(client, "/?page=%C2%B2")) == text_of(page(client, "/"))  # unreadable: the first
    assert "All officials (37)" in text_of(page(client, "/?unit=ou-nowhere"))  # an unknown unit is ignored


def test_a_unit_page(client):
    html = page(client, "/units/ou-housing-department")
    assert_accessible_basics(html)
    text = text_of(html)
    assert "Housing Policy Department" in text and "Head of Housing Department" in text and A_NAME in text
    assert "Ministry of Housing and Utilities" in text  # the breadcrumb and the parent
    [graph] = jsonld(html)
    org, *people = graph["@graph"]
    assert org["@type"] == "GovernmentOrganization"
    assert org["parentOrganization"]["name"] == "Ministry of Housing and Utilities"
    assert any(p["@type"] == "Person" and p["name"] == A_NAME for p in people)
    assert "No organisation unit ou-nowhere" in text_of(page(client, "/units/ou-nowhere", 404))


def test_a_profile_without_a_rating_yet(client):
    html = page(client, f"/officials/{A}")
    assert_accessible_basics(html)
    text = text_of(html)
    assert "No week has been rated yet" in text and "No report published yet" in text
    assert "<svg" not in html


def test_a_profile_with_reports_and_the_rating_history(client, world):
    html = page(client, f"/officials/{A}")
    assert_accessible_basics(html)
    text = text_of(html)
    assert A_NAME in text and "Head of Housing Department" in text
    assert "Reports to Minister of Housing and Utilities: Ivan Petrov" in text
    assert "Routine and major repairs" in text  # duties
    assert "Approves the annual repair plans of the regions." in text  # authority
    assert "housing-policy@mjkx.example.by" in text and "Civil engineer" in text
    assert 'href="/?topic=housing"' in html
    # the rating: the latest week, its components, the chart and the table of every week
    assert "Week 2026-W06: score" in text and "rank 1" in text
    assert "Reply stars" in text and "Replies on time" in text
    assert html.count("<svg") == 1 and 'role="img"' in html and '<desc id="chart-desc">' in html
    assert html.count("<circle") == 2  # W05 and W06 scored; W04 had too few reports decided
    assert "Dashed lines mark weeks without enough data" in text
    history = html[html.index('id="history-caption"') :]
    for week in WEEKS:
        assert f">{week}</a>" in history
    assert "not enough data" in text_of(history)
    # reports: the latest (this week's, reviewed), and the schedule with statuses
    assert f'href="/reports/{world.report_id}"' in html
    assert "2 reviews, 4.5 of 5" in text
    assert re.search(r"Reports due so far: \d+ on time, 1 late, \d+ missing", text)
    assert "badge-missing" in html and "badge-late" in html and "badge-on_time" in html
    [person] = jsonld(html)
    assert person["@type"] == "Person" and person["name"] == A_NAME
    assert person["jobTitle"] == "Head of Housing Department"
    assert person["worksFor"]["@type"] == "GovernmentOrganization"
    assert person["worksFor"]["name"] == "Housing Policy Department"
    assert person["worksFor"]["parentOrganization"]["name"] == "Ministry of Housing and Utilities"
    assert person["email"] == "housing-policy@mjkx.example.by"
    assert "No official off-nobody" in text_of(page(client, "/officials/off-nobody", 404))


def test_a_report_page(client, world):
    html = page(client, f"/reports/{world.report_id}")
    assert_accessible_basics(html)
    text = text_of(html)
    assert "Weekly report" in text and A_NAME in text and "personally signed" in text
    assert "Рассмотрение обращений граждан" in text  # an item's title
    assert "Обращений рассмотрено в срок: 93.6 %" in text  # its metric, as signed
    assert "2, on average 4.5 of 5" in text
    assert "5 of 5" in text and "reviewer reviewer-one" in text
    assert "Конкретные цифры" in text  # a review's comment
    assert "on time" in text
    assert "No report wr-nothing" in text_of(page(client, "/reports/wr-nothing", 404))


# --- the ranking --------------------------------------------------------------------------------------------


def test_the_ranking_before_any_week_is_rated(client):
    html = page(client, "/ratings")
    assert "No week has been rated yet" in text_of(html)
    assert "How the score is computed" in text_of(html)


def test_the_ranking_with_best_worst_and_the_method(client, world):
    html = page(client, "/ratings")
    assert_accessible_basics(html)
    text = text_of(html)
    assert "Week 2026-W06" in text and "2 ranked" in text
    assert "from what was stored before 2026-02-09 00:00" in text  # Monday 00:00, Minsk time
    best = html[html.index('id="best"') : html.index("</table>", html.index('id="best"'))]
    worst = html[html.index('id="worst"') : html.index("</table>", html.index('id="worst"'))]
    assert best.index(A_NAME) < best.index(B_NAME)
    assert worst.index(B_NAME) < worst.index(A_NAME)  # the lowest first
    ranking = text_of(html[html.index('id="ranking"') :])
    assert "3.67 (4 reviews)" in ranking  # A's reply stars, as in docs/reports.md
    assert "(4 of 6 appeals)" in ranking
    assert "Not enough data yet" in text  # everyone else
    # the method: the formulas and the policy this week was computed with
    assert "Wilson lower bound" in text and "Bayesian average" in text
    assert "weight_on_time" in text and "0.35" in text and "min_appeals" in text
    week = text_of(page(client, "/ratings?week=2026-W05"))
    assert "Week 2026-W05" in week
    options = page(client, "/ratings")
    for w in WEEKS:
        assert f'<option value="{w}"' in options
    elsewhere = text_of(page(client, "/ratings?unit=ou-ministry-education"))
    assert "0 ranked" in elsewhere and A_NAME not in elsewhere
    assert "Officials of Ministry of Education" in elsewhere
    assert "No ratings have been computed for 2026-W40" in text_of(
        page(client, "/ratings?week=2026-W40", 404)
    )
    assert "is not a week" in text_of(page(client, "/ratings?week=last", 400))  # unreadable, not missing


# --- tracking -----------------------------------------------------------------------------------------------


def test_the_tracking_form_and_a_timeline_without_personal_data(client, world):
    form = page(client, "/track")
    assert_accessible_basics(form)
    assert '<label for="code">Tracking code</label>' in form
    typed = world.tracking_code.replace("-", "").lower()
    response = client.get(f"/track?code={typed}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/track/{world.tracking_code}")
    assert response.headers["Cache-Control"] == "no-store"  # the code is in the redirect too
    assert response.headers["Referrer-Policy"] == "no-referrer"
    response = client.get(f"/track/{world.tracking_code}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert_accessible_basics(html)
    assert '<meta name="robots" content="noindex">' in html
    text = text_of(html)
    assert world.tracking_code in text and "Status Closed" in text and "What has happened" in text
    assert "Reply sent" in text and "Reviewed: 4 of 5" in text
    assert A_NAME in text  # the official who held it: public
    assert "How the due date was computed" in text
    assert '<a href="/log">public record</a>' in html  # where anyone checks that nothing was rewritten
    for personal in PERSONAL:
        assert personal not in html, personal


def test_tracking_an_unknown_or_empty_code(client):
    text = text_of(page(client, "/track/AAAA-BBBB-CCCC-DDDD-EEEE", 404))
    assert "No appeal has the tracking code AAAA-BBBB-CCCC-DDDD-EEEE" in text
    assert "Enter the tracking code" in text_of(page(client, "/track?code=+", 400))
    assert normalise_code(" abcd efgh ijkl mnop qrst ") == "ABCD-EFGH-IJKL-MNOP-QRST"
    assert normalise_code("<script>") == "SCRIPT"


# --- the whole site -----------------------------------------------------------------------------------------


def test_security_headers_and_the_local_stylesheet(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp  # no script may run at all
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers  # public pages set no cookie
    css = client.get("/assets/zvarot.css")
    data = css.get_data()
    css.close()  # a file response: close the file
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert b"@import" not in data and b"url(" not in data  # nothing fetched from elsewhere
    assert client.get("/api/v1/officials").mimetype == "application/json"  # the JSON API is unchanged


def test_the_score_chart_geometry():
    assert score_chart([]) is None
    history = [
        {"week": "2026-W01", "score": 50.0, "rank": 2},
        {"week": "2026-W02", "score": 60.0, "rank": 1},
        {"week": "2026-W03", "score": None, "rank": None},
        {"week": "2026-W04", "score": 100.0, "rank": 1},
    ]
    chart = score_chart(history)
    assert [p["week"] for p in chart["points"]] == ["2026-W01", "2026-W02", "2026-W04"]
    assert len(chart["segments"]) == 1 and len(chart["gaps"]) == 1  # the gap breaks the line
    assert chart["points"][-1]["y"] == chart["top"]  # 100 at the top
    assert chart["y_ticks"][0]["y"] == chart["bottom"]  # 0 at the bottom
    assert chart["points"][0]["x"] == chart["left"] and chart["points"][-1]["x"] == chart["right"]
    assert "scored in 3 of 4 weeks" in chart["summary"] and "highest 100.0" in chart["summary"]
    many = score_chart([{"week": f"2026-W{i:02d}", "score": 50.0} for i in range(1, 53)])
    assert len(many["x_labels"]) <= 9 and many["x_labels"][-1]["label"] == "2026-W52"
    assert "no week had enough data" in score_chart([{"week": "2026-W01", "score": None}])["summary"]


def test_unknown_official_and_b_in_the_ranking(client, world):
    assert B_NAME in text_of(page(client, f"/officials/{B}"))


# --- the record ---------------------------------------------------------------------------------------------


def test_the_record_page_shows_the_checkpoints_and_checks_an_uploaded_receipt(client, signers, gateway):
    import io

    from tests.helpers import example, post, signed

    assert "No checkpoint has been signed yet" in text_of(page(client, "/log"))
    receipt = post(client, signed(signers, "sys-portal", example("Appeal"))).data
    first = gateway.log.extend()
    later = post(client, signed(signers, "sys-portal", example("Appeal"))).data

    def check(data: bytes, status: int = 200) -> str:
        response = client.post(
            "/log", data={"document": (io.BytesIO(data), "receipt.xml")}, content_type="multipart/form-data"
        )
        assert response.status_code == status, response.data[:300]
        return text_of(response.get_data(as_text=True))

    text = check(receipt)
    assert f"In the record: entry 0 of the {first.tree_size}" in text
    assert first.root_hash.hex() in text and "Audit path" in text
    assert "Not in the record" in check(later)
    gateway.log.extend()
    text = text_of(page(client, "/log"))
    assert "Earlier checkpoints" in text and f"LogCheckpoint {first.tree_size}" not in text
    assert "In the record: entry" in check(later)
    assert "not a document of the gateway" in check(b"not xml", 400)
    assert "Choose the file" in check(b"", 400)
    assert 'aria-current="page">The record' in page(client, "/log")
