"""DirectoryUpdate over HTTP: applied in the document's transaction, only within the sender's scope."""

from __future__ import annotations

from sqlalchemy import select

from gateway.store.directory import Official, OrgUnit
from gateway.xml import ns
from tests.helpers import error_codes, example, post, receipt_of, signed


def _renamed(root, official_id: str, name: str):
    for official in root.findall("zv:Body/zv:Officials/zv:Official", ns.NSMAP):
        if official.findtext("zv:Id", namespaces=ns.NSMAP) == official_id:
            official.find("zv:Name", ns.NSMAP).text = name
    return root


def test_a_dms_updates_the_directory_of_its_own_agency(client, signers, gateway):
    root = _renamed(
        example("DirectoryUpdate", SenderSystem="sys-dms-housing"), "off-housing-minister", "Ivan P."
    )
    response = post(client, signed(signers, "sys-dms-housing", root))
    assert response.status_code == 201, error_codes(receipt_of(response))
    with gateway.sessions() as session:
        assert session.get(Official, "off-housing-minister").name == "Ivan P."


def test_a_dms_cannot_rewrite_another_agency(client, signers, gateway):
    root = example("DirectoryUpdate", SenderSystem="sys-dms-minsk-region")
    response = post(client, signed(signers, "sys-dms-minsk-region", root))
    assert response.status_code == 403
    assert error_codes(receipt_of(response)) == ["signer-not-authorized"]
    with gateway.sessions() as session:
        before = {u.id: u.parent_id for u in session.scalars(select(OrgUnit))}
        assert before["ou-housing-department"] == "ou-ministry-housing"
        assert session.get(Official, "off-housing-minister").name != "Ivan P."


def test_a_unit_cannot_be_pulled_into_ones_scope_by_reparenting(client, signers, gateway):
    root = example("DirectoryUpdate", SenderSystem="sys-dms-housing")
    for unit in root.findall("zv:Body/zv:OrgUnits/zv:OrgUnit", ns.NSMAP):
        if unit.findtext("zv:Id", namespaces=ns.NSMAP) == "ou-housing-department":
            unit.find("zv:Id", ns.NSMAP).text = "ou-fanipal-village"
    response = post(client, signed(signers, "sys-dms-housing", root))
    assert response.status_code == 403
    assert error_codes(receipt_of(response)) == ["signer-not-authorized"]
    with gateway.sessions() as session:
        assert session.get(OrgUnit, "ou-fanipal-village").parent_id == "ou-dzerzhinsk-district"
