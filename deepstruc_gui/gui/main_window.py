"""The main window: composes the views, connects state, views and the worker."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
)

from deepstruc_gui import CITATION, __version__
from deepstruc_gui.gui.exporting import export_fit, export_plot, export_structure, export_table
from deepstruc_gui.gui.requests import (
    Batch,
    Decode,
    Decoded,
    Done,
    Failed,
    LoadModel,
    ModelLoaded,
    Prior,
    PriorReady,
    Request,
    Solve,
)
from deepstruc_gui.gui.views.candidates_table import CandidatesTable
from deepstruc_gui.gui.views.controls import ControlsPanel
from deepstruc_gui.gui.views.latent_map import LatentMapView
from deepstruc_gui.gui.views.pdf_panel import PDFPanel
from deepstruc_gui.gui.views.structure_view import StructureView
from deepstruc_gui.gui.worker import WorkerThread
from deepstruc_gui.model.bundle import ModelBundle, available_models
from deepstruc_gui.model.candidate import POOR_FIT_RW
from deepstruc_gui.science.parameters import FitConfig, PDFParameters, parameters_from_metadata
from deepstruc_gui.science.pdf_io import PDFReadError, read_pdf
from deepstruc_gui.state.session import Session

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "examples"
WELCOME = """<h2>DeepStruc GUI</h2>
<p>Solve the structure of a metal nanoparticle from its pair distribution function.</p>
<ol><li><b>File › Open</b> a G(r) file (.gr, .dat, .csv), or drop it on this window;</li>
<li>or try <b>Help › Examples</b> (1.8 nm Pt nanoparticles; Au<sub>144</sub> clusters).</li></ol>
<p>The PDF lands on the latent map of known structures; candidates are decoded,
fitted and ranked by Rw. Drag the red marker to steer the search.</p>"""
MAX_RECENT = 8
EXAMPLE_TITLES = {
    "JQ_S1.gr": "1.8 nm Pt nanoparticles (Quinson et al., ACS Omega 2018)",
    "Au144PET_100K-00000.gr": "Au144(PET)60 clusters, 100 K (Jensen et al., Nat. Commun. 2016)",
}
EXAMPLE_CREDIT = "Measured PDFs published with the DeepStruc paper (Kjær, Anker et al. 2023)"


class MainWindow(QMainWindow):
    """One window, one session, one worker thread."""

    def __init__(self, models: dict[str, Path] | None = None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("DeepStruc GUI")
        self.setAcceptDrops(True)
        self.session = Session()
        self.settings = settings or QSettings("DeepStruc", "DeepStrucGUI")
        self.models = models if models is not None else available_models()
        self.bundle: ModelBundle | None = None
        self.device_name = "loading model…"
        self._latest = {"prior": -1, "decode": -1, "solve": -1, "model": -1}
        self._solve_done = -1  # request id of the last search whose final batch arrived
        self._solve_whole_map = False  # the newest search covers the whole map
        self._autosaves = ThreadPoolExecutor(1, thread_name_prefix="deepstruc-autosave")
        self._bond_note = ""
        self._pending_drag: tuple[float, float] | None = None
        self._preview_title = ""
        self._build_views()
        self._build_menus()
        self._connect()
        self.worker_thread = WorkerThread()
        self.worker = self.worker_thread.worker
        self._connect_worker()
        self.restoreGeometry(self.settings.value("geometry", b""))
        self.restoreState(self.settings.value("state", b""))
        if self.models:
            name = next(iter(self.models))
            self.session.model_name = name
            self.controls.set_models(list(self.models), name)
            self._load_model(name)
        else:
            self.status_device.setText("no model installed")
        self.controls.show_query(self.session.query)

    # --- layout -------------------
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
        self.status_device = QLabel(self.device_name)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)
        self.statusBar().addPermanentWidget(self.status_device)
        self._progress_timer = QTimer(self, singleShot=True, interval=250)
        self._progress_timer.timeout.connect(self._show_progress)
        self._drag_timer = QTimer(self, singleShot=True, interval=30)
        self._drag_timer.timeout.connect(self._submit_drag)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open PDF…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._refresh_recent()
        file_menu.addSeparator()
        self._action(file_menu, "Open &Session…", self.open_session_dialog)
        self._action(
            file_menu, "&Save Session…", self.save_session_dialog, QKeySequence.StandardKey.Save
        )
        export = file_menu.addMenu("&Export")
        self._action(export, "Selected Structure (xyz, extxyz, cif)…", self.export_structure_dialog)
        self._action(export, "Selected Fit (CSV)…", self.export_fit_dialog)
        self._action(export, "Candidates Table (CSV)…", self.export_table_dialog)
        self._action(export, "Latent Map (PNG, SVG)…", lambda: self.export_plot_dialog("map"))
        self._action(export, "PDF Plot (PNG, SVG)…", lambda: self.export_plot_dialog("pdf"))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = self._action(
            edit, "&Undo Move", self.undo, QKeySequence.StandardKey.Undo
        )
        self._action(edit, "&Redo Move", self.redo, QKeySequence.StandardKey.Redo)
        self._action(edit, "Back to &Prior", self.back_to_prior)
        self._action(edit, "Search &Whole Map", self.search_whole_map, QKeySequence("Ctrl+M"))
        self._action(edit, "&Cancel Job", self.cancel_job, QKeySequence("Esc"))
        help_menu = self.menuBar().addMenu("&Help")
        examples = help_menu.addMenu("&Examples")
        for path in sorted(EXAMPLES_DIR.glob("*.gr")):
            action = self._action(
                examples, EXAMPLE_TITLES.get(path.name, path.name), lambda p=path: self.open_file(p)
            )
            action.setStatusTip(EXAMPLE_CREDIT)
        self._action(help_menu, "&About", self.show_about)

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda *_: slot())
        menu.addAction(action)
        return action

    # --- wiring -------------------
    def _connect(self) -> None:
        s = self.session
        s.data_changed.connect(self._on_data)
        s.prior_changed.connect(self._on_prior)
        s.query_changed.connect(self._on_query)
        s.candidates_changed.connect(self._on_candidates)
        s.selection_changed.connect(self._on_selection)
        s.preview_changed.connect(self._on_preview)
        m = self.map_view
        m.center_dragged.connect(self._on_drag)
        m.center_released.connect(self._on_release)
        m.radius_changed.connect(
            lambda r: self._edit_query({"free_radius": r, "sigma_multiple": None})
        )
        m.training_point_clicked.connect(self._on_training_point)
        m.empty_clicked.connect(lambda x, y: self._decode_point(np.array([x, y]), "point "))
        m.candidate_clicked.connect(self.session.select)
        self.table.candidate_selected.connect(self.session.select)
        self.pdf_panel.fit_range_changed.connect(
            lambda lo, hi: self._edit_query({"rmin": round(lo, 2), "rmax": round(hi, 2)})
        )
        c = self.controls
        c.query_edited.connect(self._edit_query)
        c.model_chosen.connect(self._choose_model)
        c.element_edited.connect(self._set_element)
        c.solve_clicked.connect(self.start_solve)
        c.back_to_prior_clicked.connect(self.back_to_prior)
        c.whole_map_clicked.connect(self.search_whole_map)

    def _connect_worker(self) -> None:
        self.worker.delivered.connect(self._on_delivered)

    def _on_delivered(self, request: Request, result) -> None:
        if isinstance(result, ModelLoaded):
            self._on_model_loaded(request.id, {"bundle": result.bundle, "device": result.device})
        elif isinstance(result, PriorReady):
            self._on_prior_ready(request.id, (result.mean, result.sigma, result.bond_length))
        elif isinstance(result, Decoded):
            self._on_decoded(request.id, result.candidate)
        elif isinstance(result, Batch):
            self._on_batch(request.id, result.ranked, result.done, result.total)
        elif isinstance(result, Done):
            self._on_finished(request.id, request.lane)
        elif isinstance(result, Failed):
            self._on_failed(request.id, request.lane, result.message)

    # --- user intent -------------------
    def open_dialog(self) -> None:
        start = self.settings.value("last_dir", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(
            self, "Open PDF", start, "PDF data (*.gr *.dat *.txt *.csv *.xy);;All files (*)"
        )
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        try:
            data = read_pdf(path)
            data.model_input()  # fail now, with the file's name, rather than in the worker
        except PDFReadError as exc:
            self.show_error("Cannot read this PDF", str(exc))
            return False
        self.settings.setValue("last_dir", str(Path(path).resolve().parent))
        self._remember_recent(str(Path(path).resolve()))
        self.session.set_data(data)
        return True

    def start_solve(self, whole_map: bool = False) -> None:
        s = self.session
        if s.data is None or self.bundle is None or s.prior_mean is None:
            return
        q = s.query
        total = (
            len(np.unique(np.round(self.bundle.latent_map.mu, 4), axis=0))
            if whole_map
            else q.n_samples
        )
        radius = s.region_radius()
        self._latest["solve"] = self.worker.submit(
            Solve(
                data=s.data,
                fit_config=self._fit_config(),
                center=(float(q.center[0]), float(q.center[1])),
                semi_axes=(float(radius[0]), float(radius[1])),
                n_samples=q.n_samples,
                whole_map=whole_map,
                batch_size=max(50, min(250, total // 4)),
            )
        ).id
        self._solve_whole_map = whole_map
        self.controls.suggest_whole_map(False)
        self.session.clear_candidates()
        self.map_view.set_candidates(np.zeros((0, 2)), np.zeros(0))
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self._progress_timer.start()
        self.statusBar().showMessage("solving…")

    def search_whole_map(self) -> None:
        """Every training structure's map point, decoded and fitted (ignores the region)."""
        self.start_solve(whole_map=True)

    @property
    def solve_complete(self) -> bool:
        """True once the newest search has delivered all its candidates."""
        return self._latest["solve"] != -1 and self._solve_done == self._latest["solve"]

    def cancel_job(self) -> None:
        self.worker.cancel("solve")
        self._latest["solve"] = -1
        self._hide_progress()
        self.statusBar().showMessage("cancelled", 3000)

    def back_to_prior(self) -> None:
        self.session.back_to_prior()
        self.start_solve()

    def undo(self) -> None:
        self.session.undo()
        self.start_solve()

    def redo(self) -> None:
        self.session.redo()
        self.start_solve()

    def _edit_query(self, changes: dict) -> None:
        self.session.update_query(**changes)

    def _choose_model(self, name: str) -> None:
        if name in self.models and name != (self.bundle.name if self.bundle else None):
            self.session.set_model(name)
            self._load_model(name)

    def _set_element(self, text: str) -> None:
        from ase.data import atomic_numbers

        text = text.strip().capitalize()
        if text and text not in atomic_numbers:
            self.show_error("Unknown element", f"'{text}' is not a chemical element symbol.")
            self.controls.show_element(self.session.element)
            return
        self.session.element = text

    def _load_model(self, name: str) -> None:
        self.status_device.setText(f"loading model {name}…")
        self._latest["model"] = self.worker.submit(LoadModel(path=self.models[name])).id

    def _fit_config(self) -> FitConfig:
        q, s = self.session.query, self.session
        base = (
            PDFParameters.from_dict(self.bundle.metadata["pdf_parameters"])
            if self.bundle
            else PDFParameters()
        )
        params = parameters_from_metadata(s.data.metadata if s.data else {}, base)
        return FitConfig(
            rmin=q.rmin,
            rmax=max(q.rmax, q.rmin + 1.0),
            params=params,
            refine_qdamp=q.refine_qdamp,
            refine_delta2=q.refine_delta2,
        )

    def _on_drag(self, x: float, y: float) -> None:
        """Live: decode the point under the marker, at most ~30 requests a second.

        A drag makes the running search stale: cancel it so the live decode has the
        machine to itself.
        """
        if self._latest["solve"] != -1:
            self.worker.cancel("solve")
            self._latest["solve"] = -1
            self._hide_progress()
        self._pending_drag = (x, y)
        if not self._drag_timer.isActive():
            self._drag_timer.start()

    def _submit_drag(self) -> None:
        if self._pending_drag is not None:
            self._decode_point(np.array(self._pending_drag), "live ")
            self._pending_drag = None

    def _on_release(self, x: float, y: float) -> None:
        self.session.move_center(x, y)
        self.start_solve()

    def _on_training_point(self, index: int) -> None:
        if self.bundle is None:
            return
        m = self.bundle.latent_map
        self._decode_point(m.mu[index], f"{m.names[index]} ({m.types[index]}): ")

    def _decode_point(self, z: np.ndarray, title: str) -> None:
        if self.bundle is None or self.session.data is None:
            return
        self._preview_title = title
        z = np.asarray(z, float)
        self._latest["decode"] = self.worker.submit(
            Decode(
                data=self.session.data,
                z=(float(z[0]), float(z[1])),
                fit_config=self._fit_config(),
                label=title,
            )
        ).id

    # --- worker results (GUI thread) ------------------------------------------------------
    def _on_model_loaded(self, request_id: int, info: dict) -> None:
        if request_id != self._latest["model"]:
            return
        self.bundle = info["bundle"]
        self.device_name = info["device"]
        self.status_device.setText(f"{self.bundle.name} · {self.device_name}")
        self.map_view.set_latent_map(self.bundle.latent_map)
        if self.session.data is not None:
            self._request_prior()

    def _request_prior(self) -> None:
        self._latest["prior"] = self.worker.submit(Prior(data=self.session.data)).id

    def _on_prior_ready(self, request_id: int, result) -> None:
        if request_id != self._latest["prior"]:
            return
        mean, sigma, bond = result
        self.session.set_prior(mean, sigma)
        self._bond_note = f"bond length read from the PDF {bond:.3f} Å"
        self.start_solve()

    def _on_decoded(self, request_id: int, candidate) -> None:
        if request_id == self._latest["decode"]:
            self.session.set_preview(candidate)

    def _on_batch(self, request_id: int, ranked, done: int, total: int) -> None:
        if request_id != self._latest["solve"]:
            return  # a stale job: never shown
        self.session.set_candidates(ranked)
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.statusBar().showMessage(
            f"{done}/{total} candidates, best Rw {ranked[0].rw:.4f}; {self._bond_note}"
        )

    def _on_finished(self, request_id: int, kind: str) -> None:
        if kind == "solve" and request_id == self._latest["solve"]:
            self._solve_done = request_id
            self._hide_progress()
            cands = self.session.candidates
            if cands:
                poor = not self._solve_whole_map and cands[0].rw > POOR_FIT_RW
                self.controls.suggest_whole_map(poor)
                hint = (
                    " — nothing here fits: the prior may have misplaced these data; "
                    "try Search whole map (Ctrl+M)"
                    if poor
                    else ""
                )
                self.statusBar().showMessage(
                    f"{len(cands)} candidates, best Rw {cands[0].rw:.4f} "
                    f"({cands[0].nearest_type}, {cands[0].n_atoms} atoms); {self._bond_note}{hint}"
                )
            self.autosave()

    def _on_failed(self, request_id: int, kind: str, message: str) -> None:
        if request_id != self._latest.get(kind, -1):
            return
        self._hide_progress()
        if kind == "model":
            self.status_device.setText("model failed to load")
            self.show_error("Cannot load the model", message)
        elif kind != "decode":
            self.show_error(f"The {kind} job failed", message)

    # --- state → views -------------------
    def _on_data(self) -> None:
        d = self.session.data
        self.central.setCurrentIndex(0 if d is None else 1)
        self.pdf_panel.set_data(d)
        self.controls.show_element(self.session.element)
        self.map_view.set_prior(None, None)
        if d is not None:
            self.setWindowTitle(f"DeepStruc GUI — {d.name}")
            if self.bundle is not None:
                self._request_prior()

    def _on_prior(self) -> None:
        s = self.session
        self.map_view.set_prior(s.prior_mean, s.prior_sigma)

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
        if cands:
            self.map_view.set_candidates(
                np.array([c.latent for c in cands]), np.array([c.rw for c in cands])
            )

    def _on_selection(self) -> None:
        c = self.session.selected_candidate
        self.table.select_row(self.session.selected)
        self.map_view.set_selected(None if c is None else c.latent)
        self._show_candidate(c, "" if c is None else f"#{self.session.selected + 1}  ")

    def _on_preview(self) -> None:
        self._show_candidate(self.session.preview, self._preview_title)

    def _show_candidate(self, c, title: str) -> None:
        if c is None:
            self.structure_view.set_structure(None)
            self.pdf_panel.show_candidate(None)
            return
        self.structure_view.set_structure(c.positions, c.nearest_type, self.session.element)
        self.pdf_panel.show_candidate(c, title)

    # --- progress -------------------
    def _show_progress(self) -> None:
        if self._latest["solve"] != -1 and self.worker.busy:
            self.progress.setVisible(True)
            self.cancel_button.setVisible(True)

    def _hide_progress(self) -> None:
        self._progress_timer.stop()
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.statusBar().clearMessage()

    # --- files -------------------
    def _save_name(self, title: str, filters: str, default: str) -> str:
        start = str(Path(self.settings.value("export_dir", str(Path.home()))) / default)
        path, _ = QFileDialog.getSaveFileName(self, title, start, filters)
        if path:
            self.settings.setValue("export_dir", str(Path(path).parent))
        return path

    def _guarded(self, what: str, fn) -> bool:
        try:
            fn()
            return True
        except (OSError, ValueError) as exc:
            self.show_error(f"Cannot {what}", str(exc))
            return False

    def export_structure_dialog(self) -> None:
        c = self.session.selected_candidate
        if c is None:
            return self.show_error("Nothing to export", "Select a candidate first.")
        element = self.session.element or "Pt"
        path = self._save_name(
            "Export structure",
            "XYZ (*.xyz);;Extended XYZ (*.extxyz);;CIF (*.cif)",
            f"candidate_{self.session.selected + 1}_{element}{c.n_atoms}.xyz",
        )
        if path:
            self._guarded("export the structure", lambda: export_structure(path, c, element))

    def export_fit_dialog(self) -> None:
        c = self.session.selected_candidate
        if c is None or self.session.data is None:
            return self.show_error("Nothing to export", "Select a candidate first.")
        path = self._save_name("Export fit", "CSV (*.csv)", "fit.csv")
        if path:
            self._guarded("export the fit", lambda: export_fit(path, c, self.session.data))

    def export_table_dialog(self) -> None:
        if not self.session.candidates:
            return self.show_error("Nothing to export", "No candidates yet.")
        path = self._save_name("Export candidates", "CSV (*.csv)", "candidates.csv")
        if path:
            self._guarded("export the table", lambda: export_table(path, self.session.candidates))

    def export_plot_dialog(self, which: str) -> None:
        widget = self.map_view if which == "map" else self.pdf_panel
        path = self._save_name("Export plot", "PNG (*.png);;SVG (*.svg)", f"{which}.png")
        if path:
            self._guarded("export the plot", lambda: export_plot(path, widget.getPlotItem()))

    def save_session_dialog(self) -> None:
        path = self._save_name(
            "Save session", "DeepStruc session (*.dsession.json)", "session.dsession.json"
        )
        if path:
            self._guarded("save the session", lambda: self.session.save(path))

    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open session", str(Path.home()), "DeepStruc session (*.dsession.json *.json)"
        )
        if path:
            self.open_session(path)

    def open_session(self, path: str | Path) -> bool:
        try:
            payload = Session.load_file(path)
            model = payload.get("model")
            self.session.restore(payload)
        except ValueError as exc:
            self.show_error("Cannot open the session", f"{path}: {exc}")
            return False
        if model in self.models and (self.bundle is None or self.bundle.name != model):
            self.controls.set_models(list(self.models), model)
            self._load_model(model)
        return True

    @staticmethod
    def autosave_path() -> Path:
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        return Path(base or Path.home() / ".deepstruc-gui") / "autosave.dsession.json"

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

    def _remember_recent(self, path: str) -> None:
        recent = [p for p in json.loads(self.settings.value("recent", "[]")) if p != path]
        self.settings.setValue("recent", json.dumps([path, *recent][:MAX_RECENT]))
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for p in json.loads(self.settings.value("recent", "[]")):
            self._action(self.recent_menu, p, lambda p=p: self.open_file(p))

    # --- misc -------------------
    def show_error(self, title: str, message: str) -> None:
        """A message box; tests replace it to record messages instead of blocking."""
        QMessageBox.warning(self, title, message)

    def about_text(self) -> str:
        """Version, device, what the loaded model measures, and the citation."""
        meta = self.bundle.metadata if self.bundle else {}
        lines = [
            f"<h3>DeepStruc GUI {__version__}</h3>",
            f"<p>Device: {self.device_name}</p>",
            f"<p>Model: {meta.get('name', 'none')} — {meta.get('description', '')}<br>",
            f"trained on {meta.get('training', {}).get('n_train', '?')} structures</p>",
        ]
        for key, inputs in (
            ("metrics", "simulated test PDFs"),
            ("metrics_measured_like", "measured-like test PDFs"),
        ):
            m = meta.get(key)
            if m:
                # the type of the best candidate is what the ranked table shows
                type_right = m.get("type_accuracy_best_of_n", m["type_accuracy"])
                lines.append(
                    f"<p>On {m.get('n_test', '?')} {inputs}: structure type right "
                    f"{100 * type_right:.1f} %, best-of-{m.get('samples', '?')} "
                    f"xyz error {m['mae_best_of_n'][0]:.3f} Å "
                    f"(median {m.get('mae_best_of_n_median', float('nan')):.3f} Å)</p>"
                )
        cover = meta.get("prior_fit", {}).get("coverage_measured_like")
        if cover:
            lines.append(
                f"<p>Prior σ calibrated: the true structure lies inside 3σ for "
                f"{100 * cover['3sigma']:.0f} % of measured-like PDFs</p>"
            )
        lines.append(f"<p>Please cite: {CITATION}</p>")
        return "".join(lines)

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
        self.worker_thread.stop()
        self._autosaves.shutdown(wait=True)
        super().closeEvent(event)
