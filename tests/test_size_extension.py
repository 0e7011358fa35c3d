"""The size extension: particles larger than the training structures get real structures.

What a user does: load a PDF of a 400–1,400-atom particle, solve it, read the ranked
table (which candidates the model decoded and which the extension built), and get a
cluster of the right family and size.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.model.beyond_evaluation import beyond_cases, judge
from deepstruc_gui.model.built_fit import fit_sized
from deepstruc_gui.model.candidate import SOURCE_SIZE_EXTENSION, Candidate
from deepstruc_gui.model.shape_histograms import clear_memory, shape_histograms
from deepstruc_gui.model.size_extension import (
    SizeExtensionSettings,
    atoms_window,
    choose_types,
    extend,
    extension_reason,
    size_estimate,
    type_evidence,
)
from deepstruc_gui.science import cluster_families
from deepstruc_gui.science.cluster_families import FAMILY_TYPE, family_shapes
from deepstruc_gui.science.fitting import FitConfig, fit_candidates
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
from deepstruc_gui.science.pdf_io import PDFData, read_pdf

ROOT = Path(__file__).resolve().parents[1]
FIELD = ROOT.parent / "shared" / "data" / "field-cases"
EXAMPLES = ROOT / "resources" / "examples"
PT = 2.775


@pytest.fixture(autouse=True, scope="module")
def _private_cache(tmp_path_factory):
    """Families are built into a private cache folder, not the user's."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DEEPSTRUC_CACHE", str(tmp_path_factory.mktemp("families")))
    cluster_families._family_shapes.cache_clear()
    clear_memory()
    yield
    cluster_families._family_shapes.cache_clear()
    clear_memory()
    mp.undo()


def _simulated(positions: np.ndarray, biso: float = 0.5, qdamp: float = 0.04) -> PDFData:
    from deepstruc_gui.science.debye import simulate_pdfs

    params = TRAINING_PARAMETERS.replace(biso=biso, qdamp=qdamp)
    g = simulate_pdfs([positions], params)[0]
    noise = np.random.default_rng(0).normal(scale=0.005 * np.abs(g).max(), size=g.size)
    return PDFData(None, params.r_grid.copy(), g + noise, metadata={"qmax": 25.0, "qmin": 0.7})


@pytest.mark.parametrize(
    ("family", "magic"),
    [
        ("icosahedron", [309, 561, 923, 1415, 2057, 2869]),
        ("cuboctahedron", [309, 561, 923, 1415, 2057, 2869]),
        ("octahedron", [231, 344, 489, 670, 891, 1156, 1469, 1834, 2255, 2736]),
    ],
)
def test_families_have_their_magic_numbers_at_unit_bond(family, magic):
    shapes = family_shapes(family)
    assert [s.n_atoms for s in shapes] == magic
    for s in shapes[:3]:
        from scipy.spatial import cKDTree

        tree = cKDTree(s.positions)
        d, _ = tree.query(s.positions, k=2)
        # unit mean bond: nearest neighbours at 1 (icosahedra strained ±3 %)
        assert d[:, 1].min() > 0.94 and abs(np.median(d[:, 1]) - 1) < 0.04
        assert s.structure_type == FAMILY_TYPE[family]
        assert np.allclose(s.positions.mean(axis=0), 0, atol=1e-9)


def test_families_come_back_from_the_cache_unchanged():
    built = family_shapes("Ino decahedron")
    cluster_families._family_shapes.cache_clear()  # as a new process would
    again = family_shapes("Ino decahedron")
    assert [s.params for s in again] == [s.params for s in built]
    assert all(np.array_equal(a.positions, b.positions) for a, b in zip(again, built, strict=True))
    assert all(s.structure_type == "decahedral" for s in again)


def test_unknown_family_is_refused():
    with pytest.raises(ValueError, match="unknown cluster family"):
        family_shapes("dodecahedron")


