"""The welcome page: what the app does, the recent files and the autosaved session."""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel

WELCOME = """<h2>DeepStruc GUI</h2>
<p>Solve the structure of a metal nanoparticle from its pair distribution function.</p>
<ol><li><b>File › Open</b> a G(r) file (.gr, .dat, .csv), or drop it on this window;</li>
<li>or try <b>Help › Examples</b> (3.4 nm Pt nanoparticles, about 1,400 atoms;
Au<sub>144</sub> clusters).</li></ol>
<p>The PDF lands on the latent map of known structures; candidates are decoded,
fitted and ranked by Rw. Drag the red marker to steer the search.</p>"""


class WelcomePage(QLabel):
    """Emits ``open_requested(path)`` for a recent file, ``restore_requested()`` for the
    autosaved session of the last run."""

    open_requested = Signal(str)
    restore_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.linkActivated.connect(self._link)
        self.recent: list[str] = []
        self.autosave: Path | None = None
        self._render()

    def set_recent(self, paths: list[str]) -> None:
        self.recent = [p for p in paths if Path(p).exists()]
        self._render()

    def set_autosave(self, path: Path | None) -> None:
        """Offer the autosaved session of the last run (None: none to offer)."""
        self.autosave = path if path is not None and Path(path).exists() else None
        self._render()

    def _render(self) -> None:
        parts = [WELCOME]
        if self.autosave is not None:
            when = time.strftime("%d %b %H:%M", time.localtime(self.autosave.stat().st_mtime))
            parts.append(
                f'<p><a href="restore:">Restore the last session</a> (autosaved {when})</p>'
            )
        if self.recent:
            items = "".join(
                f'<li><a href="open:{html.escape(p)}">{html.escape(Path(p).name)}</a> '
                f"<small>{html.escape(str(Path(p).parent))}</small></li>"
                for p in self.recent
            )
            parts.append(f"<p><b>Recent files</b></p><ul>{items}</ul>")
        self.setText("".join(parts))

    def _link(self, link: str) -> None:
        if link == "restore:":
            self.restore_requested.emit()
        elif link.startswith("open:"):
            self.open_requested.emit(html.unescape(link[5:]))
