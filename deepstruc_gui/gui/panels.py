"""The window's analysis panels, built and wired in one place: the warnings banner
(beside the result), the Rw landscape layer on the map with its controls, "Refine
here", and the series panel (File › Watch folder…). The decisions are in
:mod:`deepstruc_gui.gui.landscape_presenter` and
:mod:`deepstruc_gui.gui.series_presenter`; this module only builds widgets, menu
actions and dialogs and forwards calls (it is the view of both presenters).

The window calls :class:`Panels` ``(window)`` once after its search presenter exists,
:meth:`Panels.add_file_menu` and :meth:`Panels.add_edit_menu` while it builds its
menus, and :meth:`Panels.shutdown` when it closes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMenu

from deepstruc_gui.gui.landscape_presenter import LandscapePresenter
from deepstruc_gui.gui.series_presenter import SeriesPresenter
from deepstruc_gui.gui.views.landscape_layer import LandscapeControls, LandscapeLayer
from deepstruc_gui.gui.views.series_panel import SeriesPanel
from deepstruc_gui.gui.views.warnings_banner import WarningsBanner

LANDSCAPE_FILTER = "PNG image (*.png);;CSV table (*.csv);;NumPy grid (*.npz)"
#: the landscape PNG's first offered width: 4 px per heat-map cell
LANDSCAPE_WIDTH = 960


class Panels:
    """Banner, landscape layer, series dock and their presenters, for one window."""

    def __init__(self, window) -> None:
        self.window = w = window
        self.banner = WarningsBanner()
        w.structure_view.parentWidget().insertWidget(0, self.banner)  # above the result
        self.layer = LandscapeLayer(w.map_view.getPlotItem())
        self.layer.hovered.connect(lambda text: text and w.show_status(text, 3000))
        self.layer_controls = LandscapeControls(self.layer)
        self.layer_controls.opacity.setMaximumWidth(160)
        toolbar = w.addToolBar("Rw landscape")
        toolbar.setObjectName("toolbar_landscape")
        toolbar.addWidget(self.layer_controls)
        self.series_panel = SeriesPanel(w.session.series)
        self.series_dock = QDockWidget("Series", w)
        self.series_dock.setObjectName("dock_Series")
        self.series_dock.setWidget(self.series_panel)
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.series_dock)
        self.series_dock.hide()
        w.map_view.addItem(self.series_panel.path_item)
        p = w.presenter
        self.landscape = LandscapePresenter(
            w.session, w.worker, self, p.fit_config, lambda: p.bundle
        )
        self.series = SeriesPresenter(self, lambda: p.models.get(w.session.model_name))
        self.series_panel.frame_selected.connect(self.series.frame_selected)
        w.worker.delivered.connect(self.landscape.deliver)

    # --- menus ----------------------------------------------------------------------
    def add_file_menu(self, file_menu: QMenu, export_menu: QMenu) -> None:
        w = self.window
        file_menu.addSeparator()
        self.watch_action = _action(w, file_menu, "&Watch Folder…", self.watch_dialog)
        self.stop_action = _action(w, file_menu, "S&top Watching", self.series.stop)
        _action(w, export_menu, "Rw Landscape (PNG, CSV, NPZ)…", self.export_landscape_dialog)
        _action(w, export_menu, "Series Table (CSV)…", self.series_panel._export_table_dialog)

    def add_edit_menu(self, edit_menu: QMenu) -> None:
        w, lp = self.window, self.landscape
        edit_menu.addSeparator()
        self.refine_action = _action(w, edit_menu, "&Refine Here", lp.refine_here, "Ctrl+G")
        self.undo_refine_action = _action(
            w, edit_menu, "Undo Re&fine", lp.undo_refine, "Ctrl+Shift+G"
        )
        _action(w, edit_menu, "Compute Rw &Landscape", lp.compute, "Ctrl+L")

    # --- the presenters' view ----------------------------------------------------------
    def show_landscape(self, landscape) -> None:
        self.layer.set_landscape(landscape)

    def show_refine_path(self, path) -> None:
        if path is None:
            self.layer.clear_path()
        else:
            self.layer.set_path(np.asarray(path, float))

    def show_warnings(self, warnings: list) -> None:
        self.banner.set_warnings(warnings)  # it keeps its height fitted to its rows

    def show_status(self, message: str, timeout_ms: int = 0) -> None:
        self.window.show_status(message, timeout_ms)

    def show_error(self, title: str, message: str) -> None:
        self.window.show_error(title, message)

    def start_watch(self, folder: Path, pattern: str, model: Path, **options) -> None:
        self.series_dock.show()
        self.series_dock.raise_()
        self.series_panel.watch(folder, pattern, model=model, **options)

    def stop_watch(self) -> None:
        self.series_panel.stop()

    def show_frame(self, record, label: str) -> None:
        w = self.window
        w.pdf_panel.set_data(record.data)
        w.presenter.preview_label = label
        w.session.set_preview(record.candidate)

    # --- dialogs -------------------------------------------------------------------------
    def watch_dialog(self) -> None:
        w = self.window
        start = w.settings.value("watch_dir", str(Path.home()))
        folder = QFileDialog.getExistingDirectory(w, "Watch folder for new PDFs", start)
        if folder:
            w.settings.setValue("watch_dir", folder)
            self.series.watch(folder)

    def export_landscape(
        self, path: str | Path, width: int | None = None, dpi: int | None = None
    ) -> Path:
        """The landscape shown: ``.png`` the heat map as drawn (``width`` px wide, ``dpi``
        in the file; see :meth:`LandscapeLayer.save_image`), ``.csv`` one row per
        computed point, ``.npz`` the heat-map grid with its axes."""
        land = self.window.session.landscape
        if land is None:
            raise ValueError("no Rw landscape yet: run a search or Edit › Compute Rw Landscape")
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".png":
            self.layer.save_image(str(path), width, dpi)
        elif suffix == ".csv":
            land.export_csv(path)
        elif suffix == ".npz":
            land.export_grid(path)
        else:
            raise ValueError(f"{path.name}: write .png, .csv or .npz")
        return path

    def export_landscape_dialog(self) -> None:
        """The file, and for a PNG its size and DPI (the window's image-size dialog)."""
        w = self.window
        f = w.files
        path = f._save_name("Export Rw landscape", LANDSCAPE_FILTER, f"{f.stem()}_landscape.png")
        if not path:
            return
        width = dpi = None
        if Path(path).suffix.lower() == ".png":
            size = w.images.ask_size(
                "landscape", "Landscape image size", self.layer.aspect(), LANDSCAPE_WIDTH
            )
            if size is None:
                return
            width, dpi = size.width, size.dpi
        f.guarded("export the Rw landscape", lambda: self.export_landscape(path, width, dpi), path)

    def shutdown(self) -> bool:
        """Stop the series watch and wait for its thread (the window is closing)."""
        return self.series_panel.shutdown()


def _action(window, menu: QMenu, text: str, slot, shortcut: str | None = None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda *_: slot())
    menu.addAction(action)
    return action
