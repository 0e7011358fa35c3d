"""Image exports from the window: the map and the PDF plot (PNG, SVG), the one-click
figure (PNG, SVG) and the 3-D view (PNG), each at a size and DPI the user picks.

The last width of each kind of image and the last DPI are kept in the settings
(``image_width/<kind>``, ``image_dpi``) and offered next time. :meth:`ImageExports.ask_size`
is the one place that asks: the Rw landscape's PNG (``panels``, kind ``landscape``) and
the morph's frames (``teaching``, kind ``morph``) ask through it too. The writing is in
:mod:`deepstruc_gui.gui.exporting` and :mod:`deepstruc_gui.gui.figure` (atomic).
"""

from __future__ import annotations

from pathlib import Path

from deepstruc_gui.gui.exporting import export_plot, export_view3d
from deepstruc_gui.gui.figure import FIGURE_WIDTH, write_figure
from deepstruc_gui.gui.views.image_size import ImageSize, ImageSizeDialog

DEFAULT_DPI = 300


class ImageExports:
    """One per window; ``files`` is its :class:`~deepstruc_gui.gui.file_actions.FileActions`
    (file names, settings, the status-bar confirmation and error dialogs)."""

    def __init__(self, files) -> None:
        self.files = files
        self.settings = files.settings

    def ask_size(self, kind: str, title: str, aspect: float, width: int) -> ImageSize | None:
        """The size for an image of ``kind`` (``aspect`` = height / width): the dialog,
        pre-filled with the last choice for this kind (or ``width``); None if cancelled."""
        last_width = int(self.settings.value(f"image_width/{kind}", width))
        last_dpi = int(self.settings.value("image_dpi", DEFAULT_DPI))
        dialog = ImageSizeDialog(self.files.window, title, aspect, last_width, last_dpi)
        if not dialog.exec():
            return None
        size = dialog.choice()
        self.settings.setValue(f"image_width/{kind}", size.width)
        self.settings.setValue("image_dpi", size.dpi)
        return size

    def export_plot_dialog(self, plot_widget, name: str) -> None:
        """A pyqtgraph ``PlotWidget`` as PNG (at a chosen size and DPI) or SVG (vector,
        the size on screen); ``name`` is the default file stem and the size's kind."""
        f = self.files
        path = f._save_name("Export plot", "PNG (*.png);;SVG (*.svg)", f"{f.stem()}_{name}.png")
        if not path:
            return
        item = plot_widget.getPlotItem()
        if Path(path).suffix.lower() != ".png":
            f.guarded("export the plot", lambda: export_plot(path, item), path)
            return
        rect = item.sceneBoundingRect()
        size = self.ask_size(
            name, "Plot image size", rect.height() / max(rect.width(), 1), int(rect.width())
        )
        if size is not None:
            f.guarded(
                "export the plot",
                lambda: export_plot(path, item, width=size.width, dpi=size.dpi),
                path,
            )

    def export_figure_dialog(self, map_view, structure_view, pdf_panel) -> None:
        """Map, 3-D snapshot and fit of the shown structure in one PNG or SVG."""
        f = self.files
        c = f._shown()
        if c is None:
            return
        path = f._save_name(
            "Export figure", "PNG (*.png);;SVG (*.svg)", f"{f._shown_name(c)}_figure.png"
        )
        if not path:
            return
        size = self.ask_size("figure", "Figure size", 0.5, FIGURE_WIDTH)
        if size is None:
            return
        s = f.session
        caption = (
            f"Rw {c.rw:.4f} · {c.nearest_type} · {c.n_atoms} {s.element} atoms · "
            f"data {f.stem()} · model {s.model_name}"
        )
        f.guarded(
            "export the figure",
            lambda: write_figure(
                path, map_view, structure_view, pdf_panel, caption, size.width, size.dpi
            ),
            path,
        )

    def export_view3d_dialog(self, structure_view, name: str = "3d") -> None:
        """The 3-D view as drawn (with its axes and scale bar) as a PNG."""
        f = self.files
        if structure_view.atom_count == 0:
            f._error("Nothing to export", "Show a structure first (a row or a map click).")
            return
        if structure_view.canvas is None:
            f._error("Cannot export the 3-D view", "It has no OpenGL context to render.")
            return
        c = f.session.shown_candidate
        stem = f._shown_name(c) if c is not None else f.stem()
        path = f._save_name("Export 3-D view", "PNG (*.png)", f"{stem}_{name}.png")
        if not path:
            return
        w, h = structure_view.canvas.size
        size = self.ask_size("view3d", "3-D image size", h / max(w, 1), 2 * w)
        if size is not None:
            f.guarded(
                "export the 3-D view",
                lambda: export_view3d(path, structure_view, size.width, size.dpi),
                path,
            )
