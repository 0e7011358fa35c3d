"""The latent map reads at a glance on the real window: the sampled points (viridis by
Rw, a dark rim) and the Rw landscape under them (a grey of its own) share no colour, so
one colour never means two Rw values; the prior's 3σ/5σ/7σ labels sit on their rings
and never on each other, "your data" or "centre", at any zoom and wherever the centre
is. Run under ``xvfb-run -a -s "-screen 0 1600x1000x24"``."""

from __future__ import annotations

import itertools

import numpy as np
from PySide6.QtGui import QColor
from window_helpers import loaded, with_landscape

from deepstruc_gui.gui.views.latent_map import SIGMA_LEVELS


def _rgb(colours) -> np.ndarray:
    return np.array([[c.red(), c.green(), c.blue()] for c in colours], float)


def _map_colours(cmap, n: int = 64) -> np.ndarray:
    return _rgb(cmap.map(v, mode="qcolor") for v in np.linspace(0, 1, n))


def test_points_and_landscape_have_colour_maps_of_their_own(make_window, qtbot) -> None:
    window = with_landscape(make_window, qtbot)
    view = window.map_view
    layer = window.panels.layer
    points_map = _map_colours(view.rw_bar.colorMap())
    land_map = _map_colours(layer.colour_bar.colorMap())
    # no colour of one bar is near any colour of the other (RGB distance)
    gap = np.linalg.norm(points_map[:, None] - land_map[None], axis=-1).min()
    assert gap > 40, gap
    # and what is drawn is what the bars say: the heat map's lookup table is the
    # landscape bar's map, every point's fill is a colour of the points' bar
    lut = np.asarray(layer.image.lut)[:, :3].astype(float)
    to_land = np.linalg.norm(lut[:, None] - land_map[None], axis=-1).min(axis=1)
    assert to_land.max() < 12, to_land.max()
    spots = view.sample_points.points()
    assert len(spots) == len(window.session.candidates) or len(spots) > 0
    fills = _rgb(spot.brush().color() for spot in spots)
    to_points = np.linalg.norm(fills[:, None] - points_map[None], axis=-1).min(axis=1)
    assert to_points.max() < 12, to_points.max()
    # each point has a thin dark rim, so it stands out on light and dark ground alike
    for spot in spots:
        pen = spot.pen()
        assert pen.style() != pen.style().NoPen
        assert 0.8 <= pen.widthF() <= 2.0, pen.widthF()
        assert pen.color().alpha() == 255 and pen.color().lightness() < 60, pen.color().name()
    # the rim darker than the landscape wherever that is drawn
    darkest = min(QColor(*map(int, c)).lightness() for c in land_map)
    assert spots[0].pen().color().lightness() < darkest - 20


def _label_boxes(view) -> dict:
    boxes = {f"{k}σ": label for k, label in zip(SIGMA_LEVELS, view.prior_labels, strict=True)}
    boxes["your data"] = view.data_label
    boxes["centre"] = view.target.label()
    return {name: item.sceneBoundingRect() for name, item in boxes.items() if item.isVisible()}


def _check_labels(view, mean, sigma) -> list[str]:
    """No two shown labels overlap; each σ label touches its own ring, inside the plot."""
    boxes = _label_boxes(view)
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        assert not box_a.intersects(box_b), (a, b, box_a, box_b)
    inside = view.getPlotItem().vb.sceneBoundingRect()
    for k, label in zip(SIGMA_LEVELS, view.prior_labels, strict=True):
        if not label.isVisible():
            continue
        assert inside.contains(label.sceneBoundingRect()), k
        x, y = label.pos().x(), label.pos().y()
        r = np.hypot((x - mean[0]) / (k * sigma[0]), (y - mean[1]) / (k * sigma[1]))
        assert abs(r - 1) < 1e-6, (k, r)
    return [name for name in boxes if name.endswith("σ")]


def test_region_labels_never_overlap_at_any_zoom(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    view = window.map_view
    vb = view.getPlotItem().vb
    mean = np.asarray(window.session.prior_mean, float)
    sigma = np.asarray(window.session.prior_sigma, float)
    assert view.target.isVisible() and view.data_label.isVisible()
    # the legend names the dashed rings whatever fits on the map
    assert any("3σ/5σ/7σ" in label.text for _, label in view.legend.items)
    shown = {}
    for centre in (mean, mean + 2.5 * sigma, mean - np.array([4.0, 0.5]) * sigma):
        view.set_region(centre, view._semi_axes)
        for half_width in (None, 60, 20, 9, 4):  # None: the whole map
            if half_width is None:
                vb.autoRange()
            else:
                half = half_width * sigma.max()
                vb.setRange(
                    xRange=(mean[0] - half, mean[0] + half),
                    yRange=(mean[1] - half, mean[1] + half),
                    padding=0,
                )
            qtbot.wait(30)
            shown[tuple(centre), half_width] = _check_labels(view, mean, sigma)
    # zoomed in on the prior, each ring has its own label
    for centre in (mean, mean + 2.5 * sigma):
        assert shown[tuple(centre), 9] == ["3σ", "5σ", "7σ"], shown
    # the map resized: laid out again
    view.resize(view.width() // 2, view.height() // 2)
    qtbot.wait(50)
    _check_labels(view, mean, sigma)