def test_fit_sized_keeps_input_order_and_agrees_with_one_call():
    """Batches bounded by pairs give the same fits as one call, in input order."""
    from ase.cluster import Octahedron

    data = read_pdf(EXAMPLES / "JQ_S1.gr")
    # without the polish: it brings each call's leaders onto the Q grid of their own
    # refined Biso, so which candidates share a call moves Rw by ~1e-5 (checked below)
    config = FitConfig(polish=0)
    sizes = [(9, 3), (5, 0), (8, 2), (6, 1)]
    structures = [
        Octahedron("Pt", n, c, latticeconstant=PT * math.sqrt(2)).positions for n, c in sizes
    ]
    structures = [s - s.mean(0) for s in structures]
    chunks = []
    got = fit_sized(
        data, structures, config, pair_budget=20_000, on_chunk=lambda i, r: chunks.append(i)
    )
    ref = fit_candidates(structures, data.r, data.g, config)
    assert len(chunks) > 1  # the budget split them
    assert np.allclose(got["rw"], ref.rw, atol=1e-6)
    assert np.allclose(got["expansion"], ref.expansion, atol=1e-6)
    polished = fit_sized(data, structures, FitConfig(), pair_budget=20_000)
    one_call = fit_candidates(structures, data.r, data.g, FitConfig())
    assert np.allclose(polished["rw"], one_call.rw, rtol=1e-4)
    assert list(np.argsort(polished["rw"])) == list(np.argsort(one_call.rw))


def _shapes_of_each_kind():
    """A truncated octahedron, an icosahedron, a Marks decahedron and an hcp cluster."""
    picks = []
    for family, near in [
        ("truncated octahedron", 400),
        ("icosahedron", 309),
        ("Marks decahedron", 500),
        ("hcp cluster", 300),
    ]:
        picks.append(min(family_shapes(family), key=lambda s: abs(s.n_atoms - near)))
    return picks


@pytest.mark.parametrize(
    "config",
    [
        FitConfig(refine_qdamp=True),  # the extension's settings when Qdamp is unknown
        FitConfig(polish=0),
        FitConfig(refine_delta2=True),  # few candidates: first shells summed exactly
    ],
    ids=["qdamp-refined", "no-polish", "delta2-refined"],
)
def test_fits_from_cached_histograms_match_fits_from_positions(config):
    """The extension fits built shapes from their pair histograms in bond units; the
    answer is the fit from positions to 1e-4 in Rw, at any bond length."""
    shapes = _shapes_of_each_kind()
    data = _simulated(shapes[0].scaled(2.74), biso=0.5, qdamp=0.03)
    hists = shape_histograms(shapes)
    for bond in (2.74, 2.9):
        ref = fit_candidates([s.scaled(bond) for s in shapes], data.r, data.g, config)
        got = fit_candidates([h.at_bond(bond) for h in hists], data.r, data.g, config)
        assert np.abs(got.rw - ref.rw).max() < 1e-4, (got.rw, ref.rw)
        assert np.abs(got.expansion - ref.expansion).max() < 1e-4
        assert np.abs(got.biso - ref.biso).max() < 2e-3
        assert np.abs(got.qdamp - ref.qdamp).max() < 1e-4
        assert np.abs(got.gcalc - ref.gcalc).max() < 1e-3 * np.abs(ref.gcalc).max()
    assert ref.rw[0] < 0.05  # the data's own shape fits (the comparison means something)


def test_shape_histograms_come_back_from_the_cache_unchanged():
    from deepstruc_gui.model import shape_histograms as sh

    shapes = _shapes_of_each_kind()[:2]
    built = sh.shape_histograms(shapes)
    sh.clear_memory()  # as a new process would: read from the family files
    again = sh.shape_histograms(shapes)
    for a, b, s in zip(built, again, shapes, strict=True):
        assert a is not b and np.array_equal(a.counts, b.counts)
        assert a.n_atoms == s.n_atoms and a.diameter == s.diameter
        # every pair is in the histogram (Lagrange weights sum to one per pair)
        assert math.isclose(float(a.counts.sum()), s.n_atoms * (s.n_atoms - 1) / 2, rel_tol=1e-5)


def test_histograms_and_positions_do_not_mix():
    h = shape_histograms(_shapes_of_each_kind()[:1])[0]
    data = read_pdf(EXAMPLES / "JQ_S1.gr")
    with pytest.raises(ValueError, match="mixes pair histograms and positions"):
        fit_candidates([h, np.zeros((3, 3))], data.r, data.g)
    with pytest.raises(ValueError, match="one element"):
        fit_candidates([h], data.r, data.g, elements=["Pt"])


