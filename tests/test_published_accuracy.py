"""Known answers for every accuracy figure the project publishes (``evaluate``,
docs/MODEL.md, README): each test builds a case whose right figure is known by
construction, so a wrong pairing, a wrong best-of-N choice, a missing expansion or a
miscounted vote changes the number.
"""

from __future__ import annotations

import numpy as np
import pytest

from deepstruc_gui.model.bundle import LatentMap
from deepstruc_gui.model.evaluation import (
    evaluate_structures,
    map_quality,
    matched_mae,
    summarise,
)
from deepstruc_gui.science.debye import TRAINING_PARAMETERS, simulate_pdf

PT_BOND = 2.77


def _truth() -> np.ndarray:
    """A Pt fcc cluster (lattice points within 1.5 bonds of an atom), centred, Å."""
    a = PT_BOND * np.sqrt(2)
    grid = np.array(
        [[i, j, k] for i in range(-2, 3) for j in range(-2, 3) for k in range(-2, 3)], float
    )
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    pts = (grid[:, None, :] + basis[None]).reshape(-1, 3) * a
    pts = np.unique(np.round(pts, 6), axis=0)
    pts = pts[np.linalg.norm(pts, axis=1) <= 1.5 * PT_BOND + 1e-6]
    return pts - pts.mean(axis=0)


# --- matched_mae: atoms paired one-to-one ------------------------------------------


def test_a_permuted_copy_has_zero_mae() -> None:
    truth = _truth()
    perm = np.random.default_rng(1).permutation(len(truth))
    assert matched_mae(truth[perm], truth) == pytest.approx(0.0, abs=1e-12)


def test_mae_is_the_per_coordinate_mean_over_hungarian_pairs() -> None:
    # two atoms, swapped and one shifted by (0.3, 0, 0): pairs by position, not by index
    true = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    pred = np.array([[5.3, 0.0, 0.0], [0.0, 0.0, 0.0]])
    # per coordinate: |0.3| once among 2 atoms × 3 coordinates
    assert matched_mae(pred, true) == pytest.approx(0.3 / 6)
    # greedy nearest-neighbour pairing would use one true atom twice; Hungarian cannot
    true = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    pred = np.array([[0.6, 0, 0], [0.4, 0, 0]])
    assert matched_mae(pred, true) == pytest.approx((0.4 + 0.4) / 6)


def test_unpaired_atoms_are_left_out_of_the_mae() -> None:
    truth = _truth()
    extra = np.vstack([truth, [[40.0, 40.0, 40.0]]])
    assert matched_mae(extra, truth) == pytest.approx(0.0, abs=1e-12)
    assert matched_mae(truth, extra) == pytest.approx(0.0, abs=1e-12)


# --- map_quality: leave-one-out k-NN vote --------------------------------------------


def _map(mu, types, n_atoms=None) -> LatentMap:
    n = len(types)
    return LatentMap(
        mu=np.asarray(mu, float),
        sigma=np.full((n, 2), 0.05),
        types=list(types),
        n_atoms=np.asarray(n_atoms if n_atoms is not None else np.full(n, 10)),
        metals=["Pt"] * n,
        names=[f"{t}_{i}" for i, t in enumerate(types)],
        split=["train"] * n,
        fcc_fraction=np.full(n, np.nan),
    )


def test_a_hand_built_map_has_its_known_leave_one_out_accuracy() -> None:
    # two tight clusters of 6 points each; one "hcp" planted inside the fcc cluster.
    # Leave-one-out, 5 nearest: every fcc point sees 4 fcc + the intruder → fcc (right);
    # the intruder sees 5 fcc → fcc (wrong); every hcp point sees its 5 hcp → right.
    rng = np.random.default_rng(0)
    fcc = rng.normal(scale=0.1, size=(6, 2))
    hcp = rng.normal(scale=0.1, size=(6, 2)) + np.array([10.0, 0.0])
    intruder = np.array([[0.0, 0.0]])
    mu = np.vstack([fcc, intruder, hcp])
    types = ["fcc"] * 6 + ["hcp"] + ["hcp"] * 6
    out = map_quality(_map(mu, types), k=5)
    assert out["knn_type_accuracy"] == pytest.approx(12 / 13)


