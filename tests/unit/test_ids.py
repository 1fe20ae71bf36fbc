"""gateway.domain.ids: the ids of appeals and receipts begin with the time, so that they are appended to their
indexes, and stay unguessable (82 random bits) in the alphabet the schemas and the API describe; the row
numbers clients send (cursors, offsets, pages) are read within what the databases can number."""

from __future__ import annotations

import re
import string
import time

import pytest

from gateway.bench import make_appeals
from gateway.domain.ids import (
    MAX_ROW_NUMBER,
    RANDOM_BITS,
    SORTABLE_BASE32,
    is_row_number,
    sortable_id,
    whole_number,
)
from gateway.services.appeals import new_appeal_id
from gateway.xml import ns
from gateway.xml.parsing import parse_document


def _number(identifier: str, prefix: str) -> int:
    value = 0
    for character in identifier.removeprefix(prefix):
        value = value * 32 + SORTABLE_BASE32.index(character)
    return value


def test_the_alphabet_is_lowercase_base32_in_ascii_order():
    assert sorted(SORTABLE_BASE32) == list(SORTABLE_BASE32)
    assert set(SORTABLE_BASE32) == set(string.ascii_lowercase + "234567")


def test_an_id_is_the_prefix_and_26_characters_of_the_published_patterns():
    for identifier in (sortable_id("ap-"), new_appeal_id()):
        assert re.fullmatch(r"ap-[a-z2-7]{26}", identifier)  # the API's pattern; the XSD's is ap-[0-9a-z]{26}
    assert re.fullmatch(r"rc-[a-z2-7]{26}", sortable_id("rc-"))


def test_ids_carry_the_millisecond_then_82_random_bits():
    moment = 1_796_600_000_123  # December 2026
    ids = [sortable_id("rc-", now_ms=moment) for _ in range(200)]
    assert {_number(i, "rc-") >> RANDOM_BITS for i in ids} == {moment}
    randoms = {_number(i, "rc-") % (1 << RANDOM_BITS) for i in ids}
    assert len(randoms) == 200  # none repeats
    assert max(randoms).bit_length() > RANDOM_BITS - 8  # the random part spans its 82 bits


def test_later_ids_compare_greater_as_strings():
    moments = [0, 1, 31, 32, 1023, 1024, 1_796_600_000_000, 1_796_600_000_001, 1_796_600_086_400, 2**48 - 1]
    for earlier, later in zip(moments, moments[1:], strict=False):
        for _ in range(50):  # whatever the random bits
            assert sortable_id("ap-", now_ms=earlier) < sortable_id("ap-", now_ms=later)


def test_appeals_accepted_later_have_later_appeal_and_receipt_ids(pki_dir, gateway):
    outcomes = []
    for data in make_appeals(pki_dir, 2):
        outcomes.append(gateway.pipeline.submit(data))
        time.sleep(0.002)
    appeal_ids = [
        parse_document(o.receipt).findtext("zv:Body/zv:Appeal/zv:AppealId", namespaces=ns.NSMAP)
        for o in outcomes
    ]
    assert all(re.fullmatch(r"ap-[a-z2-7]{26}", a) for a in appeal_ids)
    assert appeal_ids[0] < appeal_ids[1]
    assert all(re.fullmatch(r"rc-[a-z2-7]{26}", o.receipt_id) for o in outcomes)
    assert outcomes[0].receipt_id < outcomes[1].receipt_id


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0", 0),
        ("42", 42),
        ("007", 7),
        ("2147483647", MAX_ROW_NUMBER),
        ("02147483647", None),  # more digits than a row number has
        ("2147483648", None),  # 2**31: past any row number of PostgreSQL's INTEGER columns
        ("99999999999999999999", None),
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1.5", None),
        ("²", None),  # str.isdigit() says yes; int() says no
        ("٣", None),  # an Arabic-Indic three: int() reads it, but no client means it
    ],
)
def test_a_whole_number_is_ascii_digits_within_a_row_number(text, number):
    assert whole_number(text) == number


def test_a_json_cursor_is_an_integer_within_a_row_number():
    assert is_row_number(0) and is_row_number(MAX_ROW_NUMBER)
    assert not any(map(is_row_number, [-1, MAX_ROW_NUMBER + 1, True, 1.0, "1", None]))