def test_model_reading_chooses_the_types():
    cands = [
        Candidate(
            np.zeros(2), np.zeros((2, 3)), 2, rw, 1, 1, 0.3, 0.04, 2, t, np.zeros(1), np.zeros(1)
        )
        for rw, t in [(0.30, "octahedral"), (0.31, "fcc"), (0.60, "bcc")]
    ]
    ev = type_evidence(["fcc"] * 20 + ["decahedral"] * 10, cands)
    assert math.isclose(sum(ev.values()), 1.0)
    assert next(iter(ev)) == "fcc"  # octahedral and fcc count as one family
    assert ev["bcc"] < 0.01
    assert choose_types(ev, share=0.9, max_types=3) == ["fcc", "decahedral"]


def test_window_is_wider_for_twinned_particles():
    s = SizeExtensionSettings()
    lo_fcc, hi_fcc = atoms_window("fcc", 20.0, 2.0, PT, s)
    lo_ico, hi_ico = atoms_window("icosahedral", 20.0, 2.0, PT, s)
    assert lo_fcc == lo_ico and hi_ico > 2 * hi_fcc
    assert atoms_window("fcc", None, 0.0, PT, s) == (150, 3000)


def test_extension_triggers_on_large_particles_only():
    from deepstruc_gui.model.bundle import ModelBundle, resolve_model

    meta = ModelBundle.load(resolve_model(None)).metadata
    large = read_pdf(FIELD / "pt_oct11.gr")  # 891 atoms
    small = read_pdf(FIELD / "pt_oct5.gr")  # 85 atoms
    assert extension_reason(large, meta, 0.2, PT) == "beyond-training-size"
    assert extension_reason(small, meta, 0.05, PT) is None
    assert extension_reason(small, meta, 0.45, PT) is None  # poor, but small


def test_extension_runs_where_the_envelope_is_ambiguous():
    """A 389-atom Pt decahedron reads from its envelope as large as a faulted 200-atom
    stack: the extension runs even when the model fits well, so the result can tell
    (the size warning's fit evidence, docs/WARNINGS.md)."""
    from ase.cluster import Decahedron

    from deepstruc_gui.model.bundle import ModelBundle, resolve_model
    from deepstruc_gui.science.debye import simulate_pdf

    meta = ModelBundle.load(resolve_model(None)).metadata
    r, g = simulate_pdf(Decahedron("Pt", 4, 4, 1, latticeconstant=3.92), TRAINING_PARAMETERS)
    data = PDFData(None, r, g, metadata={"qdamp": 0.04})
    reason = extension_reason(data, meta, 0.10, 2.77)
    assert reason is not None and "multiply twinned" in reason


def test_a_truncated_octahedron_of_about_800_atoms_is_found():
    """A shape the extension does not build (surface vacancies), 4 × the training size."""
    from ase.cluster import Octahedron

    rng = np.random.default_rng(3)
    pos = Octahedron("Pt", 11, 3, latticeconstant=PT * math.sqrt(2)).positions
    pos = np.delete(pos - pos.mean(0), rng.choice(len(pos), 20, replace=False), axis=0)
    data = _simulated(pos, biso=0.6)
    est = size_estimate(data)
    assert est is not None
    stages = []
    result = extend(
        data, FitConfig(), PT, {"fcc": 1.0}, est[0], est[1],
        SizeExtensionSettings(other_sizes=0),
        progress=lambda stage, fraction: stages.append((stage, fraction)),
    )  # fmt: skip
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(set(fractions)) >= 4  # it moves during the passes, not only at the end
    assert stages[0][0].startswith("size extension: fitting") and "fcc" in stages[0][0]
    best = result.candidates[0]
    assert best.source == SOURCE_SIZE_EXTENSION and best.shape
    assert best.nearest_type in ("fcc", "octahedral")
    assert abs(best.n_atoms - len(pos)) <= 0.2 * len(pos)
    assert best.rw < 0.1
    assert np.isnan(best.latent).all()
    assert "fcc" in result.summary()


