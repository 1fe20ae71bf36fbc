"""The `zvarot` command."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from gateway.config import Settings
from gateway.domain.ids import MAX_ROW_NUMBER
from gateway.errors import Rejection
from gateway.xml.schemas import DOCUMENT_TYPES as SUBMITTED_TYPES

DELIVERY_KINDS = ("http", "soap", "none")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:  # a ZVAROT_* variable with a value we cannot use: say which, no traceback
        raise CommandFailed(str(exc)) from None


@contextmanager
def _ready_engine(settings: Settings) -> Iterator[Engine]:
    """The configured database's engine, once it is known to be reachable and migrated (rather than the
    first query's "no such table"); disposed of afterwards."""
    from gateway.store.database import make_engine, schema_problem

    where = _redacted(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url, settings.sqlite_synchronous)
    try:
        try:
            with engine.connect() as conn:
                problem = schema_problem(conn)
        except SQLAlchemyError as exc:
            raise CommandFailed(f"cannot reach the database {where}: {one_line(exc)}") from None
        if problem is not None:
            raise CommandFailed(f"{where}: {problem}")
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _database() -> Iterator[sessionmaker]:
    """Sessions on the configured database for one command."""
    from gateway.store.database import session_factory

    with _ready_engine(_settings()) as engine:
        yield session_factory(engine)


# What a command meets in the world it works on (a file, a key, an identity, an argument the database cannot
# hold, the database itself), as opposed to a bug in Zvarot: said in one line, without a traceback.
_WORLD_ERRORS = (OSError, ValueError, KeyError, OverflowError, SQLAlchemyError, Rejection)


class CommandFailed(click.ClickException):
    """The command could not do its work. Exit status 2, so that `zvarot verify`'s 1 keeps meaning invalid."""

    exit_code = 2


# Running for hours, these keep a traceback for the journal: what escapes them is more likely a bug or an
# outage worth its stack than a mistyped argument (their own refusals are CommandFailed already).
_LONG_RUNNING = frozenset({"up", "serve", "worker", "bench"})


class _Zvarot(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except _WORLD_ERRORS as exc:
            if os.environ.get("ZVAROT_DEBUG") or ctx.invoked_subcommand in _LONG_RUNNING:
                raise
            raise CommandFailed(f"{one_line(exc)} (ZVAROT_DEBUG=1 shows where)") from None


def one_line(exc: BaseException) -> str:
    """The first line of what went wrong, in the words of whoever raised it."""
    if isinstance(exc, SQLAlchemyError) and getattr(exc, "orig", None) is not None:
        exc = exc.orig  # the driver's words, without the SQL and its parameters
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])  # str() of a KeyError is its key quoted
    elif isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.strerror}: {exc.filename}"
    else:
        text = str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0]


@click.group(cls=_Zvarot)
def cli() -> None:
    """Zvarot: the signed-XML gateway between citizens and every public official.

    A command that cannot do its work (a missing file, a key that does not fit, a database it cannot reach)
    says why in one line and exits with status 2."""


# --- set-up and serving -------------------------------------------------------------------------------------


@cli.command()
def migrate() -> None:
    """Apply the database migrations."""
    from gateway.store.database import make_engine
    from gateway.store.database import migrate as run_migrations

    settings = _settings()
    engine = make_engine(settings.sqlalchemy_url, settings.sqlite_synchronous)
    run_migrations(engine)
    engine.dispose()
    click.echo(f"database at head: {_redacted(settings.sqlalchemy_url)}")


def bootstrap(settings: Settings, demo_history: bool | None = None) -> None:
    """First-run set-up of the embedded default: migrations, dev PKI, the demo world and its history (each
    idempotent; the history is written only into a database without documents or ratings).

    The history is made-up past activity with ratings computed from it: by default it is written only into
    the embedded SQLite database, never into one named by ZVAROT_DATABASE_URL unless asked for."""
    from gateway.app import ratings_service
    from gateway.demo.history import seed_demo_history
    from gateway.demo.seed import demo_identities, seed_demo_world
    from gateway.pki import init_pki
    from gateway.store.database import make_engine, session_factory
    from gateway.store.database import migrate as run_migrations

    engine = make_engine(settings.sqlalchemy_url, settings.sqlite_synchronous)
    run_migrations(engine)
    systems, officials = demo_identities()
    init_pki(settings.pki_dir, systems=systems, officials=officials, gateway_uid=settings.gateway_uid)
    sessions = session_factory(engine)
    added = seed_demo_world(sessions)
    asked = demo_history
    if demo_history is None:
        demo_history = not settings.database_url
    history = seed_demo_history(sessions, ratings_service(settings)) if demo_history else None
    engine.dispose()
    click.echo(
        f"database: {_redacted(settings.sqlalchemy_url)}; dev PKI: {settings.pki_dir}/manifest.json; "
        f"demo rows added: {added}"
    )
    if history is not None:
        click.echo(f"demo history: {history.describe()}")
    elif asked is False:
        click.echo("demo history: not written (--no-demo-history)")
    else:
        click.echo(
            "demo history: not written (only the embedded database gets it unasked; "
            "`zvarot up --demo-history` writes it into this one)"
        )


