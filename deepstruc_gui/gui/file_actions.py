"""Files: open a PDF or a session, save a session, the export dialogs of structures,
fits and tables (images: :mod:`deepstruc_gui.gui.image_exports`), recent files and
the autosave. The window builds the menus and calls these; the writing itself is in
:mod:`deepstruc_gui.gui.exporting` (atomic, never touching input files)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from deepstruc_gui.gui.exporting import (
    export_fit,
    export_structure,
    export_structures,
    export_table,
)
from deepstruc_gui.model.export import provenance
from deepstruc_gui.science.parameters import FitConfig
from deepstruc_gui.science.pdf_io import PDFReadError, read_pdf
from deepstruc_gui.state.session import Query, Session

MAX_RECENT = 8
MIN_FIT_POINTS = 10  # as science.fitting.fit_candidates demands
#: candidates in the multi-frame export, best first (as ``predict --out`` writes)
TOP_N = 10
PDF_FILTER = "PDF data (*.gr *.dat *.txt *.csv *.xy);;All files (*)"
SESSION_FILTER = "DeepStruc session (*.dsession.json)"


def unsolvable(data, query) -> str:
    """Why ``data`` cannot be solved with ``query``'s fit range ("" when it can).

    The fit needs at least :data:`MIN_FIT_POINTS` points of G(r) inside the fit range
    (the range carried from the previous file, or the default 2–30 Å); a G(r) of a
    nanoparticle spans more than a few Å and has a first peak of a metal-metal bond.
    """
    r, g = np.asarray(data.r), np.asarray(data.g)
    if r.max() - r.min() < 5.0:
        return f"r spans only {r.min():.2f}–{r.max():.2f} Å; is this G(r) (r in Å)?"
    for rmin, rmax in ((query.rmin, query.rmax), (Query.rmin, Query.rmax)):
        if int(((r >= rmin) & (r <= rmax) & np.isfinite(g)).sum()) >= MIN_FIT_POINTS:
            return ""
    return (
        f"fewer than {MIN_FIT_POINTS} points inside the fit range {query.rmin:g}–"
        f"{query.rmax:g} Å (the data span {r.min():.2f}–{r.max():.2f} Å)"
    )


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
            problem = unsolvable(data, self.session.query)
        except PDFReadError as exc:
            self._error("Cannot read this PDF", str(exc))
            return False
        if problem:  # refused before the current work is cleared
            self._error("Cannot solve this PDF", f"{data.name}: {problem}")
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

    def guarded(self, what: str, fn: Callable[[], object], path: str | Path = "") -> bool:
        """Run a write; any failure becomes a dialog naming what failed, never silence;
        success is confirmed in the status bar with the path."""
        try:
            fn()
        except Exception as exc:
            self._error(f"Cannot {what}", f"{type(exc).__name__}: {exc}")
            return False
        if path:
            self.window.show_status(f"Wrote {path}", 8000)
        return True

    def stem(self) -> str:
        """Default file names start with the data file's name (``JQ_S1``)."""
        d = self.session.data
        return Path(d.name).stem if d is not None and d.name else "deepstruc"

    def save_session_dialog(self) -> None:
        path = self._save_name("Save session", SESSION_FILTER, f"{self.stem()}.dsession.json")
        if path:
            self.save_session(path)

    def save_session(self, path: str | Path) -> bool:
        """Save to ``path``, adding ``.dsession.json`` when it has no such ending."""
        path = str(path)
        if not path.endswith(".dsession.json"):
            path = path.removesuffix(".json") + ".dsession.json"
        return self.guarded("save the session", lambda: self.session.save(path), path)

    def _shown(self):
        c = self.session.shown_candidate
        if c is None:
            self._error("Nothing to export", "Select a candidate or click the map first.")
        return c

    def _shown_name(self, c) -> str:
        s = self.session
        which = (
            f"z{c.latent[0]:+.2f}{c.latent[1]:+.2f}"
            if s.showing_preview
            else f"candidate{s.selected + 1}"
        )
        return f"{self.stem()}_{which}_{s.element or 'X'}{c.n_atoms}"

    def export_structure_dialog(self) -> None:
        """The structure on screen (selected row, map click or drag preview)."""
        c = self._shown()
        if c is None:
            return
        path = self._save_name(
            "Export structure",
            "XYZ (*.xyz);;Extended XYZ (*.extxyz);;CIF (*.cif)",
            f"{self._shown_name(c)}.xyz",
        )
        if path:
            self.export_structure(path, c)

    def export_structure(self, path: str | Path, c) -> bool:
        element = self.session.element or "Pt"
        return self.guarded(
            "export the structure",
            lambda: export_structure(path, c, element, self.provenance()),
            path,
        )

    def export_top_dialog(self) -> None:
        """The best ``TOP_N`` candidates as one multi-frame extxyz (ase gui, OVITO)."""
        cands = self.session.candidates[:TOP_N]
        if not cands:
            return self._error("Nothing to export", "No candidates yet.")
        element = self.session.element or "Pt"
        path = self._save_name(
            "Export top candidates",
            "Extended XYZ (*.extxyz)",
            f"{self.stem()}_top{len(cands)}.extxyz",
        )
        if path:
            self.guarded(
                "export the candidates",
                lambda: export_structures(path, cands, element, self.provenance()),
                path,
            )

    def export_fit_dialog(self) -> None:
        c, data = self._shown(), self.session.data
        if c is None or data is None:
            return
        path = self._save_name(
            "Export fit", "CSV (*.csv);;PDFgui fit (*.fgr)", f"{self._shown_name(c)}_fit.csv"
        )
        if path:
            self.guarded(
                "export the fit", lambda: export_fit(path, c, data, self.provenance()), path
            )

    def export_table_dialog(self) -> None:
        cands = self.session.candidates
        if not cands:
            return self._error("Nothing to export", "No candidates yet.")
        path = self._save_name("Export candidates", "CSV (*.csv)", f"{self.stem()}_candidates.csv")
        if path:
            self.guarded(
                "export the table", lambda: export_table(path, cands, self.provenance()), path
            )

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
