"""Shared fixtures: a real database (SQLite by default, PostgreSQL when ZVAROT_DATABASE_URL says so), a dev
PKI made fresh for the test run, the gateway built by the app's own composition root, and signers for every
demo identity. Keys are generated here; none are committed."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.app import Gateway, build_gateway, create_app
from gateway.config import Settings
from gateway.demo.seed import demo_identities, seed_demo_world
from gateway.pki import init_pki
from gateway.store.database import make_engine, migrate, scratch_database, session_factory
from gateway.store.models import Base
from gateway.xml.signatures import Signer

_LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch, request):
    """Any connection beyond this machine fails the test: tests talk to loopback only."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else ""
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(_LOOPBACK):
            raise AssertionError(f"test tried to reach {address!r}; only loopback is allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


# --- PKI ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    systems, officials = demo_identities()
    init_pki(directory, systems=systems, officials=officials)
    return directory


@pytest.fixture(scope="session")
def manifest(pki_dir) -> dict:
    import json

    return json.loads((pki_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def signers(manifest) -> dict[str, Signer]:
    """A Signer per demo identity (system seals and officials' personal keys), loaded once."""
    return {
        entry["uid"]: Signer.from_files(entry["key"], [entry["cert"]]) for entry in manifest["identities"]
    }


# --- database -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """SQLite by default; a private schema on PostgreSQL when ZVAROT_DATABASE_URL names one."""
    with scratch_database(
        os.environ.get("ZVAROT_DATABASE_URL", ""), tmp_path_factory.mktemp("db") / "zvarot.db", prefix="zt"
    ) as url:
        yield url


@pytest.fixture
def empty_engine(database_url, tmp_path):
    """A database of its own with no tables, for migration tests."""
    with scratch_database(database_url, tmp_path / "empty.db", prefix="zm") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine):
    """Every test starts from the migrated schema holding only the demo world."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    seed_demo_world(session_factory(engine))
    return engine


# --- the gateway --------------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path, pki_dir, database_url) -> Settings:
    return Settings(home=tmp_path, database_url=database_url, pki_dir=pki_dir, trust_dir=pki_dir / "trust")


@pytest.fixture
def gateway(settings, clean_db) -> Gateway:
    return build_gateway(settings, engine=clean_db)


@pytest.fixture
def client(gateway):
    app = create_app(gateway=gateway)
    app.testing = True
    return app.test_client()


@pytest.fixture
def served_worker():
    """`served_worker(settings, loads=None, build=None)`: the app a granian worker loads (served_gateway), its
    watchdog and WAL checkpointer threads stopped and its engine disposed afterwards (the watchdog would end
    this process, were a request to hang)."""
    from gateway.interfaces.cli.server import served_gateway

    apps = []

    def serve(settings: Settings, loads=None, build=None):
        apps.append(served_gateway(settings, loads, build))
        return apps[-1]

    yield serve
    for app in apps:
        app.extensions["zvarot_watchdog"].stop()
        checkpointer = app.extensions.get("zvarot_wal_checkpointer")
        if checkpointer is not None:
            checkpointer.stop()
        app.extensions["zvarot"].engine.dispose()