_DEMO_HISTORY = click.option(
    "--demo-history/--no-demo-history",
    default=None,
    help="write the made-up demo history (reports, reviews, ratings); default: only into the embedded SQLite",
)


def _serving_options(command):
    """--host, --port, --workers: each overrides its ZVAROT_* variable for this run."""
    for option in reversed(
        (
            click.option(
                "--host", default=None, help="address to listen on; default: ZVAROT_HOST or 127.0.0.1"
            ),
            click.option(
                "--port", type=click.IntRange(1, 65535), default=None, help="default: ZVAROT_PORT or 8080"
            ),
            click.option(
                "--workers", type=click.IntRange(min=1), default=None, help="default: ZVAROT_WORKERS or 2"
            ),
        )
    ):
        command = option(command)
    return command


def _served(settings: Settings, host: str | None, port: int | None, workers: int | None) -> Settings:
    return settings.with_(
        host=host or settings.host, port=port or settings.port, workers=workers or settings.workers
    )


@cli.command()
@_serving_options
@_DEMO_HISTORY
def up(host: str | None, port: int | None, workers: int | None, demo_history: bool | None) -> None:
    """Set up the embedded default on first run (SQLite, dev PKI, demo world), then serve HTTP."""
    settings = _settings()
    bootstrap(settings, demo_history)
    _serve(_served(settings, host, port, workers))


@cli.command()
@_serving_options
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve HTTP with granian (the database must be migrated)."""
    _serve(_served(_settings(), host, port, workers))


def _serve(settings: Settings) -> None:
    from gateway.interfaces.cli.server import run_server

    _refuse_an_unready_database(settings)
    run_server(
        settings,
        announce=lambda: click.echo(
            f"Zvarot listening on http://{settings.host}:{settings.port}/ ({settings.workers} workers)"
        ),
    )


def _refuse_an_unready_database(settings: Settings) -> None:
    """Before listening: a gateway whose database is unreachable or not migrated would answer every request
    with a 500 (and /healthz with a 503), so it does not start."""
    with _ready_engine(settings):
        pass


# --- dev PKI ------------------------------------------------------------------------------------------------


@cli.group()
def pki() -> None:
    """The development PKI under ZVAROT_PKI_DIR (default var/pki; never for production)."""


@pki.command("init")
def pki_init() -> None:
    """Root and issuing CA, the gateway's receipt certificate, demo identities, empty CRLs."""
    from gateway.demo.seed import demo_identities
    from gateway.pki import init_pki

    settings = _settings()
    systems, officials = demo_identities()
    manifest = init_pki(
        settings.pki_dir, systems=systems, officials=officials, gateway_uid=settings.gateway_uid
    )
    click.echo(f"{len(manifest['identities'])} identities; manifest: {settings.pki_dir / 'manifest.json'}")


@pki.command("issue")
@click.option("--uid", required=True, help="the subject UID: a registered system's or official's id")
@click.option("--kind", type=click.Choice(["system", "official"]), required=True)
@click.option("--name", default=None, help="the subject's common name; default: the uid")
def pki_issue(uid: str, kind: str, name: str | None) -> None:
    """Issue a certificate and key for a system (seal) or an official (personal signature). For a uid that has
    one already: a new key and certificate; the old certificate works until revoked."""
    from gateway.pki import issue, load_manifest

    pki_dir = _settings().pki_dir
    had = any(e["uid"] == uid for e in load_manifest(pki_dir)["identities"])
    entry = issue(pki_dir, uid, kind, name=name)
    click.echo(json.dumps(entry, indent=2))
    if had:
        click.echo(
            f"warning: {uid} had a certificate already; it still verifies until `zvarot pki revoke` of it "
            "(revoke before issuing anew when the old key must stop working)",
            err=True,
        )


@pki.command("revoke")
@click.option("--uid", required=True)
def pki_revoke(uid: str) -> None:
    """Revoke an identity's certificate and re-sign the CRL."""
    from gateway.pki import revoke

    entry = revoke(_settings().pki_dir, uid)
    click.echo(f"revoked {uid} (serial {entry['serial']}); the gateway sees it after a restart")


@pki.command("crl")
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True)
def pki_crl(days: int) -> None:
    """Re-sign the CRLs (run before nextUpdate passes: a stale CRL makes every signature fail)."""
    from gateway.pki import refresh_crls

    refresh_crls(_settings().pki_dir, days=days)
    click.echo(f"CRLs re-signed, valid for {days} days")


