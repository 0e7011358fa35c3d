"""What the views draw, read from the screen: the 3-D canvas rendered (OpenGL, run
under ``xvfb-run -a -s "-screen 0 1600x1000x24"``), the PDF panel's curves in pixels,
the latent map's σ ellipses in map units. The views are tested alone, without the
window."""

from __future__ import annotations

import os

import numpy as np
import pytest
from ase.cluster import Icosahedron, Octahedron
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.pdf_io import PDFData


def _centred(p: np.ndarray) -> np.ndarray:
    return p - p.mean(axis=0)


# --- the 3-D structure view -----------------------------------------------------------


@pytest.fixture
def structure_view(qtbot):
    import vispy

    vispy.use(app="pyside6")
    from deepstruc_gui.gui.views.structure_view import StructureView

    view = StructureView()
    qtbot.addWidget(view)
    view.resize(600, 500)
    view.show()
    qtbot.waitExposed(view)
    if view.canvas is None:
        if os.environ.get("DISPLAY"):
            pytest.fail("a display is set but the 3-D view found no OpenGL context")
        pytest.skip("no display: run under xvfb-run for the OpenGL tests")
    return view


def _render(view) -> tuple[np.ndarray, np.ndarray]:
    """The canvas as RGB pixels and a mask of the pixels that are not background."""
    img = view.canvas.render()[..., :3].astype(int)
    return img, (img < 245).any(axis=-1)


def _screen_xy(view, positions: np.ndarray) -> np.ndarray:
    """Where each atom centre lands on the rendered canvas (pixels, x right, y down)."""
    tr = view._markers.get_transform("visual", "canvas")
    mapped = tr.map(positions)
    return mapped[:, :2] / mapped[:, 3:4] * view.canvas.pixel_scale


@pytest.mark.gl
def test_the_3d_view_draws_every_atom_in_its_type_colour(structure_view) -> None:
    view = structure_view
    p = _centred(Icosahedron("Pt", 2).positions)  # 13 atoms
    view.set_structure(p, "icosahedral", "Pt")
    # the GPU buffer holds one sprite per atom, at the atom's position
    data = view._markers._data
    assert len(data) == 13
    np.testing.assert_allclose(data["a_position"], p, atol=1e-5)
    img, drawn = _render(view)
    assert 0.05 < drawn.mean() < 0.95  # neither blank nor a flood
    # every atom centre is drawn, in the type's blue (#005493): shading darkens, never
    # turns it red or white
    h, w = drawn.shape
    for x, y in _screen_xy(view, p):
        assert 0 <= x < w and 0 <= y < h, "an atom is off the canvas"
        r, g, b = img[int(y), int(x)]
        assert drawn[int(y), int(x)] and b > r + 20 and b >= g, (x, y, (r, g, b))
    # the corners stay background: the camera frames the cluster
    assert not drawn[:5, :5].any() and not drawn[-5:, -5:].any()


