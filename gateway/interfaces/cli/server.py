"""Serving with gunicorn: a production WSGI server with several worker processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from gunicorn.app.base import BaseApplication

from gateway.config import Settings
from gateway.store.database import WalCheckpointer, wal_checkpointer


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict):
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from gateway.app import create_app

        # Each worker builds its own gateway after the fork: keys, schemas and DB pools are per process.
        return create_app(self._settings)


def gunicorn_options(settings: Settings, **overrides) -> dict:
    options = {
        **_checkpoint_hooks(settings),
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": os.environ.get("ZVAROT_WORKER_CLASS", "sync"),
        "threads": int(os.environ.get("ZVAROT_THREADS", "1")),
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 60,
        "keepalive": 5,
    }
    options.update(overrides)
    return options


class WorkerCheckpointers:
    """On SQLite, each gunicorn worker checkpoints the WAL from a thread of its own, so that requests never
    do. Started after the fork, in the worker (which never forks again): SQLite must not be in use by another
    thread of a process that forks, so not in the master."""

    def __init__(self, url: str):
        self.url = url
        self.running: dict[int, WalCheckpointer] = {}

    def post_fork(self, _server, worker) -> None:
        checkpointer = wal_checkpointer(self.url)
        checkpointer.start()
        self.running[worker.pid] = checkpointer

    def worker_exit(self, _server, worker) -> None:
        checkpointer = self.running.pop(worker.pid, None)
        if checkpointer is not None:
            checkpointer.stop()


def _checkpoint_hooks(settings: Settings) -> dict:
    if wal_checkpointer(settings.sqlalchemy_url) is None:
        return {}  # PostgreSQL checkpoints on its own
    hooks = WorkerCheckpointers(settings.sqlalchemy_url)
    return {"post_fork": hooks.post_fork, "worker_exit": hooks.worker_exit}


def run_gunicorn(settings: Settings, **overrides) -> None:
    _Gunicorn(settings, gunicorn_options(settings, **overrides)).run()


@contextmanager
def background_server(settings: Settings) -> Iterator[str]:
    """`zvarot serve` in a child process on a free loopback port, stopped on exit; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ZVAROT_PORT": str(port), "ZVAROT_HOST": "127.0.0.1", "ZVAROT_WORKERS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "gateway", "serve"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310 - loopback
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the gateway did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