# --- signing and verifying ----------------------------------------------------------------------------------


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="the signer's private key (PEM)",
)
@click.option(
    "--cert",
    "cert_paths",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="the signer's certificate (PEM), then any intermediates (repeatable)",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="where to write the signed document; default: standard output",
)
def sign(file: Path, key_path: Path, cert_paths: tuple[Path, ...], output: Path | None) -> None:
    """Sign FILE under the Zvarot profile (enveloped, exclusive c14n, SHA-256, X509Data)."""
    from gateway.xml.parsing import parse_document
    from gateway.xml.signatures import Signer

    root = parse_document(file.read_bytes())
    signed = Signer.from_files(key_path, list(cert_paths)).sign_bytes(root)
    if output:
        output.write_bytes(signed)
    else:
        sys.stdout.buffer.write(signed)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="trust store (anchors/, intermediates/, crls/); default: ZVAROT_TRUST_DIR or var/pki/trust",
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable report")
@click.option(
    "--at",
    "at",
    default=None,
    metavar="WHEN",
    help="judge the certificates as of WHEN: an ISO 8601 moment with its zone, or 'signed' for the "
    "document's own SentAt (an old receipt, with the CRLs of its time in the trust store); default: now",
)
def verify(file: Path, trust_dir: Path | None, as_json: bool, at: str | None) -> None:
    """Verify FILE's signature, certificate chain and revocation. Exit 0 if valid, 1 if not."""
    from gateway.interfaces.cli.verify import SIGNED_TIME, verify_file

    moment: datetime | str | None = at
    if at is not None and at != SIGNED_TIME:
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter(
                f"{at!r} is neither an ISO 8601 moment nor 'signed'", param_hint="--at"
            ) from None
        if moment.tzinfo is None:
            raise click.BadParameter(f"{at!r} has no time zone (add Z or +03:00)", param_hint="--at")
    settings = _settings()
    report = verify_file(
        file.read_bytes(), trust_dir or settings.trust_dir, at=moment, gateway_uid=settings.gateway_uid
    )
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for key, value in report.items():
            if isinstance(value, list):
                click.echo(f"{key}:")
                for item in value:
                    click.echo(f"  - {item}")
            elif key == "error":
                where = f" (line {value['line']})" if "line" in value else ""
                click.echo(f"error: {value['code']}: {value['message']}{where}")
            else:
                click.echo(f"{key}: {value}")
    sys.exit(0 if report["valid"] else 1)


# --- the transparency log ----------------------------------------------------------------------------------

# A worker that finds another extending the log this many runs in a row says so once (5 min at 30 s).
BUSY_RUNS_WORTH_A_LINE = 10


_TRUST_DIR = click.option(
    "--trust-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="trust store whose anchors the gateway's certificate chains to; default: ZVAROT_TRUST_DIR",
)
_GATEWAY_URL = click.option(
    "--url", required=True, help="the gateway's base URL, e.g. https://zvarot.example.by"
)
_ORIGIN = click.option(
    "--origin",
    default=None,
    help="the log's name, the uid that signs its checkpoints; default: ZVAROT_GATEWAY_UID (zvarot-gateway)",
)


def _witness(required: bool):
    return click.option(
        "--state",
        type=click.Path(dir_okay=False, path_type=Path),
        required=required,
        help="the witness file: the last checkpoint this auditor verified (made on the first run)",
    )


@cli.group("log")
def log_group() -> None:
    """The transparency log: signed checkpoints over every receipt issued and every document sent
    (docs/transparency.md)."""


@log_group.command("checkpoint")
def log_checkpoint() -> None:
    """Append what was committed since the last checkpoint and sign a new one (`zvarot worker` does this
    every ZVAROT_LOG_INTERVAL seconds)."""
    from gateway.app import build_gateway
    from gateway.services.transparency import LogBusy

    settings = _settings()
    with _ready_engine(settings) as engine:
        gateway = build_gateway(settings, engine=engine)
        try:
            checkpoint = gateway.log.extend()
        except LogBusy as exc:
            raise CommandFailed(f"not now: {exc}") from None
        if checkpoint is None:
            with gateway.sessions() as session:
                checkpoint = gateway.log.latest(session)
            if checkpoint is None:
                click.echo("the log is empty: nothing received or sent yet")
                return
            click.echo("nothing new; the latest checkpoint stands:")
        click.echo(
            f"tree size {checkpoint.tree_size}, root {checkpoint.root_hash.hex()}, "
            f"signed {checkpoint.issued_at.isoformat()}"
        )


@log_group.command("verify")
def log_verify() -> None:
    """The operator's check: rebuild the log from the stored documents, receipts and status updates and
    compare it, entry by entry, node by node and checkpoint by checkpoint. Exit 0 if it matches, 1 if not."""
    from gateway.app import build_gateway

    settings = _settings()
    with _ready_engine(settings) as engine:
        gateway = build_gateway(settings, engine=engine)
        with gateway.sessions() as session:
            checked, problems = gateway.log.check_against_evidence(session)
    for line in problems:
        click.echo(f"FAILED: {line}")
    if problems:
        sys.exit(1)
    click.echo(
        f"{checked} entries rebuilt from the stored evidence: every entry, node and checkpoint matches"
    )


