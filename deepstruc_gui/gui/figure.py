"""One-click figure: the latent map, a snapshot of the 3-D structure and the fit side by
side in one PNG or SVG, for slides and papers.

Layout (``width`` × ``width``·0.5 px): the map on the left half; the structure above
the fit on the right half. Plots are drawn from their scenes (vector in SVG); the 3-D
view is a raster snapshot (vispy renders pixels), embedded in the SVG as an image.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

from deepstruc_gui.gui.exporting import export_mode
from deepstruc_gui.util.atomic import atomic_write_bytes

#: default width of the figure in pixels (PNG) or SVG user units
FIGURE_WIDTH = 2400


def snapshot(structure_view, width: int | None = None) -> QImage | None:
    """The 3-D view as an image, drawn ``width`` pixels wide (default: as on screen);
    None without a canvas or a structure."""
    canvas = getattr(structure_view, "canvas", None)
    if canvas is None or structure_view.atom_count == 0:
        return None
    return structure_view.render_image(width)


def draw_figure(painter: QPainter, width: int, map_view, structure_view, pdf_panel, caption: str):
    height = width // 2
    painter.fillRect(QRectF(0, 0, width, height), QColor("white"))
    half = width / 2
    panels = (
        (map_view, QRectF(0, 0, half, height)),
        (pdf_panel, QRectF(half, height / 2, half, height / 2)),
    )
    for view, target in panels:
        # the whole view as on screen (the map's Rw colour bar sits beside its plot)
        source = view.sceneRect()
        if source.isEmpty():
            source = view.getPlotItem().sceneBoundingRect()
        scale = min(target.width() / source.width(), target.height() / source.height())
        w, h = source.width() * scale, source.height() * scale
        fitted = QRectF(target.x() + (target.width() - w) / 2, target.y(), w, h)
        painter.save()
        painter.setClipRect(fitted)  # items reaching out of the view stay out of the figure
        with export_mode(view.scene(), scale):  # points as vectors, scaled with the view
            view.scene().render(painter, fitted, source)
        painter.restore()
    box = QRectF(half, 0, half, height / 2)
    # drawn at the size it takes in the figure (sharp at 2400 px, not a screen grab
    # scaled up): as wide as the box, or narrower when the view is taller than it
    w, h = structure_view.canvas.size if structure_view.canvas is not None else (1, 1)
    fit = min(box.width(), box.height() * w / max(h, 1))
    image = snapshot(structure_view, max(int(fit), 50))
    if image is not None:
        scaled = image.scaled(
            int(box.width()),
            int(box.height()),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        x = box.x() + (box.width() - scaled.width()) / 2
        painter.drawImage(QRectF(x, box.y(), scaled.width(), scaled.height()), scaled)
    if caption:
        painter.setPen(QColor("#333"))
        painter.setFont(QFont("sans", max(8, width // 160)))
        painter.drawText(box.adjusted(8, 4, -8, -4), Qt.AlignmentFlag.AlignTop, caption)


def write_figure(
    path: str | Path,
    map_view,
    structure_view,
    pdf_panel,
    caption: str = "",
    width: int = FIGURE_WIDTH,
    dpi: int | None = None,
) -> tuple[int, int]:
    """Write the figure as ``.png`` (``dpi`` written in it) or ``.svg``, atomically;
    returns (width, height) in pixels (SVG: user units)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"{path.name}: choose .png or .svg")
    width = int(width)
    height = width // 2
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if suffix == ".png":
        image = QImage(width, height, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        draw_figure(painter, width, map_view, structure_view, pdf_panel, caption)
        painter.end()
        if dpi:
            image.setDotsPerMeterX(round(float(dpi) / 0.0254))
            image.setDotsPerMeterY(round(float(dpi) / 0.0254))
        image.save(buffer, "PNG")
    else:
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(QSize(width, height))
        generator.setViewBox(QRectF(0, 0, width, height))
        generator.setTitle("DeepStruc GUI figure")
        painter = QPainter(generator)
        draw_figure(painter, width, map_view, structure_view, pdf_panel, caption)
        painter.end()
    buffer.close()
    atomic_write_bytes(path, bytes(data.data()))
    return width, height
