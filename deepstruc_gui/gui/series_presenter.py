"""The window's side of a beamline series (File › Watch folder…). Qt-free.

The series itself (watching, solving, the table and plots) is the
:class:`~deepstruc_gui.gui.views.series_panel.SeriesPanel`'s, over the session's
:class:`~deepstruc_gui.state.series.SeriesState` (saved with the session). This
presenter decides what the window does with it: which model a watch solves with (the
window's), and that a chosen frame's candidate and fit show in the main views.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class SeriesView(Protocol):
    def start_watch(self, folder: Path, pattern: str, model: Path, **options) -> None: ...
    def stop_watch(self) -> None: ...
    def show_frame(self, record, label: str) -> None: ...
    def show_status(self, message: str, timeout_ms: int = 0) -> None: ...
    def show_error(self, title: str, message: str) -> None: ...


class SeriesPresenter:
    """``model_path()``: the bundle path of the window's current model, or None."""

    def __init__(self, view: SeriesView, model_path) -> None:
        self.view = view
        self.model_path = model_path

    def watch(self, folder: str | Path, pattern: str = "*.gr", **options) -> bool:
        """Follow ``folder``: every matching file already there, then each new one.
        ``options`` go to the series worker (``settings``, ``settle``, ``give_up``)."""
        folder = Path(folder)
        if not folder.is_dir():
            self.view.show_error("Cannot watch this folder", f"{folder}: not a folder")
            return False
        model = self.model_path()
        if model is None:
            self.view.show_error("Cannot watch this folder", "No model is installed.")
            return False
        self.view.start_watch(folder, pattern, Path(model), **options)
        self.view.show_status(f"watching {folder} for {pattern}", 5000)
        return True

    def stop(self) -> None:
        self.view.stop_watch()

    def frame_selected(self, record) -> None:
        """Show a frame's best candidate and its fit in the main views."""
        name = Path(record.file).name
        if record.candidate is None:
            why = (
                record.error
                if getattr(record, "error", "")
                else ("its structure is not kept in session files; open the file to solve it again")
            )
            self.view.show_status(f"frame {record.frame} ({name}): {why}", 8000)
            return
        self.view.show_frame(record, f"frame {record.frame} ({name}): ")