def test_a_point_is_never_its_own_neighbour() -> None:
    # on a line, 1 nearest neighbour: fcc at 0, 1, 2; hcp at 10, 11 and one at 2.4.
    # 0→1 right, 1→0 right, 2→2.4 wrong, 2.4→2 wrong, 10→11 right, 11→10 right: 4/6.
    # Counting a point as its own neighbour would make every vote right (6/6).
    mu = np.array([[0.0, 0], [1, 0], [2, 0], [10, 0], [11, 0], [2.4, 0]])
    types = ["fcc", "fcc", "fcc", "hcp", "hcp", "hcp"]
    assert map_quality(_map(mu, types), k=1)["knn_type_accuracy"] == pytest.approx(4 / 6)


def test_map_size_r2_is_one_for_a_linear_size_map_and_low_for_noise() -> None:
    rng = np.random.default_rng(0)
    mu = rng.uniform(-1, 1, size=(40, 2))
    linear = np.round(50 + 20 * mu[:, 0] - 10 * mu[:, 1], 6)
    out = map_quality(_map(mu, ["fcc"] * 40, linear * 1000))
    assert out["size_r2_by_type"]["fcc"] == pytest.approx(1.0, abs=1e-9)
    noise = rng.integers(5, 200, size=40)
    assert map_quality(_map(mu, ["fcc"] * 40, noise))["size_r2_by_type"]["fcc"] < 0.5


# --- evaluate_structures: the search with a known truth ------------------------------


class _Bundle:
    def __init__(self) -> None:
        self.metadata = {"pdf_parameters": TRAINING_PARAMETERS.to_dict()}


class _Predictor:
    """Decodes point k of every search to the truth shrunk by 1/1.05 (atoms permuted),
    every other point to a decoy: the truth with 0.25 Å noise per coordinate. The
    prior mean is point 0."""

    device = "cpu"

    def __init__(self, truth: np.ndarray, truth_at: int, expansion: float = 1.05) -> None:
        self.truth, self.truth_at, self.expansion = truth, truth_at, expansion
        self.bundle = _Bundle()
        self.map_mu = np.random.default_rng(0).uniform(-1, 1, size=(30, 2))
        self.decoded: list[np.ndarray] = []

    def prior(self, g):
        return np.array([0.1, -0.2]), np.array([0.3, 0.3])

    def bond_length(self, g) -> float:
        return PT_BOND

    def decode(self, z, bond):
        rng = np.random.default_rng(5)
        out = []
        for k in range(len(z)):
            if k == self.truth_at:
                p = self.truth[rng.permutation(len(self.truth))] / self.expansion
            else:
                p = self.truth + rng.normal(scale=0.25, size=self.truth.shape)
            out.append(p)
        self.decoded, self.z = out, np.asarray(z, float).reshape(-1, 2)
        return out

    def nearest_type(self, z):
        return ["prior-type"]

    def candidate_type(self, z):
        """'typeK' for the K-th point of the last decoded search."""
        z = np.asarray(z, float).reshape(-1, 2)
        return [f"type{int(np.argmin(((self.z - p) ** 2).sum(1)))}" for p in z]


class _Library:
    def __init__(self, truth: np.ndarray) -> None:
        _, g = simulate_pdf(truth, TRAINING_PARAMETERS)
        self.pdfs = np.array([g])
        self.types = np.array(["fcc"])
        self.names = np.array(["fcc_x_Pt_2.77"])
        # shifted: evaluate_structures must centre the truth itself
        self._structure = truth + np.array([3.0, -1.0, 2.0])

    def structure(self, i):
        return self._structure

    def indices(self, split):
        return np.array([0])


