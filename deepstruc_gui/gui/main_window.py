"""The main window: builds the views and menus and wires them to the session, the
search presenter (:mod:`~deepstruc_gui.gui.search_presenter`), the file actions
(:mod:`~deepstruc_gui.gui.file_actions`) and the worker. Decisions live there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from deepstruc_gui.gui.about import about_text
from deepstruc_gui.gui.compare import SideBySide
from deepstruc_gui.gui.file_actions import FileActions, default_autosave_path
from deepstruc_gui.gui.image_exports import ImageExports
from deepstruc_gui.gui.menus import build_menus
from deepstruc_gui.gui.panels import Panels
from deepstruc_gui.gui.search_presenter import SearchPresenter
from deepstruc_gui.gui.teaching import Teaching
from deepstruc_gui.gui.views.candidates_table import CandidatesTable
from deepstruc_gui.gui.views.controls import ControlsPanel
from deepstruc_gui.gui.views.latent_map import LatentMapView
from deepstruc_gui.gui.views.pdf_panel import PDFPanel
from deepstruc_gui.gui.views.results_bar import ResultsBar
from deepstruc_gui.gui.views.search_status import SearchStatus
from deepstruc_gui.gui.views.structure_view import StructureView
from deepstruc_gui.gui.views.welcome import WelcomePage
from deepstruc_gui.gui.worker import WorkerThread
from deepstruc_gui.model.bundle import available_models
from deepstruc_gui.state.session import Session

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
        self.images = ImageExports(self.files)  # plots, figure, 3-D view at a chosen size
        self.teaching = Teaching(self)
        self.side_by_side = SideBySide(self)  # a training structure and its reconstruction
        self.panels = Panels(self)  # banner, Rw landscape, Refine here, series
        build_menus(self)
        self._connect()
        self._on_history()
        self._on_selection()  # nothing shown yet: the export actions are disabled
        self.restoreGeometry(self.settings.value("geometry", b""))
        self.restoreState(self.settings.value("state", b""))
        self.welcome.set_recent(self.files.recent())
        self.welcome.set_autosave(self.autosave_path())  # the last run's, offered
        self.presenter.start()
        self.controls.show_query(self.session.query)

    # --- layout ---------------------------------------------------------------------------
    def _build_views(self) -> None:
        self.map_view = LatentMapView()
        self.pdf_panel = PDFPanel()
        self.structure_view = StructureView()
        self.table = CandidatesTable()
        self.results_bar = ResultsBar(self.session)
        results = QWidget()
        column = QVBoxLayout(results)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.results_bar)
        column.addWidget(self.table)
        self.controls = ControlsPanel()
        self.welcome = WelcomePage()
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.structure_view)
        right.addWidget(self.pdf_panel)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.map_view)
        main.addWidget(right)
        main.setStretchFactor(0, 3)  # the map stays the largest view
        main.setStretchFactor(1, 2)
        main.setSizes([600, 400])
        self.central = QStackedWidget()
        self.central.addWidget(self.welcome)
        self.central.addWidget(main)
        self.setCentralWidget(self.central)
        for title, widget, area in (
            ("Controls", self.controls, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Candidates", results, Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{title}")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            if title == "Candidates":  # the map stays the largest view
                self.resizeDocks([dock], [160], Qt.Orientation.Vertical)
                self.table.setMinimumHeight(80)
            else:
                self.resizeDocks([dock], [280], Qt.Orientation.Horizontal)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.search_status = SearchStatus(lambda: self.presenter.searching, PROGRESS_DELAY_MS)
        self.progress = self.search_status.progress
        self.statusBar().addPermanentWidget(self.search_status)

    # --- wiring ---------------------------------------------------------------------------
    def _connect(self) -> None:
        s, p = self.session, self.presenter
        s.data_changed.connect(self._on_data)
        s.prior_changed.connect(self._on_prior)
        s.query_changed.connect(self._on_query)
        s.candidates_changed.connect(self._on_candidates)
        s.selection_changed.connect(self._on_selection)
        s.preview_changed.connect(self._on_preview)
        s.history.changed.connect(self._on_history)
        s.carried_changed.connect(lambda: self.controls.show_carried(s.carried))
        self.controls.reset_clicked.connect(p.reset_settings)
        self.results_bar.update_clicked.connect(p.update)
        self.results_bar.undo_clicked.connect(p.undo)
        self.results_bar.keep_clicked.connect(p.keep_shown)
        self.welcome.open_requested.connect(self.open_file)
        self.welcome.restore_requested.connect(lambda: self.open_session(self.autosave_path()))
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
        c.element_edited.connect(lambda _: self._redraw_shown())  # the atoms' element
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

    def show_latent_map(self, latent_map, axes: tuple[str, str] = ("z₁", "z₂")) -> None:
        self.map_view.set_latent_map(latent_map)
        self.map_view.set_axis_titles(*axes)

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

    def warn_worse(self, before: float, now: float) -> None:
        self.results_bar.show_worse(before, now)

    def search_finished(self) -> None:
        self.files.autosave()

    # --- state → views --------------------------------------------------------------------
    def _on_data(self) -> None:
        d = self.session.data
        self.central.setCurrentIndex(0 if d is None else 1)
        self.pdf_panel.set_data(d)
        self.controls.show_element(self.session.element)
        self.map_view.set_prior(None, None)
        self.controls.set_has_data(d is not None)
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

    def _on_history(self) -> None:
        h = self.session.history
        self.undo_action.setEnabled(h.can_back)
        self.redo_action.setEnabled(h.can_forward)

    def _on_candidates(self) -> None:
        cands = self.session.candidates
        self.table.set_candidates(cands, self.session.selected)
        latents = np.array([c.latent for c in cands]).reshape(-1, 2)
        self.map_view.set_candidates(latents, np.array([c.rw for c in cands]))

    def _on_selection(self) -> None:
        c = self.session.selected_candidate
        self.table.select_row(self.session.selected)
        self.map_view.set_selected(None if c is None else c.latent)
        self.map_view.set_decoded(None)
        self._show_candidate(c, "" if c is None else f"#{self.session.selected + 1}  ")

    def _on_preview(self) -> None:
        p = self.session.preview
        if self.session.showing_preview:
            self._show_candidate(p, self.presenter.preview_label)
            self.map_view.set_decoded(p.latent)

    def _redraw_shown(self) -> None:
        if self.session.showing_preview:
            self._on_preview()
        else:
            self._on_selection()

    def _show_candidate(self, c, title: str) -> None:
        for action in self.shown_actions:
            action.setEnabled(c is not None)
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
        self.teaching.close()
        self.panels.shutdown()
        self.worker_thread.stop()
        self.files.shutdown()
        super().closeEvent(event)
