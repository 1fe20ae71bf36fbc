"""WorkerWatchdog (gateway.interfaces.cli.server): a worker ends when a request outlives the request timeout
or when the server that started it is gone; nothing happens otherwise."""

from __future__ import annotations

import threading
import time

from gateway.interfaces.cli.server import WorkerWatchdog


def _watchdog(app, timeout: float = 0.2):
    exits: list[int] = []
    return WorkerWatchdog(app, timeout, exit=exits.append), exits


def test_a_request_past_the_timeout_ends_the_worker_and_one_within_it_does_not():
    release = threading.Event()

    def slow_app(_environ, _start_response):
        release.wait(10)
        return [b""]

    watchdog, exits = _watchdog(slow_app)
    request = threading.Thread(target=watchdog, args=({}, None))
    request.start()
    try:
        watchdog.check()
        assert exits == [] and not watchdog.overdue()
        assert watchdog.overdue(now=time.monotonic() + 0.3)
        threading.Event().wait(0.3)
        watchdog.check()
        assert exits == [1]
    finally:
        release.set()
        request.join()
    assert not watchdog.overdue(now=time.monotonic() + 100), "a finished request is forgotten"


def test_an_orphaned_worker_ends(monkeypatch):
    watchdog, exits = _watchdog(lambda _e, _s: [b""])
    watchdog.check()
    assert exits == []
    monkeypatch.setattr("os.getppid", lambda: 1)  # the server died: the worker was handed to init
    watchdog.check()
    assert exits == [0]
