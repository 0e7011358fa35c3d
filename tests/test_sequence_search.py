"""The stacking-sequence search: a stacking model's reading turned into every stacking of
its layer counts and patches, and a walk to neighbouring stackings, built and fitted
(model/sequence_search.py)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from deepstruc_gui.model.built_fit import refit_built
from deepstruc_gui.model.candidate import SOURCE_MODEL, SOURCE_SEQUENCE_SEARCH
from deepstruc_gui.model.evaluation import matched_mae
from deepstruc_gui.model.pipeline import SolveSettings, fit_config_for, load_predictor, run_solve
from deepstruc_gui.model.sequence_search import (
    SequenceSearchSettings,
    Stacking,
    read_stackings,
    search_sequences,
    search_stackings,
)
from deepstruc_gui.science.debye import simulate_pdf
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.science.stacking import (
    DEFAULT_PATCHES,
    Patch,
    canonical_stacking,
    fcc_fraction,
    layer_points,
    stacked_cluster,
)
from deepstruc_gui.science.structures import sorted_pair_distances


def _data(positions: np.ndarray, noise: float = 0.0, seed: int = 0) -> PDFData:
    r, g = simulate_pdf(positions, TRAINING_PARAMETERS)
    if noise:
        g = g + np.random.default_rng(seed).normal(0, noise * np.abs(g).max(), g.shape)
    return PDFData(None, r, g)


def test_patch_labels_read_back_and_neighbours_hold_other_atoms() -> None:
    for patch in DEFAULT_PATCHES:
        assert Patch.from_label(patch.label) == patch
        smaller, larger = patch.neighbours()
        atoms = [len(layer_points(s, patch)) for s in "ABC"]
        bigger = [len(layer_points(s, larger)) for s in "ABC"]
        assert all(b >= a for a, b in zip(atoms, bigger, strict=True)) and bigger != atoms
        if smaller is not None:
            fewer = [len(layer_points(s, smaller)) for s in "ABC"]
            assert all(f <= a for a, f in zip(atoms, fewer, strict=True)) and fewer != atoms
            assert min(fewer) >= 3
    for bad in ("", "x2a", "c2", "cabc"):
        with pytest.raises(ValueError, match="not a patch label"):
            Patch.from_label(bad)


def test_reading_library_names() -> None:
    names = ["ABCAC_c2.2a_Pt_2.60", "ABCAB_c2.2b_Au_2.68", "ABCAC_c2.2a_Co_2.32", "fcc_55_Pt", "x"]
    assert read_stackings(names) == [(5, Patch("circle", 2.2, "A")), (5, Patch("circle", 2.2, "B"))]


def test_one_cluster_has_one_canonical_form_in_the_library_orientation() -> None:
    # the same cluster read upside down and relabelled (axis relabelled with it)
    pair = canonical_stacking("ABCBACABAB", "A")
    assert pair == ("ABABCBACAB", "B")
    assert canonical_stacking("BABACABCBA", "A") == pair  # upside down: the axis stays
    assert canonical_stacking("BCACBABCBC", "B") == pair  # A→B→C→A, the axis with them
    one = stacked_cluster("ABCBACABAB", Patch("circle", 1.6, "A"))
    two = stacked_cluster(pair[0], Patch("circle", 1.6, pair[1]))
    assert np.allclose(sorted_pair_distances(one), sorted_pair_distances(two))
    with pytest.raises(ValueError):
        canonical_stacking("ABBA", "A")


def test_neighbours_are_one_layer_or_one_shell_away() -> None:
    here = Stacking.of("ABCAB", Patch("circle", 2.2, "A"))
    steps = here.neighbours((3, 10))
    assert here not in steps and len(steps) == len(set(steps))
    assert {len(s.sequence) for s in steps} == {4, 5, 6}
    turned = [s for s in steps if len(s.sequence) == 5 and s.patch.size == 2.2]
    # turning one of three interior layers changes the cubic share by a third
    shares = {round(abs(fcc_fraction(s.sequence) - fcc_fraction(here.sequence)), 3) for s in turned}
    assert round(1 / 3, 3) in shares
    sizes = {s.patch.size for s in steps if s.sequence == here.sequence}
    assert min(sizes) < 2.2 < max(sizes)
    assert all(s == Stacking.of(s.sequence, s.patch) for s in steps)  # canonical forms
    longest = Stacking.of("ABCABCABCA", here.patch).neighbours((3, 10))
    assert max(len(s.sequence) for s in longest) == 10


def test_a_stacking_no_training_structure_has_is_found_exactly() -> None:
    # six layers on a patch one shell larger than any hexagon of the library, at the
    # bond length of Ni (2.49 Å, not a library metal); the reading is what a model
    # trained on the library would give: six layers of the largest hexagon
    truth_patch = Patch("hexagon", 2.2, "B").neighbours()[1]
    want = Stacking.of("ABCBAC", truth_patch)
    truth = want.positions(2.49)
    data = _data(truth, noise=0.01)
    config, _ = fit_config_for(data, TRAINING_PARAMETERS)
    settings = SequenceSearchSettings(read_combinations=1)
    stages = []
    found = search_stackings(
        data,
        config,
        [(6, Patch("hexagon", 2.2, "A"))],
        2.49,
        settings,
        progress=lambda stage, f: stages.append((stage, f)),
    )
    best = found.candidates[0]
    assert best.source == SOURCE_SEQUENCE_SEARCH and np.isnan(best.latent).all()
    assert best.shape.startswith(f"{want.sequence}_{want.patch.label} (")
    assert best.nearest_type == "faulted"
    assert best.n_atoms == len(truth) and matched_mae(best.positions, truth - truth.mean(0)) < 0.01
    # the model read six layers of the largest hexagon; the walk found the larger patch
    assert found.combinations == [(6, "h2.2")]
    assert found.enumerated > 0 and found.walked > 0 and found.rounds >= 2
    assert want.sequence in found.summary() and "6 layers on h2.2" in found.summary()
    assert stages[-1][1] == pytest.approx(1.0) and all(0 <= f <= 1 for _, f in stages)
    # a series fits the built clusters to its next frame again, keeping their source
    again = refit_built(data, found.candidates[:5], config)
    assert [c.source for c in again] == [SOURCE_SEQUENCE_SEARCH] * 5
    assert again[0].shape == best.shape and again[0].rw == pytest.approx(best.rw, rel=1e-3)


def test_stackings_the_data_cannot_tell_apart_are_named() -> None:
    truth = Stacking.of("ABCAB", Patch("circle", 1.6, "A")).positions(2.6)
    data = _data(truth, noise=0.02, seed=1)
    config, _ = fit_config_for(data, TRAINING_PARAMETERS)
    found = search_stackings(
        data, config, [(5, Patch("circle", 1.6, "A"))], 2.6, SequenceSearchSettings(rounds=1)
    )
    labels = [c.shape for c in found.candidates]
    assert len(labels) == len(set(labels))  # one cluster, one fit
    alike = found.equally_good()
    # the window is the data's noise (model/ambiguity.py): wider than 2 % at 2 % noise
    best = found.candidates[0].rw
    assert found.rw_limit > best * 1.02
    assert alike and all(c.rw <= found.rw_limit for c in alike)
    assert all(c.rw > found.rw_limit for c in found.candidates[1 + len(alike) :])
    # the truth is the best or one the data do not tell from it
    truth_label = Stacking.of("ABCAB", Patch("circle", 1.6, "A")).label
    assert truth_label in [c.shape for c in found.candidates[: 1 + len(alike)]]
    assert "do not tell them apart" in found.summary()


def test_other_models_are_not_searched_by_sequence() -> None:
    fake = SimpleNamespace(bundle=SimpleNamespace(metadata={"library_kind": "mmnp"}))
    assert search_sequences(None, fake, None, [object()], 2.7) is None


@pytest.fixture(scope="module")
def stacking_predictor():
    return load_predictor("stacking", "cpu")


def test_predict_with_the_stacking_model_ends_on_the_exact_stacking(stacking_predictor) -> None:
    want = Stacking.of("ABACBCB", Patch("circle", 2.2, "C"))
    truth = want.positions(2.6)
    data = _data(truth, noise=0.01, seed=3)
    stages = []
    result = run_solve(
        data,
        stacking_predictor,
        SolveSettings(samples=40, search="region", fallback=False, size_extension=False),
        on_stage=lambda stage, f: stages.append(stage),
    )
    best = result.best
    assert best.source == SOURCE_SEQUENCE_SEARCH
    assert best.shape.startswith(f"{want.sequence}_{want.patch.label} (")
    assert matched_mae(best.positions, truth - truth.mean(0)) < 0.01
    assert "sequence search" in result.search
    assert any(n.startswith("sequence search") for n in result.notes)
    assert stages and any("stacking" in s for s in stages)
    assert any(c.source == SOURCE_MODEL for c in result.candidates)
    record = result.to_dict(top=3)
    assert record["candidates"][0]["source"] == SOURCE_SEQUENCE_SEARCH
    plain = run_solve(
        data,
        stacking_predictor,
        SolveSettings(
            samples=40, search="region", fallback=False, size_extension=False, sequence_search=False
        ),
    )
    assert {c.source for c in plain.candidates} == {SOURCE_MODEL}
    assert best.rw < plain.best.rw


def test_patches_of_other_shapes_hold_as_many_atoms() -> None:
    here = Patch("circle", 2.2, "A")
    atoms = sum(len(layer_points(s, here)) for s in "ABC")
    for shape in ("hexagon", "triangle", "inverted triangle"):
        other = here.like(shape)
        assert other.shape == shape and other.axis == "A"
        assert Patch.from_label(other.label) == other
        assert (
            abs(sum(len(layer_points(s, other)) for s in "ABC") - atoms) <= 0.2 * atoms
        )  # triangles grow in coarse steps
    # the two triangles are two clusters: turned by 60° the B and C layers move too
    up = stacked_cluster("ABCAB", Patch("triangle", 1.5, "A"))
    down = stacked_cluster("ABCAB", Patch("inverted triangle", 1.5, "A"))
    assert len(up) != len(down) or not np.allclose(
        sorted_pair_distances(up), sorted_pair_distances(down)
    )