@log_group.command("audit")
@_GATEWAY_URL
@_witness(required=True)
@click.option("--entries", is_flag=True, help="also download every entry and rebuild the root from them")
@_TRUST_DIR
@_ORIGIN
def log_audit(
    url: str, state: Path | None, entries: bool, trust_dir: Path | None, origin: str | None
) -> None:
    """Check that the gateway's log only ever grew: verify its newest signed checkpoint and prove that it
    extends the one this auditor saw last (kept in --state). Exit 0 if it holds, 1 if not."""
    from gateway.interfaces.cli import log_audit as audit

    settings = _settings()
    trust, origin = trust_dir or settings.trust_dir, origin or settings.gateway_uid
    fetch = audit.http_fetch(url)
    try:
        previous = audit.load_state(state, trust, origin)
        newest = audit.latest_checkpoint(fetch, trust, origin)
        click.echo(
            f"checkpoint: {newest.tree_size} entries, root {newest.root_hash.hex()}, "
            f"signed {newest.issued_at} by {newest.origin}"
        )
        if previous is None:
            click.echo(f"first audit: {state} now holds this checkpoint")
        else:
            click.echo(audit.check_extends(fetch, previous, newest))
        if entries:
            kinds = audit.check_entries(fetch, newest)
            counted = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
            click.echo(f"entries: all {newest.tree_size} rebuild the signed root ({counted})")
    except audit.LogAuditFailure as failure:
        click.echo(f"FAILED: {failure}")
        sys.exit(1)
    audit.save_state(state, newest)
    click.echo("the log holds")


@log_group.command("prove")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_GATEWAY_URL
@_witness(required=False)
@_TRUST_DIR
@_ORIGIN
def log_prove(file: Path, url: str, state: Path | None, trust_dir: Path | None, origin: str | None) -> None:
    """Prove that FILE (a Receipt, a StatusUpdate or another document the gateway sent you, byte for byte) is
    in the gateway's log under its newest signed checkpoint. With --state, also that this checkpoint extends
    the one kept there (the log shown to you is the one the auditors see). Exit 0 if it is, 1 if not (or not
    yet)."""
    from gateway.interfaces.cli import log_audit as audit

    settings = _settings()
    trust, origin = trust_dir or settings.trust_dir, origin or settings.gateway_uid
    fetch = audit.http_fetch(url)
    try:
        checkpoint = audit.latest_checkpoint(fetch, trust, origin)
        previous = audit.load_state(state, trust, origin) if state is not None else None
        if previous is not None:
            click.echo(audit.check_extends(fetch, previous, checkpoint))
        entry, index = audit.prove(fetch, file.read_bytes(), checkpoint)
    except audit.LogAuditFailure as failure:
        click.echo(f"FAILED: {failure}")
        sys.exit(1)
    if state is not None:
        audit.save_state(state, checkpoint)
    click.echo(f"entry: {entry}")
    click.echo(
        f"included at index {index} of the {checkpoint.tree_size} entries signed at {checkpoint.issued_at}"
    )


# --- systems ------------------------------------------------------------------------------------------------


@cli.group()
def systems() -> None:
    """Registered systems (portal, agency DMS)."""


@systems.command("list")
def systems_list() -> None:
    """Every registered system: id, kind, name, the org units it serves, the document types it may send and
    how it receives status updates."""
    from sqlalchemy import select

    from gateway.store.directory import System, SystemAgency

    with _database() as sessions, sessions() as session:
        for system in session.scalars(select(System).order_by(System.id)):
            serves = session.scalars(
                select(SystemAgency.org_unit_id).where(SystemAgency.system_id == system.id)
            )
            click.echo(
                f"{system.id}\t{system.kind}\t{system.name}\tserves: {', '.join(serves) or '-'}\t"
                f"sends: {', '.join(system.document_types)}\t"
                f"delivery: {system.delivery} {system.endpoint_url or '(no endpoint)'}"
                f"{chr(9) + 'gets officials documents' if system.forward_documents else ''}"
            )


