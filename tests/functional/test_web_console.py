"""The operator console through the Flask test client: login (hashed passwords), CSRF on every POST, the
idle timeout, logout that ends the session on the server too, rejected documents, dead letters with requeue,
systems and certificates; `zvarot operators`; the secret key."""

from __future__ import annotations

import re
import stat
import time
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.app import create_app
from gateway.delivery.outbox import list_outbox
from gateway.interfaces.cli.main import cli
from gateway.interfaces.web.auth import secret_key
from gateway.services.operators import (
    FREE_FAILURES,
    LOCKOUT_FIRST,
    LOCKOUT_MAX,
    OperatorError,
    add_operator,
    authenticate,
    lockout_of,
    set_password,
)
from gateway.store.database import writing
from gateway.store.operators import Operator
from tests.functional.web_world import OPERATOR, PASSWORD, PORTAL, build_world


@pytest.fixture
def world(client, signers, gateway, database_url, tmp_path):
    return build_world(client, signers, gateway, database_url, tmp_path, ratings=False)


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def csrf_of(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token in the form"
    return match.group(1)


def log_in(client, name: str = OPERATOR, password: str = PASSWORD, next_url: str = ""):
    form = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"csrf_token": csrf_of(form), "name": name, "password": password, "next": next_url},
    )


def test_the_console_needs_a_login(client, world):
    for path in ("/console/", "/console/rejected", "/console/dead-letters", "/console/systems"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert "/console/login?next=" in response.headers["Location"]
    login = client.get("/console/login")
    assert login.status_code == 200
    html = login.get_data(as_text=True)
    assert '<label for="name">Name</label>' in html and '<label for="password">Password</label>' in html
    assert 'autocomplete="current-password"' in html
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http by default (ZVAROT_SECURE_COOKIES=1 behind https)
    assert login.headers["Cache-Control"] == "no-store"


def test_a_wrong_password_or_an_unknown_name_is_refused(client, world):
    for name, password in ((OPERATOR, "not the password"), ("nobody", PASSWORD), (OPERATOR, "")):
        response = log_in(client, name, password)
        assert response.status_code == 401
        assert "The name or the password is wrong." in text_of(response)
        assert client.get("/console/").status_code == 303  # still not in


def test_log_in_see_everything_and_log_out(client, world, gateway):
    response = log_in(client, next_url="/console/systems")
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/systems")
    home = client.get("/console/")
    assert home.status_code == 200
    text = text_of(home)
    assert "1 rejected documents" in text and "1 dead letters" in text and f"Log out {OPERATOR}" in text
    with gateway.sessions() as session:
        row = session.scalars(select(Operator).where(Operator.name == OPERATOR)).one()
        assert row.last_login_at is not None
        assert row.password_hash.startswith("scrypt:") and PASSWORD not in row.password_hash

    old_cookie = client.get_cookie("zvarot_console", path="/console").value
    logout = client.post("/console/logout", data={"csrf_token": csrf_of(home)})
    assert logout.status_code == 303 and logout.headers["Location"].endswith("/console/login")
    assert "You have logged out." in text_of(client.get("/console/login"))
    assert client.get("/console/").status_code == 303
    # the old cookie, replayed, is refused: logging out ended the session on the server too
    client.set_cookie("zvarot_console", old_cookie, path="/console")
    replay = client.get("/console/")
    assert replay.status_code == 303 and "reason=ended" in replay.headers["Location"]


def test_login_redirects_only_inside_the_console(client, world):
    for evil in ("//evil.example/", "https://evil.example/console/", "/api/v1/officials"):
        client.delete_cookie("zvarot_console", path="/console")
        response = log_in(client, next_url=evil)
        assert response.status_code == 303
        assert response.headers["Location"] in ("/console/", "http://localhost/console/")


def test_every_post_needs_the_sessions_csrf_token(client, world, gateway):
    log_in(client)
    target = f"/console/dead-letters/{world.dead_letter}/requeue"
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "forged-token"}):
        response = client.post(target, data=data)
        assert response.status_code == 403
        assert "The form was refused" in text_of(response)
    assert client.post("/console/dead-letters/requeue-all", data={}).status_code == 403
    assert client.post("/console/logout", data={}).status_code == 403
    # a login form posted from elsewhere (login CSRF) is refused too
    other = create_app(gateway=gateway).test_client()
    refused = other.post("/console/login", data={"name": OPERATOR, "password": PASSWORD})
    assert refused.status_code == 403
    with gateway.sessions() as session:
        dead, _ = list_outbox(session, status="dead")
    assert [e.id for e in dead] == [world.dead_letter]  # nothing was requeued


def test_an_idle_session_ends(client, world, gateway):
    log_in(client)
    assert client.get("/console/").status_code == 200
    with client.session_transaction(path="/console/") as session:
        session["seen"] = time.time() - gateway.settings.console_session_minutes * 60 - 1
    response = client.get("/console/rejected")
    assert response.status_code == 303 and "reason=expired" in response.headers["Location"]
    assert "inactivity" in text_of(client.get(response.headers["Location"]))
    assert client.get("/console/").status_code == 303


