"""The selected cluster in 3-D: shaded spheres, optional bonds, turntable camera, an
orientation triad and a scale bar (:mod:`~deepstruc_gui.gui.views.structure_overlays`).

vispy needs an OpenGL context (Xvfb + Mesa in tests). Without one the view shows a
message instead of failing, and still reports what it holds.
"""

from __future__ import annotations

import numpy as np
from ase.data import atomic_numbers, covalent_radii
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)
from scipy.spatial.distance import pdist

from deepstruc_gui.gui.views.map_key import TYPE_COLOURS
from deepstruc_gui.gui.views.structure_overlays import OrientationAxes, ScaleBar
from deepstruc_gui.science.structures import coordination_numbers, neighbour_edges
from deepstruc_gui.science.structures import nearest_neighbour_distance as nn_distance


class StructureView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.positions = np.zeros((0, 3))
        self.element = "Pt"
        self.kind = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.canvas = None
        self._markers = self._bonds = None
        self.axes = self.scale_bar = None
        try:
            from vispy import scene

            self.canvas = scene.SceneCanvas(keys=None, bgcolor="white", show=False)
            self.view = self.canvas.central_widget.add_view()
            self.view.camera = scene.cameras.TurntableCamera(fov=30, distance=40)
            self._markers = scene.visuals.Markers(
                parent=self.view.scene, spherical=True, scaling="scene"
            )
            self._bonds = scene.visuals.Line(
                parent=self.view.scene, connect="segments", color=(0.3, 0.3, 0.3, 1.0), width=2
            )
            self.axes = OrientationAxes(self.canvas, self.view.camera)
            self.scale_bar = ScaleBar(self.canvas, self.view)
            self.axes.set_visible(False)  # shown with a structure
            self.scale_bar.set_visible(False)
            layout.addWidget(self.canvas.native, 1)
        except Exception as exc:  # no OpenGL: keep the window usable
            self.canvas = None
            layout.addWidget(
                QLabel(
                    f"3-D view unavailable ({exc.__class__.__name__}: an OpenGL context is needed)"
                ),
                1,
            )
        bar = QHBoxLayout()
        self.colour_mode = QComboBox()
        self.colour_mode.addItems(["colour by type", "colour by coordination"])
        self.colour_mode.currentIndexChanged.connect(self._redraw)
        self.show_bonds = QCheckBox("bonds")
        self.show_bonds.setChecked(True)
        self.show_bonds.toggled.connect(self._redraw)
        reset = QPushButton("reset view")
        reset.clicked.connect(self.reset_view)
        self.info = QLabel("no structure")
        # the label may shrink (a narrow window keeps the map the largest view)
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.colour_mode.setToolTip(
            "Atom colours: the structure type's colour, or the number of neighbours "
            "within 1.2× the nearest distance (12 in a bulk fcc/hcp crystal)"
        )
        self.show_bonds.setToolTip("Draw bonds between atoms closer than 1.2× the nearest distance")
        reset.setToolTip("Fit the whole structure into view")
        bar.addWidget(self.colour_mode)
        bar.addWidget(self.show_bonds)
        bar.addWidget(reset)
        self.legend = QLabel()  # the key to the atoms' colours
        self.legend.setToolTip("What the atom colours mean")
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.legend)
        bar.addStretch(1)
        bar.addWidget(self.info)
        layout.addLayout(bar)

    @property
    def atom_count(self) -> int:
        return len(self.positions)

    def set_structure(
        self, positions: np.ndarray | None, kind: str = "", element: str = ""
    ) -> None:
        self.positions = np.zeros((0, 3)) if positions is None else np.asarray(positions, float)
        self.kind = kind
        self.element = element if element in atomic_numbers else "Pt"
        self._redraw()
        self.reset_view()

    def diameter(self) -> float:
        return float(pdist(self.positions).max()) if self.atom_count > 1 else 0.0

    def _redraw(self) -> None:
        n = self.atom_count
        self.info.setText(f"{n} atoms, diameter {self.diameter():.1f} Å" if n else "no structure")
        self.legend.setText(self.legend_html() if n else "")
        if self.canvas is None:
            return
        self.axes.set_visible(n > 0)
        self.scale_bar.set_visible(n > 0)
        if n == 0:
            self._markers.set_data(np.zeros((1, 3)), size=0)
            self._bonds.set_data(pos=np.zeros((2, 3)), color=(0, 0, 0, 0))
            self.canvas.update()
            return
        bond = nn_distance(self.positions) if n > 1 else 2.5
        radius = 0.5 * bond if np.isfinite(bond) else covalent_radii[atomic_numbers[self.element]]
        if self.colour_mode.currentIndex() == 1 and n > 1:
            cn = coordination_numbers(self.positions, 1.2 * bond)
            t = np.clip(cn / 12.0, 0, 1)
            colours = np.column_stack([t, 0.3 + 0.4 * (1 - t), 1 - t, np.ones(n)])
        else:
            hexcol = TYPE_COLOURS.get(self.kind, "#B8860B").lstrip("#")
            rgb = [int(hexcol[i : i + 2], 16) / 255 for i in (0, 2, 4)]
            colours = np.tile([*rgb, 1.0], (n, 1))
        self._markers.set_data(self.positions, size=2 * radius, face_color=colours, edge_width=0)
        if self.show_bonds.isChecked() and n > 1:
            edges, _ = neighbour_edges(self.positions, 1.2 * bond)
            half = edges[:, edges[0] < edges[1]]
            if half.shape[1]:
                segs = self.positions[half.T.reshape(-1)]
                self._bonds.set_data(pos=segs, color=(0.35, 0.35, 0.35, 1.0))
            else:
                self._bonds.set_data(pos=np.zeros((2, 3)), color=(0, 0, 0, 0))
        else:
            self._bonds.set_data(pos=np.zeros((2, 3)), color=(0, 0, 0, 0))
        self.canvas.update()

    def legend_html(self) -> str:
        """The colour key: the type's colour, or coordination numbers 0, 6, 12."""
        if self.colour_mode.currentIndex() == 1:
            keys = []
            for cn in (0, 6, 12):
                t = cn / 12.0
                rgb = [int(255 * v) for v in (t, 0.3 + 0.4 * (1 - t), 1 - t)]
                keys.append(f"<span style='color: rgb({rgb[0]},{rgb[1]},{rgb[2]})'>■</span>{cn}")
            return "neighbours: " + " ".join(keys)
        colour = TYPE_COLOURS.get(self.kind, "#B8860B")
        return f"<span style='color: {colour}'>■</span> {self.element} · {self.kind}"

    def reset_view(self) -> None:
        if self.canvas is None:
            return
        extent = max(self.diameter(), 5.0)
        self.view.camera.center = (0, 0, 0)
        self.view.camera.distance = 2.6 * extent
        self.view.camera.elevation = 20
        self.view.camera.azimuth = 30
        self.scale_bar.update()
        self.canvas.update()

    def render_image(self, width: int | None = None) -> QImage:
        """The canvas as drawn (atoms, bonds, triad, scale bar) ``width`` pixels wide
        (default: as on screen), the height keeping the view's aspect ratio.

        The canvas is drawn at that size (its widget resized for the moment, the
        triad and the bar scaled with it): vispy's ``render(size=…)`` draws a view
        box at the screen size in a corner of a larger image. Raises ``RuntimeError``
        without an OpenGL canvas."""
        if self.canvas is None:
            raise RuntimeError("the 3-D view has no OpenGL context to render")
        native = self.canvas.native
        old = native.size()
        w0, h0 = self.canvas.size
        width = int(width or w0)
        factor = width / max(w0, 1) / self.canvas.pixel_scale
        overlays = (self.axes, self.scale_bar)
        scale = self.canvas.pixel_scale  # device pixels per widget pixel (HiDPI)
        height = max(1, round(width * h0 / max(w0, 1)))
        try:
            native.resize(round(width / scale), round(height / scale))
            for item in overlays:
                item.set_factor(factor)
            rgba = np.ascontiguousarray(self.canvas.render(alpha=True)[..., :4])
        finally:
            native.resize(old)
            for item in overlays:
                item.set_factor(1.0)
        h, w = rgba.shape[:2]
        return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