@systems.command("add")
@click.option("--id", "system_id", required=True)
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["portal", "dms"]), required=True)
@click.option("--serves", multiple=True, help="org unit id served (repeatable; see `zvarot directory show`)")
@click.option(
    "--type",
    "document_types",
    multiple=True,
    required=True,
    type=click.Choice(sorted(SUBMITTED_TYPES)),
    help="document type it may send (repeatable)",
)
@click.option(
    "--endpoint",
    default=None,
    help="where status updates are pushed (http: the POST URL; soap: the service URL, its WSDL at ?wsdl)",
)
@click.option(
    "--delivery",
    type=click.Choice(DELIVERY_KINDS),
    default="none",
    show_default=True,
    help="push over http or soap, or none (the system pulls GET /api/v1/outbox)",
)
def systems_add(
    system_id: str,
    name: str,
    kind: str,
    serves: tuple[str, ...],
    document_types: tuple[str, ...],
    endpoint: str | None,
    delivery: str,
) -> None:
    """Register a system that may send documents (its seal's certificate carries UID=<id>): a portal or an
    agency's DMS, the org units it serves and the document types it may send."""
    from sqlalchemy import select

    from gateway.store.database import writing
    from gateway.store.directory import OrgUnit, System, SystemAgency
    from gateway.store.models import DEMO_SENDER

    if system_id == DEMO_SENDER:  # its documents would be shown as made-up demo data
        raise click.BadParameter(f"{DEMO_SENDER!r} is reserved for the demo history", param_hint="--id")
    endpoint = _endpoint(endpoint, delivery)
    with _database() as sessions, writing(sessions) as session:
        if session.get(System, system_id) is not None:
            raise click.BadParameter(
                f"{system_id!r} is registered already (`zvarot systems list`; `set-endpoint` changes its "
                "delivery)",
                param_hint="--id",
            )
        unknown = sorted(set(serves) - set(session.scalars(select(OrgUnit.id).where(OrgUnit.id.in_(serves)))))
        if unknown:
            raise click.BadParameter(
                f"no org unit {', '.join(map(repr, unknown))} in the directory (`zvarot directory show`)",
                param_hint="--serves",
            )
        session.add(
            System(
                id=system_id,
                name=name,
                kind=kind,
                document_types=list(document_types),
                endpoint_url=endpoint,
                delivery=delivery,
                created_at=datetime.now(UTC),
            )
        )
        session.flush()
        for unit in serves:
            session.add(SystemAgency(system_id=system_id, org_unit_id=unit))
        session.commit()
    click.echo(
        f"registered {system_id}; issue its seal with: zvarot pki issue --uid {system_id} --kind system"
    )


@systems.command("set-endpoint")
@click.option("--id", "system_id", required=True)
@click.option("--endpoint", default=None, help="the push URL; an empty string removes it")
@click.option("--delivery", type=click.Choice(DELIVERY_KINDS), default=None, help="http, soap or none")
@click.option(
    "--forward-documents/--no-forward-documents",
    default=None,
    help="as the origin of appeals, also receive the officials' own signed AppealReply and "
    "AppealStatusChange (only if it accepts them besides StatusUpdates)",
)
def systems_set_endpoint(
    system_id: str, endpoint: str | None, delivery: str | None, forward_documents: bool | None
) -> None:
    """Set how a system receives status updates: its endpoint URL, the delivery kind, and whether it also
    receives the officials' own documents about its appeals."""
    from gateway.store.database import writing
    from gateway.store.directory import System

    if endpoint is None and delivery is None and forward_documents is None:
        raise click.UsageError("give --endpoint, --delivery, --forward-documents or a combination")
    with _database() as sessions, writing(sessions) as session:
        system = session.get(System, system_id)
        if system is None:
            raise click.ClickException(f"no system {system_id!r} is registered")
        if endpoint is not None:
            system.endpoint_url = endpoint.strip() or None
        if delivery is not None:
            system.delivery = delivery
        if forward_documents is not None:
            system.forward_documents = forward_documents
        system.endpoint_url = _endpoint(system.endpoint_url, system.delivery)
        session.commit()
        click.echo(
            f"{system_id}: delivery {system.delivery}, endpoint {system.endpoint_url or '(none)'}, "
            f"officials' documents {'forwarded' if system.forward_documents else 'not forwarded'}"
        )


def _endpoint(url: str | None, delivery: str) -> str | None:
    from urllib.parse import urlsplit

    url = (url or "").strip() or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--endpoint")
    elif delivery != "none":
        click.echo(
            f"warning: delivery {delivery} without an endpoint: every push will fail until it is set",
            err=True,
        )
    return url


@systems.command("token")
@click.option("--id", "system_id", required=True)
def systems_token(system_id: str) -> None:
    """Issue a new bearer token for a system (inbox and outbox pulls); shown once, stored hashed."""
    from gateway.services.access import issue_token
    from gateway.store.database import writing

    with _database() as sessions, writing(sessions) as session:
        try:
            token = issue_token(session, system_id)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(token)


# --- delivery -----------------------------------------------------------------------------------------------


