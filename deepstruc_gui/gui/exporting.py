"""Writing what the user asks for from the window: structures, fits, tables, plots.

Structures, fits and tables are written by the Qt-free :mod:`deepstruc_gui.model.export`
(the same files ``predict --out`` writes); only plots need Qt. All writes are atomic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from deepstruc_gui.model import export
from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.util.atomic import atomic_write_bytes

STRUCTURE_FORMATS = export.STRUCTURE_FORMATS


def export_structure(
    path: str | Path,
    candidate: Candidate,
    element: str,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """One candidate as .xyz, .extxyz or .cif (see :func:`export.write_structure`)."""
    export.write_structure(path, candidate, element, provenance)


def export_structures(
    path: str | Path,
    candidates: list[Candidate],
    element: str,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Candidates, best first, as one multi-frame .extxyz."""
    export.write_structures(path, candidates, element, provenance)


def export_fit(
    path: str | Path,
    candidate: Candidate,
    data: PDFData,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """A fit as CSV or PDFgui-style .fgr, by suffix (see :func:`export.write_fit`)."""
    export.write_fit(path, candidate, data, provenance)


def export_table(
    path: str | Path,
    candidates: list[Candidate],
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """The ranked table as CSV (see :func:`export.write_table`)."""
    export.write_table(path, candidates, provenance)


def export_plot(
    path: str | Path, plot_item, width: int | None = None, dpi: int | None = None
) -> None:
    """A pyqtgraph plot (its ``PlotItem``) as PNG or SVG, written atomically.

    PNG: pyqtgraph's image exporter, ``width`` pixels wide (default: as on screen; the
    height keeps the plot's aspect ratio), with ``dpi`` written into the file.
    SVG: the plot's scene drawn by Qt's own SVG generator (pyqtgraph's SVG exporter
    fails on Qt 6 paths: "not enough values to unpack"), at the size on screen.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"{path.name}: choose .png or .svg")
    if suffix == ".svg":
        atomic_write_bytes(path, render_svg(plot_item.scene(), plot_item.sceneBoundingRect()))
        return
    import tempfile

    import pyqtgraph.exporters as exporters

    exporter = exporters.ImageExporter(plot_item)
    if width:
        exporter.parameters()["width"] = int(width)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "plot.png"
        exporter.export(str(scratch))
        data = scratch.read_bytes()
    if dpi:
        from PySide6.QtGui import QImage

        data = png_bytes(QImage.fromData(data, "PNG"), dpi)
    atomic_write_bytes(path, data)


def png_bytes(image, dpi: int | None = None) -> bytes:
    """A QImage as PNG bytes, with ``dpi`` (dots per inch) in its pHYs chunk."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    if dpi:
        dots_per_metre = round(float(dpi) / 0.0254)
        image.setDotsPerMeterX(dots_per_metre)
        image.setDotsPerMeterY(dots_per_metre)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("the image could not be encoded as PNG")
    buffer.close()
    return bytes(data.data())


def export_view3d(
    path: str | Path, structure_view, width: int | None = None, dpi: int | None = None
) -> tuple[int, int]:
    """The 3-D view as drawn (atoms, bonds, axes, scale bar) as a PNG ``width`` pixels
    wide (height: the view's aspect ratio), written atomically; returns (width, height).
    Raises ``ValueError`` for another suffix, ``RuntimeError`` without OpenGL."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path.name}: the 3-D view is written as .png")
    image = structure_view.render_image(width)
    atomic_write_bytes(path, png_bytes(image, dpi))
    return image.width(), image.height()


@contextmanager
def export_mode(scene, scale: float = 1.0) -> Iterator[None]:
    """Inside, the scene's pyqtgraph items draw for export, as pyqtgraph's own exporters
    have them (``setExportMode``): scatter symbols one by one, ``scale`` × their size
    on screen, instead of from the on-screen symbol atlas. Qt's SVG writer embeds the
    whole atlas for every point drawn from it (≈ 0.5 MB a point: a figure of a
    whole-map search was 1.6 GB), and a scaled figure keeps the points' size in step."""
    items = [item for item in scene.items() if hasattr(item, "setExportMode")]
    options = {"antialias": True, "resolutionScale": float(scale)}
    for item in items:
        item.setExportMode(True, options)
    try:
        yield
    finally:
        for item in items:
            item.setExportMode(False)


def render_svg(scene, source, title: str = "DeepStruc GUI") -> bytes:
    """SVG bytes of ``source`` (a QRectF in scene coordinates) of a QGraphicsScene."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    size = QSize(int(source.width()), int(source.height()))
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    with export_mode(scene):
        scene.render(painter, QRectF(0, 0, size.width(), size.height()), source)
    painter.end()
    buffer.close()
    return bytes(data.data())
