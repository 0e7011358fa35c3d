"""Search and fit settings: model, samples, region, fit range, refinement, element."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from deepstruc_gui.state.session import SIGMA_PRESETS, Query


class ControlsPanel(QWidget):
    """Shows the session's query; every edit is sent back as ``query_edited(changes)``."""

    query_edited = Signal(dict)
    model_chosen = Signal(str)
    element_edited = Signal(str)
    solve_clicked = Signal()
    back_to_prior_clicked = Signal()
    whole_map_clicked = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.model = QComboBox()
        self.model.currentTextChanged.connect(self._model_changed)
        form.addRow("Model", self.model)
        self.samples = QSpinBox()
        self.samples.setRange(10, 20000)
        self.samples.setSingleStep(100)
        self.samples.valueChanged.connect(lambda v: self._emit(n_samples=int(v)))
        form.addRow("Samples", self.samples)
        row = QHBoxLayout()
        self.presets = QButtonGroup(self)
        for k in SIGMA_PRESETS:
            b = QRadioButton(f"{k:g}σ")
            self.presets.addButton(b, int(k))
            row.addWidget(b)
        free = QRadioButton("radius")
        self.presets.addButton(free, 0)
        row.addWidget(free)
        self.presets.idClicked.connect(self._preset_clicked)
        self.radius = QDoubleSpinBox()
        self.radius.setRange(0.001, 100.0)
        self.radius.setDecimals(3)
        self.radius.setSingleStep(0.05)
        self.radius.valueChanged.connect(
            lambda v: self._emit(free_radius=float(v), sigma_multiple=None)
        )
        row.addWidget(self.radius)
        form.addRow("Region", row)
        rrow = QHBoxLayout()
        self.rmin = QDoubleSpinBox()
        self.rmax = QDoubleSpinBox()
        for box in (self.rmin, self.rmax):
            box.setRange(0.0, 100.0)
            box.setSingleStep(0.5)
            box.setSuffix(" Å")
            rrow.addWidget(box)
        self.rmin.valueChanged.connect(lambda v: self._emit(rmin=float(v)))
        self.rmax.valueChanged.connect(lambda v: self._emit(rmax=float(v)))
        form.addRow("Fit range", rrow)
        refine = QHBoxLayout()
        fixed = QCheckBox("scale, expansion, ADP")
        fixed.setChecked(True)
        fixed.setEnabled(False)
        self.refine_qdamp = QCheckBox("Qdamp")
        self.refine_delta2 = QCheckBox("delta2")
        self.refine_qdamp.toggled.connect(lambda v: self._emit(refine_qdamp=bool(v)))
        self.refine_delta2.toggled.connect(lambda v: self._emit(refine_delta2=bool(v)))
        for w in (fixed, self.refine_qdamp, self.refine_delta2):
            refine.addWidget(w)
        form.addRow("Refine", refine)
        self.element = QLineEdit()
        self.element.setPlaceholderText("e.g. Pt")
        self.element.setMaxLength(2)
        self.element.editingFinished.connect(lambda: self.element_edited.emit(self.element.text()))
        form.addRow("Export element", self.element)
        buttons = QHBoxLayout()
        self.solve = QPushButton("Solve")
        self.solve.setDefault(True)
        self.solve.clicked.connect(self.solve_clicked)
        self.back = QPushButton("Back to prior")
        self.back.clicked.connect(self.back_to_prior_clicked)
        self.whole_map = QPushButton("Search whole map")
        self.whole_map.setToolTip(
            "Decode and fit every training structure's point on the map (~3,000, ~10 s): "
            "for data the prior places badly"
        )
        self.whole_map.clicked.connect(self.whole_map_clicked)
        buttons.addWidget(self.solve)
        buttons.addWidget(self.back)
        form.addRow(buttons)
        form.addRow(self.whole_map)
        self._updating = False

    def suggest_whole_map(self, suggest: bool) -> None:
        """Draw the eye to the whole-map search after a region search that found nothing."""
        font = self.whole_map.font()
        font.setBold(suggest)
        self.whole_map.setFont(font)

    def set_models(self, names: list[str], current: str) -> None:
        self._updating = True
        self.model.clear()
        self.model.addItems(names)
        self.model.setCurrentText(current)
        self._updating = False

    def show_query(self, q: Query) -> None:
        """State → widgets, without echoing edits back (no second computation)."""
        self._updating = True
        try:
            self.samples.setValue(q.n_samples)
            button = self.presets.button(int(q.sigma_multiple or 0))
            if button is not None:
                button.setChecked(True)
            self.radius.setValue(q.free_radius)
            self.rmin.setValue(q.rmin)
            self.rmax.setValue(q.rmax)
            self.refine_qdamp.setChecked(q.refine_qdamp)
            self.refine_delta2.setChecked(q.refine_delta2)
        finally:
            self._updating = False

    def show_element(self, element: str) -> None:
        self.element.setText(element)

    def _emit(self, **changes) -> None:
        if not self._updating:
            self.query_edited.emit(changes)

    def _preset_clicked(self, k: int) -> None:
        self._emit(sigma_multiple=float(k) if k else None)

    def _model_changed(self, name: str) -> None:
        if not self._updating and name:
            self.model_chosen.emit(name)