@pytest.mark.parametrize("truth_at", [0, 7])
def test_the_search_reports_the_truth_as_best_and_applies_the_expansion(truth_at) -> None:
    truth = _truth()
    predictor = _Predictor(truth, truth_at)
    (res,) = evaluate_structures(predictor, _Library(truth), np.array([0]), samples=10)
    assert len(predictor.decoded) == 11  # the prior mean and 10 search points
    # the truth is found by lowest Rw, and its refined expansion (1.05) applied:
    # without it every coordinate is 5 % short, ≈ 0.1 Å MAE on this cluster
    assert res.best_rw < 0.01
    assert res.best_mae < 0.005
    assert res.best_type == f"type{truth_at}"
    assert res.n_best == res.n_true == len(truth)
    assert res.type == "fcc" and res.predicted_type == "prior-type"
    if truth_at == 0:  # the prior mean's MAE carries the expansion too
        assert res.mae < 0.005 and res.rw == pytest.approx(res.best_rw)
    else:
        decoy_rw = res.rw
        assert decoy_rw > 10 * res.best_rw
        assert res.mae > 0.1


def test_a_wrong_expansion_shows_in_the_mae() -> None:
    """Control: shrink the truth by 5 % and do NOT expand it back → MAE ≈ 5 % of
    the mean |coordinate|. This is the size of error the test above rules out."""
    truth = _truth()
    shrunk = truth / 1.05
    expected = np.abs(truth - shrunk).mean()
    assert expected > 0.05
    assert matched_mae(shrunk, truth) == pytest.approx(expected)


def test_summarise_of_a_known_search_gives_the_published_keys() -> None:
    truth = _truth()
    res = evaluate_structures(_Predictor(truth, 3), _Library(truth), np.array([0]), samples=6)
    m = summarise(res)
    assert m["n_test"] == 1
    assert m["mae_best_of_n"][0] < 0.005 and m["mae_best_of_n"][1] == 0.0
    assert m["mae_prior_mean"][0] > 0.1
    assert m["atom_count_within_10pct_best_of_n"] == 1.0
    assert m["type_accuracy"] == 0.0  # "prior-type" is not "fcc"
    assert m["rw_best_of_n_median"] < 0.01 < m["rw_prior_mean_median"]


# --- model/solve: what the app's search returns --------------------------------------


def _data(truth: np.ndarray):
    from deepstruc_gui.science.pdf_io import PDFData

    r, g = simulate_pdf(truth, TRAINING_PARAMETERS)
    return PDFData(None, r, g)


def test_returned_coordinates_carry_the_refined_expansion() -> None:
    """A decoded cluster 1/1.05 the true size: the fit refines expansion 1.05 and the
    candidate's positions (what the 3-D view shows and exports write) are the truth."""
    from deepstruc_gui.model.solve import evaluate_points
    from deepstruc_gui.science.parameters import FitConfig

    truth = _truth()
    predictor = _Predictor(truth, truth_at=1)
    z = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, -1.0]])
    cands = evaluate_points(_data(truth), predictor, z, FitConfig())
    assert [c.nearest_type for c in cands] == ["type0", "type1", "type2"]  # input order
    best = cands[1]
    assert best.expansion == pytest.approx(1.05, abs=2e-3)
    assert np.allclose(best.positions, predictor.decoded[1] * best.expansion)
    assert matched_mae(best.positions, truth) < 0.005
    assert np.array_equal(best.latent, z[1]) and best.n_atoms == len(truth)
    assert best.rw < 0.01 and best.gcalc.shape == best.r.shape
    # the decoys keep their own expansion and Rw, in input order
    for k in (0, 2):
        assert np.allclose(cands[k].positions, predictor.decoded[k] * cands[k].expansion)
        assert cands[k].rw > 10 * best.rw


def test_the_search_ranks_every_batch_best_first_and_keeps_the_truth_on_top() -> None:
    from deepstruc_gui.model.solve import solve_points
    from deepstruc_gui.science.parameters import FitConfig

    truth = _truth()
    predictor = _Predictor(truth, truth_at=1)  # the second point of the SECOND batch
    z = np.random.default_rng(3).uniform(-1, 1, size=(7, 2))
    seen = []
    ranked = solve_points(
        _data(truth), predictor, z, FitConfig(), on_batch=seen.append, batch_size=3
    )
    assert [len(b) for b in seen] == [3, 6, 7]
    for batch in seen:
        rws = [c.rw for c in batch]
        assert rws == sorted(rws)
    assert len(ranked) == 7 and ranked is seen[-1]
    # each batch is decoded apart, so the truth is decoded at batch index 1 each time:
    # points 1, 4 — both are the truth and both come first
    assert {tuple(c.latent) for c in ranked[:2]} == {tuple(z[1]), tuple(z[4])}
    assert matched_mae(ranked[0].positions, truth) < 0.005
    assert ranked[2].rw > 10 * ranked[0].rw


