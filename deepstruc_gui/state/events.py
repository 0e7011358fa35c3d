"""A minimal synchronous event: the state layer's only way to talk to observers.

Plain Python (no Qt), so state objects and their tests run without a display. Views
connect callbacks; the state emits after every change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """``connect(callback)``, ``disconnect(callback)``, ``emit(*args)``."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []
        self._blocked = 0

    def connect(self, callback: Callable[..., Any]) -> None:
        """Call ``callback`` on every emit (connecting the same callback twice is a no-op)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        """Call every connected callback with ``args`` in connection order, unless blocked."""
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(*args)

    def blocked(self) -> _Blocker:
        """``with event.blocked():`` — changes inside emit nothing (two-way bindings)."""
        return _Blocker(self)

    def __len__(self) -> int:
        return len(self._callbacks)


class _Blocker:
    def __init__(self, event: Event) -> None:
        self.event = event

    def __enter__(self) -> None:
        self.event._blocked += 1

    def __exit__(self, *exc: object) -> None:
        self.event._blocked -= 1
