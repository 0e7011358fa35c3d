"""The search history: every finished (or cancelled) search of a session, in order.

A search (a region, the whole map, the search after a drag) replaces the table; the
history keeps the replaced ones so that Undo/Redo restore a previous search's table,
selection and map points without searching again, and so that the window can say
when a search replaced a better one. Plain Python with events (no Qt).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.state.events import Event

#: searches kept (older ones are forgotten; a whole-map search holds ~3,000 candidates)
HISTORY_LIMIT = 20


@dataclass(frozen=True)
class SearchRecord:
    """One search as the user last saw it.

    ``label``: what it was ("region", "whole map", "refit", "session"); ``query``: the
    :class:`~deepstruc_gui.state.session.Query` it ran with (centre, region, fit
    range); ``candidates``: its ranked candidates, best Rw first (plus any the user
    kept); ``selected``: index into ``candidates`` or None; ``partial``: the search was
    cancelled before all its points were decoded and fitted.
    """

    label: str
    query: object  # state.session.Query (not imported: session imports this module)
    candidates: tuple[Candidate, ...]
    selected: int | None = None
    partial: bool = False

    @property
    def best_rw(self) -> float | None:
        """The lowest Rw of the search, or None when it found nothing."""
        return min((c.rw for c in self.candidates), default=None)

    def describe(self) -> str:
        """e.g. ``"region search, 500 candidates, best Rw 0.3570 (partial)"``."""
        best = self.best_rw
        text = f"{self.label} search, {len(self.candidates)} candidates"
        if best is not None:
            text += f", best Rw {best:.4f}"
        return text + (" (partial: cancelled)" if self.partial else "")


class SearchHistory:
    """Searches in order with a cursor; ``changed`` fires after every change.

    ``push`` adds a search after the cursor (forgetting the searches that Undo had
    stepped back over, as an editor forgets its redo steps); ``back``/``forward`` move
    the cursor and return the record to show.
    """

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self.records: list[SearchRecord] = []
        self.index = -1
        self.limit = limit
        self.changed = Event()

    @property
    def current(self) -> SearchRecord | None:
        """The record shown now, or None when the history is empty."""
        return self.records[self.index] if self.index >= 0 else None

    @property
    def can_back(self) -> bool:
        """True when there is an earlier search to go back to."""
        return self.index > 0

    @property
    def can_forward(self) -> bool:
        """True when there is a later search to go forward to."""
        return 0 <= self.index < len(self.records) - 1

    def push(self, record: SearchRecord) -> SearchRecord | None:
        """Add a search; returns the search it replaced when that one had a better
        (lower) best Rw, else None (the window says so)."""
        previous = self.current
        del self.records[self.index + 1 :]
        self.records.append(record)
        if len(self.records) > self.limit:
            del self.records[0]
        self.index = len(self.records) - 1
        self.changed.emit()
        if previous is None or previous.best_rw is None or record.best_rw is None:
            return None
        return previous if previous.best_rw < record.best_rw else None

    def update_current(self, **changes) -> None:
        """The user changed the shown search (selected a row, kept a structure)."""
        if self.current is not None:
            self.records[self.index] = replace(self.current, **changes)
            self.changed.emit()

    def back(self) -> SearchRecord | None:
        """Step to the previous search and return it (None if there is none); emits ``changed``."""
        if not self.can_back:
            return None
        self.index -= 1
        self.changed.emit()
        return self.current

    def forward(self) -> SearchRecord | None:
        """Step to the next search and return it (None when there is none); emits ``changed``."""
        if not self.can_forward:
            return None
        self.index += 1
        self.changed.emit()
        return self.current

    def best(self) -> SearchRecord | None:
        """The search with the lowest best Rw (None when none found anything)."""
        found = [r for r in self.records if r.best_rw is not None]
        return min(found, key=lambda r: r.best_rw) if found else None

    def clear(self) -> None:
        """Forget every search; emits ``changed``."""
        self.records.clear()
        self.index = -1
        self.changed.emit()