@cli.command()
@click.option("--once", is_flag=True, help="deliver the rows due now (each at most once), then exit")
@click.option("--batch", type=int, default=None, help="rows claimed at once (default: ZVAROT_WORKER_BATCH)")
def worker(once: bool, batch: int | None) -> None:
    """Push the outbox to systems (http, soap) with retries and back-off; stop with SIGTERM or Ctrl-C (the
    row being delivered is finished first). Several workers, on several hosts, may run at once."""
    import signal
    import threading

    from gateway.app import build_gateway, quiet_closures, ratings_service
    from gateway.delivery.registry import DeliveryConfigError
    from gateway.delivery.worker import build_worker

    settings = _settings()
    stop = threading.Event()
    with _database() as sessions:
        try:
            # A long-running worker also computes each ISO week's ratings when the next week begins, and
            # closes the appeals whose quiet period has ended (with their StatusUpdates) every few minutes.
            # It also extends the transparency log and signs a checkpoint every ZVAROT_LOG_INTERVAL seconds.
            weekly = housekeeping = log_keeper = None
            if not once:
                weekly = ratings_service(settings).weekly_hook(sessions, click.echo)
                try:  # signing StatusUpdates and checkpoints needs the receipt key and the trust store
                    gateway = build_gateway(settings, engine=sessions.kw["bind"])
                except (OSError, ValueError) as exc:
                    click.echo(f"quiet-period closures and log checkpoints off: {exc}", err=True)
                else:
                    closures = quiet_closures(gateway, click.echo)

                    def housekeeping() -> None:
                        if closed := closures.run():
                            click.echo(f"closed {closed} appeal(s) after their quiet period")

                    busy_runs = [0]

                    def log_keeper() -> None:
                        from gateway.services.transparency import TICK_LEAVES, LogBusy, LogHeldBack

                        try:  # a backlog (the first run after the upgrade) goes in slices between deliveries
                            checkpoint = gateway.log.extend(max_leaves=TICK_LEAVES)
                        except LogHeldBack as exc:
                            click.echo(f"the transparency log is held back: {exc}")
                            return
                        except LogBusy:  # another worker is at it; said once if that lasts
                            busy_runs[0] += 1
                            if busy_runs[0] == BUSY_RUNS_WORTH_A_LINE:
                                click.echo(
                                    f"the transparency log: another process has been extending it for "
                                    f"{busy_runs[0]} runs (a host that vanished holds its turn until "
                                    "PostgreSQL drops its session)"
                                )
                            return
                        busy_runs[0] = 0
                        if checkpoint is not None:
                            click.echo(
                                f"log checkpoint: {checkpoint.tree_size} entries, root "
                                f"{checkpoint.root_hash.hex()[:16]}…"
                            )

            delivery = build_worker(
                settings,
                sessions,
                log=click.echo,
                on_new_iso_week=weekly,
                housekeeping=housekeeping,
                log_keeper=log_keeper,
            )
        except DeliveryConfigError as exc:
            raise CommandFailed(str(exc)) from None

        def _stop(signum, _frame) -> None:
            if not stop.is_set():
                click.echo(f"{signal.Signals(signum).name}: stopping after the current row", err=True)
            stop.set()

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        click.echo(
            f"worker {delivery.worker_id} on {_redacted(settings.sqlalchemy_url)}"
            f"{' (once)' if once else ''}: max {settings.delivery_max_attempts} attempts, "
            f"lease {settings.delivery_lease:g}s"
        )
        try:
            summary = delivery.run(
                batch=batch or settings.worker_batch,
                once=once,
                poll_seconds=settings.worker_poll,
                stop=stop,
            )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            delivery.close()
    click.echo(f"worker stopped: {summary.describe()}")


@cli.group()
def outbox() -> None:
    """Signed status updates queued for systems: push delivery state and dead letters."""


@outbox.command("list")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]), default=None)
@click.option("--system", "system_id", default=None, help="recipient system id")
@click.option("--limit", type=int, default=100, show_default=True)
def outbox_list(status: str | None, system_id: str | None, limit: int) -> None:
    """Outbox rows, oldest first: id, recipient, appeal, seq, status, attempts, next attempt, last error."""
    from gateway.delivery.outbox import list_outbox

    with _database() as sessions, sessions() as session:
        entries, total = list_outbox(session, status=status, system=system_id, limit=limit)
    click.echo("id\trecipient\tappeal\tseq\tdocument\tstatus\tattempts\tnext_attempt\tlast_error")
    for e in entries:
        when = e.next_attempt_at.isoformat(timespec="seconds") if e.next_attempt_at else "-"
        error = " ".join((e.last_error or "-").split())
        click.echo(
            f"{e.id}\t{e.recipient}\t{e.appeal_id}\t{e.event_seq}\t{e.document_type}\t{e.status}\t"
            f"{e.attempts}\t{when}\t"
            f"{error[:200]}"
        )
    if total > len(entries):
        click.echo(f"({len(entries)} of {total} shown; use --limit)")


@outbox.command("requeue")
@click.argument("ids", nargs=-1, type=click.IntRange(0, MAX_ROW_NUMBER))
@click.option("--all-dead", is_flag=True, help="every dead letter")
def outbox_requeue(ids: tuple[int, ...], all_dead: bool) -> None:
    """Make outbox rows due again now with a fresh attempt count (status pending, attempts 0)."""
    from gateway.delivery.outbox import requeue
    from gateway.store.database import writing

    if not ids and not all_dead:
        raise click.UsageError("give outbox ids or --all-dead")
    with _database() as sessions, writing(sessions) as session:
        count, missing = requeue(session, datetime.now(UTC), ids=ids, all_dead=all_dead)
        session.commit()
    click.echo(f"requeued {count} row(s)")
    if missing:
        raise click.ClickException(f"no outbox rows with id {', '.join(map(str, missing))}")


