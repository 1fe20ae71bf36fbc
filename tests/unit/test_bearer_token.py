"""The one reading of `Authorization: Bearer <token>` that the JSON API, SOAP and /metrics share."""

from __future__ import annotations

import pytest

from gateway.services.access import bearer_token


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer zvt_abc", "zvt_abc"),
        ("bearer zvt_abc", "zvt_abc"),  # the scheme is case-insensitive (RFC 9110, 11.1)
        ("BEARER   zvt_abc  ", "zvt_abc"),
        ("Basic dXNlcjpwYXNz", None),  # another scheme is no token
        ("Bearerzvt_abc", None),
        ("", None),
        (None, None),
    ],
)
def test_the_token_of_an_authorization_header(header, token):
    assert bearer_token(header) == token
