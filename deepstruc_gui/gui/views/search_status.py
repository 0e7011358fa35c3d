"""The status bar's right side: a search's progress, its Cancel button, the model and
device. The progress appears only when a search runs longer than ``delay_ms``."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)


class SearchStatus(QWidget):
    """``still_running()`` is asked when the delay ends (a search that ended sooner
    never flashes a progress bar)."""

    cancel_clicked = Signal()

    def __init__(self, still_running: Callable[[], bool], delay_ms: int = 250, parent=None):
        super().__init__(parent)
        self._still_running = still_running
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.device = QLabel("loading model…")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.progress, self.cancel_button, self.device):
            layout.addWidget(widget)
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self._due)
        self._set_visible(False)

    def show_device(self, text: str) -> None:
        self.device.setText(text)

    def start(self, total: int) -> None:
        """A search of ``total`` points began: show progress if it is still running soon."""
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self._timer.start()

    def update_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def stop(self) -> None:
        self._timer.stop()
        self._set_visible(False)

    def _due(self) -> None:
        if self._still_running():
            self._set_visible(True)

    def _set_visible(self, visible: bool) -> None:
        self.progress.setVisible(visible)
        self.cancel_button.setVisible(visible)
