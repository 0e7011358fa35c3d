"""A thread-safe cancellation token checked by long computations at safe points."""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside a computation whose token was cancelled."""


class CancelToken:
    """Set from any thread; polled by the worker between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the computation to stop at its next check (any thread)."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` when :meth:`cancel` was called."""
        if self._event.is_set():
            raise Cancelled()


def check(token: CancelToken | None) -> None:
    """Raise :class:`Cancelled` when ``token`` exists and was cancelled."""
    if token is not None:
        token.raise_if_cancelled()
