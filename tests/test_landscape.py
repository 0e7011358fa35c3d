"""The Rw landscape on the shipped seven-type model and the Pt example: its values are
what a direct decode and fit at the same points gives, the streamed picture ends as the
one-shot one, a cancel leaves a consistent partial picture, files round-trip."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.model.coarse import PairHistogramCache
from deepstruc_gui.model.landscape import (
    SOURCES,
    Landscape,
    LandscapeSettings,
    compute_landscape,
    prepare_landscape,
)
from deepstruc_gui.model.pipeline import fit_config_for, load_predictor
from deepstruc_gui.model.solve import whole_map_points
from deepstruc_gui.science.fitting import fit_candidates
from deepstruc_gui.science.parameters import PDFParameters
from deepstruc_gui.science.pdf_io import read_pdf
from deepstruc_gui.util.cancel import Cancelled, CancelToken

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
SMALL = LandscapeSettings(grid=12, first_map=300, first_grid=4, batch_size=700, n_fit=6)


@pytest.fixture(scope="module")
def setup():
    predictor = load_predictor(None, "cpu")
    data = read_pdf(EXAMPLES / "JQ_S1.gr")
    base = PDFParameters.from_dict(predictor.bundle.metadata["pdf_parameters"])
    config, _ = fit_config_for(data, base)
    return predictor, data, config


@pytest.fixture(scope="module")
def one_shot(setup) -> Landscape:
    predictor, data, config = setup
    return compute_landscape(data, predictor, config, SMALL)


def test_prepared_points_are_not_computed_again(setup) -> None:
    predictor, _, _ = setup
    n = prepare_landscape(predictor, SMALL)
    cache = PairHistogramCache.for_predictor(predictor, 12.0)
    assert n == len(whole_map_points(predictor)) + SMALL.grid**2
    assert len(cache._rows) >= n
    before = dict(cache._rows)
    prepare_landscape(predictor, SMALL)
    assert all(cache._rows[k] is v for k, v in before.items())


def test_landscape_covers_the_map_and_the_grid(setup, one_shot) -> None:
    predictor, _, _ = setup
    land = one_shot
    n_map = len(np.unique(np.round(predictor.map_mu, 4), axis=0))
    assert land.complete and (land.source == 0).sum() == n_map
    assert (land.source == 1).sum() == SMALL.grid**2 and (land.source == 2).sum() > 0
    assert len(np.unique(np.round(land.z, 6), axis=0)) == len(land)  # no point twice
    assert np.all((land.rw >= 0) & (land.rw <= 1))
    # Pt data: the lowest places on the map decode to fcc (the whole-map answer)
    assert land.types[land.lowest(1)[0]] == "fcc"
    assert set(land.info["seconds"]) == {"first", "map", "refine", "fit"}


def test_full_fit_values_are_those_of_a_direct_decode_and_fit(setup, one_shot) -> None:
    predictor, data, config = setup
    land = one_shot
    fitted = np.flatnonzero(np.isfinite(land.rw_fit))
    assert len(fitted) == SMALL.n_fit
    direct = fit_candidates(predictor.decode(land.z[fitted], land.bond), data.r, data.g, config)
    np.testing.assert_allclose(land.rw_fit[fitted], direct.rw, rtol=1e-9)
    # the coarse value is a constrained fit of the same cluster: never clearly below it
    assert np.all(land.rw[fitted] >= direct.rw - 2e-3)
    assert np.all(land.rw[fitted] - direct.rw < 0.03)


def test_coarse_values_equal_a_direct_fit_with_the_same_parameters_held(setup, one_shot) -> None:
    """The coarse pass refines the scale only at its chosen expansion and Biso: a direct
    fit with those held (expansion 1 and that Biso, not refined) gives the same Rw."""
    predictor, data, config = setup
    land = one_shot
    rng = np.random.default_rng(1)
    idx = rng.choice(np.flatnonzero(land.alpha == 1.0), 12, replace=False)
    for biso in np.unique(land.biso[idx]):
        sel = idx[land.biso[idx] == biso]
        held = config.replace(
            params=config.params.replace(biso=float(biso)),
            refine_expansion=False,
            refine_biso=False,
            polish=0,
        )
        direct = fit_candidates(predictor.decode(land.z[sel], land.bond), data.r, data.g, held)
        np.testing.assert_allclose(land.rw[sel], direct.rw, atol=2e-3)


def test_streamed_picture_ends_identical_to_the_one_shot_one(setup, one_shot) -> None:
    predictor, data, config = setup
    snapshots: list[Landscape] = []
    final = compute_landscape(data, predictor, config, SMALL, on_update=snapshots.append)
    assert len(snapshots) >= 5 and snapshots[-1].complete
    assert not any(s.complete for s in snapshots[:-1])
    sizes = [len(s) for s in snapshots]
    assert sizes == sorted(sizes) and sizes[0] <= SMALL.first_map
    np.testing.assert_array_equal(final.z, one_shot.z)
    np.testing.assert_array_equal(final.types, one_shot.types)
    np.testing.assert_array_equal(final.n_atoms, one_shot.n_atoms)
    np.testing.assert_allclose(final.rw, one_shot.rw, rtol=1e-6)
    np.testing.assert_allclose(final.rw_fit, one_shot.rw_fit, rtol=1e-6)
    for snap in snapshots:  # every picture is what the one-shot computation has there
        np.testing.assert_allclose(snap.rw, one_shot.rw[: len(snap)], rtol=1e-6)


def test_cancel_midway_leaves_a_consistent_partial_picture(setup, one_shot) -> None:
    predictor, data, config = setup
    token = CancelToken()
    seen: list[Landscape] = []

    def cancel_after_two(land: Landscape) -> None:
        seen.append(land)
        if len(seen) == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        compute_landscape(data, predictor, config, SMALL, on_update=cancel_after_two, cancel=token)
    assert len(seen) == 2  # no picture after the cancel
    # nothing keeps decoding in the background once the cancel has returned
    assert not [t for t in threading.enumerate() if t.name.startswith("ahead")]
    part = seen[-1]
    assert not part.complete and 0 < len(part) < len(one_shot)
    n = len(part)
    for name in ("z", "rw", "alpha", "biso", "n_atoms", "types", "source", "stage", "rw_fit"):
        assert len(getattr(part, name)) == n, name
    np.testing.assert_allclose(part.rw, one_shot.rw[:n], rtol=1e-6)
    assert np.isnan(part.image((40, 40))).mean() < 1  # something to draw


def test_save_load_and_exports_round_trip(one_shot, tmp_path) -> None:
    land = one_shot
    land.save(tmp_path / "land.npz")
    back = Landscape.load(tmp_path / "land.npz")
    np.testing.assert_array_equal(back.z, land.z)
    np.testing.assert_array_equal(back.rw_fit, land.rw_fit)
    np.testing.assert_array_equal(back.types, land.types)
    assert back.complete and back.info == land.info and back.bond == land.bond

    land.export_csv(tmp_path / "land.csv")
    with open(tmp_path / "land.csv", newline="") as fh:
        next(fh)  # the comment line
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(land)
    np.testing.assert_allclose([float(r["rw_coarse"]) for r in rows], land.rw, rtol=1e-5)
    assert [r["type"] for r in rows] == list(land.types)
    assert {r["source"] for r in rows} == set(SOURCES)
    fits = [float(r["rw_fit"]) if r["rw_fit"] else np.nan for r in rows]
    np.testing.assert_allclose(fits, land.rw_fit, rtol=1e-5)

    land.export_grid(tmp_path / "grid.npz", shape=(60, 50))
    with np.load(tmp_path / "grid.npz") as grid:
        assert grid["rw"].shape == (60, 50) and len(grid["z1"]) == 60 and len(grid["z2"]) == 50
        assert np.nanmin(grid["rw"]) == pytest.approx(np.nanmin(land.best_rw), abs=0.05)

    (tmp_path / "bad.npz").write_bytes(b"not a landscape")
    with pytest.raises(ValueError, match=r"bad\.npz"):
        Landscape.load(tmp_path / "bad.npz")