# --- the search's sampling and plumbing (mutation survivors) ---------------------------


def test_region_samples_fill_the_ellipse_uniformly() -> None:
    from deepstruc_gui.model.solve import sample_region

    center, axes = np.array([1.0, 2.0]), np.array([3.0, 0.5])
    z = sample_region(center, axes, 8000, np.random.default_rng(0))
    u = (z - center) / axes  # the unit disc
    rho = np.hypot(*u.T)
    assert z.shape == (8000, 2) and rho.max() <= 1 + 1e-12 and rho.max() > 0.99
    # uniform over the area: a quarter of the points inside half the radius
    assert np.mean(rho < 0.5) == pytest.approx(0.25, abs=0.02)
    # every direction equally: each quadrant a quarter, centred on the centre
    for sx in (1, -1):
        for sy in (1, -1):
            assert np.mean((sx * u[:, 0] > 0) & (sy * u[:, 1] > 0)) == pytest.approx(0.25, abs=0.02)
    np.testing.assert_allclose(z.mean(axis=0), center, atol=0.05)
    # a scalar radius is a circle
    c = sample_region(np.zeros(2), 2.0, 4000, np.random.default_rng(1))
    assert np.hypot(*c.T).max() == pytest.approx(2.0, abs=0.02)
    assert np.ptp(c[:, 0]) == pytest.approx(np.ptp(c[:, 1]), rel=0.02)


def test_whole_map_points_are_the_distinct_map_points() -> None:
    from deepstruc_gui.model.solve import whole_map_points

    class P:
        map_mu = np.array([[0.1, 0.2], [0.10001, 0.2], [0.1, 0.2001], [1.0, 1.0]])

    z = whole_map_points(P())
    # 1e-5 apart is one point (4 decimals), 1e-4 apart is two
    assert z.shape == (3, 2)
    assert {tuple(p) for p in np.round(z, 4)} == {(0.1, 0.2), (0.1, 0.2001), (1.0, 1.0)}


def test_candidates_from_fit_copies_every_refined_parameter() -> None:
    from deepstruc_gui.model.solve import candidates_from_fit
    from deepstruc_gui.science.fitting import FitResult

    r = np.linspace(2, 10, 9)
    result = FitResult(
        rw=np.array([0.3, 0.1]), scale=np.array([1.5, 2.5]), expansion=np.array([1.02, 0.97]),
        biso=np.array([0.4, 0.6]), qdamp=np.array([0.03, 0.05]), delta2=np.array([1.0, 3.0]),
        r=r, gcalc=np.vstack([np.sin(r), np.cos(r)]), gobs=np.sin(r),
    )  # fmt: skip
    clusters = [np.ones((3, 3)), np.full((5, 3), 2.0)]
    z = np.array([[0.1, 0.2], [0.3, 0.4]])
    cands = candidates_from_fit(z, clusters, result, ["fcc", "hcp"])
    for i, c in enumerate(cands):
        np.testing.assert_array_equal(c.latent, z[i])
        np.testing.assert_allclose(c.positions, clusters[i] * result.expansion[i])
        assert c.n_atoms == len(clusters[i]) and c.nearest_type == ["fcc", "hcp"][i]
        for name in ("rw", "scale", "expansion", "biso", "qdamp", "delta2"):
            assert getattr(c, name) == getattr(result, name)[i], name
        np.testing.assert_array_equal(c.r, r)
        np.testing.assert_array_equal(c.gcalc, result.gcalc[i])


