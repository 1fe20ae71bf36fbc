"""The depth limit (ParseLimits.max_depth): libxml2's XPath decides, the Python walk only names the line."""

from __future__ import annotations

import pytest

from gateway.errors import Rejection
from gateway.xml.parsing import ParseLimits, parse_document


def _nested(depth: int) -> bytes:
    return b"<a>\n" * depth + b"</a>" * depth


@pytest.mark.parametrize("limit", [1, 2, 8, 64])
def test_exactly_the_limit_is_parsed_and_one_deeper_is_refused_at_its_line(limit):
    assert parse_document(_nested(limit), ParseLimits(max_depth=limit)) is not None
    with pytest.raises(Rejection) as refused:
        parse_document(_nested(limit + 1), ParseLimits(max_depth=limit))
    problem = refused.value.problems[0]
    assert problem.code == "too-large" and f"exceeds {limit}" in problem.message
    assert problem.line == limit + 1  # the first element too deep, one per line


def test_a_deep_branch_beside_shallow_ones_is_found():
    shallow = b"<s/>" * 50
    deep = b"<d>" * 10 + b"</d>" * 10
    document = b"<root>" + shallow + deep + shallow + b"</root>"
    assert parse_document(document, ParseLimits(max_depth=11)) is not None
    with pytest.raises(Rejection, match="exceeds 10"):
        parse_document(document, ParseLimits(max_depth=10))
