"""ConnectionRebalancer asks a client to connect anew only while its worker is saturated and another worker
has room; WorkerLoads is how the workers know of each other (gateway.interfaces.cli.server)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gateway.interfaces.cli.server import ConnectionRebalancer, WorkerLoads, worker_loads

HTTP11 = {"SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/healthz"}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


STEP = 1 / 64  # a request's time: a binary fraction, so that windows end exactly where the test says


class Worker:
    """A served worker's app behind a rebalancer, on a clock of the test's: each request keeps it busy for
    `busy_for` seconds, and its answer's headers are returned."""

    def __init__(self, loads: WorkerLoads, clock: Clock, **options):
        self.clock = clock

        def app(environ, start_response):
            self.clock.now += self.busy_for
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]

        self.busy_for = STEP
        slot = loads.claim(os.getpid())
        self.rebalancer = ConnectionRebalancer(app, loads, slot, busy=0.85, clock=clock, **options)

    def request(self, busy_for: float = STEP, idle_after: float = 0.0, environ: dict = HTTP11) -> dict:
        self.busy_for = busy_for
        answered: dict = {}
        self.rebalancer(environ, lambda status, headers, exc_info=None: answered.update(headers))
        self.clock.now += idle_after
        return answered

    def run(self, seconds: float, busy_for: float = STEP, idle_after: float = 0.0) -> list[dict]:
        end = self.clock.now + seconds
        answers = []
        while self.clock.now < end:
            answers.append(self.request(busy_for, idle_after))
        return answers


@pytest.fixture
def other_worker():
    """A child of this process, as a worker is of its server: the other worker, which publishes only what a
    test says. (Claimed before the test's own slot: this process is no child of itself.)"""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_a_saturated_worker_asks_one_client_per_interval_while_the_other_worker_idles(other_worker):
    loads, clock = WorkerLoads(), Clock()
    loads.claim(other_worker.pid)  # alive, and has published nothing: idle
    worker = Worker(loads, clock)
    assert not any("Connection" in a for a in worker.run(0.25))  # the first window: judged at its end
    assert worker.rebalancer.asking
    answers = worker.run(0.3)  # busy throughout: asks every 0.1 s, not on every answer
    assert sum(a.get("Connection") == "close" for a in answers) == 3
    assert worker.rebalancer.asked == 3
    # Still saturated and due again, but an HTTP/1.0 connection closes anyway, and HTTP/2 has no such header.
    for protocol in ("HTTP/1.0", "HTTP/2") * 8:
        assert "Connection" not in worker.request(environ={**HTTP11, "SERVER_PROTOCOL": protocol})
    assert worker.rebalancer.asking
    assert worker.request().get("Connection") == "close"


def test_workers_all_saturated_pass_no_connections_around(other_worker):
    loads, clock = WorkerLoads(), Clock()
    other = loads.claim(other_worker.pid)
    worker = Worker(loads, clock)
    for _ in range(4):
        loads.publish(other, 0.95, clock.now)  # the other worker is as busy
        assert not any("Connection" in a for a in worker.run(0.3))
    assert not worker.rebalancer.asking


def test_a_worker_that_is_not_saturated_never_asks(other_worker):
    loads, clock = WorkerLoads(), Clock()
    loads.claim(other_worker.pid)
    worker = Worker(loads, clock)
    answers = worker.run(2.0, busy_for=STEP, idle_after=STEP)  # busy half the time
    assert not any("Connection" in a for a in answers)


def test_a_worker_that_has_published_nothing_for_a_second_counts_as_idle(other_worker):
    loads, clock = WorkerLoads(), Clock()
    other = loads.claim(other_worker.pid)
    loads.publish(other, 1.0, clock.now)  # saturated a moment ago ...
    worker = Worker(loads, clock)
    worker.run(0.3)
    assert not worker.rebalancer.asking
    worker.run(1.0)  # ... and not a request ended there since
    assert worker.rebalancer.asking


def test_a_lone_worker_never_asks():
    clock = Clock()
    worker = Worker(WorkerLoads(), clock)
    assert not any("Connection" in a for a in worker.run(1.0))


def test_the_slot_of_a_worker_that_has_gone_is_claimed_again():
    loads = WorkerLoads()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    slot = loads.claim(gone.pid)
    loads.publish(slot, 0.5, 1.0)
    assert loads.claim(os.getpid()) == slot  # dead: its slot is free
    assert loads.least_busy_other(slot, now=1.0, fresh=1.0) is None  # and nobody else is there


def test_a_worker_in_one_long_request_is_not_taken_for_idle(other_worker):
    """A client sending its body slowly holds the other worker: nothing is published there, yet sending
    clients to it would queue them behind that request."""
    loads, clock = WorkerLoads(), Clock()
    other = loads.claim(other_worker.pid)
    loads.in_request(other, clock.now)
    worker = Worker(loads, clock)
    worker.run(2.0)
    assert not worker.rebalancer.asking
    loads.in_request(other, 0.0)  # that request ended, and nothing since
    worker.run(0.5)
    assert worker.rebalancer.asking


def _saturated_beside(other_worker) -> tuple[Clock, Worker]:
    """A worker busy throughout two windows beside an idle other: asking."""
    loads, clock = WorkerLoads(), Clock()
    loads.claim(other_worker.pid)
    worker = Worker(loads, clock)
    worker.run(0.5)
    assert worker.rebalancer.asking
    return clock, worker


def test_a_worker_that_has_gone_is_no_room_for_clients(other_worker):
    _, worker = _saturated_beside(other_worker)
    other_worker.kill()
    other_worker.wait()
    worker.run(0.5)
    assert not worker.rebalancer.asking


def test_a_judgement_does_not_outlive_an_idle_gap(other_worker):
    clock, worker = _saturated_beside(other_worker)
    clock.now += 5.0  # minutes of quiet would do the same
    assert "Connection" not in worker.request()


def test_the_loads_are_shared_only_by_forked_workers_of_a_server_with_several(settings, monkeypatch):
    assert worker_loads(settings.with_(workers=1)) is None  # a client asked to reconnect would come back
    assert isinstance(worker_loads(settings.with_(workers=2)), WorkerLoads)
    monkeypatch.setattr("multiprocessing.get_start_method", lambda *a, **k: "spawn")
    assert worker_loads(settings.with_(workers=2)) is None  # an mmap cannot be sent to a spawned worker


@pytest.mark.parametrize("workers", [1, 2])
def test_a_served_worker_rebalances_only_with_the_servers_loads(settings, workers, served_worker):
    loads = worker_loads(settings.with_(workers=workers))
    app = served_worker(settings.with_(workers=workers), loads)
    assert ("zvarot_rebalancer" in app.extensions) is (workers > 1)
