"""The worker alone: newest request of a lane wins, stale results are never delivered,
cancel stops a running job. A toy request type runs on the real thread (no model)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import pytest

from deepstruc_gui.gui.requests import Done, Request
from deepstruc_gui.gui.worker import WorkerThread, handles


@dataclass(frozen=True, eq=False)
class Count(Request):
    """Emit ``n`` numbered results, ``pause`` seconds apart, checking the token."""

    lane: ClassVar[str] = "count"
    n: int
    pause: float = 0.01


@dataclass(frozen=True, eq=False)
class Tick:
    k: int


@handles(Count)
def _count(runner, request: Count, token, emit) -> None:
    for k in range(request.n):
        token.raise_if_cancelled()
        time.sleep(request.pause)
        emit(Tick(k))


@pytest.fixture
def worker(qtbot):
    owner = WorkerThread()
    seen: list[tuple[Request, object]] = []
    owner.worker.delivered.connect(lambda request, result: seen.append((request, result)))
    owner.worker.seen = seen
    yield owner.worker
    assert owner.stop(10000), "worker thread left running"


def test_submit_gives_ids_and_results_arrive_with_their_request(worker, qtbot) -> None:
    request = worker.submit(Count(n=3))
    assert request.id > 0 and request.n == 3
    qtbot.waitUntil(lambda: any(isinstance(r, Done) for _, r in worker.seen), timeout=5000)
    assert [r.k for q, r in worker.seen if isinstance(r, Tick)] == [0, 1, 2]
    assert all(q is request for q, _ in worker.seen)
    assert not worker.busy


def test_a_newer_request_replaces_the_running_one(worker, qtbot) -> None:
    old = worker.submit(Count(n=1000, pause=0.005))
    qtbot.waitUntil(lambda: len(worker.seen) >= 3, timeout=5000)  # results of `old` exist
    new = worker.submit(Count(n=2))
    qtbot.waitUntil(lambda: any(isinstance(r, Done) for _, r in worker.seen), timeout=5000)
    after = [(q, r) for q, r in worker.seen if q is not old]
    assert [r.k for q, r in after if isinstance(r, Tick)] == [0, 1]
    assert all(q.id == new.id for q, _ in after)
    n_old = sum(q is old for q, _ in worker.seen)
    qtbot.wait(100)
    assert sum(q is old for q, _ in worker.seen) == n_old < 1000


def test_a_result_for_an_old_request_is_dropped_on_arrival(worker, qtbot) -> None:
    """The case no check in the worker thread can catch: a result already queued to the
    GUI thread when a newer request is submitted."""
    old = worker.submit(Count(n=1))
    qtbot.waitUntil(lambda: not worker.busy, timeout=5000)
    worker.seen.clear()
    new = worker.submit(Count(n=0))
    worker.runner.produced.emit(old, Tick(99))  # as if the thread had sent it late
    qtbot.wait(50)
    assert all(r.k != 99 for _, r in worker.seen if isinstance(r, Tick))
    assert worker.dropped >= 1
    assert worker.is_current(new) and not worker.is_current(old)


def test_cancel_stops_the_running_job_within_a_bound(worker, qtbot) -> None:
    worker.submit(Count(n=100000, pause=0.002))
    qtbot.waitUntil(lambda: len(worker.seen) >= 5, timeout=5000)  # mid-job
    start = time.perf_counter()
    worker.cancel("count")
    qtbot.waitUntil(lambda: not worker.busy, timeout=2000)
    assert time.perf_counter() - start < 1.0
    n = len(worker.seen)
    qtbot.wait(150)
    assert len(worker.seen) == n, "a result arrived after Cancel"
    assert not any(isinstance(r, Done) for _, r in worker.seen)


def test_a_result_already_on_its_way_when_cancelled_is_dropped(worker, qtbot) -> None:
    request = worker.submit(Count(n=100000, pause=0.002))
    qtbot.waitUntil(lambda: len(worker.seen) >= 2, timeout=5000)
    worker.cancel("count")
    worker.runner.produced.emit(request, Tick(-1))  # queued before the thread saw the cancel
    qtbot.waitUntil(lambda: not worker.busy, timeout=2000)
    qtbot.wait(50)
    assert all(r.k != -1 for _, r in worker.seen if isinstance(r, Tick))
    assert not worker.is_current(request)


@dataclass(frozen=True, eq=False)
class Background(Count):
    """Background work of its own lane (as PrepareLandscape)."""

    lane: ClassVar[str] = "background"
    background: ClassVar[bool] = True


handles(Background)(_count)


def test_background_work_yields_to_any_request_and_is_not_busy(worker, qtbot) -> None:
    """Work nobody waits for (the landscape's preparation) is not 'busy', and a request
    of any other lane, even one that supersedes nothing, cancels it at once."""
    bg = worker.submit(Background(n=100000, pause=0.005))
    qtbot.waitUntil(lambda: len(worker.seen) >= 2, timeout=5000)
    assert not worker.busy
    fg = worker.submit(Count(n=2))
    assert worker.busy
    qtbot.waitUntil(
        lambda: any(isinstance(r, Done) and q is fg for q, r in worker.seen), timeout=5000
    )
    ticks_of_bg = [r for q, r in worker.seen if q is bg and isinstance(r, Tick)]
    assert len(ticks_of_bg) < 1000  # cancelled long before its end
    assert not any(isinstance(r, Done) and q is bg for q, r in worker.seen)
