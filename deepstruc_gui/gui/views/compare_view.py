"""Side by side: a training structure and what the decoder gives at its map point, with
their PDFs and the matched error (the teaching mode). Both 3-D views turn together."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from deepstruc_gui.gui.views.structure_view import StructureView


def mae_text(mae: float, n_truth: int, n_decoded: int) -> str:
    """The sentence written under the two views (MAE in Å)."""
    if not np.isfinite(mae):
        return f"the decoder gives no atoms here ({n_truth} in the training structure)"
    return (
        f"matched error (MAE) {mae:.3f} Å over {min(n_truth, n_decoded)} atom pairs "
        f"(Hungarian pairing); {n_truth} atoms → {n_decoded} decoded"
    )


def _header(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class CompareView(QWidget):
    """Training structure (left), reconstruction (right), both PDFs below."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.reconstruction = None
        layout = QVBoxLayout(self)
        self.message = _header(
            "Click a training point on the map to compare it with its reconstruction"
        )
        layout.addWidget(self.message)
        row = QHBoxLayout()
        self.truth_view, self.decoded_view = StructureView(), StructureView()
        self.truth_header = _header("training structure")
        self.decoded_header = _header("decoded at its map point")
        for header, view in (
            (self.truth_header, self.truth_view),
            (self.decoded_header, self.decoded_view),
        ):
            column = QVBoxLayout()
            column.addWidget(header)
            column.addWidget(view, 1)
            row.addLayout(column, 1)
        layout.addLayout(row, 3)
        a, b = self.truth_view, self.decoded_view
        if a.canvas is not None and b.canvas is not None:  # one turn turns both
            a.view.camera.link(b.view.camera)
        self.error = _header("")
        self.error.setStyleSheet("font-weight: bold")
        self.error.setToolTip(
            "Mean absolute error of the coordinates (Å) over atoms paired one to one by "
            "the Hungarian assignment: the measure the DeepStruc paper reports"
        )
        layout.addWidget(self.error)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "r (Å)")
        self.plot.setLabel("left", "G(r) / max")
        self.plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.truth_curve = self.plot.plot(pen=pg.mkPen("#1F4E99", width=2), name="training")
        self.decoded_curve = self.plot.plot(
            pen=pg.mkPen("#D62728", width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine),
            name="reconstruction",
        )
        self.plot.setMinimumHeight(120)
        layout.addWidget(self.plot, 2)

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def show_reconstruction(self, rec, name: str) -> None:
        """``rec`` a :class:`~deepstruc_gui.model.reconstruction.Reconstruction`;
        ``name`` the training structure's readable name."""
        self.reconstruction = rec
        z = rec.z
        self.message.setText(f"{name}: the training structure and its reconstruction")
        self.truth_header.setText(f"<b>training</b> · {len(rec.truth)} atoms")
        self.decoded_header.setText(
            f"<b>decoded</b> at z = ({z[0]:.2f}, {z[1]:.2f}), bond {rec.bond:.2f} Å · "
            f"{len(rec.decoded)} atoms"
        )
        self.truth_view.set_structure(rec.truth, rec.kind, rec.metal)
        self.decoded_view.set_structure(rec.decoded, rec.kind, rec.metal)
        # the same camera for both (sizes compare): the larger structure frames both
        views = (self.truth_view, self.decoded_view)
        bigger = max(views, key=lambda v: v.diameter())
        if bigger.canvas is not None:
            bigger.reset_view()
            for v in views:
                v.view.camera.distance = bigger.view.camera.distance
                v.scale_bar.update()
                v.canvas.update()
        self.error.setText(mae_text(rec.mae, len(rec.truth), len(rec.decoded)))
        self.truth_curve.setData(rec.r, rec.g_truth)
        self.decoded_curve.setData(rec.r, rec.g_decoded)
