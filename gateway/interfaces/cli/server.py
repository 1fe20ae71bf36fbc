"""Serving with granian: a production HTTP server (in Rust) with worker processes running our WSGI app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from gateway.config import Settings
from gateway.store.database import wal_checkpointer

# Seconds a stopping worker has to finish (then it is killed): a client that never sends the rest of a body
# must not hold a shutdown for ever.
KILL_TIMEOUT = 30


def serve_wsgi(load_app: Callable[[], Callable], host: str, port: int, workers: int) -> None:
    """Serve a WSGI app with granian: `workers` processes, each calling `load_app` once it has started.

    Why granian, and these settings: measured with `zvarot bench` on this project's two cores, granian served
    the full pipeline ~13 % faster than gunicorn's sync workers (585-620 against 507-548 appeals/s, and the
    HTTP floor 1,520 against 1,180), mostly because it keeps connections alive and parses HTTP in Rust rather
    than in Python. One blocking thread and a single-threaded runtime per worker: a request holds the GIL for
    all its work, so more threads per process only contend (granian's defaults measured slower than
    gunicorn). The request body is streamed to the app, not buffered, so the size limit still refuses an
    oversized document before it is read -- and a client that sends its body slowly holds the worker's one
    thread meanwhile: WorkerWatchdog ends such a request after the request timeout (as gunicorn's worker
    timeout did), and a gateway facing the Internet belongs behind a proxy that buffers request bodies
    (README, "Serving").
    """
    _refuse_a_taken_port(host, port)
    from granian import Granian
    from granian.constants import Interfaces, RuntimeModes
    from granian.log import LogLevels

    server = Granian(
        target="zvarot",  # a name only: the loader below builds the app
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=1,
        runtime_mode=RuntimeModes.st,
        log_level=LogLevels.warning,
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=KILL_TIMEOUT,
    )
    server.serve(target_loader=partial(_load_in_worker, load_app))


def _load_in_worker(load_app: Callable[[], Callable], _target: str) -> Callable:
    return load_app()


def _refuse_a_taken_port(host: str, port: int) -> None:
    """granian's workers each bind with SO_REUSEPORT, which would let a second server (an old version, another
    database) share the port silently and take half the traffic; a plain bind fails where anyone listens."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # closed connections do not count
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(
                f"cannot serve on {host}:{port}: {exc.strerror} (is a gateway already running?)"
            ) from None


class WorkerWatchdog:
    """In each worker: ends the process when a request has run longer than `timeout` seconds, or when the
    server that started it has gone. granian then starts a fresh worker; a worker left behind by a killed
    server would otherwise go on answering on the port.

    A request that long is one whose client sends its body slowly or not at all (everything else a request
    does is bounded, the database's lock wait included), and with one thread per worker it holds every
    request queued behind it; gunicorn's worker timeout did the same.
    """

    def __init__(self, app: Callable, timeout: float, *, interval: float = 1.0, exit=os._exit):
        self._app = app
        self.timeout = timeout
        self._interval = interval
        self._exit = exit
        self._parent = os.getppid()
        self._started: dict[int, float] = {}  # thread id -> when its request started
        self._stopped = threading.Event()

    def __call__(self, environ: dict, start_response: Callable):
        thread = threading.get_ident()
        self._started[thread] = time.monotonic()
        try:
            return self._app(environ, start_response)
        finally:
            self._started.pop(thread, None)

    def overdue(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return any(now - started > self.timeout for started in list(self._started.values()))

    def orphaned(self) -> bool:
        return os.getppid() != self._parent

    def check(self) -> None:
        if self.overdue():
            print(
                f"zvarot: a request ran over {self.timeout:g} s; this worker ends",
                file=sys.stderr,
                flush=True,
            )
            self._exit(1)
        elif self.orphaned():
            self._exit(0)

    def start(self) -> None:
        def watch() -> None:
            while not self._stopped.wait(self._interval):
                self.check()

        threading.Thread(target=watch, name="zvarot-watchdog", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()


def served_gateway(settings: Settings) -> Callable:
    """The gateway's WSGI app, built in a worker process, behind the worker's WorkerWatchdog. On SQLite the
    worker also checkpoints the WAL from a thread of its own, so that requests never do; started here, in the
    worker, which never forks (SQLite must not be in use by another thread of a process that forks)."""
    from gateway.app import create_app

    app = create_app(settings)
    checkpointer = wal_checkpointer(settings.sqlalchemy_url)
    if checkpointer is not None:
        checkpointer.start()
        app.extensions["zvarot_wal_checkpointer"] = checkpointer
    watchdog = WorkerWatchdog(app.wsgi_app, settings.request_timeout)
    app.wsgi_app = app.extensions["zvarot_watchdog"] = watchdog
    watchdog.start()
    return app


def run_server(settings: Settings) -> None:
    serve_wsgi(partial(served_gateway, settings), settings.host, settings.port, settings.workers)


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