# --- operators of the web console ---------------------------------------------------------------------------


@cli.group()
def operators() -> None:
    """Operator accounts of the web console (/console)."""


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("no password on standard input")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@operators.command("add")
@click.option("--name", required=True)
@click.option(
    "--password-stdin", is_flag=True, help="read the password from the first line of standard input"
)
def operators_add(name: str, password_stdin: bool) -> None:
    """Add an operator; the password is asked for (twice), or read from standard input."""
    from gateway.services.operators import add_operator

    _change_operator(add_operator, name, _new_password(password_stdin))
    click.echo(f"operator {name} added; log in at /console/login")


def _change_operator(change, name: str, password: str) -> None:
    """Apply one operator change in its own transaction; a refusal becomes the command's error."""
    from gateway.services.operators import OperatorError
    from gateway.store.database import writing

    with _database() as sessions, writing(sessions) as session:
        try:
            change(session, name, password, datetime.now(UTC))
        except OperatorError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()


@operators.command("set-password")
@click.option("--name", required=True)
@click.option(
    "--password-stdin", is_flag=True, help="read the password from the first line of standard input"
)
def operators_set_password(name: str, password_stdin: bool) -> None:
    """Give an operator a new password (their console sessions end)."""
    from gateway.services.operators import set_password

    _change_operator(set_password, name, _new_password(password_stdin))
    click.echo(f"operator {name}: password changed, sessions ended")


@operators.command("remove")
@click.option("--name", required=True)
def operators_remove(name: str) -> None:
    """Remove an operator (their console sessions end at their next request)."""
    from gateway.services.operators import OperatorError, remove_operator
    from gateway.store.database import writing

    with _database() as sessions, writing(sessions) as session:
        try:
            remove_operator(session, name)
        except OperatorError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(f"operator {name} removed")


@operators.command("list")
def operators_list() -> None:
    """Operators: name, created, last login."""
    from gateway.services.operators import list_operators

    with _database() as sessions, sessions() as session:
        for op in list_operators(session):
            last = op.last_login_at.isoformat(timespec="seconds") if op.last_login_at else "never"
            click.echo(f"{op.name}\tcreated {op.created_at.isoformat(timespec='seconds')}\tlast login {last}")


# --- demo ---------------------------------------------------------------------------------------------------


@cli.command()
@click.option("--url", default=None, help="a running gateway; default: start one for the demo")
@_DEMO_HISTORY
def demo(url: str | None, demo_history: bool | None) -> None:
    """Drive one appeal through its whole life over HTTP with real signatures, and print its timeline."""
    from gateway.demo.run import DemoClient, run_demo

    settings = _settings()
    if url and demo_history is not None:
        raise click.UsageError("--demo-history/--no-demo-history apply to a gateway this command starts")
    if url:
        run_demo(DemoClient(url, settings.pki_dir, say=click.echo))
        return
    bootstrap(settings, demo_history)
    from gateway.interfaces.cli.server import background_server

    with background_server(settings) as base_url:
        click.echo(
            f"(a gateway was started for the demo at {base_url} and stops with it; to keep one running: "
            f"`make up`, then `zvarot demo --url http://127.0.0.1:{settings.port}`)"
        )
        run_demo(DemoClient(base_url, settings.pki_dir, say=click.echo))


# --- directory ----------------------------------------------------------------------------------------------


@cli.group()
def directory() -> None:
    """The directory of the state apparatus: org units, posts, officials."""


@directory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="trust store for a signed file; default: ZVAROT_TRUST_DIR or var/pki/trust",
)
def directory_import(file: Path, trust_dir: Path | None) -> None:
    """Apply a DirectoryUpdate FILE. A signed file is verified first (signature, certificate chain, CRLs) and
    only its signed content is read; an unsigned file is applied as the operator's own action."""
    from gateway.directory.service import apply_directory_update
    from gateway.errors import Rejection
    from gateway.interfaces.cli.directory import read_update_file
    from gateway.store.database import writing

    settings = _settings()
    try:
        read = read_update_file(file.read_bytes(), trust_dir or settings.trust_dir)
    except Rejection as exc:
        raise click.ClickException(f"{file} refused: {exc.code}: {exc.message}") from None
    if read.signer is None:
        click.echo(f"warning: {file} is not signed; applying it as an operator action", err=True)
    else:
        click.echo(f"signature valid: signed by {read.signer.uid} ({read.signer.subject})")
    try:
        with _database() as sessions, writing(sessions) as session:
            summary = apply_directory_update(session, read.update)
            session.commit()
    except Rejection as exc:
        raise click.ClickException(f"{file} refused: {exc.code}: {exc.message}") from None
    click.echo(f"applied {file} (effective from {read.update.effective_from}): {summary.describe()}")


