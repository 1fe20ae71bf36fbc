"""Serving with granian: a production HTTP server (in Rust) with worker processes running our WSGI app."""

from __future__ import annotations

import mmap
import multiprocessing
import os
import socket
import struct
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


def serve_wsgi(
    load_app: Callable[[], Callable],
    host: str,
    port: int,
    workers: int,
    announce: Callable[[], None] | None = None,
) -> None:
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
    if announce is not None:  # only once the port is known to be free
        announce()
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


class WorkerLoads:
    """How busy each worker of one server has lately been, in memory the workers share: made by the server
    before granian forks them, one slot per worker, claimed by process id.

    A slot holds (pid, busy fraction, when published, in a request since). A worker publishes when a request
    ends, so one that has published nothing for `fresh` seconds has been idle since, unless it has been in
    one request all that while (a client sending its body slowly, a long lock wait): that one is read as
    busy. Only the server's own children count: the slot of a worker that has gone (its pid maybe reused by
    another process) is read as empty and claimed again.
    """

    SLOTS = 64
    _SLOT = struct.Struct("<qddd")
    _LOAD = struct.Struct("<ddd")  # all but the pid
    _LOAD_AT = struct.calcsize("<q")
    _SINCE = struct.Struct("<d")
    _SINCE_AT = struct.calcsize("<qdd")  # the offset of "in a request since" within a slot

    def __init__(self):
        self._memory = mmap.mmap(-1, self.SLOTS * self._SLOT.size)  # anonymous and shared: kept across fork
        self._lock = multiprocessing.get_context("fork").Lock()
        self._server = os.getpid()

    def claim(self, pid: int) -> int | None:
        """A free slot for worker `pid`; None where none could be had (then it serves without rebalancing)."""
        if not self._lock.acquire(timeout=1):  # a worker killed while holding it: no slot, no deadlock
            return None
        try:
            for slot in range(self.SLOTS):
                owner = self._read(slot)[0]
                if owner == pid or not self._is_worker(owner):
                    self._SLOT.pack_into(self._memory, slot * self._SLOT.size, pid, 0.0, 0.0, 0.0)
                    return slot
            return None
        finally:
            self._lock.release()

    def publish(self, slot: int, busy: float, at: float) -> None:
        """Between requests: how busy the worker was in the window that ended `at`."""
        self._LOAD.pack_into(self._memory, slot * self._SLOT.size + self._LOAD_AT, busy, at, 0.0)

    def in_request(self, slot: int, since: float) -> None:
        """The worker has been in a request since `since` (0: in none)."""
        self._SINCE.pack_into(self._memory, slot * self._SLOT.size + self._SINCE_AT, since)

    def least_busy_other(self, slot: int, now: float, fresh: float) -> float | None:
        """The busy fraction of the least busy other worker; None where there is no other."""
        least = None
        for other in range(self.SLOTS):
            if other == slot:
                continue
            pid, busy, at, since = self._read(other)
            if not self._is_worker(pid):
                continue
            if now - at > fresh:  # nothing published lately: idle, or in one long request
                busy = 1.0 if since and now - since > fresh else 0.0
            least = busy if least is None else min(least, busy)
        return least

    def _read(self, slot: int) -> tuple[int, float, float, float]:
        return self._SLOT.unpack_from(self._memory, slot * self._SLOT.size)

    def _is_worker(self, pid: int) -> bool:
        """A live child of the server that made this memory (Linux /proc)."""
        if pid <= 0:
            return False
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return False
        return fields[0] != "Z" and int(fields[1]) == self._server  # state, parent


def worker_loads(settings: Settings) -> WorkerLoads | None:
    """The memory a server's workers share their loads in, where they can: with more than one worker (a
    client asked to connect anew would come back to the only one), forked from the server (granian starts
    them as `multiprocessing` does; spawned ones would be sent an mmap, which cannot be pickled)."""
    if settings.workers < 2 or multiprocessing.get_start_method() != "fork":
        return None
    return WorkerLoads()


