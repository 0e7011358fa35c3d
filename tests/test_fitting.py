"""The batched fitter: ranking, parameter recovery, bounds, options, cancellation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.cluster import Decahedron, FaceCenteredCubic, Icosahedron, Octahedron
from ase.io import read

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


# --- what users of PDFgui and diffpy expect of a fit (issue 13) -----------------------

FIELD = Path(__file__).resolve().parents[2] / "shared" / "data" / "field-cases"
needs_field = pytest.mark.skipif(not FIELD.is_dir(), reason=f"no field cases in {FIELD}")


def two_element(atoms, other: str, every: int = 2):
    """A copy of ``atoms`` with every ``every``-th atom replaced by ``other``."""
    out = atoms.copy()
    symbols = out.get_chemical_symbols()
    for i in range(0, len(out), every):
        symbols[i] = other
    out.set_chemical_symbols(symbols)
    return out


@pytest.mark.parametrize(
    "seed, make",
    [
        (0, lambda: Icosahedron("Pt", 3)),
        (1, lambda: two_element(Decahedron("Pd", 3, 2, 0), "Au")),
        (2, lambda: two_element(Octahedron("Cu", 5, 1), "Ag", every=3)),
    ],
    ids=["Pt55", "PdAu-decahedron", "CuAg-octahedron"],
)
def test_simulate_then_fit_recovers_every_parameter(seed, make) -> None:
    """Random parameters within the bounds; the fit starts from the defaults."""
    rng = np.random.default_rng(seed)
    atoms = make()
    atoms.positions -= atoms.positions.mean(0)
    truth = {
        "scale": rng.uniform(0.5, 2.0),
        "expansion": rng.uniform(0.95, 1.05),
        "biso": rng.uniform(0.2, 3.0),
        "qdamp": rng.uniform(0.02, 0.07),
        "delta2": rng.uniform(0.5, 3.0),
    }
    params = PDFParameters(qmin=0.8, qmax=rng.uniform(20, 26))
    data_params = params.replace(biso=truth["biso"], qdamp=truth["qdamp"], delta2=truth["delta2"])
    scaled = atoms.copy()
    scaled.positions *= truth["expansion"]
    r, g = simulate_pdf(scaled, data_params)
    g = truth["scale"] * g
    config = FitConfig(params=params, refine_qdamp=True, refine_delta2=True, max_iter=60)
    res = fit_candidates([atoms], r, g, config, device="cpu")
    assert res.rw[0] < 1e-3
    for name, value in truth.items():
        assert getattr(res, name)[0] == pytest.approx(value, rel=0.01), name
        assert not res.at_bound[name][0]
        assert 0 < res.errors[name][0] < 0.01 * value


@needs_field
def test_field_case_two_elements_from_the_file() -> None:
    """au55s30: Au55 with 30 S atoms, computed by diffpy.srreal (xray table)."""
    from deepstruc_gui.science.pdf_io import read_pdf

    atoms = read(FIELD / "au55s30.xyz")
    data = read_pdf(FIELD / "au55s30.gr")
    res = fit_candidates([atoms], data.r, data.g, FitConfig(), device="cpu")
    assert res.rw[0] < 0.01
    assert res.scale[0] == pytest.approx(1.0, rel=0.01)
    # the same atoms as one element (what the fit did before): far off
    blind = fit_candidates([atoms.positions], data.r, data.g, FitConfig(), device="cpu")
    assert blind.rw[0] > 0.2
    # elements given apart from the positions: the same answer as from ase.Atoms
    listed = fit_candidates(
        [atoms.positions], data.r, data.g, elements=[atoms.get_atomic_numbers()], device="cpu"
    )
    assert listed.rw[0] == pytest.approx(res.rw[0], abs=1e-6)


@needs_field
def test_overlapping_atoms_do_not_collapse_the_fit() -> None:
    from deepstruc_gui.science.close_atoms import close_atom_pairs

    atoms = read(FIELD / "pt_oct5_5close.xyz")
    assert len(close_atom_pairs(atoms.positions, 2.77)) == 5
    assert len(close_atom_pairs(read(FIELD / "pt_oct5.xyz").positions, 2.77)) == 0
    r, g = simulate_pdf(atoms)
    res = fit_candidates([atoms], r, g, FitConfig(), device="cpu")
    assert res.rw[0] < 0.01  # was 0.9995 with scale 6e-10
    assert res.scale[0] == pytest.approx(1.0, rel=0.01)
    assert res.biso[0] == pytest.approx(0.3, rel=0.01)
    # a file with a duplicated atom: diffpy skips the zero-length pair; so do we
    doubled = atoms + atoms[:1]
    r, g = simulate_pdf(doubled)
    assert fit_candidates([doubled], r, g, FitConfig(), device="cpu").rw[0] < 0.01


@needs_field
def test_large_biso_is_found_and_a_bound_is_flagged() -> None:
    from deepstruc_gui.science.pdf_io import read_pdf

    atoms = read(FIELD / "pt_oct5.xyz")
    data = read_pdf(FIELD / "pt_oct5_biso2.5.gr")
    res = fit_candidates([atoms], data.r, data.g, FitConfig(), device="cpu")
    assert res.biso[0] == pytest.approx(2.5, abs=0.05)
    assert res.bound_flags(0) == []
    tight = fit_candidates([atoms], data.r, data.g, FitConfig(biso_bounds=(0.0, 2.0)))
    assert tight.biso[0] == pytest.approx(2.0)
    assert tight.bound_flags(0) == ["biso"]
    assert not tight.at_bound["scale"][0] and not tight.at_bound["expansion"][0]


@needs_field
def test_dg_weighting_reports_both_rw() -> None:
    from deepstruc_gui.science.pdf_io import read_pdf

    atoms = read(FIELD / "pt_oct5.xyz")
    data = read_pdf(FIELD / "pt_oct5_noisy_4col.gr")
    assert data.dg is not None
    plain = fit_candidates([atoms], data.r, data.g, FitConfig(), dg=data.dg)
    weighted = fit_candidates([atoms], data.r, data.g, FitConfig(weighting="dG"), dg=data.dg)
    assert plain.rw_kind == "unweighted" and weighted.rw_kind == "weighted (1/dG²)"
    # dG is 25 % above 15 Å: the unweighted Rw is dominated by that noise
    assert plain.rw[0] > 0.5 and weighted.rw[0] < 0.05
    assert plain.rw_weighted[0] == pytest.approx(weighted.rw_weighted[0], rel=0.05)
    assert weighted.rw_unweighted[0] > 0.5
    assert weighted.biso[0] == pytest.approx(0.3, abs=0.01)
    with pytest.raises(ValueError, match="dG"):
        fit_candidates([atoms], data.r, data.g, FitConfig(weighting="dG"))


def test_standard_errors_follow_the_least_squares_formula() -> None:
    """Scale alone is linear: σ² = s²/Σ Gc² (unit weights, s² the reduced χ²) or
    1/Σ Gc²/dG² (weights 1/dG², diffpy.srfit's absolute convention)."""
    true = Octahedron("Pt", 4, 0).positions
    true = true - true.mean(0)
    r, g = measured(true, PDFParameters(), scale=1.3, noise=0.01, seed=3)
    fixed = dict(refine_expansion=False, refine_biso=False)
    res = fit_candidates([true], r, g, FitConfig(**fixed))
    unit = res.gcalc[0] / res.scale[0]
    resid = res.gobs - res.gcalc[0]
    s2 = (resid**2).sum() / (len(resid) - 1)
    assert res.errors["scale"][0] == pytest.approx(np.sqrt(s2 / (unit**2).sum()), rel=1e-3)
    dg = np.full_like(g, 0.02)
    res = fit_candidates([true], r, g, FitConfig(weighting="dG", **fixed), dg=dg)
    unit = res.gcalc[0] / res.scale[0]
    assert res.errors["scale"][0] == pytest.approx(1 / np.sqrt((unit**2 / 0.02**2).sum()), rel=1e-3)


def test_spherical_shape_envelope_is_refined() -> None:
    true = Octahedron("Pt", 7, 2).positions
    true = true - true.mean(0)
    r, g = measured(true, PDFParameters(spdiameter=18.0), scale=1.0, noise=0.0)
    off = fit_candidates([true], r, g, FitConfig())
    res = fit_candidates([true], r, g, FitConfig(refine_spdiameter=True, max_iter=40))
    assert res.spdiameter[0] == pytest.approx(18.0, rel=0.01)
    assert res.rw[0] < 0.1 * off.rw[0]
    assert off.spdiameter[0] == 0.0


@needs_field
def test_fit_command_says_what_it_used(capsys) -> None:
    from deepstruc_gui.cli.main import main

    code = main(
        ["fit", str(FIELD / "pt_oct5.xyz"), str(FIELD / "pt_oct5_biso2.5.gr"),
         "--biso-bounds", "0", "2", "--delta2", "2.0"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "qmin 0.7 (header)" in out and "(unweighted" in out
    assert "AT UPPER BOUND" in out and "Biso        2 ±" in out
    assert "delta2      2 Å² (fixed, user)" in out
    assert "±" in out


def test_large_delta2_is_refined_exactly() -> None:
    """δ2 near the bound: the first shells are summed exactly for a single candidate
    (the δ2 series alone reached Rw 0.014 at δ2 5.5 Å², Biso 1 Å²)."""
    atoms = Octahedron("Pt", 6, 1)
    atoms.positions -= atoms.positions.mean(0)
    r, g = simulate_pdf(atoms.positions * 1.02, PDFParameters(biso=1.0, delta2=5.5))
    res = fit_candidates([atoms], r, g, FitConfig(refine_delta2=True, max_iter=60))
    assert res.rw[0] < 2e-3
    assert res.delta2[0] == pytest.approx(5.5, rel=0.01)
    assert res.biso[0] == pytest.approx(1.0, rel=0.01)
