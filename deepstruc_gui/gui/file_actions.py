"""Files: open a PDF or a session, save a session, the export dialogs, recent files and
the autosave. The window builds the menus and calls these; the writing itself is in
:mod:`deepstruc_gui.gui.exporting` (atomic, never touching input files)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from deepstruc_gui.gui.exporting import (
    export_fit,
    export_plot,
    export_structure,
    export_structures,
    export_table,
)
from deepstruc_gui.model.export import provenance
from deepstruc_gui.science.parameters import FitConfig
from deepstruc_gui.science.pdf_io import PDFReadError, read_pdf
from deepstruc_gui.state.session import Session

MAX_RECENT = 8
#: candidates in the multi-frame export, best first (as ``predict --out`` writes)
TOP_N = 10
PDF_FILTER = "PDF data (*.gr *.dat *.txt *.csv *.xy);;All files (*)"
SESSION_FILTER = "DeepStruc session (*.dsession.json)"


def default_autosave_path() -> Path:
    """``autosave.dsession.json`` in the platform's application-data folder."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".deepstruc-gui") / "autosave.dsession.json"


class FileActions:
    """One per window. ``window`` parents the dialogs and shows errors
    (``window.show_error(title, message)``, looked up at each call so tests can
    replace it); ``on_model(name)`` is told the model a session was saved with;
    ``autosave_path()`` says where the autosave goes; ``fit_config()`` is the fit the
    exports rest on (written into their headers with the data file and model)."""

    def __init__(
        self,
        window: QWidget,
        session: Session,
        settings: QSettings,
        on_model: Callable[[str | None], None],
        autosave_path: Callable[[], Path] = default_autosave_path,
        fit_config: Callable[[], FitConfig | None] = lambda: None,
    ) -> None:
        self.window = window
        self.session = session
        self.settings = settings
        self.on_model = on_model
        self.autosave_path = autosave_path
        self.fit_config = fit_config
        self.recent_menu: QMenu | None = None
        self._autosaves = ThreadPoolExecutor(1, thread_name_prefix="deepstruc-autosave")

    def provenance(self) -> dict:
        """What an export rests on: program, date, data file, model, fit range and
        simulation parameters (:func:`deepstruc_gui.model.export.provenance`)."""
        s = self.session
        return provenance(s.data, s.model_name, self.fit_config())

    def _error(self, title: str, message: str) -> None:
        self.window.show_error(title, message)

    # --- opening -------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = self.settings.value("last_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self.window, "Open PDF", start, PDF_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        """Read a G(r) file into the session; a clear message naming the file if not."""
        try:
            data = read_pdf(path)
            data.model_input()  # fail now, with the file's name, rather than in the worker
        except PDFReadError as exc:
            self._error("Cannot read this PDF", str(exc))
            return False
        self.settings.setValue("last_dir", str(Path(path).resolve().parent))
        self.remember_recent(str(Path(path).resolve()))
        self.session.set_data(data)
        return True

    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Open session",
            str(Path.home()),
            "DeepStruc session (*.dsession.json *.json)",
        )
        if path:
            self.open_session(path)

    def open_session(self, path: str | Path) -> bool:
        try:
            payload = Session.load_file(path)
            self.session.restore(payload)
        except ValueError as exc:
            self._error("Cannot open the session", f"{path}: {exc}")
            return False
        self.on_model(payload.get("model"))
        return True

    # --- saving and exporting ------------------------------------------------------------
    def _save_name(self, title: str, filters: str, default: str) -> str:
        start = str(Path(self.settings.value("export_dir", str(Path.home()))) / default)
        path, _ = QFileDialog.getSaveFileName(self.window, title, start, filters)
        if path:
            self.settings.setValue("export_dir", str(Path(path).parent))
        return path

    def guarded(self, what: str, fn: Callable[[], object]) -> bool:
        """Run a write; any failure becomes a dialog naming what failed, never silence."""
        try:
            fn()
            return True
        except Exception as exc:
            self._error(f"Cannot {what}", f"{type(exc).__name__}: {exc}")
            return False

    def save_session_dialog(self) -> None:
        path = self._save_name("Save session", SESSION_FILTER, "session.dsession.json")
        if path:
            self.guarded("save the session", lambda: self.session.save(path))

    def export_structure_dialog(self) -> None:
        c = self.session.selected_candidate
        if c is None:
            return self._error("Nothing to export", "Select a candidate first.")
        element = self.session.element or "Pt"
        path = self._save_name(
            "Export structure",
            "XYZ (*.xyz);;Extended XYZ (*.extxyz);;CIF (*.cif)",
            f"candidate_{self.session.selected + 1}_{element}{c.n_atoms}.xyz",
        )
        if path:
            self.guarded(
                "export the structure",
                lambda: export_structure(path, c, element, self.provenance()),
            )

    def export_top_dialog(self) -> None:
        """The best ``TOP_N`` candidates as one multi-frame extxyz (ase gui, OVITO)."""
        cands = self.session.candidates[:TOP_N]
        if not cands:
            return self._error("Nothing to export", "No candidates yet.")
        element = self.session.element or "Pt"
        path = self._save_name(
            "Export top candidates", "Extended XYZ (*.extxyz)", f"top{len(cands)}.extxyz"
        )
        if path:
            self.guarded(
                "export the candidates",
                lambda: export_structures(path, cands, element, self.provenance()),
            )

    def export_fit_dialog(self) -> None:
        c, data = self.session.selected_candidate, self.session.data
        if c is None or data is None:
            return self._error("Nothing to export", "Select a candidate first.")
        path = self._save_name("Export fit", "CSV (*.csv);;PDFgui fit (*.fgr)", "fit.csv")
        if path:
            self.guarded("export the fit", lambda: export_fit(path, c, data, self.provenance()))

    def export_table_dialog(self) -> None:
        cands = self.session.candidates
        if not cands:
            return self._error("Nothing to export", "No candidates yet.")
        path = self._save_name("Export candidates", "CSV (*.csv)", "candidates.csv")
        if path:
            self.guarded("export the table", lambda: export_table(path, cands, self.provenance()))

    def export_plot_dialog(self, plot_widget, name: str) -> None:
        """A pyqtgraph ``PlotWidget`` as PNG or SVG; ``name`` is the default file stem."""
        path = self._save_name("Export plot", "PNG (*.png);;SVG (*.svg)", f"{name}.png")
        if path:
            self.guarded("export the plot", lambda: export_plot(path, plot_widget.getPlotItem()))

    # --- recent files --------------------------------------------------------------------
    def attach_recent_menu(self, menu: QMenu) -> None:
        self.recent_menu = menu
        self.refresh_recent()

    def recent(self) -> list[str]:
        return list(json.loads(self.settings.value("recent", "[]")))

    def remember_recent(self, path: str) -> None:
        recent = [p for p in self.recent() if p != path]
        self.settings.setValue("recent", json.dumps([path, *recent][:MAX_RECENT]))
        self.refresh_recent()

    def refresh_recent(self) -> None:
        if self.recent_menu is None:
            return
        self.recent_menu.clear()
        for p in self.recent():
            action = QAction(p, self.recent_menu)
            action.triggered.connect(lambda *_, p=p: self.open_file(p))
            self.recent_menu.addAction(action)

    # --- autosave ------------------------------------------------------------------------
    def autosave(self) -> None:
        """After every finished search: a crash never eats the session.

        The file is written on a background thread (a whole-map session is tens of MB);
        the session's parts are replaced, never changed in place, so the thread reads
        a consistent picture. Saves run one after another; closing waits for them.
        """
        # a search result still queued when the window closed arrives after shutdown
        with contextlib.suppress(RuntimeError):
            self._autosaves.submit(self._write_autosave, self.autosave_path())

    def _write_autosave(self, path: Path) -> None:
        with contextlib.suppress(OSError):  # autosave must never interrupt the user
            self.session.save(path)

    def wait_for_autosave(self) -> None:
        self._autosaves.submit(lambda: None).result()

    def shutdown(self) -> None:
        """Wait for the autosaves in flight (the window is closing)."""
        self._autosaves.shutdown(wait=True)