def test_beyond_cases_are_new_shapes_of_the_right_sizes():
    cases = beyond_cases(per_type=1, seed=5)
    assert sorted(c.structure_type for c in cases) == sorted(set(FAMILY_TYPE.values()))
    for c in cases:
        assert 230 <= c.n_atoms <= 2000
        assert "qdamp" not in c.data.metadata  # the search is not told Qdamp
        assert judge(c, c.structure_type, c.n_atoms) == (True, True)
    octa = next(c for c in cases if c.structure_type == "octahedral")
    assert judge(octa, "fcc", int(octa.n_atoms * 1.3)) == (True, False)


def test_jq_s1_is_solved_as_a_large_fcc_particle():
    """The shipped Pt example (3.4 nm): the extension finds fcc, ≥ 900 atoms, Rw ≤ 0.16,
    ranked with the model's candidates, each saying where it came from."""
    from deepstruc_gui.model.pipeline import SolveSettings, load_predictor, run_solve

    data = read_pdf(EXAMPLES / "JQ_S1.gr")
    predictor = load_predictor(None, "cpu")
    stages, counts = [], []
    result = run_solve(
        data,
        predictor,
        SolveSettings(samples=100, fallback=False),
        progress=lambda done, total: counts.append((done, total)),
        on_stage=lambda stage, fraction: stages.append((stage, fraction)),
    )
    # the extension reports its own stages after the model's search: the window's bar
    # moves through them instead of standing at 100 %
    assert counts and stages and counts[-1][0] == counts[-1][1]
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[0] < 0.5 and fractions[-1] == 1.0
    names = [s for s, _ in stages]
    assert any("fitting" in n for n in names) and any("zooming in" in n for n in names)
    best = result.best
    assert best.source == SOURCE_SIZE_EXTENSION
    assert best.nearest_type in ("fcc", "octahedral")
    assert best.n_atoms >= 900 and best.rw <= 0.16
    sources = {c.source for c in result.candidates}
    assert sources == {"model", SOURCE_SIZE_EXTENSION}
    assert "size extension" in result.search
    table = result.to_dict(top=5)["candidates"]
    assert table[0]["source"] == SOURCE_SIZE_EXTENSION and table[0]["latent"] is None
    assert "octahedron" in table[0]["shape"] or "fcc" in table[0]["shape"]


def test_refit_built_fits_the_last_frames_clusters_to_new_data():
    """A series' warm start fits the clusters the extension built for the last frame to
    the next one: only the built candidates, same shapes, the new expansion."""
    from ase.cluster import Octahedron

    from deepstruc_gui.model.built_fit import refit_built

    cluster = Octahedron("Pt", 8, 2, latticeconstant=PT * math.sqrt(2)).positions
    cluster = cluster - cluster.mean(0)
    label = "truncated octahedron (length 8, cutoff 2)"

    def cand(positions, expansion, source, shape=""):
        return Candidate(
            np.full(2, np.nan) if source != "model" else np.zeros(2),
            positions * expansion, len(positions), 0.2, 1.0, expansion, 0.5, 0.04, 0.0,
            "fcc", np.zeros(1), np.zeros(1), source=source, shape=shape,
        )  # fmt: skip

    earlier = [
        cand(cluster, 0.99, SOURCE_SIZE_EXTENSION, label),
        cand(cluster[:100], 1.0, "model"),
    ]
    data = _simulated(cluster * 1.02, biso=0.6, qdamp=0.04)  # the particle grew by 2 %
    got = refit_built(data, earlier, FitConfig(), qdamp_known=True)
    assert len(got) == 1  # the model's candidate is the region's to fit
    (best,) = got
    assert best.source == SOURCE_SIZE_EXTENSION and best.shape == label
    assert best.n_atoms == len(cluster) and np.isnan(best.latent).all()
    assert best.expansion == pytest.approx(1.02, abs=2e-3)
    assert best.rw < 0.05
    np.testing.assert_allclose(best.positions, cluster * best.expansion, atol=1e-9)
    assert refit_built(data, earlier[1:], FitConfig()) == []
