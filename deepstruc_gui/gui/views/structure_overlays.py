"""What the 3-D view draws over the structure: an orientation triad and a scale bar.

Both are vispy items. The triad is vispy's ``XYZAxis`` (x red, y green, z blue, 1 unit
long) in a small corner view box whose turntable camera is linked to the main camera's
rotation (elevation, azimuth, roll), so it turns with the structure but never moves or
zooms. The scale bar is a line and a label in canvas pixels, bottom right; its length
is a round number of Å at the depth of the rotation centre, measured from the scene's
transform (perspective makes nearer atoms look larger, so the label says "at centre").
"""

from __future__ import annotations

import numpy as np

#: side of the orientation triad's box (canvas pixels)
AXES_BOX = 84
#: gap between the overlays and the canvas edge (canvas pixels)
MARGIN = 10
#: the scale bar takes at most this fraction of the canvas width
BAR_FRACTION = 0.25
#: scale bar lengths offered (Å), the longest that fits is drawn
BAR_LENGTHS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
AXIS_COLOURS = {"x": (0.85, 0.1, 0.1, 1.0), "y": (0.1, 0.6, 0.1, 1.0), "z": (0.1, 0.2, 0.9, 1.0)}


class OrientationAxes:
    """x, y, z of the structure's frame (Å axes of the written files), bottom left."""

    def __init__(self, canvas, camera) -> None:
        from vispy import scene

        self.canvas = canvas
        self.factor = 1.0  # sizes × this (an image exported larger than the screen)
        self.box = scene.widgets.ViewBox(parent=canvas.scene)
        self.box.size = (AXES_BOX, AXES_BOX)
        self.box.interactive = False  # the mouse turns the structure, not the triad
        self.box.camera = scene.cameras.TurntableCamera(fov=0, interactive=False)
        self.box.camera.scale_factor = 3.0
        self.box.camera.center = (0, 0, 0)
        self.axis = scene.visuals.XYZAxis(parent=self.box.scene, width=3)
        colours = np.repeat(np.array(list(AXIS_COLOURS.values())), 2, axis=0)
        self.axis.set_data(color=colours)
        self.labels = [
            scene.visuals.Text(
                name,
                pos=1.3 * np.eye(3)[k],
                color=AXIS_COLOURS[name],
                font_size=9,
                bold=True,
                parent=self.box.scene,
            )
            for k, name in enumerate("xyz")
        ]
        for item in (self.axis, *self.labels):
            item.set_gl_state(depth_test=False)  # drawn over any atom behind the corner
        camera.link(self.box.camera, props=("elevation", "azimuth", "roll"))
        canvas.events.resize.connect(lambda *_: self.place())
        self.place()

    def place(self) -> None:
        f, height = self.factor, self.canvas.size[1]
        self.box.size = (AXES_BOX * f, AXES_BOX * f)
        self.box.pos = (MARGIN * f / 2, max(height - (AXES_BOX + MARGIN / 2) * f, 0))

    def set_factor(self, factor: float) -> None:
        """Draw ``factor`` times larger (lines, labels, box), e.g. for a large image."""
        self.factor = float(factor)
        self.axis.set_data(width=3 * self.factor)
        for label in self.labels:
            label.font_size = 9 * self.factor
        self.place()

    def set_visible(self, on: bool) -> None:
        self.box.visible = bool(on)

    @property
    def visible(self) -> bool:
        return bool(self.box.visible and self.axis.visible)


def pixels_per_angstrom(view, canvas) -> float:
    """Canvas pixels per Å of a displacement across the screen at the camera's centre.

    The scene → canvas transform's Jacobian at the centre (after the perspective
    divide) is the projection's 2×3 matrix; for a rotation scaled by s its singular
    values are both s.
    """
    tr = view.scene.node_transform(canvas.scene)
    centre = np.asarray(view.camera.center, float)[:3]
    eps = 1e-3
    points = np.vstack([centre, centre + eps * np.eye(3)])
    mapped = tr.map(points)
    xy = mapped[:, :2] / mapped[:, 3:4]
    jacobian = (xy[1:] - xy[0]).T / eps  # (2, 3)
    s = np.linalg.svd(jacobian, compute_uv=False)
    return float(s.mean())


def bar_length(px_per_a: float, max_px: float) -> float:
    """The longest of :data:`BAR_LENGTHS` (Å) that is at most ``max_px`` pixels long."""
    fitting = [a for a in BAR_LENGTHS if a * px_per_a <= max_px]
    return fitting[-1] if fitting else BAR_LENGTHS[0]


class ScaleBar:
    """A bar of a round length in Å, bottom right, redrawn when the camera moves."""

    def __init__(self, canvas, view) -> None:
        from vispy import scene

        self.canvas, self.view = canvas, view
        self.factor = 1.0  # sizes × this (an image exported larger than the screen)
        self.line = scene.visuals.Line(
            pos=np.zeros((2, 2)), color=(0.1, 0.1, 0.1, 1.0), width=3, parent=canvas.scene
        )
        self.text = scene.visuals.Text(
            "", color=(0.1, 0.1, 0.1, 1.0), font_size=9, anchor_x="right",
            anchor_y="center", parent=canvas.scene,
        )  # fmt: skip
        self.angstrom = 0.0  # the length drawn (Å)
        self.pixels = 0.0  # its length on the canvas (px)
        view.camera.transform.changed.connect(lambda *_: self.update())  # turn, zoom
        # a new size: after the camera has taken it (its handler comes first)
        view.events.resize.connect(lambda *_: self.update(), position="last")

    def update(self) -> None:
        if not self.line.visible:
            return
        width, height = self.canvas.size
        px = pixels_per_angstrom(self.view, self.canvas)
        if not np.isfinite(px) or px <= 0:
            return
        self.angstrom = bar_length(px, BAR_FRACTION * width)
        self.pixels = self.angstrom * px
        f = self.factor
        x1, y = width - MARGIN * f, height - MARGIN * f
        self.line.set_data(pos=np.array([[x1 - self.pixels, y], [x1, y]]), width=3 * f)
        self.text.text = f"{self.angstrom:g} Å at centre"
        self.text.font_size = 9 * f
        self.text.pos = (x1, y - 13 * f)  # above the bar

    def set_factor(self, factor: float) -> None:
        self.factor = float(factor)
        self.update()

    def set_visible(self, on: bool) -> None:
        self.line.visible = self.text.visible = bool(on)
        if on:
            self.update()

    @property
    def label(self) -> str:
        return str(self.text.text)
