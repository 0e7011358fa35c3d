"""The series being followed: which folder, which frames arrived, which one is chosen.

A plain object with events (no Qt, no threads), like :class:`~deepstruc_gui.state.session.Session`:
the series panel observes it, a worker adds records through the GUI thread, and a
session file can keep it (:meth:`SeriesState.to_dict` / :meth:`SeriesState.from_dict`;
the records' candidates are not kept — a restored frame shows its numbers, and is
solved again to show its structure).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from deepstruc_gui.model.series import COLUMNS, FrameRecord, records_csv
from deepstruc_gui.state.events import Event
from deepstruc_gui.util.atomic import atomic_write_text


class SeriesState:
    """Frames of one series, in the order they were solved. Events carry no payload.

    ``records_changed``: a record was added or the series was cleared (observers read
    ``records``; ``added`` counts records since the last clear, so a view appends only
    the new ones). ``watching_changed``: the watch started or stopped.
    ``selection_changed``: another frame was chosen (``selected`` is an index into
    ``records`` or None).
    """

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.pattern: str = "*.gr"
        self.watching = False
        self.records: list[FrameRecord] = []
        self.selected: int | None = None
        self.status: str = ""
        self.records_changed = Event()
        self.watching_changed = Event()
        self.selection_changed = Event()
        self.status_changed = Event()

    # --- the watch -----------------------------------------------------------------
    def start(self, folder: str | Path, pattern: str = "*.gr") -> None:
        """A new series: forget the old frames and mark the folder as watched."""
        self.clear()
        self.folder = Path(folder)
        self.pattern = pattern
        self.set_watching(True)

    def set_watching(self, watching: bool) -> None:
        """Set whether the folder is watched; emits ``watching_changed`` on a change."""
        if watching != self.watching:
            self.watching = watching
            self.watching_changed.emit()

    def set_status(self, text: str) -> None:
        """Set the status line; emits ``status_changed`` on a change."""
        if text != self.status:
            self.status = text
            self.status_changed.emit()

    # --- frames --------------------------------------------------------------------
    def add(self, record: FrameRecord) -> None:
        """Append one frame's record; emits ``records_changed``."""
        self.records.append(record)
        self.records_changed.emit()

    def clear(self) -> None:
        """Drop every record and the selection; emits both change events."""
        self.records = []
        self.selected = None
        self.records_changed.emit()
        self.selection_changed.emit()

    def select(self, index: int | None) -> None:
        """Select frame ``index`` (None: nothing); emits ``selection_changed`` on a change.
        Raises ``IndexError`` when ``index`` is outside the records."""
        if index is not None and not 0 <= index < len(self.records):
            raise IndexError(f"frame index {index} outside 0–{len(self.records) - 1}")
        if index != self.selected:
            self.selected = index
            self.selection_changed.emit()

    @property
    def selected_record(self) -> FrameRecord | None:
        """The selected frame's record, or None."""
        return self.records[self.selected] if self.selected is not None else None

    # --- what the plots show ---------------------------------------------------------
    def column(self, name: str) -> np.ndarray:
        """One numeric column over the frames solved (NaN for error frames), float."""
        if name not in COLUMNS:
            raise KeyError(f"{name!r} is not a series column; use one of {COLUMNS}")
        values = [getattr(r, name) if r.ok else np.nan for r in self.records]
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    def path(self) -> tuple[np.ndarray, np.ndarray]:
        """The series' path on the latent map: frame numbers (n,) and points (n, 2) of
        the frames that were solved, in order."""
        ok = [r for r in self.records if r.ok]
        frames = np.array([r.frame for r in ok], dtype=int)
        return frames, np.array([[r.z1, r.z2] for r in ok], dtype=float).reshape(-1, 2)

    # --- files ---------------------------------------------------------------------
    def export_csv(self, path: str | Path) -> Path:
        """The series table (``COLUMNS``) written atomically to ``path``."""
        atomic_write_text(path, records_csv(self.records))
        return Path(path)

    def to_dict(self) -> dict[str, Any]:
        """Folder, pattern and every record's numbers, as JSON values."""
        return {
            "folder": str(self.folder) if self.folder is not None else None,
            "pattern": self.pattern,
            "records": [r.to_dict() for r in self.records],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeriesState:
        """The state :meth:`to_dict` wrote (not watching). Raises ``ValueError`` for a
        record with unknown or missing fields."""
        state = cls()
        state.folder = Path(data["folder"]) if data.get("folder") else None
        state.pattern = str(data.get("pattern", "*.gr"))
        names = {f.name for f in dataclasses.fields(FrameRecord)} - {"candidate", "result", "data"}
        for item in data.get("records", []):
            unknown = set(item) - names
            if unknown or not {"frame", "file", "time"} <= set(item):
                raise ValueError(f"series record with unknown or missing fields: {item}")
            values = {
                k: (np.nan if v is None and k not in ("n_atoms",) else v) for k, v in item.items()
            }
            state.records.append(FrameRecord(**values))
        return state
