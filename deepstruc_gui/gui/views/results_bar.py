"""A line above the candidates table about the table itself: which search it is (and
whether it is partial), whether it belongs to older settings (*Update*), whether it
replaced a better search (*Undo*), and *Keep* for the structure on screen."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from deepstruc_gui.state.session import Session

_WARN = "color: #9C4A00; font-weight: bold"


class ResultsBar(QWidget):
    """Observes the session's history, outdated mark and preview; emits intent."""

    update_clicked = Signal()
    undo_clicked = Signal()
    keep_clicked = Signal()

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        self.label = QLabel("no search yet")
        self.label.setToolTip(
            "The search the table shows (Edit › Undo/Redo Search move through them)"
        )
        self.outdated = QLabel()
        self.outdated.setStyleSheet(_WARN)
        self.update_button = QPushButton("Update")
        self.update_button.setToolTip("Search again with the current settings (F5)")
        self.update_button.clicked.connect(self.update_clicked)
        self.worse = QLabel()
        self.worse.setStyleSheet(_WARN)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Show the better search this one replaced (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo_clicked)
        self.keep_button = QPushButton("Keep shown")
        self.keep_button.setToolTip(
            "Add the structure shown in the 3-D view and the fit (a map click, a drag "
            "preview) to the candidates table (K)"
        )
        self.keep_button.clicked.connect(self.keep_clicked)
        for w in (self.label, self.outdated, self.update_button, self.worse, self.undo_button):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.keep_button)
        session.history.changed.connect(self.refresh)
        session.outdated_changed.connect(self.refresh)
        session.preview_changed.connect(self.refresh)
        session.selection_changed.connect(self.refresh)
        self._worse_at: tuple[int, int] | None = None
        self.show_worse(None, None)
        self.refresh()

    def show_worse(self, before: float | None, now: float | None) -> None:
        """Say that the newest search (best Rw ``now``) replaced a better one."""
        text = f"best Rw got worse: {now:.4f} (was {before:.4f})" if before is not None else ""
        h = self.session.history
        self._worse_at = (h.index, len(h.records)) if text else None
        self.worse.setText(text)
        self.worse.setVisible(bool(text))
        self.undo_button.setVisible(bool(text))

    def refresh(self) -> None:
        s = self.session
        record = s.history.current
        self.label.setText(record.describe() if record is not None else "no search yet")
        self.outdated.setText(f"outdated: {s.outdated}" if s.outdated else "")
        self.outdated.setVisible(bool(s.outdated))
        self.update_button.setVisible(bool(s.outdated))
        if self._worse_at != (s.history.index, len(s.history.records)):
            self.show_worse(None, None)  # said of another search than the one shown
        self.keep_button.setEnabled(s.showing_preview and s.preview is not None)