class _RecordingPredictor(_Predictor):
    """Also records the bond length each decode was asked for."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bonds: list[float] = []

    def bond_length(self, g) -> float:
        return 2.75

    def decode(self, z, bond):
        self.bonds.append(bond)
        return super().decode(z, bond)


def test_evaluate_points_decodes_at_the_data_bond_and_fits_the_given_range() -> None:
    from deepstruc_gui.model.solve import evaluate_points
    from deepstruc_gui.science.parameters import FitConfig
    from deepstruc_gui.util.cancel import Cancelled, CancelToken

    truth = _truth()
    predictor = _RecordingPredictor(truth, truth_at=0)
    z = np.zeros((2, 2))
    cands = evaluate_points(_data(truth), predictor, z, FitConfig(rmin=3.0, rmax=12.0))
    assert predictor.bonds == [2.75]  # read from the data once, passed to the decoder
    assert cands[0].r.min() >= 3.0 and cands[0].r.max() <= 12.0
    assert cands[0].r.max() > 11.9 and cands[0].r.min() < 3.1
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        evaluate_points(_data(truth), predictor, z, FitConfig(), cancel=token)


def test_solve_searches_the_region_reproducibly_by_seed() -> None:
    from deepstruc_gui.model.solve import solve
    from deepstruc_gui.science.parameters import FitConfig

    truth = _truth()
    predictor = _Predictor(truth, truth_at=-1)  # all decoys: only the points matter
    predictor.map_mu = np.zeros((0, 2))  # no map points: every point drawn
    data = _data(truth)
    center, radius = np.array([0.5, -0.5]), np.array([0.2, 0.1])
    batches = []
    a = solve(data, predictor, center, radius, 6, FitConfig(), seed=3, on_batch=batches.append,
              batch_size=4)  # fmt: skip
    b = solve(data, predictor, center, radius, 6, FitConfig(), seed=3)
    c = solve(data, predictor, center, radius, 6, FitConfig(), seed=4)
    za = np.array(sorted(tuple(x.latent) for x in a))
    assert len(a) == 6 and [len(x) for x in batches] == [4, 6]
    assert np.array_equal(za, np.array(sorted(tuple(x.latent) for x in b)))
    assert not np.array_equal(za, np.array(sorted(tuple(x.latent) for x in c)))
    assert (((za - center) / radius) ** 2).sum(1).max() <= 1 + 1e-9


def test_evaluation_reads_the_prior_region_bond_and_training_shapes() -> None:
    """What one evaluated structure rests on: the prior of its own PDF, 3σ around the
    prior mean, the bond length the model reads, the training split's shapes."""
    truth = _truth()
    predictor = _RecordingPredictor(truth, truth_at=2)
    seen_g = []
    prior = predictor.prior
    predictor.prior = lambda g: (seen_g.append(g), prior(g))[1]
    library = _Library(truth)
    calls = []
    (res,) = evaluate_structures(
        predictor, library, np.array([0]), samples=8, progress=lambda *a: calls.append(a)
    )
    assert calls == [(1, 1)]
    np.testing.assert_array_equal(seen_g[0], library.pdfs[0])
    assert predictor.bonds == [2.75]
    mean, sig = prior(None)
    u = (predictor.z[1:] - mean) / (3 * sig)
    assert np.allclose(predictor.z[0], mean) and (u**2).sum(1).max() <= 1 + 1e-9
    assert np.abs(predictor.z[1:] - mean).max() > sig.min()  # spread over 3σ, not 1σ
    assert res.shape_in_training  # "fcc_x" is in the training split (the same entry)
    library.names = np.array(["fcc_y_Pt_2.77"])
    library.indices = lambda split: np.array([0]) if split == "test" else np.array([], int)
    (res,) = evaluate_structures(predictor, library, np.array([0]), samples=4)
    assert not res.shape_in_training


