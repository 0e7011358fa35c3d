"""Work done one step ahead in a background thread (the landscape's decoding and pair
histograms while its scorer runs: torch releases the GIL, so the two share the cores)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class Ahead:
    """Runs ``work`` on submitted items in one background thread, in order, so the
    caller takes each result (:meth:`next`) while the later ones are being made.
    :meth:`close` drops what has not started and waits for what has (a cancelled
    landscape leaves no thread behind)."""

    def __init__(self, work: Callable) -> None:
        self._work = work
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ahead")
        self._queue: deque[Future] = deque()
        self._extra: list[Future] = []

    def submit(self, items: list, keep: bool = True) -> None:
        """Queue ``work(item)`` for each item; ``keep=False``: for its side effects only
        (never returned by :meth:`next`)."""
        for item in items:
            future = self._pool.submit(self._work, item)
            (self._queue if keep else self._extra).append(future)

    def next(self):
        """The result of the oldest kept item (waits for it; re-raises its error)."""
        return self._queue.popleft().result()

    def close(self) -> None:
        """Cancel what has not started, wait for what has."""
        for future in (*self._queue, *self._extra):
            future.cancel()
        self._pool.shutdown(wait=True)
