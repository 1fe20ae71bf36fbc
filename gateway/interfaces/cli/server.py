"""Serving with gunicorn: a production WSGI server with several worker processes."""

from __future__ import annotations

import os

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


def run_gunicorn(settings: Settings, **overrides) -> None:
    _Gunicorn(settings, gunicorn_options(settings, **overrides)).run()
