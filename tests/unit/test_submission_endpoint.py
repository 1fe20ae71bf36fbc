"""The front door of POST /api/v1/messages (gateway.interfaces.http.submission), on hand-made WSGI environs:
what reaches the pipeline, and how each outcome is answered. The real pipeline behind it is tested through
the Flask test client everywhere else (tests/functional/test_submit.py and the attack corpus)."""

from __future__ import annotations

import io
import json

import pytest

from gateway.errors import Problem
from gateway.ingest.pipeline import Outcome
from gateway.interfaces.http.submission import PATH, SubmissionEndpoint

LIMIT = 1000


class _Unreadable(io.RawIOBase):
    def read(self, *_args):
        raise AssertionError("the body was read")


def _call(endpoint, method="POST", path=PATH, body=b"", content_type="application/xml", **extra):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_TYPE": content_type,
        "wsgi.input": io.BytesIO(body),
        **extra,
    }
    if "CONTENT_LENGTH" not in extra and "wsgi.input_terminated" not in extra:
        environ["CONTENT_LENGTH"] = str(len(body))
    answered = {}

    def start_response(status, headers):
        answered["status"], answered["headers"] = status, dict(headers)

    body = b"".join(endpoint(environ, start_response))
    assert answered["headers"]["Content-Length"] == str(len(body))
    return answered["status"], answered["headers"], body


@pytest.fixture
def seen() -> list[bytes]:
    return []


@pytest.fixture
def endpoint(seen):
    def submit(data: bytes) -> Outcome:
        seen.append(data)
        return Outcome("accepted", b"<Receipt/>", "rc-1", None)

    def flask(_environ, start_response):
        start_response("200 OK", [("Content-Length", "5")])
        return [b"flask"]

    return SubmissionEndpoint(flask, submit, LIMIT)


def test_a_document_reaches_the_pipeline_and_its_receipt_comes_back(endpoint, seen):
    status, headers, body = _call(endpoint, body=b"<Appeal/>", content_type="text/xml; charset=utf-8")
    assert (status, body, seen) == ("201 Created", b"<Receipt/>", [b"<Appeal/>"])
    assert headers["Zvarot-Outcome"] == "accepted" and headers["Zvarot-Receipt-Id"] == "rc-1"
    assert headers["Content-Type"] == "application/xml; charset=utf-8"


def test_every_other_route_is_flask_s(endpoint, seen):
    assert _call(endpoint, method="GET", path="/api/v1/messages/x")[2] == b"flask"
    assert _call(endpoint, path="/api/v1/messagesx")[2] == b"flask" and seen == []


def test_other_methods_are_refused_with_allow(endpoint, seen):
    status, headers, body = _call(endpoint, method="GET")
    assert status == "405 Method Not Allowed" and headers["Allow"] == "OPTIONS, POST"
    assert json.loads(body)["title"] == "method-not-allowed" and seen == []
    status, headers, body = _call(endpoint, method="OPTIONS")
    assert (status, headers["Allow"], body, seen) == ("200 OK", "OPTIONS, POST", b"", [])


def test_a_failure_inside_is_logged_and_answered_with_a_problem(caplog):
    def broken(_data: bytes) -> Outcome:
        raise RuntimeError("database unreachable")

    with caplog.at_level("ERROR", logger="zvarot.submission"):
        status, headers, body = _call(SubmissionEndpoint(None, broken, LIMIT), body=b"<Appeal/>")
    assert status == "500 Internal Server Error" and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["title"] == "internal-error"
    assert "database unreachable" in caplog.text


def test_a_wrong_media_type_is_refused_unread(endpoint, seen):
    status, headers, body = _call(endpoint, body=b"{}", content_type="application/json")
    assert status == "415 Unsupported Media Type" and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["title"] == "malformed-xml" and seen == []


def test_a_declared_length_over_the_limit_is_refused_before_reading(endpoint, seen):
    status, _headers, body = _call(endpoint, CONTENT_LENGTH=str(LIMIT + 1), **{"wsgi.input": _Unreadable()})
    assert status == "413 Request Entity Too Large" and seen == []
    assert json.loads(body)["detail"] == f"document is {LIMIT + 1} bytes; the limit is {LIMIT}"


def test_a_chunked_body_is_read_one_byte_past_the_limit_at_most(endpoint, seen):
    _call(endpoint, body=b"x" * (10 * LIMIT), **{"wsgi.input_terminated": True})
    assert [len(data) for data in seen] == [LIMIT + 1]  # the pipeline refuses it as too large


def test_no_length_on_an_unterminated_stream_reads_nothing(endpoint, seen):
    _call(endpoint, body=b"<Appeal/>", CONTENT_LENGTH="", **{"wsgi.input": _Unreadable()})
    assert seen == [b""]


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome("duplicate", b"<Receipt/>", "rc-0", None), "200 OK"),
        (Outcome("rejected", b"<Receipt/>", "rc-2", Problem("signature-invalid", "bad")), "403 Forbidden"),
        (Outcome("rejected", b"<Receipt/>", "rc-3", Problem("duplicate-conflict", "other")), "409 Conflict"),
    ],
)
def test_outcomes_with_a_receipt(outcome, status):
    answer = SubmissionEndpoint(None, lambda _data: outcome, LIMIT)
    got, headers, body = _call(answer, body=b"<x/>")
    assert (got, body, headers["Zvarot-Outcome"], headers["Zvarot-Receipt-Id"]) == (
        status,
        b"<Receipt/>",
        outcome.outcome,
        outcome.receipt_id,
    )


def test_an_unreadable_document_gets_a_problem_with_the_rejection_s_id():
    outcome = Outcome("rejected", None, "rc-4", Problem("malformed-xml", "not XML", line=3))
    status, headers, body = _call(SubmissionEndpoint(None, lambda _data: outcome, LIMIT), body=b"no")
    assert status == "400 Bad Request" and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body) == {
        "type": "urn:zvarot:error:malformed-xml",
        "title": "malformed-xml",
        "status": 400,
        "detail": "not XML",
        "receipt_id": "rc-4",
        "line": 3,
    }
