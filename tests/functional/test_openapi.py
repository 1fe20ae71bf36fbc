"""The OpenAPI document: it validates, it describes exactly the routes the app serves, and real responses
match its schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import jsonschema
import pytest
from openapi_spec_validator import validate

from gateway.app import create_app
from gateway.domain.ratings.weeks import IsoWeek
from gateway.interfaces.http import submission
from gateway.services.access import issue_token
from gateway.store.database import writing
from tests.helpers import example, new_appeal, post, signed

DEPT_HEAD = "off-housing-dept-head"


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def _documented_rules(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every machine route: everything under /api/, /healthz and /metrics (SOAP has
    its WSDL)."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule in ("/healthz", "/metrics")):
            continue
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((path, method.lower()))
    found.add((submission.PATH, "post"))  # served in front of Flask (gateway.interfaces.http.submission)
    return found


def test_the_paths_are_exactly_the_routes(gateway, document):
    app = create_app(gateway=gateway)
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert described == _documented_rules(app)
    assert not any(path.startswith("/soap") for path, _ in described)
    # every path parameter is declared
    for path, item in document["paths"].items():
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)


class Responses:
    """Validates response bodies against the document's schemas."""

    def __init__(self, document: dict):
        self.document = document

    def check(self, response, path: str, method: str = "get") -> dict:
        operation = self.document["paths"][path][method]
        described = operation["responses"][str(response.status_code)]
        content_type = response.mimetype
        assert content_type in described["content"], (path, response.status_code, content_type)
        schema = {
            **described["content"][content_type]["schema"],
            "components": self.document["components"],
        }
        body = response.get_json()
        jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)
        return body


def test_catalog_responses_match_their_schemas(client, signers, gateway, document):
    check = Responses(document).check
    post(client, signed(signers, DEPT_HEAD, example("WorkReport")))
    check(client.get("/api/v1/officials?q=housing"), "/api/v1/officials")
    check(client.get(f"/api/v1/officials/{DEPT_HEAD}"), "/api/v1/officials/{official_id}")
    check(client.get("/api/v1/officials/off-housing-minister"), "/api/v1/officials/{official_id}")
    check(
        client.get(f"/api/v1/officials/{DEPT_HEAD}/report-schedule"),
        "/api/v1/officials/{official_id}/report-schedule",
    )
    check(client.get("/api/v1/org-units"), "/api/v1/org-units")
    check(client.get("/api/v1/org-units/ou-housing-department"), "/api/v1/org-units/{unit_id}")
    reports = check(client.get("/api/v1/reports"), "/api/v1/reports")
    report_id = reports["items"][0]["id"]
    review = example("ReportReview")
    review.find("{urn:zvarot:1}Body/{urn:zvarot:1}ReportId").text = report_id
    assert post(client, signed(signers, "sys-portal", review)).status_code == 201
    detail = check(client.get(f"/api/v1/reports/{report_id}"), "/api/v1/reports/{report_id}")
    assert detail["review_list"][0]["stars"] == 5
    check(client.get("/api/v1/reports/wr-none"), "/api/v1/reports/{report_id}")  # a 404 problem
    check(client.get("/api/v1/ratings"), "/api/v1/ratings")  # 404: nothing computed yet
    check(client.get("/api/v1/reports?limit=0"), "/api/v1/reports")  # 400

    week = IsoWeek.last_complete(datetime.now(UTC), "Europe/Minsk")
    gateway.ratings.compute_and_store(gateway.sessions, week)
    ratings = check(client.get("/api/v1/ratings"), "/api/v1/ratings")
    assert ratings["week"] == str(week) and ratings["insufficient_data"]
    check(client.get(f"/api/v1/ratings/{DEPT_HEAD}"), "/api/v1/ratings/{official_id}")
    check(client.get(f"/api/v1/officials/{DEPT_HEAD}"), "/api/v1/officials/{official_id}")  # with a rating
    check(client.get("/healthz"), "/healthz")


def test_appeal_and_inbox_responses_match_their_schemas(client, signers, gateway, document):
    check = Responses(document).check
    appeal_id, code = new_appeal(client, signers, DEPT_HEAD)
    check(client.get(f"/api/v1/appeals/{code}"), "/api/v1/appeals/{tracking_code}")
    check(client.get("/api/v1/appeals/AAAA-AAAA-AAAA-AAAA-AAAA"), "/api/v1/appeals/{tracking_code}")
    with writing(gateway.sessions) as session:
        token = issue_token(session, "sys-dms-housing")
        portal = issue_token(session, "sys-portal")
        session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    inbox = check(client.get(f"/api/v1/inbox/{DEPT_HEAD}", headers=auth), "/api/v1/inbox/{official_id}")
    assert inbox["items"][0]["appeal_id"] == appeal_id
    check(client.get(f"/api/v1/inbox/{DEPT_HEAD}"), "/api/v1/inbox/{official_id}")  # 401
    acked = client.post(f"/api/v1/inbox/{DEPT_HEAD}/ack", json={"cursor": inbox["next_after"]}, headers=auth)
    check(acked, "/api/v1/inbox/{official_id}/ack", "post")
    outbox = check(
        client.get("/api/v1/outbox", headers={"Authorization": f"Bearer {portal}"}), "/api/v1/outbox"
    )
    assert outbox["items"]
    acked = client.post(
        "/api/v1/outbox/ack",
        json={"cursor": outbox["next_after"]},
        headers={"Authorization": f"Bearer {portal}"},
    )
    check(acked, "/api/v1/outbox/ack", "post")
    unsupported = client.post("/api/v1/messages", data=b"{}", content_type="application/json")
    check(unsupported, "/api/v1/messages", "post")  # 415 problem


def test_transparency_log_responses_match_their_schemas(client, signers, gateway, document):
    check = Responses(document).check
    check(client.get("/api/v1/log"), "/api/v1/log")  # 404: no checkpoint yet
    receipt = post(client, signed(signers, "sys-portal", example("Appeal"))).data
    new_appeal(client, signers, DEPT_HEAD)
    size = gateway.log.extend().tree_size
    head = check(client.get("/api/v1/log"), "/api/v1/log")
    assert head["tree_size"] == size
    page = check(client.get(f"/api/v1/log/entries?end={size}"), "/api/v1/log/entries")
    from gateway.services.transparency import held

    holding = held(receipt)
    leaf = holding.leaf_hash.hex()
    proof = check(
        client.get(f"/api/v1/log/proof?leaf_hash={leaf}&receipt_id={holding.receipt_id}"), "/api/v1/log/proof"
    )
    assert page["entries"][proof["leaf_index"]]["leaf_hash"] == leaf
    missing = f"/api/v1/log/proof?appeal_id=ap-{'a' * 26}&leaf_hash=" + "0" * 64
    check(client.get(missing), "/api/v1/log/proof")  # 404
    check(client.get(f"/api/v1/log/proof?leaf_hash={leaf}"), "/api/v1/log/proof")  # 400: no key
    check(client.get("/api/v1/log/proof?leaf_hash=xyz"), "/api/v1/log/proof")  # 400
    check(client.get(f"/api/v1/log/consistency?first=1&second={size}"), "/api/v1/log/consistency")
    check(client.get(f"/api/v1/log/consistency?first={size}&second=1"), "/api/v1/log/consistency")  # 400
    check(client.get("/api/v1/log/checkpoints/²"), "/api/v1/log/checkpoints/{size}")  # 400
    check(client.get("/api/v1/log/entries?start=5&end=5"), "/api/v1/log/entries")  # 400
