"""A banner beside the result that says when not to trust it.

Shows the warnings of one result (``model.diagnostics.Diagnostic`` objects, or
anything with ``.code``, ``.message`` and optionally ``.severity``) as one coloured
row each: the stable code in bold, then the sentence. Hidden while there is nothing
to say, so its appearance is itself the signal. The colour follows the worst
severity ("warning": amber; "info" only: blue). Codes are explained in
docs/WARNINGS.md; the text is selectable so users can copy it into a report.

Every word stays readable: the rows wrap, and the banner grows to their height at its
current width (kept up to date as the window is resized: a splitter, which holds it
in the window, does not ask for a height at a width) up to :data:`MAX_HEIGHT`; beyond
that its rows scroll, with the scroll bar showing.

The banner only displays: it holds no state beyond what it shows and sends one
intent back, ``dismissed`` (the user closed it for this result).
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

#: background, border and text colours per worst severity
STYLES = {
    "warning": ("#FFF4D6", "#D9A400", "#4A3800"),
    "info": ("#E6F0FB", "#5B8DD6", "#102A4C"),
}
#: the most the banner grows to (px); taller rows scroll
MAX_HEIGHT = 240


class WarningsBanner(QFrame):
    """A hideable list of warnings; :meth:`set_warnings` replaces what it shows."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningsBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 6, 4, 6)
        self.rows_widget = QWidget()
        self.rows_widget.setObjectName("warningsRows")
        self._rows = QVBoxLayout(self.rows_widget)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(4)
        self.scroll = QScrollArea(self)
        self.scroll.setWidget(self.rows_widget)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.viewport().setAutoFillBackground(False)
        self.rows_widget.setAutoFillBackground(False)
        self.rows_widget.installEventFilter(self)  # its width decides the rows' height
        outer.addWidget(self.scroll, 1)
        self._close = QToolButton(self)
        self._close.setText("×")
        self._close.setToolTip("Hide these warnings for this result")
        self._close.setAutoRaise(True)
        self._close.clicked.connect(self._dismiss)
        outer.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)
        self._labels: list[QLabel] = []
        self._shown: list = []
        self.setVisible(False)

    def warnings(self) -> list:
        """The warnings currently shown (empty when hidden)."""
        return list(self._shown)

    def texts(self) -> list[str]:
        """Plain text of each row, ``"code: message"``."""
        return [f"{w.code}: {w.message}" for w in self._shown]

    def severity(self) -> str | None:
        """The worst severity shown ("warning" or "info"), None when empty."""
        if not self._shown:
            return None
        levels = {getattr(w, "severity", "warning") for w in self._shown}
        return "warning" if "warning" in levels else "info"

    def set_warnings(self, warnings: Iterable) -> None:
        """Show these warnings (replacing any shown); hide the banner if there are none."""
        self._shown = list(warnings)
        for label in self._labels:
            self._rows.removeWidget(label)
            label.deleteLater()
        self._labels = []
        for warning in self._shown:
            label = QLabel(self.rows_widget)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setText(
                f"<b>{html.escape(str(warning.code))}</b> — {html.escape(str(warning.message))}"
            )
            label.setToolTip(f"{warning.code}: see docs/WARNINGS.md")
            self._rows.addWidget(label)
            self._labels.append(label)
        severity = self.severity()
        if severity is not None:
            background, border, text = STYLES[severity]
            self.setStyleSheet(
                f"#warningsBanner {{ background: {background}; border: 1px solid {border}; "
                f"border-radius: 4px; }} #warningsBanner QLabel {{ color: {text}; }} "
                "#warningsBanner QScrollArea, #warningsRows { background: transparent; }"
            )
        self.setVisible(bool(self._shown))
        self.fit_height()

    def clear(self) -> None:
        """Nothing to say (a new search started, or new data were loaded)."""
        self.set_warnings([])

    def rows_height(self, width: int | None = None) -> int:
        """Height (px) the wrapped rows need at ``width`` (px; default their width now)."""
        if not self._labels:
            return 0
        if width is None:
            width = self.rows_widget.width()
        return max(self._rows.heightForWidth(max(width, 1)), 0)

    def fit_height(self) -> None:
        """Make the banner as tall as its wrapped rows at its width, up to
        :data:`MAX_HEIGHT` (then the rows scroll)."""
        if not self._shown:
            self.setMinimumHeight(0)
            self.setMaximumHeight(16777215)
            return
        margins = self.layout().contentsMargins()
        frame = 2 * self.frameWidth() + margins.top() + margins.bottom()
        wanted = max(self.rows_height(), self._close.sizeHint().height())
        height = min(wanted + frame, MAX_HEIGHT)
        if height != self.minimumHeight() or height != self.maximumHeight():
            self.setFixedHeight(height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.rows_widget and event.type() == QEvent.Type.Resize:
            self.fit_height()
        return super().eventFilter(watched, event)

    def _dismiss(self) -> None:
        self.setVisible(False)
        self.dismissed.emit()
