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


def _checkpoint_hooks(settings: Settings) -> dict:
    """On SQLite, the otherwise idle gunicorn master checkpoints the WAL, so that requests never do."""
    from gateway.store.database import wal_checkpointer

    checkpointer = wal_checkpointer(settings.sqlalchemy_url)
    if checkpointer is None:
        return {}
    return {
        "when_ready": lambda _server: checkpointer.start(),
        "on_exit": lambda _server: checkpointer.stop(),
    }


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