@pytest.mark.gl
def test_a_bigger_cluster_covers_more_and_no_structure_is_blank(structure_view) -> None:
    view = structure_view
    small = _centred(Octahedron("Pt", 2).positions)  # 6 atoms
    big = _centred(Octahedron("Pt", 5).positions)  # 85 atoms
    view.colour_mode.setCurrentIndex(0)
    view.set_structure(small, "octahedral", "Pt")
    assert len(view._markers._data) == len(small) == view.atom_count
    _, drawn_small = _render(view)
    view.set_structure(big, "octahedral", "Pt")
    assert len(view._markers._data) == len(big)
    _, drawn_big = _render(view)
    for x, y in _screen_xy(view, big):
        assert drawn_big[int(y), int(x)]
    # the camera distance scales with the diameter, so coverage stays comparable; the
    # number of distinct drawn sprites does not: each atom centre is a separate spot
    assert len({(int(x) // 3, int(y) // 3) for x, y in _screen_xy(view, big)}) > 40
    view.set_structure(None)
    _, drawn_none = _render(view)
    assert not drawn_none.any() and view.info.text() == "no structure"
    assert drawn_small.any()


# --- the PDF panel --------------------------------------------------------------------


def _pdf_candidate():
    r = np.arange(0, 20.0, 0.01)
    g = np.sin(2 * r) * np.exp(-r / 10) * 3.0
    data = PDFData(None, r, g)
    fit_r = r[(r >= 2.5) & (r <= 15.0)]
    gcalc = 0.8 * np.sin(2 * fit_r + 0.2) * np.exp(-fit_r / 10) * 3.0
    c = Candidate(
        latent=np.zeros(2), positions=np.zeros((1, 3)), n_atoms=1, rw=0.3, scale=1.0,
        expansion=1.0, biso=0.3, qdamp=0.04, delta2=2.0, nearest_type="fcc",
        r=fit_r, gcalc=gcalc,
    )  # fmt: skip
    return data, c


def test_the_difference_curve_is_data_minus_fit_below_the_data(qtbot) -> None:
    from deepstruc_gui.gui.views.pdf_panel import DIFF_OFFSET, PDFPanel

    panel = PDFPanel()
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    qtbot.waitExposed(panel)
    data, c = _pdf_candidate()
    panel.set_data(data)
    panel.show_candidate(c)
    offset = DIFF_OFFSET * np.abs(data.g).max()
    assert offset < 0
    x, y = panel.curves["difference"]
    np.testing.assert_allclose(x, c.r)
    expected = np.interp(c.r, data.r, data.g) - c.gcalc + offset
    np.testing.assert_allclose(y, expected, atol=1e-12)
    _, fy = panel.curves["fit"]
    np.testing.assert_allclose(fy, c.gcalc)
    assert panel.zero.value() == pytest.approx(offset)
    # on screen: the green difference curve passes through its expected points, below
    # every measured point
    qtbot.wait(50)
    image = panel.grab().toImage()
    vb = panel.getPlotItem().vb
    green = QColor("#2CA02C")

    def near_green(px: QPointF) -> bool:
        for dx in range(-2, 3):
            for dy in range(-2, 3):
                col = image.pixelColor(int(px.x()) + dx, int(px.y()) + dy)
                if abs(col.red() - green.red()) + abs(col.green() - green.green()) < 90 and (
                    col.green() > col.red() + 40
                ):
                    return True
        return False

    ratio = image.devicePixelRatio()
    hits = 0
    sample = range(0, len(x), 60)
    for k in sample:
        scene = vb.mapViewToScene(QPointF(float(x[k]), float(expected[k])))
        hits += near_green(panel.mapFromScene(scene).toPointF() * ratio)
    assert hits >= 0.9 * len(sample)
    # no candidate: the fit and the difference go away
    panel.show_candidate(None)
    assert len(panel.curves["difference"][0] or []) == 0


# --- the latent map -------------------------------------------------------------------


def test_sigma_ellipses_span_the_prior_mean_plus_minus_k_sigma_on_each_axis(qtbot) -> None:
    from deepstruc_gui.gui.views.latent_map import SIGMA_LEVELS, LatentMapView

    view = LatentMapView()
    qtbot.addWidget(view)
    mean, sigma = np.array([0.4, -1.2]), np.array([0.3, 0.05])  # wide in z1, narrow in z2
    view.set_prior(mean, sigma)
    for k, curve in zip(SIGMA_LEVELS, view.prior_curves, strict=True):
        x, y = curve.getData()
        assert x.min() == pytest.approx(mean[0] - k * sigma[0], abs=1e-3)
        assert x.max() == pytest.approx(mean[0] + k * sigma[0], abs=1e-3)
        assert y.min() == pytest.approx(mean[1] - k * sigma[1], abs=1e-3)
        assert y.max() == pytest.approx(mean[1] + k * sigma[1], abs=1e-3)
        # an ellipse, not a box: every point on it satisfies the ellipse equation
        np.testing.assert_allclose(
            ((x - mean[0]) / (k * sigma[0])) ** 2 + ((y - mean[1]) / (k * sigma[1])) ** 2, 1.0
        )
    np.testing.assert_allclose(view.prior_marker.data["x"], [mean[0]])
    np.testing.assert_allclose(view.prior_marker.data["y"], [mean[1]])
    view.set_prior(None, None)
    assert all(len(c.getData()[0] or []) == 0 for c in view.prior_curves)


def test_the_sampling_region_spans_centre_plus_minus_its_semi_axes(qtbot) -> None:
    from deepstruc_gui.gui.views.latent_map import LatentMapView

    view = LatentMapView()
    qtbot.addWidget(view)
    emitted = []
    view.center_dragged.connect(lambda *a: emitted.append(a))
    view.set_region((1.0, 2.0), np.array([0.9, 0.15]))
    pos, size = view.region.pos(), view.region.size()
    assert (pos.x(), pos.y()) == pytest.approx((0.1, 1.85))
    assert (size.x(), size.y()) == pytest.approx((1.8, 0.3))
    assert (view.target.pos().x(), view.target.pos().y()) == pytest.approx((1.0, 2.0))
    assert emitted == []  # placing from state is not a user drag