def test_rejected_documents_newest_first_with_the_raw_document_escaped(client, world, signers):
    # a second rejection, with markup in it, after the world's unsigned appeal
    client.post(
        "/api/v1/messages",
        data=b"<?xml version='1.0'?><Appeal xmlns='urn:zvarot:1'><script>alert(1)</script></Appeal>",
        content_type="application/xml",
    )
    log_in(client)
    listing = client.get("/console/rejected")
    html = listing.get_data(as_text=True)
    codes = re.findall(r"<td><code>([a-z-]+)</code></td>", html)
    assert codes[0] == "schema-invalid" and "signature-missing" in codes  # newest first
    assert PORTAL in text_of(listing)
    detail = client.get(f"/console/rejected/{world.rejected_id}")
    assert detail.status_code == 200
    body = detail.get_data(as_text=True)
    assert "signature-missing" in body and PORTAL in body
    assert "&lt;Appeal xmlns=&#34;urn:zvarot:1&#34;&gt;" in body  # the raw document, escaped
    assert "Навумчык" in body  # the raw document is shown in full to the operator
    assert "The rejection receipt" in body and "&lt;Receipt" in body
    newest = re.search(r'href="/console/rejected/(\d+)"', html).group(1)
    markup = client.get(f"/console/rejected/{newest}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert client.get("/console/rejected/999999").status_code == 404
    for past in ("2147483648", "99999999999999999999"):  # past any row number
        assert client.get(f"/console/rejected/{past}").status_code == 404
    for page_asked in ("99999999999999999999", "%C2%B2"):
        assert client.get(f"/console/rejected?page={page_asked}").status_code == 200


def test_dead_letters_are_listed_and_requeued(client, world, gateway):
    log_in(client)
    page = client.get("/console/dead-letters")
    text = text_of(page)
    assert "HTTP 503 Service Unavailable" in text and f"Requeue row {world.dead_letter}" in page.get_data(
        as_text=True
    )
    row = page.get_data(as_text=True).split(f'id="outbox-{world.dead_letter}"')[1].split("</tr>")[0]
    assert "<td>StatusUpdate</td>" in row  # which document of the event it is
    response = client.post(
        f"/console/dead-letters/{world.dead_letter}/requeue", data={"csrf_token": csrf_of(page)}
    )
    assert response.status_code == 303
    after = client.get("/console/dead-letters")
    assert f"Outbox row {world.dead_letter} is pending again" in text_of(after)
    assert "No dead letters." in text_of(after)
    with gateway.sessions() as session:
        pending, _ = list_outbox(session, status="pending")
    row = next(e for e in pending if e.id == world.dead_letter)
    assert (row.status, row.attempts) == ("pending", 0)
    missing = client.post("/console/dead-letters/999999/requeue", data={"csrf_token": csrf_of(after)})
    assert missing.status_code == 303
    assert "There is no outbox row 999999" in text_of(client.get("/console/dead-letters"))


def test_requeue_all_dead_letters(client, world, gateway):
    log_in(client)
    page = client.get("/console/dead-letters")
    client.post("/console/dead-letters/requeue-all", data={"csrf_token": csrf_of(page)})
    assert "1 dead letter(s) are pending again." in text_of(client.get("/console/dead-letters"))
    with gateway.sessions() as session:
        assert list_outbox(session, status="dead")[1] == 0


def test_systems_with_their_certificates_and_days_to_expiry(client, world, manifest):
    log_in(client)
    page = client.get("/console/systems")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = text_of(page)
    # the portal sealed today's documents: the same certificate as in the dev PKI manifest, listed once
    assert "last accepted document, dev PKI manifest" in text
    entry = next(e for e in manifest["identities"] if e["uid"] == PORTAL)
    not_after = datetime.fromisoformat(entry["not_after"])
    days = int((not_after - datetime.now(UTC)).total_seconds() // 86400)
    assert f"{days} days left" in text or f"{days - 1} days left" in text
    assert f"UID={PORTAL}" in html
    # the trust store and the CRLs
    assert "Trust store" in text and "trust anchor" in text and "intermediate" in text
    assert "the gateway's receipt certificate" in text
    assert "Certificate revocation lists" in text


# --- operator accounts --------------------------------------------------------------------------------------


def test_the_operators_commands(client, database_url, tmp_path, gateway):
    env = {"ZVAROT_DATABASE_URL": database_url, "ZVAROT_HOME": str(tmp_path)}
    runner = CliRunner()
    added = runner.invoke(
        cli, ["operators", "add", "--name", "alice", "--password-stdin"], input="a long password\n", env=env
    )
    assert added.exit_code == 0, added.output
    prompted = runner.invoke(
        cli, ["operators", "add", "--name", "bob"], input="another password\nanother password\n", env=env
    )
    assert prompted.exit_code == 0, prompted.output
    again = runner.invoke(
        cli, ["operators", "add", "--name", "alice", "--password-stdin"], input="x" * 12, env=env
    )
    assert again.exit_code == 1 and "exists already" in again.output
    short = runner.invoke(
        cli, ["operators", "add", "--name", "carol", "--password-stdin"], input="short\n", env=env
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    bad = runner.invoke(
        cli, ["operators", "add", "--name", "no spaces", "--password-stdin"], input="y" * 12, env=env
    )
    assert bad.exit_code == 1
    listed = runner.invoke(cli, ["operators", "list"], env=env)
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == ["alice", "bob"]
    assert "last login never" in listed.output
    assert log_in(client, "alice", "a long password").status_code == 303
    changed = runner.invoke(
        cli,
        ["operators", "set-password", "--name", "alice", "--password-stdin"],
        input="a new password\n",
        env=env,
    )
    assert changed.exit_code == 0, changed.output
    assert client.get("/console/").status_code == 303  # a new password ends the sessions
    assert log_in(client, "alice", "a long password").status_code == 401
    assert log_in(client, "alice", "a new password").status_code == 303
    removed = runner.invoke(cli, ["operators", "remove", "--name", "alice"], env=env)
    assert removed.exit_code == 0
    assert client.get("/console/").status_code == 303  # a removed operator's session ends
    assert runner.invoke(cli, ["operators", "remove", "--name", "alice"], env=env).exit_code == 1


def test_operator_accounts_in_the_service(gateway):
    now = datetime.now(UTC)
    with writing(gateway.sessions) as session:
        add_operator(session, "dora", "password-of-dora", now)
        with pytest.raises(OperatorError):
            add_operator(session, "dora", "password-of-dora", now)
        assert authenticate(session, "dora", "password-of-dora", now).name == "dora"
        assert authenticate(session, "dora", "Password-of-dora", now) is None
        assert authenticate(session, "", "", now) is None
        session.commit()


def test_wrong_passwords_in_a_row_lock_the_account_for_a_doubling_while(gateway):
    """Guessing is throttled per account: after FREE_FAILURES wrong passwords even the right one is refused,
    for LOCKOUT_FIRST, then twice as long after each further failure (up to LOCKOUT_MAX)."""
    start = datetime.now(UTC)
    with writing(gateway.sessions) as session:
        add_operator(session, "erin", "password-of-erin", start)
        for _ in range(FREE_FAILURES - 1):
            assert authenticate(session, "erin", "a guess", start) is None
        assert authenticate(session, "erin", "password-of-erin", start).name == "erin"  # not locked yet
        for _ in range(FREE_FAILURES):  # the good login started the count again
            assert authenticate(session, "erin", "a guess", start) is None
        assert lockout_of(session, "erin", start) == start + LOCKOUT_FIRST
        assert authenticate(session, "erin", "password-of-erin", start) is None  # locked: the right one too
        later = start + LOCKOUT_FIRST + timedelta(seconds=1)
        assert lockout_of(session, "erin", later) is None
        assert authenticate(session, "erin", "another guess", later) is None  # one more: twice as long
        assert lockout_of(session, "erin", later) == later + 2 * LOCKOUT_FIRST
        assert authenticate(session, "erin", "a guess", later) is None  # while locked: neither checked nor
        assert lockout_of(session, "erin", later) == later + 2 * LOCKOUT_FIRST  # counted
        moment, lengths = later, []
        for _ in range(8):  # a guess each time the lockout before it has passed
            moment = lockout_of(session, "erin", moment) + timedelta(seconds=1)
            authenticate(session, "erin", "a guess", moment)
            lengths.append(lockout_of(session, "erin", moment) - moment)
        assert lengths[:3] == [4 * LOCKOUT_FIRST, 8 * LOCKOUT_FIRST, 16 * LOCKOUT_FIRST]
        assert lengths[-1] == max(lengths) == LOCKOUT_MAX  # never longer
        set_password(session, "erin", "new-password-of-erin", moment)  # the operator's way back in
        assert authenticate(session, "erin", "new-password-of-erin", moment).name == "erin"
        session.commit()


def test_a_locked_account_answers_like_a_wrong_password(client, world, caplog):
    """The login page does not confirm that a name exists by saying it is locked; the log does."""
    for _ in range(FREE_FAILURES):
        log_in(client, OPERATOR, "not the password")
    response = log_in(client, OPERATOR, PASSWORD)
    assert response.status_code == 401 and "The name or the password is wrong." in text_of(response)
    assert client.get("/console/").status_code == 303  # still not in
    assert f"failed login for {OPERATOR!r}" in caplog.text and "(locked until " in caplog.text


# --- the secret key -----------------------------------------------------------------------------------------


def test_the_secret_key_is_generated_once_with_mode_0600(settings):
    path = settings.secret_key_path
    assert not path.exists()
    key = secret_key(settings)
    assert len(key) >= 40 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(settings) == key  # reused, by every worker
    assert secret_key(settings.with_(secret_key="from-the-environment")) == "from-the-environment"


def test_secure_cookies_and_the_session_length_are_configurable(gateway):
    settings = gateway.settings.with_(secure_cookies=True, console_session_minutes=5)
    app = create_app(gateway=type(gateway)(**{**gateway.__dict__, "settings": settings}))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 300
    cookie = app.test_client().get("/console/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