@directory.command("show")
@click.option("-a", "--officials", "with_officials", is_flag=True, help="also list every official in post")
def directory_show(with_officials: bool) -> None:
    """Print the org tree with each unit's head."""
    from gateway.directory.service import load_snapshot
    from gateway.interfaces.cli.directory import render_tree

    with _database() as sessions, sessions() as session:
        snapshot = load_snapshot(session)
    for line in render_tree(snapshot, with_officials):
        click.echo(line)


# --- ratings ------------------------------------------------------------------------------------------------


@cli.group()
def ratings() -> None:
    """Officials' weekly ratings (docs/reports.md: the method)."""


def _week(week: str | None, service) -> str:
    from gateway.domain.ratings.weeks import IsoWeek

    if week is None:
        return str(service.last_complete_week(datetime.now(UTC)))
    try:
        return str(IsoWeek.parse(week))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None


@ratings.command("compute")
@click.option("--week", default=None, help="YYYY-Www; default: the last complete week")
def ratings_compute(week: str | None) -> None:
    """Compute a week's ratings from the stored events and store them (replacing that week's snapshot)."""
    from gateway.app import ratings_service
    from gateway.domain.ratings.weeks import IsoWeek

    service = ratings_service(_settings())
    chosen = IsoWeek.parse(_week(week, service))
    with _database() as sessions:
        try:
            result = service.compute_and_store(sessions, chosen)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(
        f"ratings {chosen} (as of {_local(result.as_of, _settings().timezone)}): "
        f"{len(result.ratings)} officials, "
        f"{len(result.ranked)} ranked, {len(result.ratings) - len(result.ranked)} with insufficient data"
    )


@ratings.command("show")
@click.option("--week", default=None, help="YYYY-Www; default: the latest computed week")
@click.option("--top", type=int, default=3, show_default=True, help="how many best and worst to list")
def ratings_show(week: str | None, top: int) -> None:
    """The best and the worst of a computed week, overall and per org unit (a unit counts its sub-units)."""
    from gateway.app import ratings_service
    from gateway.directory.service import load_snapshot
    from gateway.services.catalog import subtree

    settings = _settings()
    service_zone = settings.timezone
    service = ratings_service(settings)
    chosen = _week(week, service) if week else None
    with _database() as sessions, sessions() as session:
        run = service.run(session, chosen)
        if run is None:
            raise click.ClickException(
                f"no ratings computed for {chosen}" if chosen else "no ratings computed yet"
            )
        rows = service.snapshots(session, run.week)
        directory = load_snapshot(session)

    def line(row) -> str:
        official = directory.officials.get(row.official_id)
        name = f"{official.name}, {official.post_title}" if official else row.official_id
        parts = ", ".join(
            f"{k} {c['value']:.3f} (n={c['sample']})" for k, c in sorted(row.components.items())
        )
        return f"  #{row.rank:<3} {row.composite * 100:5.1f}  {name} [{row.official_id}]  {parts}"

    def block(title: str, ranked: list) -> None:
        if not ranked:
            return
        click.echo(title)
        click.echo(" best:")
        for row in ranked[:top]:
            click.echo(line(row))
        click.echo(" worst:")
        for row in list(reversed(ranked))[:top]:
            click.echo(line(row))

    ranked = [r for r in rows if r.rank is not None]
    click.echo(
        f"week {run.week} (as of {_local(run.as_of, service_zone)}, "
        f"computed {_local(run.computed_at, service_zone)}): "
        f"{len(rows)} officials, {len(ranked)} ranked, {len(rows) - len(ranked)} with insufficient data"
    )
    block("overall", ranked)
    units = sorted(directory.units.values(), key=lambda u: u.name.casefold())
    for unit in units:
        within = subtree(directory, unit.id)
        block(f"{unit.name} [{unit.id}]", [r for r in ranked if r.org_unit_id in within])


# --- benchmark ----------------------------------------------------------------------------------------------


@cli.command()
@click.option("--seconds", type=float, default=5.0, show_default=True, help="duration of each HTTP run")
@click.option("--workers", type=int, default=2, show_default=True)
@click.option("--database-url", default="", help="benchmark on this database instead of a fresh SQLite file")
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="HTTP floor and full runs, alternated this many times; targets judged on the medians",
)
def bench(seconds: float, workers: int, database_url: str, rounds: int) -> None:
    """Throughput and latency of the full pipeline, in process and over HTTP, against the bare loop."""
    from gateway.bench import main as run_bench

    run_bench(seconds=seconds, workers=workers, database_url=database_url, rounds=rounds)


def _local(moment: datetime, zone: str) -> str:
    """A stored moment on the gateway's legal clock (ZVAROT_TIMEZONE), to the second, with its offset
    (SQLite hands back UTC without a zone)."""
    from zoneinfo import ZoneInfo

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url
