"""The `zvarot` command."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import sessionmaker

from gateway.config import Settings


def _settings() -> Settings:
    return Settings.from_env()


@contextmanager
def _database() -> Iterator[sessionmaker]:
    """Sessions on the configured database for one command; the pool is closed afterwards."""
    from gateway.store.database import make_engine, session_factory

    engine = make_engine(_settings().sqlalchemy_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@click.group()
def cli() -> None:
    """Zvarot: the signed-XML gateway between citizens and every public official."""


# --- set-up and serving -------------------------------------------------------------------------------------


@cli.command()
def migrate() -> None:
    """Apply the database migrations."""
    from gateway.store.database import make_engine
    from gateway.store.database import migrate as run_migrations

    settings = _settings()
    engine = make_engine(settings.sqlalchemy_url)
    run_migrations(engine)
    engine.dispose()
    click.echo(f"database at head: {_redacted(settings.sqlalchemy_url)}")


def bootstrap(settings: Settings) -> None:
    """First-run set-up of the embedded default: migrations, dev PKI and the demo world (each idempotent)."""
    from gateway.demo.seed import demo_identities, seed_demo_world
    from gateway.pki import init_pki
    from gateway.store.database import make_engine, session_factory
    from gateway.store.database import migrate as run_migrations

    engine = make_engine(settings.sqlalchemy_url)
    run_migrations(engine)
    systems, officials = demo_identities()
    init_pki(settings.pki_dir, systems=systems, officials=officials, gateway_uid=settings.gateway_uid)
    added = seed_demo_world(session_factory(engine))
    engine.dispose()
    click.echo(
        f"database: {_redacted(settings.sqlalchemy_url)}; dev PKI: {settings.pki_dir}/manifest.json; "
        f"demo rows added: {added}"
    )


@cli.command()
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=None)
def up(port: int | None, workers: int | None) -> None:
    """Set up the embedded default on first run (SQLite, dev PKI, demo world), then serve HTTP."""
    settings = _settings()
    bootstrap(settings)
    _serve(settings.with_(port=port or settings.port, workers=workers or settings.workers))


@cli.command()
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=None)
def serve(port: int | None, workers: int | None) -> None:
    """Serve HTTP with gunicorn (the database must be migrated)."""
    settings = _settings()
    _serve(settings.with_(port=port or settings.port, workers=workers or settings.workers))


def _serve(settings: Settings) -> None:
    from gateway.interfaces.cli.server import run_gunicorn

    click.echo(f"Zvarot listening on http://{settings.host}:{settings.port}/ ({settings.workers} workers)")
    run_gunicorn(settings)


# --- dev PKI ------------------------------------------------------------------------------------------------


@cli.group()
def pki() -> None:
    """The development PKI under var/pki (never for production)."""


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
@click.option("--uid", required=True)
@click.option("--kind", type=click.Choice(["system", "official"]), required=True)
@click.option("--name", default=None)
def pki_issue(uid: str, kind: str, name: str | None) -> None:
    """Issue a certificate and key for a system (seal) or an official (personal signature)."""
    from gateway.pki import issue

    entry = issue(_settings().pki_dir, uid, kind, name=name)
    click.echo(json.dumps(entry, indent=2))


@pki.command("revoke")
@click.option("--uid", required=True)
def pki_revoke(uid: str) -> None:
    """Revoke an identity's certificate and re-sign the CRL."""
    from gateway.pki import revoke

    entry = revoke(_settings().pki_dir, uid)
    click.echo(f"revoked {uid} (serial {entry['serial']}); the gateway sees it after a restart")


@pki.command("crl")
@click.option("--days", type=int, default=7, show_default=True)
def pki_crl(days: int) -> None:
    """Re-sign the CRLs (run before nextUpdate passes: a stale CRL makes every signature fail)."""
    from gateway.pki import refresh_crls

    refresh_crls(_settings().pki_dir, days=days)
    click.echo(f"CRLs re-signed, valid for {days} days")


