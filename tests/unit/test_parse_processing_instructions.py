"""Processing instructions inside the root (a Zvarot document carries none) are refused by the parser, by
target and line; those around the root are left to the signature, which covers them."""

from __future__ import annotations

import pytest

from gateway.errors import Rejection
from gateway.xml.parsing import ParseLimits, parse_document

SPLIT = b"""<?xml version="1.0"?>
<?before the root?>
<Appeal xmlns="urn:zvarot:1">
  <Header><SenderSystem>sys-portal<?zv-note x?>-other</SenderSystem></Header>
</Appeal>
<?after the root?>
"""


def test_one_inside_the_root_is_refused_naming_its_target_and_line():
    with pytest.raises(Rejection) as refused:
        parse_document(SPLIT)
    problem = refused.value.problems[0]
    assert problem.code == "schema-invalid"
    assert problem.line == 4
    assert "<?zv-note?>" in problem.message and "line 4" in problem.message
    assert "Zvarot documents carry no processing instructions" in problem.message


def test_those_around_the_root_are_left_alone():
    outside = SPLIT.replace(b"<?zv-note x?>", b"")
    root = parse_document(outside)
    assert root.getprevious().target == "before" and root.getnext().target == "after"


def test_a_container_with_a_rule_of_its_own_may_let_them_through():
    root = parse_document(SPLIT, ParseLimits(allow_processing_instructions=True))
    assert root.findtext("{urn:zvarot:1}Header/{urn:zvarot:1}SenderSystem") == "sys-portal"
