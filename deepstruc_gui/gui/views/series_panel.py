"""The series panel: a watched folder's frames as a table and as plots against frame.

Observes a :class:`~deepstruc_gui.state.series.SeriesState`; a
:class:`~deepstruc_gui.gui.series_worker.SeriesWorker` thread follows the folder and
solves each frame, so new frames arrive without freezing the window. Plots: best Rw,
atom count, nearest-neighbour distance (model bond length × refined expansion) and
Biso against frame, and the chosen frame's fit. ``path_item`` is the series' path for
the latent map (:class:`~deepstruc_gui.gui.views.series_path.SeriesPathItem`).
Choosing a frame (table row or path point) emits ``frame_selected(FrameRecord)``: its
``candidate``, ``result`` and ``data`` are what the window shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from deepstruc_gui.gui.series_worker import SeriesThread, start_series_worker
from deepstruc_gui.gui.views.series_path import SeriesPathItem
from deepstruc_gui.state.series import SeriesState

#: (header, FrameRecord attribute, format) of the table's columns
TABLE = (
    ("frame", "frame", "{}"), ("file", "file", "name"), ("Rw", "rw", "{:.4f}"),
    ("type", "type", "{}"), ("atoms", "n_atoms", "{}"), ("expansion", "expansion", "{:.4f}"),
    ("bond (Å)", "bond_length", "{:.3f}"), ("Biso (Å²)", "biso", "{:.3f}"),
    ("search", "search", "{}"), ("notes", "warnings", "notes"),
)  # fmt: skip
#: (title, column, y label) of the plots against frame
PLOTS = (
    ("best Rw", "rw", "Rw"),
    ("atoms", "n_atoms", "atoms"),
    ("nearest-neighbour distance", "bond_length", "Å"),
    ("ADP", "biso", "Biso (Å²)"),
)


class SeriesTableModel(QAbstractTableModel):
    """The records of a :class:`SeriesState`, one row per frame (appends incrementally)."""

    def __init__(self, state: SeriesState) -> None:
        super().__init__()
        self.state = state
        self._rows = 0
        state.records_changed.connect(self._changed)

    def _changed(self) -> None:
        n = len(self.state.records)
        if n > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, n - 1)
            self._rows = n
            self.endInsertRows()
        else:
            self.beginResetModel()
            self._rows = n
            self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TABLE)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return TABLE[section][0]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        record = self.state.records[index.row()]
        _title, name, fmt = TABLE[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            notes = [f"{w['code']}: {w['message']}" for w in record.warnings]
            return "\n".join([record.error] if record.error else notes) or record.file
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if not record.ok and name not in ("frame", "file"):
            return f"error: {record.error}" if name == "type" else ""
        value = getattr(record, name)
        if fmt == "name":
            return Path(value).name
        if fmt == "notes":
            return ", ".join(w["code"] for w in value)
        return fmt.format(value)


class SeriesPanel(QWidget):
    """Table, plots, stop and export buttons of one series (see module docstring)."""

    frame_selected = Signal(object)  # FrameRecord

    def __init__(self, state: SeriesState | None = None, parent=None) -> None:
        super().__init__(parent)
        self.state = state or SeriesState()
        self.runner: SeriesThread | None = None
        self._retired: list[SeriesThread] = []  # stopped, their thread still ending
        self.path_item = SeriesPathItem()
        self.path_item.frame_clicked.connect(self.select_frame)
        self.folder_label = QLabel("no folder watched")
        self.status_label = QLabel("")
        self.stop_button = QPushButton("Stop watching")
        self.stop_button.clicked.connect(self.stop)
        self.export_table_button = QPushButton("Export table…")
        self.export_table_button.clicked.connect(self._export_table_dialog)
        self.export_plots_button = QPushButton("Export plots…")
        self.export_plots_button.clicked.connect(self._export_plots_dialog)
        bar = QHBoxLayout()
        for w in (self.folder_label, self.status_label):
            bar.addWidget(w)
        bar.addStretch(1)
        for w in (self.stop_button, self.export_table_button, self.export_plots_button):
            bar.addWidget(w)
        self.model = SeriesTableModel(self.state)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.state.select(
                current.row() if current.isValid() else None
            )
        )
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.curves = {}
        first = None
        for k, (title, column, unit) in enumerate(PLOTS):
            plot = self.plots.addPlot(row=k // 2, col=k % 2, title=title)
            plot.setLabel("left", unit)
            plot.setLabel("bottom", "frame")
            plot.showGrid(x=True, y=True, alpha=0.2)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            self.curves[column] = plot.plot(pen=pg.mkPen("#1f77b4", width=1.5), symbol="o",
                                            symbolSize=5, symbolBrush="#1f77b4")  # fmt: skip
        self.fit_plot = self.plots.addPlot(row=2, col=0, colspan=2, title="chosen frame's fit")
        self.fit_plot.setLabel("bottom", "r (Å)")
        self.fit_plot.setLabel("left", "G(r)")
        self.fit_obs = self.fit_plot.plot(pen=None, symbol="o", symbolSize=3, symbolBrush="k")
        self.fit_calc = self.fit_plot.plot(pen=pg.mkPen("r", width=1.5))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.plots)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        self.state.records_changed.connect(self._records_changed)
        self.state.selection_changed.connect(self._selection_changed)
        self.state.watching_changed.connect(self._watching_changed)
        self.state.status_changed.connect(lambda: self.status_label.setText(self.state.status))
        self._records_changed()
        self._watching_changed()

    # --- the watch -----------------------------------------------------------------
    def watch(self, folder: str | Path, pattern: str = "*.gr", **worker_options) -> None:
        """Start following ``folder`` (stopping any series before): ``worker_options``
        go to :class:`~deepstruc_gui.gui.series_worker.SeriesWorker` (``settings``,
        ``model`` or ``predictor``, ``watch``, ``settle``, ``give_up``)."""
        self.stop()
        self.state.start(folder, pattern)
        self.folder_label.setText(f"{Path(folder)} ({pattern})")
        self.runner = start_series_worker(folder, pattern, **worker_options)
        worker = self.runner.worker
        # bound methods of this widget: queued to the GUI thread (a plain function or a
        # lambda would run in the worker's thread)
        worker.record_ready.connect(self._add_record)
        worker.status.connect(self._set_status)
        worker.failed.connect(self._failed)
        worker.finished.connect(self._finished)

    def stop(self) -> None:
        """Stop watching (one click): the frame in progress is cancelled at its next batch
        and the thread ends by itself; the GUI thread does not wait for it."""
        runner, self.runner = self.runner, None
        if runner is not None:
            for signal, slot in ((runner.worker.record_ready, self._add_record),
                                 (runner.worker.status, self._set_status),
                                 (runner.worker.finished, self._finished)):  # fmt: skip
                signal.disconnect(slot)
            runner.worker.stop()
            if runner.thread.isRunning():
                self._retired.append(runner)
                runner.thread.finished.connect(lambda: self._retire(runner))
        self.state.set_watching(False)
        if self.state.folder is not None:
            self.state.set_status(f"stopped after {len(self.state.records)} frames")

    def _retire(self, runner: SeriesThread) -> None:
        if runner in self._retired:
            self._retired.remove(runner)

    def shutdown(self, wait_ms: int = 30000) -> bool:
        """Stop and wait for every series thread (closing the window); True when all ended."""
        self.stop()
        ended = all(r.stop(wait_ms) for r in list(self._retired))
        self._retired.clear()
        return ended

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def select_frame(self, frame: int) -> None:
        """Choose the record of frame number ``frame`` (a click on the path)."""
        for k, record in enumerate(self.state.records):
            if record.frame == frame:
                self.table.selectRow(k)
                self.state.select(k)
                return

    # --- observers ---------------------------------------------------------------
    def _records_changed(self) -> None:
        frames = self.state.column("frame")
        for _title, column, _unit in PLOTS:
            y = self.state.column(column)
            ok = np.isfinite(y)
            self.curves[column].setData(frames[ok], y[ok])
        numbers, points = self.state.path()
        self.path_item.set_path(points, numbers)
        if self.state.records and self.state.selected is None:
            self.table.scrollToBottom()

    def _selection_changed(self) -> None:
        record = self.state.selected_record
        if record is None or record.candidate is None:
            self.fit_obs.setData([], [])
            self.fit_calc.setData([], [])
        else:
            c = record.candidate
            if record.data is not None:
                self.fit_obs.setData(c.r, np.interp(c.r, record.data.r, record.data.g))
            self.fit_calc.setData(c.r, c.gcalc)
            self.fit_plot.setTitle(f"{Path(record.file).name}: {record.type}, "
                                   f"{record.n_atoms} atoms, Rw {record.rw:.3f}")  # fmt: skip
        if record is not None:
            self.frame_selected.emit(record)

    def _watching_changed(self) -> None:
        self.stop_button.setEnabled(self.state.watching)

    def _add_record(self, record) -> None:
        self.state.add(record)

    def _set_status(self, text: str) -> None:
        self.state.set_status(text)

    def _finished(self) -> None:
        self.state.set_watching(False)

    def _failed(self, message: str) -> None:
        self.state.set_status("stopped: error")
        self.show_error("Series stopped", message)

    # --- exports -----------------------------------------------------------------
    def export_table(self, path: str | Path) -> Path:
        """The series table as CSV (``model.series.COLUMNS``)."""
        return self.state.export_csv(path)

    def export_plots(self, path: str | Path) -> Path:
        """The plots as one image: ``.png`` (pyqtgraph's exporter, at least 800 px wide)
        or ``.svg`` (Qt's SVG generator: pyqtgraph's SVG exporter fails on Qt 6 paths)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".png":
            from pyqtgraph.exporters import ImageExporter

            exporter = ImageExporter(self.plots.ci)
            exporter.parameters()["width"] = max(800, int(self.plots.width()))
            exporter.export(str(path))
        elif suffix == ".svg":
            from PySide6.QtCore import QRect, QSize
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator

            size = QSize(max(800, self.plots.width()), max(600, self.plots.height()))
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(size)
            generator.setViewBox(QRect(0, 0, size.width(), size.height()))
            generator.setTitle("DeepStruc GUI series")
            painter = QPainter(generator)
            try:
                self.plots.render(painter)
            finally:
                painter.end()
        else:
            raise ValueError(f"{path.name}: choose .png or .svg")
        if not path.exists():
            raise OSError(f"{path}: the image was not written")
        return path

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def _export_table_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export series table", "series.csv",
                                              "CSV (*.csv)")  # fmt: skip
        self._guarded(self.export_table, path)

    def _export_plots_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export series plots", "series.png",
                                              "PNG image (*.png);;SVG image (*.svg)")  # fmt: skip
        self._guarded(self.export_plots, path)

    def _guarded(self, export, path: str) -> None:
        if not path:
            return
        try:
            export(path)
        except Exception as exc:  # any failure gets a dialog, never a silent nothing
            self.show_error("Export failed", f"{path}: {exc}")