def test_map_quality_skips_small_types_and_reports_stacking_only_with_fractions() -> None:
    rng = np.random.default_rng(0)
    # "aaa" (4 points, sorted first) is too small for a size fit; "fcc" and "hcp" are not
    types = ["aaa"] * 4 + ["fcc"] * 10 + ["hcp"] * 10
    mu = rng.uniform(-1, 1, size=(24, 2))
    sizes = np.round(50 + 30 * mu[:, 0])
    sizes[14:] = 60  # hcp: one size, nothing to explain
    out = map_quality(_map(mu, types, sizes))
    assert set(out["size_r2_by_type"]) == {"fcc", "hcp"}
    assert out["size_r2_by_type"]["fcc"] > 0.99 and out["size_r2_by_type"]["hcp"] == 1.0
    assert "stacking" not in out
    m = _map(mu, types, sizes)
    m.fcc_fraction = np.where(np.arange(24) % 3 == 0, 1.0, np.where(np.arange(24) % 3, 0.5, 0.0))
    m.fcc_fraction[1] = 0.0
    m.names = [f"ABCAB_c1.6a_Pt_{k}" for k in range(24)]
    assert set(map_quality(m)["stacking"]) >= {"spearman_fcc_fraction_vs_axis"}


def test_map_box_and_region_points_off_the_origin() -> None:
    from deepstruc_gui.model.solve import map_box, region_points, sample_region_on_map

    mu = np.array([[1.0, 10.0], [3.0, 14.0], [2.0, 12.0]])
    lo, hi = map_box(mu, margin=0.25)
    np.testing.assert_allclose(lo, [0.5, 9.0])
    np.testing.assert_allclose(hi, [3.5, 15.0])
    # map points inside an ellipse centred off the origin, semi-axes (1.1, 2.1): the
    # point at (3, 14) lies at (1/1.1)² + (2/2.1)² > 1, outside; (1, 10) too
    center, radius = np.array([2.0, 12.0]), np.array([1.1, 2.1])
    z = region_points(mu, center, radius, 6, np.random.default_rng(0))
    assert np.allclose(z[0], [2.0, 12.0]) and not np.isclose(z[1:], [3.0, 14.0]).all(1).any()
    assert len(z) == 6 and ((((z - center) / radius) ** 2).sum(1) <= 1 + 1e-9).all()
    # an ellipse reaching past the box: only points inside the box
    box = (np.array([0.0, 0.0]), np.array([1.0, 1.0]))
    w = sample_region_on_map(np.array([0.9, 0.5]), 0.5, 50, np.random.default_rng(1), box)
    assert len(w) == 50 and (w >= 0).all() and (w <= 1).all()


def test_the_final_answer_with_the_sequence_search_is_the_stacking_it_builds() -> None:
    """A stacking model whose every decoded point is a decoy (the truth with 0.25 Å
    noise) but whose map reads the truth's layer count and patch: the sequence search
    builds the truth, so the final answer's MAE is ~0 while the best of N stays a decoy;
    the summary reports both."""
    from types import SimpleNamespace

    from deepstruc_gui.model.sequence_search import SequenceSearchSettings, Stacking
    from deepstruc_gui.science.stacking import Patch

    want = Stacking.of("ABCACB", Patch("circle", 1.6, "B"))
    truth = want.positions(PT_BOND)
    truth = truth - truth.mean(axis=0)
    predictor = _Predictor(truth, truth_at=-1)
    predictor.bundle.latent_map = SimpleNamespace(names=np.array(["ABABAB_c1.6a_Pt_2.77"]))
    predictor.nearest_structures = lambda z, k=1: np.zeros((len(np.reshape(z, (-1, 2))), k), int)
    library = _Library(truth)
    library.types = np.array(["faulted"])
    (res,) = evaluate_structures(
        predictor,
        library,
        np.array([0]),
        samples=6,
        sequence_search=SequenceSearchSettings(rounds=1),
    )
    assert res.best_mae > 0.1 and res.final_source == "sequence-search"
    assert res.final_mae < 0.005 and res.final_rw < 0.01 and res.final_type == "faulted"
    assert res.n_final == len(truth)
    m = summarise([res])
    assert m["mae_final"][0] < 0.005 < 0.1 < m["mae_best_of_n"][0]
    assert m["type_accuracy_final"] == 1.0 and m["final_from_sequence_search"] == 1.0
    assert m["by_type"]["faulted"]["atom_count_within_10pct_final"] == 1.0
