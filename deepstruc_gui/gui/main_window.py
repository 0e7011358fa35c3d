"""The main window: builds the views and menus and wires them to the session, the
search presenter (:mod:`~deepstruc_gui.gui.search_presenter`), the file actions
(:mod:`~deepstruc_gui.gui.file_actions`) and the worker. Decisions live there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
)

from deepstruc_gui.gui.about import about_text
from deepstruc_gui.gui.file_actions import FileActions, default_autosave_path
from deepstruc_gui.gui.search_presenter import SearchPresenter
from deepstruc_gui.gui.views.candidates_table import CandidatesTable
from deepstruc_gui.gui.views.controls import ControlsPanel
from deepstruc_gui.gui.views.latent_map import LatentMapView
from deepstruc_gui.gui.views.pdf_panel import PDFPanel
from deepstruc_gui.gui.views.search_status import SearchStatus
from deepstruc_gui.gui.views.structure_view import StructureView
from deepstruc_gui.gui.worker import WorkerThread
from deepstruc_gui.model.bundle import available_models
from deepstruc_gui.state.session import Session

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "examples"
WELCOME = """<h2>DeepStruc GUI</h2>
<p>Solve the structure of a metal nanoparticle from its pair distribution function.</p>
<ol><li><b>File › Open</b> a G(r) file (.gr, .dat, .csv), or drop it on this window;</li>
<li>or try <b>Help › Examples</b> (1.8 nm Pt nanoparticles; Au<sub>144</sub> clusters).</li></ol>
<p>The PDF lands on the latent map of known structures; candidates are decoded,
fitted and ranked by Rw. Drag the red marker to steer the search.</p>"""
EXAMPLE_TITLES = {
    "JQ_S1.gr": "1.8 nm Pt nanoparticles (Quinson et al., ACS Omega 2018)",
    "Au144PET_100K-00000.gr": "Au144(PET)60 clusters, 100 K (Jensen et al., Nat. Commun. 2016)",
}
EXAMPLE_CREDIT = "Measured PDFs published with the DeepStruc paper (Kjær, Anker et al. 2023)"
#: live decodes while the centre marker is dragged, at most this many a second
DRAG_PREVIEW_HZ = 30
#: a search's progress bar appears only when it runs longer than this
PROGRESS_DELAY_MS = 250


class MainWindow(QMainWindow):
    """One window, one session, one worker thread.

    ``worker_thread`` is for tests: anything with ``.worker`` (submit, cancel, busy,
    ``delivered``) and ``.stop()``; by default a real :class:`WorkerThread`.
    """

    def __init__(
        self,
        models: dict[str, Path] | None = None,
        settings: QSettings | None = None,
        worker_thread=None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("DeepStruc GUI")
        self.setAcceptDrops(True)
        self.session = Session()
        self.settings = settings or QSettings("DeepStruc", "DeepStrucGUI")
        self._build_views()
        self.worker_thread = worker_thread or WorkerThread()
        self.worker = self.worker_thread.worker
        models = models if models is not None else available_models()
        self.presenter = SearchPresenter(self.session, self.worker, self, models)
        self.files = FileActions(
            self,
            self.session,
            self.settings,
            self.presenter.use_model,
            self.autosave_path,
            self.presenter.fit_config,
        )
        self._build_menus()
        self._connect()
        self.restoreGeometry(self.settings.value("geometry", b""))
        self.restoreState(self.settings.value("state", b""))
        self.presenter.start()
        self.controls.show_query(self.session.query)

    # --- layout ---------------------------------------------------------------------------
    def _build_views(self) -> None:
        self.map_view = LatentMapView()
        self.pdf_panel = PDFPanel()
        self.structure_view = StructureView()
        self.table = CandidatesTable()
        self.controls = ControlsPanel()
        self.welcome = QLabel(WELCOME)
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome.setWordWrap(True)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.structure_view)
        right.addWidget(self.pdf_panel)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.map_view)
        main.addWidget(right)
        main.setSizes([600, 600])
        self.central = QStackedWidget()
        self.central.addWidget(self.welcome)
        self.central.addWidget(main)
        self.setCentralWidget(self.central)
        for title, widget, area in (
            ("Controls", self.controls, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Candidates", self.table, Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{title}")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
        self.search_status = SearchStatus(lambda: self.presenter.searching, PROGRESS_DELAY_MS)
        self.progress = self.search_status.progress
        self.statusBar().addPermanentWidget(self.search_status)

    def _build_menus(self) -> None:
        p, f = self.presenter, self.files
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open PDF…", f.open_dialog, QKeySequence.StandardKey.Open)
        f.attach_recent_menu(file_menu.addMenu("Open &Recent"))
        file_menu.addSeparator()
        self._action(file_menu, "Open &Session…", f.open_session_dialog)
        save = QKeySequence.StandardKey.Save
        self._action(file_menu, "&Save Session…", f.save_session_dialog, save)
        export = file_menu.addMenu("&Export")
        self._action(export, "Selected Structure (xyz, extxyz, cif)…", f.export_structure_dialog)
        self._action(export, "Top Candidates (multi-frame extxyz)…", f.export_top_dialog)
        self._action(export, "Selected Fit (CSV, PDFgui fgr)…", f.export_fit_dialog)
        self._action(export, "Candidates Table (CSV)…", f.export_table_dialog)
        for title, plot, name in (
            ("Latent Map", self.map_view, "map"),
            ("PDF Plot", self.pdf_panel, "pdf"),
        ):
            self._action(
                export, f"{title} (PNG, SVG)…", lambda p=plot, n=name: f.export_plot_dialog(p, n)
            )
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = self._action(edit, "&Undo Move", p.undo, QKeySequence.StandardKey.Undo)
        self._action(edit, "&Redo Move", p.redo, QKeySequence.StandardKey.Redo)
        self._action(edit, "Back to &Prior", p.back_to_prior)
        self._action(edit, "Search &Whole Map", p.search_whole_map, QKeySequence("Ctrl+M"))
        self._action(edit, "&Cancel Job", p.cancel, QKeySequence("Esc"))
        help_menu = self.menuBar().addMenu("&Help")
        examples = help_menu.addMenu("&Examples")
        for path in sorted(EXAMPLES_DIR.glob("*.gr")):
            title = EXAMPLE_TITLES.get(path.name, path.name)
            action = self._action(examples, title, lambda p=path: f.open_file(p))
            action.setStatusTip(EXAMPLE_CREDIT)
        self._action(help_menu, "&About", self.show_about)

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda *_: slot())
        menu.addAction(action)
        return action

    # --- wiring ---------------------------------------------------------------------------
    def _connect(self) -> None:
        s, p = self.session, self.presenter
        s.data_changed.connect(self._on_data)
        s.prior_changed.connect(self._on_prior)
        s.query_changed.connect(self._on_query)
        s.candidates_changed.connect(self._on_candidates)
        s.selection_changed.connect(self._on_selection)
        s.preview_changed.connect(self._on_preview)
        self.worker.delivered.connect(p.deliver)
        m = self.map_view
        m.center_dragged.connect(p.drag_moved)
        # the live decode under the marker: pyqtgraph's rate limiter, flushed on release
        self._drag_proxy = pg.SignalProxy(
            m.center_dragged, rateLimit=DRAG_PREVIEW_HZ, slot=lambda args: p.preview(*args)
        )
        m.center_released.connect(self._on_release)
        m.radius_changed.connect(lambda r: p.edit_query({"free_radius": r, "sigma_multiple": None}))
        m.training_point_clicked.connect(p.decode_training_point)
        m.empty_clicked.connect(lambda x, y: p.decode_point((x, y), "point "))
        m.candidate_clicked.connect(s.select)
        self.table.candidate_selected.connect(s.select)
        self.pdf_panel.fit_range_changed.connect(
            lambda lo, hi: p.edit_query({"rmin": round(lo, 2), "rmax": round(hi, 2)})
        )
        c = self.controls
        c.query_edited.connect(p.edit_query)
        c.model_chosen.connect(p.choose_model)
        c.element_edited.connect(p.set_element)
        c.solve_clicked.connect(p.start_solve)
        c.back_to_prior_clicked.connect(p.back_to_prior)
        c.whole_map_clicked.connect(p.search_whole_map)
        self.search_status.cancel_clicked.connect(p.cancel)

    def _on_release(self, x: float, y: float) -> None:
        self._drag_proxy.flush()  # the last position's preview goes out before the search
        self.presenter.release(x, y)

    # --- the presenter's view (SearchView) ------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        """A message box; tests replace it to record messages instead of blocking."""
        QMessageBox.warning(self, title, message)

    def show_device(self, text: str) -> None:
        self.search_status.show_device(text)

    def show_latent_map(self, latent_map) -> None:
        self.map_view.set_latent_map(latent_map)

    def show_models(self, names: list[str], current: str) -> None:
        self.controls.set_models(names, current)

    def show_element(self, element: str) -> None:
        self.controls.show_element(element)

    def show_status(self, message: str, timeout_ms: int = 0) -> None:
        self.statusBar().showMessage(message, timeout_ms)

    def start_progress(self, total: int) -> None:
        self.search_status.start(total)

    def show_progress(self, done: int, total: int) -> None:
        self.search_status.update_progress(done, total)

    def hide_progress(self) -> None:
        self.search_status.stop()
        self.statusBar().clearMessage()

    def suggest_whole_map(self, suggest: bool) -> None:
        self.controls.suggest_whole_map(suggest)

    def search_finished(self) -> None:
        self.files.autosave()

    # --- state → views --------------------------------------------------------------------
    def _on_data(self) -> None:
        d = self.session.data
        self.central.setCurrentIndex(0 if d is None else 1)
        self.pdf_panel.set_data(d)
        self.controls.show_element(self.session.element)
        self.map_view.set_prior(None, None)
        if d is not None:
            self.setWindowTitle(f"DeepStruc GUI — {d.name}")

    def _on_prior(self) -> None:
        self.map_view.set_prior(self.session.prior_mean, self.session.prior_sigma)

    def _on_query(self) -> None:
        q = self.session.query
        self.controls.show_query(q)
        self.pdf_panel.set_fit_range(q.rmin, q.rmax)
        if self.session.prior_mean is not None:
            self.map_view.set_region(q.center, self.session.region_radius())
        self.undo_action.setEnabled(self.session.can_undo)

    def _on_candidates(self) -> None:
        cands = self.session.candidates
        self.table.set_candidates(cands, self.session.selected)
        latents = np.array([c.latent for c in cands]).reshape(-1, 2)
        self.map_view.set_candidates(latents, np.array([c.rw for c in cands]))

    def _on_selection(self) -> None:
        c = self.session.selected_candidate
        self.table.select_row(self.session.selected)
        self.map_view.set_selected(None if c is None else c.latent)
        self._show_candidate(c, "" if c is None else f"#{self.session.selected + 1}  ")

    def _on_preview(self) -> None:
        self._show_candidate(self.session.preview, self.presenter.preview_label)

    def _show_candidate(self, c, title: str) -> None:
        if c is None:
            self.structure_view.set_structure(None)
            self.pdf_panel.show_candidate(None)
            return
        self.structure_view.set_structure(c.positions, c.nearest_type, self.session.element)
        self.pdf_panel.show_candidate(c, title)

    # --- the window's public face (scripts, tests, the CLI) -------------------------------
    @property
    def bundle(self):
        return self.presenter.bundle

    @property
    def device_name(self) -> str:
        return self.presenter.device_name

    @property
    def solve_complete(self) -> bool:
        """True once the newest search has delivered all its candidates."""
        return self.presenter.solve_complete

    def open_file(self, path: str | Path) -> bool:
        return self.files.open_file(path)

    def open_session(self, path: str | Path) -> bool:
        return self.files.open_session(path)

    def start_solve(self, whole_map: bool = False) -> None:
        self.presenter.start_solve(whole_map)

    def search_whole_map(self) -> None:
        self.presenter.search_whole_map()

    def cancel_job(self) -> None:
        self.presenter.cancel()

    def undo(self) -> None:
        self.presenter.undo()

    @staticmethod
    def autosave_path() -> Path:
        return default_autosave_path()

    def wait_for_autosave(self) -> None:
        self.files.wait_for_autosave()

    def about_text(self) -> str:
        """Version, device, what the loaded model measures, and the citation."""
        return about_text(self.bundle.metadata if self.bundle else {}, self.device_name)

    def show_about(self) -> None:
        QMessageBox.about(self, "About DeepStruc GUI", self.about_text())

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls:
            self.open_file(urls[0].toLocalFile())

    def closeEvent(self, event) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self._drag_proxy.disconnect()
        self.worker_thread.stop()
        self.files.shutdown()
        super().closeEvent(event)
