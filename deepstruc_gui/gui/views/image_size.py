"""The size of an exported image: width in pixels (the height follows the view's aspect
ratio) and the DPI written into the PNG, with the printed size it gives."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
)

MIN_WIDTH, MAX_WIDTH = 200, 12000
DPI_CHOICES = (72, 96, 150, 300, 600, 1200)
CM_PER_INCH = 2.54


@dataclass(frozen=True)
class ImageSize:
    """``width`` × ``height`` pixels; ``dpi`` dots per inch written in the file."""

    width: int
    height: int
    dpi: int

    def printed_cm(self) -> tuple[float, float]:
        return (self.width / self.dpi * CM_PER_INCH, self.height / self.dpi * CM_PER_INCH)


class ImageSizeDialog(QDialog):
    """Ask for an image's width (px) and DPI; ``aspect`` = height / width of the view."""

    def __init__(self, parent, title: str, aspect: float, width: int, dpi: int) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.aspect = max(float(aspect), 1e-3)
        form = QFormLayout(self)
        self.width_box = QSpinBox()
        self.width_box.setRange(MIN_WIDTH, MAX_WIDTH)
        self.width_box.setSingleStep(100)
        self.width_box.setSuffix(" px")
        self.width_box.setValue(int(width))
        self.width_box.setToolTip("Image width in pixels; the height keeps the view's shape")
        self.dpi_box = QSpinBox()
        self.dpi_box.setRange(DPI_CHOICES[0], DPI_CHOICES[-1])
        self.dpi_box.setSuffix(" DPI")
        self.dpi_box.setValue(int(dpi))
        self.dpi_box.setToolTip(
            "Dots per inch written into the PNG: the printed size a word processor or "
            "LaTeX gives it (300 for papers; 96 for screens)"
        )
        self.summary = QLabel()
        form.addRow("Width", self.width_box)
        form.addRow("Resolution", self.dpi_box)
        form.addRow("", self.summary)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.width_box.valueChanged.connect(self._describe)
        self.dpi_box.valueChanged.connect(self._describe)
        self._describe()

    def choice(self) -> ImageSize:
        w = self.width_box.value()
        return ImageSize(w, max(1, round(w * self.aspect)), self.dpi_box.value())

    def _describe(self) -> None:
        c = self.choice()
        cw, ch = c.printed_cm()
        self.summary.setText(f"{c.width} × {c.height} px = {cw:.1f} × {ch:.1f} cm at {c.dpi} DPI")
