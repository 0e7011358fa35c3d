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
    QLabel,
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
    reset_clicked = Signal()

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
        form.addRow("Region", row)
        form.addRow("Radius", self.radius)
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
        fixed = QCheckBox("scale, expansion, Biso")
        fixed.setChecked(True)
        fixed.setEnabled(False)
        fixed.setToolTip("Always refined: scale, isotropic expansion and Biso (Å²)")
        form.addRow("Refine", fixed)
        self.refine_qdamp = QCheckBox("Qdamp")
        self.refine_delta2 = QCheckBox("delta2")
        self.refine_qdamp.toggled.connect(lambda v: self._emit(refine_qdamp=bool(v)))
        self.refine_delta2.toggled.connect(lambda v: self._emit(refine_delta2=bool(v)))
        for w in (self.refine_qdamp, self.refine_delta2):
            refine.addWidget(w)
        form.addRow("also", refine)
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
        self.back.setText("To prior")
        form.addRow(buttons)
        form.addRow(self.whole_map)
        carried = QHBoxLayout()
        self.carried = QLabel()
        self.carried.setStyleSheet("color: #9C4A00")
        self.carried.setWordWrap(True)
        self.reset = QPushButton("Reset")
        self.reset.setToolTip("Back to the default fit range (2–30 Å), 3σ region and refinement")
        self.reset.clicked.connect(self.reset_clicked)
        carried.addWidget(self.carried, 1)
        carried.addWidget(self.reset)
        form.addRow(carried)
        self.show_carried("")
        self._tooltips()
        self.set_has_data(False)
        self._updating = False

    def _tooltips(self) -> None:
        """What each control is, its unit and typical values."""
        for widget, tip in (
            (self.model, "The trained network: 'mmnp' for mono-metallic nanoparticles"),
            (self.samples, "Latent points decoded and fitted per search; 500 take ~2 s"),
            (
                self.radius,
                "Radius of the sampling circle in latent units (the map's z₁, z₂); "
                "the prior's σ is typically 0.05–0.3",
            ),
            (self.rmin, "Lower end of the fit range in Å (typical 1.5–2.5 Å)"),
            (self.rmax, "Upper end of the fit range in Å (typical 20–30 Å)"),
            (
                self.refine_qdamp,
                "Refine Qdamp (Å⁻¹), the instrument's Gaussian damping (typical 0.02–0.05); "
                "else the value of the file header or the model",
            ),
            (
                self.refine_delta2,
                "Refine delta2 (Å²), correlated motion sharpening near peaks (typical 0–5)",
            ),
            (self.element, "Chemical symbol written into exports and shown in the 3-D view"),
            (self.solve, "Decode and fit the samples inside the region (Ctrl+R)"),
            (self.back, "Move the centre back to the prior's mean and search there (Ctrl+B)"),
        ):
            widget.setToolTip(tip)
        for button in self.presets.buttons():
            k = self.presets.id(button)
            button.setToolTip(
                f"Sample inside {k}σ of the prior: the region the model expects the data in"
                if k
                else "Sample inside a circle of the radius at the right (latent units)"
            )

    def set_has_data(self, has: bool) -> None:
        """Buttons that search are enabled only with data loaded."""
        for button in (self.solve, self.back, self.whole_map):
            button.setEnabled(has)

    def show_carried(self, name: str) -> None:
        """Say that the settings came from the previous file ``name`` ("" hides it)."""
        self.carried.setText(f"fit range and region carried from {name}" if name else "")
        self.carried.setVisible(bool(name))
        self.reset.setVisible(bool(name))

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
