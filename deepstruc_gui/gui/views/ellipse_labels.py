"""Labels on nested ellipses (the prior's 3σ/5σ/7σ), placed where no other label is.

Each label sits on its own ellipse, just outside it, at the first angle (tried from
its preferred one outwards in 15° steps) where its on-screen box, grown by
:data:`MARGIN` pixels, meets none of the labels already there ("your data", "centre",
the structure-type names, the σ labels placed before it), lies inside the plot and,
where possible, misses the softer obstacles too (the legend). A label with no such
place is hidden: on a small, zoomed-out prior the three rings are a few pixels apart,
and the map's legend names the dashed rings in any case. Layout is in screen pixels (pyqtgraph
``TextItem`` text keeps its size while the view zooms), so it is redone whenever the
view's transform changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF

#: gap kept between labels (px)
MARGIN = 2.0
#: the angular step of the search (degrees)
STEP = 15


def text_rect(label: pg.TextItem, scene_point: QPointF, anchor) -> QRectF:
    """The scene rectangle ``label`` covers when its ``anchor`` (fractions of its
    width and height, pyqtgraph's ``TextItem`` convention) sits at ``scene_point``."""
    box = label.textItem.boundingRect()
    w, h = box.width(), box.height()
    return QRectF(scene_point.x() - anchor[0] * w, scene_point.y() - anchor[1] * h, w, h)


def outside_anchor(angle: float) -> tuple[float, float]:
    """The anchor that puts a label just outside a curve whose outward direction is
    ``angle`` (radians, view coordinates: z₂ up, screen y down)."""
    return 0.5 - 0.5 * float(np.cos(angle)), 0.5 + 0.5 * float(np.sin(angle))


def angle_order(preferred: float) -> list[float]:
    """Angles (degrees) to try: ``preferred`` first, then alternately either side."""
    order = [preferred]
    for k in range(1, 180 // STEP + 1):
        order += [preferred + k * STEP, preferred - k * STEP]
    return order[: 360 // STEP]


def _free(rect: QRectF, others: Sequence[QRectF]) -> bool:
    grown = rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    return not any(grown.intersects(other) for other in others)


def place_on_ellipses(
    vb: pg.ViewBox,
    labels: Sequence[pg.TextItem],
    center,
    semi_axes: Sequence,
    preferred: Sequence[float],
    hard: Sequence[QRectF],
    soft: Sequence[QRectF] = (),
) -> list[QRectF | None]:
    """Put ``labels[i]`` on the ellipse (``center``, ``semi_axes[i]``, view units) at
    the angle nearest ``preferred[i]`` (degrees) where it overlaps nothing in ``hard``
    (scene rects) nor the labels placed before it, inside ``vb``; missing ``soft``
    too when it can. Shows and places each label; hides one with no such place.
    Returns each label's scene rect (None where hidden)."""
    inside = vb.sceneBoundingRect()
    taken = list(hard)
    placed: list[QRectF | None] = []
    for label, axes, start in zip(labels, semi_axes, preferred, strict=True):
        where = None
        for avoid in (taken + list(soft), taken):
            for degrees in angle_order(start):
                t = np.radians(degrees)
                x = float(center[0] + axes[0] * np.cos(t))
                y = float(center[1] + axes[1] * np.sin(t))
                anchor = outside_anchor(t)
                rect = text_rect(label, vb.mapViewToScene(QPointF(x, y)), anchor)
                if inside.contains(rect) and _free(rect, avoid):
                    where = (x, y, anchor, rect)
                    break
            if where is not None:
                break
        if where is None:
            label.setVisible(False)
            placed.append(None)
            continue
        x, y, anchor, rect = where
        label.setAnchor(anchor)
        label.setPos(x, y)
        label.setVisible(True)
        taken.append(rect)
        placed.append(rect)
    return placed
