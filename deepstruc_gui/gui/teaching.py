"""The teaching mode: decode under the cursor, morph along a path between two points
(or two training structures), and a presentation layout with large fonts.

A morph: *Set Morph Start* takes the shown structure's map point (a row, a map click,
a training point); *Morph to Shown Point* decodes and fits ``frames`` points between
it and the point now shown (:mod:`deepstruc_gui.model.morph`, in the worker) and plays
them in the 3-D view and the fit, with the position marked on the map. *Export Morph*
writes a GIF and a numbered PNG sequence of what the window showed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog

from deepstruc_gui.gui.figure import draw_figure
from deepstruc_gui.gui.requests import Morph, Morphed
from deepstruc_gui.model.candidate import is_built
from deepstruc_gui.model.morph import write_frames, write_gif

#: cursor decodes a second at most (the teaching mode's hover)
HOVER_HZ = 10
MORPH_FRAMES = 24
FRAME_MS = 150
#: first offered width of an exported morph frame in pixels (map | structure over fit)
MORPH_WIDTH = 1000
#: a morph runs between two map points: a built cluster has none
NOT_ON_MAP = "a built cluster has no map point (z₁, z₂ —): morph from or to a decoded one"


def _to_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = image.height(), image.width()
    raw = np.frombuffer(image.constBits(), np.uint8, count=h * image.bytesPerLine())
    return raw.reshape(h, image.bytesPerLine())[:, : 4 * w].reshape(h, w, 4).copy()


class Teaching:
    """One per window (``window`` gives the session, presenter, worker and views)."""

    def __init__(self, window) -> None:
        self.w = window
        self.start: np.ndarray | None = None
        self.frames: list = []
        self.index = 0
        self.request: Morph | None = None
        self.timer = QTimer(window)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self._hover = pg.SignalProxy(
            window.map_view.hovered,
            rateLimit=HOVER_HZ,
            slot=lambda args: window.presenter.preview(*args, "hover "),
        )
        window.worker.delivered.connect(self.deliver)
        self._hidden_docks: list[QDockWidget] = []
        self._font = None

    # --- hover ---------------------------------------------------------------------
    def set_hover(self, on: bool) -> None:
        self.w.map_view.hover_decode = bool(on)
        self.w.show_status("decoding under the cursor" if on else "hover decode off", 3000)

    # --- morph ---------------------------------------------------------------------
    def set_start(self) -> None:
        c = self.w.session.shown_candidate
        if c is None:
            self.w.show_status("show a structure first (click the map or a row)", 5000)
            return
        if is_built(c):
            self.w.show_status(NOT_ON_MAP, 5000)
            return
        self.start = np.asarray(c.latent, float).copy()
        self.w.show_status(f"morph starts at z = ({self.start[0]:.2f}, {self.start[1]:.2f})", 5000)

    def morph_to_shown(self, n_frames: int = MORPH_FRAMES) -> Morph | None:
        s, p = self.w.session, self.w.presenter
        c = s.shown_candidate
        if self.start is None or c is None or s.data is None or p.bundle is None:
            self.w.show_status("set a morph start, then show the end point", 5000)
            return None
        if is_built(c):
            self.w.show_status(NOT_ON_MAP, 5000)
            return None
        points = (tuple(map(float, self.start)), tuple(map(float, c.latent)))
        self.timer.stop()
        self.request = self.w.worker.submit(
            Morph(data=s.data, fit_config=p.fit_config(), points=points, n_frames=n_frames)
        )
        self.w.show_status(f"decoding {n_frames} morph frames…")
        return self.request

    def deliver(self, request, result) -> None:
        if isinstance(result, Morphed) and request is self.request:
            self.frames = list(result.frames)
            self.play()

    def play(self) -> None:
        if self.frames:
            self.index = 0
            self.timer.start()

    def show_frame(self, k: int) -> None:
        c = self.frames[k]
        self.w.presenter.preview_label = f"morph {k + 1}/{len(self.frames)}: "
        self.w.session.set_preview(c)

    def _tick(self) -> None:
        self.show_frame(self.index)
        self.index += 1
        if self.index >= len(self.frames):
            self.timer.stop()

    def export_dialog(self) -> None:
        """The GIF's name, then the frames' size and DPI (the window's image-size dialog,
        remembered as for every image export)."""
        if not self.frames:
            self.w.show_status("morph first (Teaching › Morph to Shown Point)", 5000)
            return
        path, _ = QFileDialog.getSaveFileName(
            self.w, "Export morph", f"{self.w.files.stem()}_morph.gif", "GIF (*.gif)"
        )
        if not path:
            return
        size = self.w.images.ask_size("morph", "Morph frame size", 0.5, MORPH_WIDTH)
        if size is not None:
            self.w.files.guarded(
                "export the morph", lambda: self.export(path, size.width, size.dpi), path
            )

    def export(
        self, path: str | Path, width: int = MORPH_WIDTH, dpi: int | None = None
    ) -> list[Path]:
        """The frames as the window shows them (map | structure over fit, ``width`` ×
        ``width`` // 2 px): a GIF at ``path`` and PNGs beside it with ``dpi`` in them."""
        self.timer.stop()
        width = int(width)
        images = []
        for k in range(len(self.frames)):
            self.show_frame(k)
            QApplication.processEvents()
            image = QImage(width, width // 2, QImage.Format.Format_ARGB32)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            w = self.w
            caption = f"frame {k + 1}/{len(self.frames)}"
            draw_figure(painter, width, w.map_view, w.structure_view, w.pdf_panel, caption)
            painter.end()
            images.append(_to_array(image))
        path = Path(path)
        write_gif(path, images)
        return write_frames(path.with_suffix(""), images, dpi)

    def close(self) -> None:
        self.timer.stop()
        self._hover.disconnect()

    # --- presentation --------------------------------------------------------------
    def set_presentation(self, on: bool) -> None:
        """Large fonts, controls and table hidden, full screen; off restores them."""
        w = self.w
        if on:
            self._hidden_docks = [d for d in w.findChildren(QDockWidget) if d.isVisible()]
            for dock in self._hidden_docks:
                dock.hide()
            self._font = w.font()
            big = w.font()
            big.setPointSizeF(big.pointSizeF() * 1.6)
            w.setFont(big)
            w.showFullScreen()
        else:
            for dock in self._hidden_docks:
                dock.show()
            if self._font is not None:
                w.setFont(self._font)
            w.showNormal()
