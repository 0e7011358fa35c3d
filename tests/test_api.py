"""The notebook API: light to import, the same answer as ``predict``, and its example
script runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.cluster import Octahedron

import deepstruc_gui as ds
from deepstruc_gui.cli.main import main
from deepstruc_gui.science.pdf_io import PDFData

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "resources" / "examples" / "JQ_S1.gr"


def _python(code_or_args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *code_or_args], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_importing_the_api_imports_neither_qt_nor_torch() -> None:
    code = (
        "import sys; import deepstruc_gui as ds\n"
        "assert callable(ds.solve) and callable(ds.read_pdf) and callable(ds.fit)\n"
        "print(sorted(m for m in ('torch', 'PySide6', 'pyqtgraph', 'vispy') if m in sys.modules))"
    )
    out = _python(["-c", code])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        ds.nothing  # noqa: B018


def test_solve_gives_the_same_best_candidate_as_predict(random_bundle, tmp_path) -> None:
    summary = tmp_path / "predict.json"
    argv = ["predict", str(EXAMPLE), "--model", str(random_bundle), "--samples", "60"]
    argv.append("--no-size-extension")  # JQ_S1 is 3.4 nm: the extension is tested apart
    assert main([*argv, "--seed", "1", "--json", str(summary)]) == 0
    expected = json.loads(summary.read_text())["candidates"][0]

    result = ds.solve(
        str(EXAMPLE), model=str(random_bundle), samples=60, seed=1, size_extension=False
    )
    best = result.candidates[0]
    assert best.rw == pytest.approx(expected["rw"], abs=1e-12)
    assert best.n_atoms == expected["n_atoms"]
    assert best.structure_type == expected["nearest_type"]
    np.testing.assert_allclose(best.latent, expected["latent"])
    assert [c.rw for c in result.candidates] == sorted(c.rw for c in result.candidates)
    atoms = best.to_atoms()
    assert set(atoms.get_chemical_symbols()) == {"Pt"}  # from the header's composition
    np.testing.assert_allclose(atoms.positions, best.positions)
    assert atoms.info["rw"] == best.rw


def test_simulate_and_fit_recover_a_known_expansion() -> None:
    atoms = Octahedron("Pt", 5, 1)
    truth = atoms.copy()
    truth.positions = truth.positions * 1.04
    r, g = ds.simulate(truth, biso=0.5)
    assert r[0] == pytest.approx(2.0) and r.shape == g.shape
    outcome = ds.fit(atoms, PDFData(path=None, r=r, g=2.0 * g))
    assert outcome.expansion == pytest.approx(1.04, abs=0.002)
    assert outcome.scale == pytest.approx(2.0, rel=0.02)
    assert outcome.biso == pytest.approx(0.5, abs=0.05)
    assert outcome.rw < 0.02 and set(outcome.to_dict()) >= {"rw", "scale", "expansion"}
    spread = np.ptp(outcome.atoms.positions, axis=0)
    np.testing.assert_allclose(spread, np.ptp(truth.positions, axis=0), rtol=0.003)
    assert outcome.parameter_sources["qmax"] == "model default"
    with pytest.raises(ValueError, match="fit range"):
        ds.fit(atoms, PDFData(path=None, r=r, g=g), rmin=10, rmax=5)
    with pytest.raises(ValueError, match="samples"):
        ds.solve(PDFData(path=None, r=r, g=g), samples=0)


def test_the_example_script_runs(random_bundle, tmp_path) -> None:
    out = tmp_path / "best.xyz"
    script = str(ROOT / "docs" / "example_api.py")
    run = _python([script, "--model", str(random_bundle), "--samples", "40", "--out", str(out)])
    assert run.returncode == 0, run.stderr
    assert "candidates" in run.stdout and "refit: Rw" in run.stdout
    atoms = ase.io.read(out)
    assert set(atoms.get_chemical_symbols()) == {"Pt"} and "rw" in atoms.info


FIELD = Path(__file__).resolve().parents[2] / "shared" / "data" / "field-cases"


@pytest.mark.skipif(not FIELD.is_dir(), reason="needs ../shared/data/field-cases")
def test_fit_keeps_elements_bounds_errors_and_both_rw() -> None:
    """What a notebook user of PDFgui/diffpy expects of ``ds.fit``: a two-element
    structure fitted with its elements, a bound that is hit flagged, standard errors,
    and PDFgui's weighted Rw beside the unweighted one when the file has dG."""
    au_s = ase.io.read(FIELD / "au55s30.xyz")
    outcome = ds.fit(au_s, FIELD / "au55s30.gr")
    assert outcome.rw < 0.01  # the fit ignores no element
    assert outcome.errors and all(np.isfinite(v) for v in outcome.errors.values())

    pt = ase.io.read(FIELD / "pt_oct5.xyz")
    free = ds.fit(pt, FIELD / "pt_oct5_biso2.5.gr")
    assert free.biso == pytest.approx(2.5, abs=0.05) and "biso" not in free.at_bound
    held = ds.fit(pt, FIELD / "pt_oct5_biso2.5.gr", fit_options={"biso_bounds": (0.0, 2.0)})
    assert held.biso == pytest.approx(2.0) and "biso" in held.at_bound

    noisy = ds.fit(pt, FIELD / "pt_oct5_noisy_4col.gr")
    assert noisy.rw_kind == "unweighted" and noisy.rw_weighted is not None
    weighted = ds.fit(pt, FIELD / "pt_oct5_noisy_4col.gr", fit_options={"weighting": "dG"})
    assert weighted.rw_kind.startswith("weighted") and weighted.rw == weighted.rw_weighted
    assert set(weighted.to_dict()) >= {"rw_kind", "rw_weighted", "errors", "at_bound"}
    with pytest.raises(TypeError):
        ds.fit(pt, FIELD / "pt_oct5.gr", fit_options={"no_such_option": 1})


def test_simulate_takes_elements_and_diffpys_tables() -> None:
    """Two elements under the xray table differ from the electron-number table; one
    element is the same under both (the form factors cancel)."""
    cluster = Octahedron("Pt", 5)
    _, one_x = ds.simulate(cluster)
    _, one_e = ds.simulate(cluster, scattering="electronnumber")
    np.testing.assert_allclose(one_x, one_e, atol=1e-6 * np.abs(one_x).max())
    symbols = ["Pt" if i % 2 else "Ni" for i in range(len(cluster))]
    _, two_x = ds.simulate(cluster.positions, elements=symbols)
    _, two_e = ds.simulate(cluster.positions, elements=symbols, scattering="electronnumber")
    assert np.abs(two_x - two_e).max() > 1e-3 * np.abs(two_x).max()