class ConnectionRebalancer:
    """In each worker: while the worker is saturated and another is not, asks one client at a time to connect
    anew (`Connection: close` on a response), so that the kernel places that client's next connection again.

    Each granian worker listens on the port itself (SO_REUSEPORT), and the kernel places a new connection on
    one of them by a hash of its addresses; a keep-alive connection then stays with its worker. Few
    connections often split unevenly (8 fall 6:2 or worse 29 % of the time, 4 all on one worker 1 time in
    8), and a worker is one Python thread, one core at most: the worker holding most connections is
    saturated, and their requests queue, while the other idles. A national portal keeping a small pool of
    connections would get half the gateway for as long as they live. Measured at 500 appeals/s on this
    project's two cores: a 1:7 split gave a p50 of 357-431 ms, with 38 % of the CPU idle
    (docs/performance.md). A client asked to close comes back from a new source port, placed anew: half the
    time on another worker.

    At the end of each `window` a worker publishes how busy it was (WorkerLoads), and asks while it was busy
    in requests for at least `busy` of the window and the least busy other worker was less busy by at least a
    quarter of `busy` (so that workers all saturated by the load do not pass connections around in vain).
    It asks at most once per `interval`. Only HTTP/1.1 responses carry the header (an HTTP/1.0 connection
    closes anyway; HTTP/2 has no such header). granian honours it from the app, though WSGI leaves
    hop-by-hop headers to the server: the served tests check that it does.
    """

    def __init__(
        self,
        app: Callable,
        loads: WorkerLoads,
        slot: int,
        *,
        busy: float,
        window: float = 0.25,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._app = app
        self._loads = loads
        self._slot = slot
        self.busy = busy
        self.window = window
        self.interval = interval
        self._clock = clock
        self._window_start = clock()
        self._busy_seconds = 0.0  # in requests since _window_start
        self.asking = False  # as decided at the end of the last window
        self._next_ask = 0.0
        self.asked = 0  # clients asked to connect anew

    def __call__(self, environ: dict, start_response: Callable):
        started = self._clock()

        def respond(status: str, headers: list, exc_info=None):
            if self._ask(environ):
                headers = [*headers, ("Connection", "close")]
            return start_response(status, headers, exc_info)

        self._loads.in_request(self._slot, started)
        try:
            return self._app(environ, respond)
        finally:
            self._loads.in_request(self._slot, 0.0)
            self._account(started, self._clock())

    def _ask(self, environ: dict) -> bool:
        now = self._clock()
        if not self.asking or now < self._next_ask or environ.get("SERVER_PROTOCOL") != "HTTP/1.1":
            return False
        if now - self._window_start >= 2 * self.window:  # idle since that judgement: it no longer holds
            return False
        self._next_ask = now + self.interval
        self.asked += 1
        return True

    def _account(self, started: float, finished: float) -> None:
        """The request's time counts in the current window; a window that has run its length is published and
        judged, and the next starts. (One request thread per worker: no two requests account at once.)"""
        self._busy_seconds += finished - max(started, self._window_start)
        elapsed = finished - self._window_start
        if elapsed < self.window:
            return
        mine = self._busy_seconds / elapsed
        self._loads.publish(self._slot, mine, finished)
        least = self._loads.least_busy_other(self._slot, finished, fresh=4 * self.window)
        self.asking = mine >= self.busy and least is not None and mine - least >= self.busy / 4
        self._window_start, self._busy_seconds = finished, 0.0


def served_gateway(
    settings: Settings, loads: WorkerLoads | None = None, build: Callable | None = None
) -> Callable:
    """The gateway's WSGI app, built in a worker process (by `build(settings)` where given: the bench's core
    pipeline), behind the worker's WorkerWatchdog and, given the server's `loads` (worker_loads), its
    ConnectionRebalancer. On SQLite the worker also checkpoints the WAL from a thread of its own, so that
    requests never do; started here, in the worker, which never forks (SQLite must not be in use by another
    thread of a process that forks)."""
    from gateway.app import create_app

    app = create_app(settings, build(settings) if build is not None else None)
    checkpointer = wal_checkpointer(settings.sqlalchemy_url)
    if checkpointer is not None:
        checkpointer.start()
        app.extensions["zvarot_wal_checkpointer"] = checkpointer
    watchdog = WorkerWatchdog(app.wsgi_app, settings.request_timeout)
    app.wsgi_app = app.extensions["zvarot_watchdog"] = watchdog
    watchdog.start()
    slot = loads.claim(os.getpid()) if loads is not None else None
    if slot is not None:
        rebalancer = ConnectionRebalancer(app.wsgi_app, loads, slot, busy=settings.rebalance_busy)
        app.wsgi_app = app.extensions["zvarot_rebalancer"] = rebalancer
    return app


def run_server(settings: Settings, announce: Callable[[], None] | None = None) -> None:
    loads = worker_loads(settings)  # before granian forks the workers, which share it
    serve_wsgi(
        partial(served_gateway, settings, loads), settings.host, settings.port, settings.workers, announce
    )


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
