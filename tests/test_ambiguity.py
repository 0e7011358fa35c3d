"""When the data do not decide: candidates as good as the best within the data's noise
that disagree on type or atom count give ``not-unique`` (model/ambiguity.py)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from deepstruc_gui.model.ambiguity import (
    RELATIVE_FLOOR,
    alike,
    ambiguity_warning,
    independent_points,
    indistinguishable_rw,
)
from deepstruc_gui.model.built_fit import built_candidates, fit_sized
from deepstruc_gui.model.pipeline import fit_config_for, result_warnings
from deepstruc_gui.model.sequence_search import Stacking
from deepstruc_gui.science.debye import simulate_pdf
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.science.stacking import Patch, stacking_type


def _noisy(positions: np.ndarray, noise: float, seed: int = 0) -> PDFData:
    r, g = simulate_pdf(positions, TRAINING_PARAMETERS)
    rng = np.random.default_rng(seed)
    sigma = noise * np.abs(g).max()
    if not noise:
        return PDFData(None, r, g)
    return PDFData(None, r, g + rng.normal(0, sigma, g.shape), dg=np.full_like(g, sigma))


def test_the_window_grows_with_the_noise_and_never_falls_below_two_percent() -> None:
    truth = Stacking.of("ABCAB", Patch("circle", 1.6, "A")).positions(2.6)
    qmax = TRAINING_PARAMETERS.qmax
    clean = _noisy(truth, 0.0)
    noisy = _noisy(truth, 0.03)
    assert indistinguishable_rw(0.1) == pytest.approx(0.1 * (1 + RELATIVE_FLOOR))
    # clean data (no dG): the noise floor the size fit reads is tiny, the window ~2 %
    assert 0.0102 <= indistinguishable_rw(0.01, clean, qmax) < 0.012
    # with dG the noise Rw is sqrt(Σσ²/ΣG²) over the fit range
    keep = (noisy.r >= 2) & (noisy.r <= 30)
    noise = math.sqrt(np.sum(noisy.dg[keep] ** 2) / np.sum(noisy.g[keep] ** 2))
    n = independent_points(qmax, (2.0, 30.0))
    assert n == pytest.approx(28 * qmax / math.pi)
    want = math.sqrt(0.2**2 + 2 * math.sqrt(2 / n) * noise**2)
    assert indistinguishable_rw(0.2, noisy, qmax) == pytest.approx(want)
    assert want > 0.2 * (1 + RELATIVE_FLOOR)


def _candidate(rw: float, n: int, kind: str = "faulted") -> SimpleNamespace:
    return SimpleNamespace(rw=rw, n_atoms=n, nearest_type=kind, shape="")


def test_only_disagreeing_candidates_within_the_window_warn() -> None:
    data = _noisy(Stacking.of("ABCAB", Patch("circle", 1.6, "A")).positions(2.6), 0.02)
    qmax = TRAINING_PARAMETERS.qmax
    limit = indistinguishable_rw(0.20, data, qmax)
    inside, outside = 0.5 * (0.20 + limit), limit + 0.01
    assert alike([_candidate(0.2, 80), _candidate(inside, 80), _candidate(outside, 80)], limit) == [
        _candidate(inside, 80)
    ]
    # same type and count: they agree, nothing to warn about
    assert ambiguity_warning(data, [_candidate(0.2, 80), _candidate(inside, 82)], qmax) is None
    # another count, but outside the window: the data decided
    assert ambiguity_warning(data, [_candidate(0.2, 80), _candidate(outside, 120)], qmax) is None
    count = ambiguity_warning(data, [_candidate(0.2, 80), _candidate(inside, 120)], qmax)
    assert count is not None and count.code == "not-unique" and count.severity == "warning"
    assert "80–120" in count.message and "faulted" in count.message
    kind = ambiguity_warning(data, [_candidate(0.2, 80), _candidate(inside, 80, "fcc")], qmax)
    assert kind is not None and "faulted, fcc" in kind.message and "80 atoms" in kind.message


def test_a_noisy_stack_and_its_one_layer_shorter_neighbour_are_not_told_apart() -> None:
    """Fit the true 5-layer stack and the same stack one layer shorter to the truth's
    G(r): with 4 % noise both fit within the noise and the answer says so; without
    noise the truth fits far better and nothing is said."""
    patch = Patch("circle", 1.6, "A")
    truth, shorter = Stacking.of("ABCAB", patch), Stacking.of("ABCA", patch)
    units = [truth.positions(), shorter.positions()]
    for noise, warned in ((0.04, True), (0.0, False)):
        data = _noisy(truth.positions(2.6), noise, seed=2)
        config, _ = fit_config_for(data, TRAINING_PARAMETERS)
        clusters = [u * 2.6 for u in units]
        fitted = fit_sized(data, clusters, config)
        kinds = [
            (stacking_type(s.sequence), s.label, len(c))
            for s, c in zip((truth, shorter), clusters, strict=True)
        ]
        ranked = sorted(built_candidates(clusters, kinds, fitted), key=lambda c: c.rw)
        warnings = result_warnings(data, ranked, {"library_kind": "stacking"}, config)
        codes = [w.code for w in warnings]
        assert ("not-unique" in codes) == warned, (noise, [c.rw for c in ranked], codes)
        if warned:
            message = next(w.message for w in warnings if w.code == "not-unique")
            assert f"{len(units[1])}–{len(units[0])}" in message
