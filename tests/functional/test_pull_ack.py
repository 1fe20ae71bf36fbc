"""Inboxes and outboxes are at-least-once although ids are taken at INSERT and transactions commit in any
order: a row that becomes visible below the puller's cursor comes in the next pull and is not acknowledged by
a cursor before that; exact ids acknowledge only the caller's own rows."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from gateway.store.appeals import InboxItem, OutboxMessage
from tests.functional.test_appeals import DEPT_HEAD, DMS, MINISTER, OTHER_DMS, PORTAL, doc, send
from tests.helpers import committed_late, new_appeal, system_token

REGION_CHAIR = "off-region-chair"  # served by OTHER_DMS


def cursors(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [item["cursor"] for item in response.json["items"]]


def inbox_ids(gateway, official: str) -> list[int]:
    with gateway.sessions() as session:
        return list(session.scalars(select(InboxItem.id).where(InboxItem.official_id == official)))


def test_an_inbox_item_committed_late_comes_in_the_next_pull_and_is_not_acked_before(
    client, signers, settings, gateway
):
    new_appeal(client, signers, MINISTER)
    new_appeal(client, signers, MINISTER)
    early, later = sorted(inbox_ids(gateway, MINISTER))
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    with committed_late(gateway, InboxItem, InboxItem.id == early):
        first = client.get(f"/api/v1/inbox/{MINISTER}", headers=housing)
        assert cursors(first) == [later] and first.json["next_after"] == later
    # The client acknowledges what it processed; the late item was never handed out, so it stays.
    acked = client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"cursor": later}, headers=housing)
    assert acked.json == {"official": MINISTER, "acknowledged": 1, "cursor": later}
    # Continuing from next_after, the client still gets it. Its page ends above the cursor it was asked for,
    # so that acknowledging that page is not acknowledging the page before.
    second = client.get(f"/api/v1/inbox/{MINISTER}?after={later}", headers=housing)
    assert cursors(second) == [early] and second.json["next_after"] == later + 1

    def ack(cursor: int) -> int:
        response = client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"cursor": cursor}, headers=housing)
        return response.json["acknowledged"]

    # A client that acknowledges a page while it fetches the next: `early` is not processed yet.
    assert ack(later) == 0
    # The page was lost: a pull from the same cursor hands it out again.
    assert cursors(client.get(f"/api/v1/inbox/{MINISTER}?after={later}", headers=housing)) == [early]
    assert ack(second.json["next_after"]) == 1
    assert cursors(client.get(f"/api/v1/inbox/{MINISTER}?after=0", headers=housing)) == []


def test_an_outbox_row_committed_late_comes_in_the_next_pull_and_is_not_acked_before(
    client, signers, settings, gateway
):
    appeal_id, _ = new_appeal(client, signers, DEPT_HEAD)
    portal = {"Authorization": f"Bearer {system_token(settings, PORTAL)}"}
    everything = cursors(client.get("/api/v1/outbox", headers=portal))
    client.post("/api/v1/outbox/ack", json={"cursor": everything[-1]}, headers=portal)
    # The reply's rows for the portal (its StatusUpdate, the official's reply): no inbox item refers to them.
    send(client, signers, DEPT_HEAD, doc("AppealReply", DMS, AppealId=appeal_id, Official=DEPT_HEAD))
    with gateway.sessions() as session:
        early, later = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.recipient_system == PORTAL, OutboxMessage.acked_at.is_(None))
            .order_by(OutboxMessage.id)
        ).all()
    with committed_late(gateway, OutboxMessage, OutboxMessage.id == early):
        first = client.get(f"/api/v1/outbox?after={everything[-1]}", headers=portal)
        assert cursors(first) == [later]
    assert client.post("/api/v1/outbox/ack", json={"cursor": later}, headers=portal).json["acknowledged"] == 1
    second = client.get(f"/api/v1/outbox?after={later}", headers=portal)
    assert cursors(second) == [early] and second.json["next_after"] == later + 1
    assert client.post("/api/v1/outbox/ack", json={"cursor": later}, headers=portal).json["acknowledged"] == 0
    acked = client.post("/api/v1/outbox/ack", json={"ids": [early]}, headers=portal)
    assert acked.json == {"system": PORTAL, "acknowledged": 1, "ids": [early]}
    assert cursors(client.get("/api/v1/outbox?after=0", headers=portal)) == []


def test_two_real_transactions_committing_out_of_order(client, signers, settings, gateway):
    """PostgreSQL: the lower id really commits after the higher one was pulled and acknowledged."""
    if gateway.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids become visible in order")
    appeal_id, _ = new_appeal(client, signers, MINISTER)
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    (first,) = cursors(client.get(f"/api/v1/inbox/{MINISTER}", headers=housing))
    client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"cursor": first}, headers=housing)
    with gateway.sessions() as session:
        row = session.execute(select(InboxItem.__table__).where(InboxItem.id == first)).mappings().one()
    row = {k: v for k, v in row.items() if k not in ("id", "acked_at", "pulled_at", "ack_cursor")}
    slow, fast = gateway.engine.connect(), gateway.engine.connect()
    try:
        slow_tx = slow.begin()
        slow_id = slow.execute(insert(InboxItem.__table__).values(**row).returning(InboxItem.id)).scalar()
        with fast.begin():
            fast_id = fast.execute(insert(InboxItem.__table__).values(**row).returning(InboxItem.id)).scalar()
        assert slow_id < fast_id
        assert cursors(client.get(f"/api/v1/inbox/{MINISTER}?after={first}", headers=housing)) == [fast_id]
        client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"cursor": fast_id}, headers=housing)
        slow_tx.commit()
    finally:
        slow.close()
        fast.close()
    # Committed now, below the cursor, never handed out: a cursor does not cover it, the next pull brings it.
    acked = client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"cursor": fast_id}, headers=housing)
    assert acked.json["acknowledged"] == 0
    assert cursors(client.get(f"/api/v1/inbox/{MINISTER}?after={fast_id}", headers=housing)) == [slow_id]


def test_exact_ids_acknowledge_only_the_callers_own_rows(client, signers, settings, gateway):
    new_appeal(client, signers, MINISTER)
    new_appeal(client, signers, DEPT_HEAD)
    new_appeal(client, signers, REGION_CHAIR)
    (minister,), (dept_head,), (chair,) = (inbox_ids(gateway, o) for o in (MINISTER, DEPT_HEAD, REGION_CHAIR))
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    region = {"Authorization": f"Bearer {system_token(settings, OTHER_DMS)}"}
    everyone = [minister, dept_head, chair, 10**9]

    # Another official's items, even one this system serves, are not acknowledged through this inbox; an
    # exact id needs no pull before it.
    acked = client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"ids": everyone}, headers=housing)
    assert acked.json == {"official": MINISTER, "acknowledged": 1, "ids": sorted(everyone)}
    assert (
        client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"ids": everyone}, headers=region).status_code
        == 403
    )
    acked = client.post(
        f"/api/v1/inbox/{REGION_CHAIR}/ack", json={"ids": [minister, dept_head]}, headers=region
    )
    assert acked.json["acknowledged"] == 0
    assert cursors(client.get(f"/api/v1/inbox/{DEPT_HEAD}", headers=housing)) == [dept_head]
    assert cursors(client.get(f"/api/v1/inbox/{REGION_CHAIR}", headers=region)) == [chair]
    assert cursors(client.get(f"/api/v1/inbox/{MINISTER}", headers=housing)) == []

    # Outboxes: a system acknowledges its own status updates, never another system's.
    with gateway.sessions() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.recipient_system)).all()
    theirs = [row_id for row_id, recipient in rows if recipient != PORTAL]
    portal = {"Authorization": f"Bearer {system_token(settings, PORTAL)}"}
    assert client.post("/api/v1/outbox/ack", json={"ids": theirs}, headers=portal).json["acknowledged"] == 0
    assert cursors(client.get("/api/v1/outbox", headers=housing)) == sorted(
        row_id for row_id, recipient in rows if recipient == DMS
    )


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        [1, 2],
        {"cursor": -1},
        {"cursor": True},
        {"cursor": "5"},
        {"cursor": 1.5},
        {"ids": []},
        {"ids": "1"},
        {"ids": [1, "2"]},
        {"ids": [True]},
        {"ids": [-1]},
        {"cursor": 2**31},  # past any row number of PostgreSQL's INTEGER ids
        {"ids": [1, 2**63]},
        {"ids": list(range(1, 1002))},
        {"cursor": 1, "ids": [1]},
    ],
)
def test_an_acknowledgement_that_is_not_a_cursor_or_ids_is_a_400(client, settings, body):
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    for path in (f"/api/v1/inbox/{MINISTER}/ack", "/api/v1/outbox/ack"):
        response = client.post(path, json=body, headers=housing)
        assert response.status_code == 400, (path, body)
        assert response.mimetype == "application/problem+json"
        assert response.json["title"] == "bad-request" and "cursor" in response.json["detail"]


def test_an_acknowledgement_is_read_as_json_whatever_its_content_type_says(client, signers, settings):
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    for path in (f"/api/v1/inbox/{MINISTER}/ack", "/api/v1/outbox/ack"):
        # what `curl -d '{"cursor": 0}'` sends: the JSON labelled as a form
        response = client.post(
            path, data='{"cursor": 0}', content_type="application/x-www-form-urlencoded", headers=housing
        )
        assert response.status_code == 200, (path, response.json)
        assert response.json["cursor"] == 0


@pytest.mark.parametrize(
    "query",
    ["after=2147483648", "after=9223372036854775808", "after=%C2%B2", "limit=%C2%B2", "after=%D9%A3"],
)
def test_a_cursor_past_any_row_or_in_other_digits_than_ascii_is_a_400(client, settings, query):
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    for path in (f"/api/v1/inbox/{MINISTER}", "/api/v1/outbox"):
        response = client.get(f"{path}?{query}", headers=housing)
        assert response.status_code == 400, (path, query)
        assert "whole numbers from 0 to 2147483647" in response.json["detail"]
    last = client.get(f"/api/v1/inbox/{MINISTER}?after=2147483647", headers=housing)
    assert last.status_code == 200 and last.json["items"] == []


def test_a_thousand_ids_are_taken(client, signers, settings):
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    response = client.post(
        f"/api/v1/inbox/{MINISTER}/ack", json={"ids": list(range(1, 1001))}, headers=housing
    )
    assert response.status_code == 200 and response.json["acknowledged"] == 0


def test_a_poll_writes_only_when_it_hands_out_something_new(client, signers, settings, gateway):
    """Officials' systems poll all day: a pull that hands out nothing new takes no write lock (on SQLite
    the one lock that every accepted document needs), and one that does marks exactly the new rows."""
    from sqlalchemy import event

    new_appeal(client, signers, MINISTER)
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    writes: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE", "BEGIN IMMEDIATE")):
            writes.append(statement)

    event.listen(gateway.engine, "before_cursor_execute", record)
    try:
        [first] = cursors(client.get(f"/api/v1/inbox/{MINISTER}", headers=housing))
        [update] = [w for w in writes if w.startswith("UPDATE")]  # after BEGIN IMMEDIATE on SQLite
        assert "pulled_at" in update
        writes.clear()
        assert cursors(client.get(f"/api/v1/inbox/{MINISTER}", headers=housing)) == [first]  # not acked yet
        assert cursors(client.get(f"/api/v1/inbox/{MINISTER}?after={first}", headers=housing)) == []
        assert writes == []
    finally:
        event.remove(gateway.engine, "before_cursor_execute", record)
    with gateway.sessions() as session:
        assert session.get(InboxItem, first).pulled_at is not None


def test_a_late_item_handed_out_again_is_acknowledged_with_the_page_that_carried_it_again(
    client, signers, settings, gateway
):
    """Its first page ended far above the cursor the client retries from (rows of other inboxes take ids
    in between); the page that brings it again is enough to acknowledge it, or it would come once per pull
    until the client's cursor crept up to that first page's end."""
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    new_appeal(client, signers, MINISTER)
    new_appeal(client, signers, MINISTER)
    early, later = sorted(inbox_ids(gateway, MINISTER))
    with committed_late(gateway, InboxItem, InboxItem.id == early):
        assert cursors(client.get(f"/api/v1/inbox/{MINISTER}", headers=housing)) == [later]
    client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"cursor": later}, headers=housing)
    for _ in range(3):
        new_appeal(client, signers, DEPT_HEAD)  # ids for another inbox
    new_appeal(client, signers, MINISTER)
    (newest,) = (i for i in inbox_ids(gateway, MINISTER) if i > later)
    lost = client.get(f"/api/v1/inbox/{MINISTER}?after={later}", headers=housing)
    assert cursors(lost) == [newest, early] and lost.json["next_after"] == newest  # above the cursor first
    # The client had processed `newest` alone (acknowledged by id) when that page was lost; it retries.
    client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"ids": [newest]}, headers=housing)
    again = client.get(f"/api/v1/inbox/{MINISTER}?after={later}", headers=housing)
    assert cursors(again) == [early] and again.json["next_after"] == later + 1 < newest
    acked = client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"cursor": later + 1}, headers=housing)
    assert acked.json["acknowledged"] == 1
    assert cursors(client.get(f"/api/v1/inbox/{MINISTER}?after={later + 1}", headers=housing)) == []
