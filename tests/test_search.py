"""The default search with the shipped seven-type model and default settings, as
``predict`` runs it: fcc on the Pt example, an icosahedron on Au144(SR)60, each with
the finding that the prior's region disagrees; "Refine here" lowers Rw on a planted
case and returns its path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.model.pipeline import SolveSettings, fit_config_for, load_predictor, run_solve
from deepstruc_gui.model.search import basin_minima, inside_region
from deepstruc_gui.model.snap import snap
from deepstruc_gui.science.clusters import build_cluster
from deepstruc_gui.science.debye import simulate_pdf
from deepstruc_gui.science.parameters import PDFParameters
from deepstruc_gui.science.pdf_io import PDFData, read_pdf

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


@pytest.fixture(scope="module")
def predictor():
    return load_predictor(None, "cpu")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("JQ_S1.gr", "fcc"), ("Au144PET_100K-00000.gr", "icosahedral")],
)
def test_default_search_finds_the_structure_without_a_rescue(predictor, name, expected) -> None:
    data = read_pdf(EXAMPLES / name)
    # the model's own search (the size extension for particles beyond the training
    # sizes, which may follow it, is tested in test_size_extension)
    answers = []
    result = run_solve(
        data,
        predictor,
        SolveSettings(seed=0, size_extension=False),
        on_answer=lambda ranked, search, seconds: answers.append((list(ranked), search)),
    )
    assert result.search == "landscape and region"
    # the model's answer is reported once, as soon as it exists (predict prints it)
    assert len(answers) == 1 and answers[0][1] == "landscape and region"
    assert all(a is b for a, b in zip(answers[0][0], result.candidates, strict=True))
    best = result.best
    assert best.nearest_type == expected
    rws = [c.rw for c in result.candidates]
    assert rws == sorted(rws)
    # the region alone does not find it: the finding says so
    region = run_solve(
        data,
        predictor,
        SolveSettings(seed=0, samples=300, search="region", fallback=False, size_extension=False),
    )
    assert region.best.nearest_type != expected and region.best.rw > best.rw + 0.02
    found = [w for w in result.warnings if w.code == "region-disagrees"]
    assert len(found) == 1 and f"Rw {best.rw:.3f}" in found[0].message
    assert not inside_region(best.latent[None], result.center, result.radius)[0]
    # the landscape it looked at is in the result, with the best basin where the best is
    land = result.landscape
    assert land is not None and land.complete
    assert land.types[land.lowest(1)[0]] == expected
    summary = result.to_dict(top=3)
    assert "region-disagrees" in [w["code"] for w in summary["warnings"]]
    assert summary["landscape"]["lowest"]["type"] == expected


def test_basin_minima_are_apart_and_lowest_first(predictor) -> None:
    data = read_pdf(EXAMPLES / "JQ_S1.gr")
    from deepstruc_gui.model.landscape import LandscapeSettings, compute_landscape

    config, _ = fit_config_for(
        data, PDFParameters.from_dict(predictor.bundle.metadata["pdf_parameters"])
    )
    land = compute_landscape(
        data, predictor, config, LandscapeSettings(grid=10, n_fit=0, refine_fraction=0)
    )
    basins = basin_minima(land, 4, 0.05)
    assert len(basins) == 4
    lo, hi = land.box
    gaps = [np.hypot(*(a - b)) for i, a in enumerate(basins) for b in basins[i + 1 :]]
    assert min(gaps) >= 0.05 * np.hypot(*(hi - lo))
    rw_at = [land.rw[land.nearest(b)] for b in basins]
    assert rw_at == sorted(rw_at) and rw_at[0] == land.rw.min()


def test_refine_here_lowers_rw_from_a_neighbouring_shape(predictor) -> None:
    """Planted: the PDF of a library icosahedron (3 shells, 55 atoms, Pt bond length);
    start from a map point of a neighbouring shape."""
    r, g = simulate_pdf(build_cluster("icosahedral", {"shells": 3}, 2.77))
    data = PDFData(path=None, r=r, g=g)
    config, _ = fit_config_for(
        data, PDFParameters.from_dict(predictor.bundle.metadata["pdf_parameters"])
    )
    names = predictor.bundle.latent_map.names
    truth = predictor.map_mu[
        [i for i, n in enumerate(names) if n.startswith("icosahedral_shells3_")]
    ]
    centre = truth.mean(0)
    distance = np.hypot(*(predictor.map_mu - centre).T)
    z0 = predictor.map_mu[np.argsort(distance)[40]]
    steps = []
    result = snap(data, predictor, z0, config, on_step=steps.append)
    assert result.start.nearest_type != "icosahedral" or result.start.n_atoms != 55
    assert result.best.rw < result.start.rw - 0.1
    assert result.best.rw < 0.05 and result.best.n_atoms == 55
    np.testing.assert_array_equal(result.path[0], z0)
    assert np.all(np.diff(result.rw_path) < 0)
    assert result.rw_path[-1] == pytest.approx(result.best.rw, abs=0.02)
    assert len(steps) == len(result.path) - 1 and result.evaluations > len(result.path)