# --- signing and verifying ----------------------------------------------------------------------------------


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option(
    "--cert",
    "cert_paths",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="signer certificate first, then intermediates",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
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
def verify(file: Path, trust_dir: Path | None, as_json: bool) -> None:
    """Verify FILE's signature, certificate chain and revocation. Exit 0 if valid, 1 if not."""
    from gateway.interfaces.cli.verify import verify_file

    report = verify_file(file.read_bytes(), trust_dir or _settings().trust_dir)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for key, value in report.items():
            if isinstance(value, list):
                click.echo(f"{key}:")
                for item in value:
                    click.echo(f"  - {item}")
            else:
                click.echo(f"{key}: {value}")
    sys.exit(0 if report["valid"] else 1)


# --- systems ------------------------------------------------------------------------------------------------


@cli.group()
def systems() -> None:
    """Registered systems (portal, agency DMS)."""


@systems.command("list")
def systems_list() -> None:
    from sqlalchemy import select

    from gateway.store.directory import System, SystemAgency

    with _database() as sessions, sessions() as session:
        for system in session.scalars(select(System).order_by(System.id)):
            serves = session.scalars(
                select(SystemAgency.org_unit_id).where(SystemAgency.system_id == system.id)
            )
            click.echo(
                f"{system.id}\t{system.kind}\t{system.name}\tserves: {', '.join(serves) or '-'}\t"
                f"sends: {', '.join(system.document_types)}"
            )


@systems.command("add")
@click.option("--id", "system_id", required=True)
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["portal", "dms"]), required=True)
@click.option("--serves", multiple=True, help="org unit id served (repeatable)")
@click.option("--type", "document_types", multiple=True, required=True, help="document type it may send")
def systems_add(
    system_id: str, name: str, kind: str, serves: tuple[str, ...], document_types: tuple[str, ...]
) -> None:
    from gateway.store.database import writing
    from gateway.store.directory import System, SystemAgency

    with _database() as sessions, writing(sessions) as session:
        session.add(
            System(
                id=system_id,
                name=name,
                kind=kind,
                document_types=list(document_types),
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


# --- demo ---------------------------------------------------------------------------------------------------


@cli.command()
@click.option("--url", default=None, help="a running gateway; default: start one for the demo")
def demo(url: str | None) -> None:
    """Drive one appeal through its whole life over HTTP with real signatures, and print its timeline."""
    from gateway.demo.run import DemoClient, run_demo

    settings = _settings()
    if url:
        run_demo(DemoClient(url, settings.pki_dir, say=click.echo))
        return
    bootstrap(settings)
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
    from gateway.store.database import make_engine, session_factory, writing

    settings = _settings()
    try:
        read = read_update_file(file.read_bytes(), trust_dir or settings.trust_dir)
    except Rejection as exc:
        raise click.ClickException(f"{file} refused: {exc.code}: {exc.message}") from None
    if read.signer is None:
        click.echo(f"warning: {file} is not signed; applying it as an operator action", err=True)
    else:
        click.echo(f"signature valid: signed by {read.signer.uid} ({read.signer.subject})")
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with writing(session_factory(engine)) as session:
            summary = apply_directory_update(session, read.update)
            session.commit()
    except Rejection as exc:
        raise click.ClickException(f"{file} refused: {exc.code}: {exc.message}") from None
    finally:
        engine.dispose()
    click.echo(f"applied {file} (effective from {read.update.effective_from}): {summary.describe()}")


@directory.command("show")
@click.option("-a", "--officials", "with_officials", is_flag=True, help="also list every official in post")
def directory_show(with_officials: bool) -> None:
    """Print the org tree with each unit's head."""
    from gateway.directory.service import load_snapshot
    from gateway.interfaces.cli.directory import render_tree
    from gateway.store.database import make_engine, session_factory

    engine = make_engine(_settings().sqlalchemy_url)
    with session_factory(engine)() as session:
        snapshot = load_snapshot(session)
    engine.dispose()
    for line in render_tree(snapshot, with_officials):
        click.echo(line)


# --- benchmark ----------------------------------------------------------------------------------------------


@cli.command()
@click.option("--seconds", type=float, default=5.0, show_default=True, help="duration of each HTTP run")
@click.option("--workers", type=int, default=2, show_default=True)
@click.option("--database-url", default="", help="benchmark on this database instead of a fresh SQLite file")
def bench(seconds: float, workers: int, database_url: str) -> None:
    """Throughput and latency of the full pipeline, in process and over HTTP, against the bare loop."""
    from gateway.bench import main as run_bench

    run_bench(seconds=seconds, workers=workers, database_url=database_url)


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url
