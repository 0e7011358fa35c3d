"""The batched fitter: ranking, parameter recovery, bounds, options, cancellation."""

from __future__ import annotations

import numpy as np
import pytest
from ase.cluster import Decahedron, FaceCenteredCubic, Icosahedron, Octahedron

from deepstruc_gui.science.debye import PDFParameters, simulate_pdf
from deepstruc_gui.science.fitting import FitConfig, fit_candidates
from deepstruc_gui.science.peaks import first_peak_position
from deepstruc_gui.util.cancel import Cancelled, CancelToken

SURFACES = [(1, 0, 0), (1, 1, 0), (1, 1, 1)]


def base_shapes() -> list[np.ndarray]:
    shapes = [Icosahedron("Pt", n).positions for n in (2, 3, 4)]
    shapes += [Decahedron("Pt", p, q, r).positions for p, q, r in [(2, 2, 0), (3, 2, 1), (4, 1, 0)]]
    shapes += [Octahedron("Pt", n, c).positions for n, c in [(4, 0), (5, 1), (6, 1), (7, 2)]]
    shapes += [
        FaceCenteredCubic("Pt", SURFACES, layers).positions
        for layers in ([2, 3, 2], [3, 4, 3], [4, 5, 4])
    ]
    return [s - s.mean(0) for s in shapes if len(s) <= 200]


def decoys(n: int, seed: int, exclude_atoms: int = -1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = [s for s in base_shapes() if len(s) != exclude_atoms]
    out = []
    for i in range(n):
        s = shapes[i % len(shapes)]
        out.append(s * rng.uniform(0.92, 1.08) + rng.normal(scale=0.04, size=s.shape))
    return out


def measured(structure: np.ndarray, params: PDFParameters, scale: float, noise: float, seed=0):
    r, g = simulate_pdf(structure, params)
    rng = np.random.default_rng(seed)
    return r, scale * g + rng.normal(scale=noise * g.max() * scale, size=g.shape)


def test_hidden_modified_copy_ranks_first_with_its_parameters() -> None:
    true = Octahedron("Pt", 6, 1).positions
    true = true - true.mean(0)
    params = PDFParameters()
    r, g = measured(true * 1.035, params.replace(biso=0.65), scale=2.5, noise=0.005)
    candidates = decoys(300, seed=1, exclude_atoms=len(true))
    candidates.insert(137, true)
    result = fit_candidates(candidates, r, g, FitConfig(params=params), device="cpu")
    assert len(result) == 301
    assert result.ranking()[0] == 137
    assert result.expansion[137] == pytest.approx(1.035, abs=0.002)
    assert result.biso[137] == pytest.approx(0.65, abs=0.03)
    assert result.scale[137] == pytest.approx(2.5, rel=0.02)
    assert result.rw[137] < 0.05  # the noise alone gives Rw ≈ 0.04
    # the runner-up, another shape, is clearly worse
    assert result.rw[result.ranking()[1]] > 1.5 * result.rw[137]


def test_fitted_curve_is_the_engine_curve_at_the_refined_parameters() -> None:
    true = Decahedron("Pt", 3, 2, 1).positions
    true = true - true.mean(0)
    params = PDFParameters(qmin=1.0, qmax=22.0, qdamp=0.03, delta2=2.5, rmin=1.5, rmax=20.0)
    r, g = measured(true * 0.97, params.replace(biso=0.4), scale=1.0, noise=0.0)
    res = fit_candidates([true], r, g, FitConfig(params=params, rmin=1.5, rmax=20.0))
    fit_params = params.replace(biso=float(res.biso[0]))
    _, exact = simulate_pdf(true * res.expansion[0], fit_params)
    calc = res.scale[0] * exact
    assert np.allclose(res.r, r)
    assert np.sqrt(np.sum((calc - res.gcalc[0]) ** 2) / np.sum(calc**2)) < 1e-3
    assert res.rw[0] < 2e-3


def test_optional_qdamp_and_delta2_refinement() -> None:
    true = Icosahedron("Pt", 4).positions
    true = true - true.mean(0)
    truth = PDFParameters(qdamp=0.055, delta2=3.5, biso=0.5)
    r, g = measured(true * 1.01, truth, scale=1.0, noise=0.0)
    start = PDFParameters(qdamp=0.03, delta2=1.0)
    fixed = fit_candidates([true], r, g, FitConfig(params=start))
    free = fit_candidates(
        [true], r, g, FitConfig(params=start, refine_qdamp=True, refine_delta2=True, max_iter=40)
    )
    assert free.rw[0] < 0.5 * fixed.rw[0]
    assert free.qdamp[0] == pytest.approx(0.055, abs=0.005)
    assert free.delta2[0] == pytest.approx(3.5, abs=0.5)
    assert fixed.qdamp[0] == 0.03 and fixed.delta2[0] == 1.0


def test_bounds_are_respected() -> None:
    true = Octahedron("Pt", 5, 1).positions
    r, g = measured(true * 1.30, PDFParameters(biso=3.0), scale=1.0, noise=0.0)
    res = fit_candidates([true], r, g, FitConfig(expansion_bounds=(0.9, 1.1), biso_bounds=(0, 2)))
    assert 0.9 <= res.expansion[0] <= 1.1
    assert 0.0 <= res.biso[0] <= 2.0


def test_first_peak_position_is_subgrid() -> None:
    r = np.arange(0, 10, 0.05)
    g = np.exp(-((r - 2.7712) ** 2) / 0.02) + 0.6 * np.exp(-((r - 3.9) ** 2) / 0.02)
    assert first_peak_position(r, g) == pytest.approx(2.7712, abs=0.005)


def test_bad_range_and_cancellation() -> None:
    r = np.arange(0, 30, 0.01)
    g = np.sin(r)
    with pytest.raises(ValueError, match="fit range"):
        fit_candidates([base_shapes()[0]], r, g, FitConfig(rmin=40.0, rmax=50.0))
    with pytest.raises(ValueError, match="rmin"):
        FitConfig(rmin=5.0, rmax=2.0)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        fit_candidates(decoys(4, 0), r, g, cancel=token)


def test_empty_and_tiny_candidates() -> None:
    r, g = measured(base_shapes()[0], PDFParameters(), 1.0, 0.0)
    res = fit_candidates([], r, g)
    assert len(res) == 0
    res = fit_candidates([np.zeros((1, 3)), base_shapes()[0]], r, g)
    assert res.rw[0] == pytest.approx(1.0) and res.rw[1] < 0.01
