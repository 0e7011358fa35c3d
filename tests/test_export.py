"""Every export format, written and read back: what a user opens in ase, OVITO, a
spreadsheet or PDFgui must hold the refined structure, the right symbols and the fit."""

from __future__ import annotations

import csv

import ase.io
import numpy as np
import pytest
from ase.cluster import Icosahedron, Octahedron

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.model.export import (
    FIT_COLUMNS,
    TABLE_COLUMNS,
    candidate_to_atoms,
    provenance,
    write_fgr,
    write_fit,
    write_fit_csv,
    write_structure,
    write_structures,
    write_table,
)
from deepstruc_gui.model.solve import candidates_from_fit
from deepstruc_gui.science.debye import PDFParameters, simulate_pdf
from deepstruc_gui.science.fitting import FitConfig, fit_candidates
from deepstruc_gui.science.pdf_io import PDFData

EXPANSION = 1.05


@pytest.fixture(scope="module")
def fitted():
    """Two decoded clusters fitted to data of the first one expanded by 5 %: the
    candidates come out of the search's own constructor, as the table holds them."""
    octa = Octahedron("Pt", 5, 1).positions
    ico = Icosahedron("Pt", 3).positions
    clusters = [octa - octa.mean(0), ico - ico.mean(0)]
    params = PDFParameters()
    r, g = simulate_pdf(clusters[0] * EXPANSION, params.replace(biso=0.5))
    data = PDFData(path=None, r=r, g=g * 1.7, metadata={"composition": "Pt"})
    result = fit_candidates(clusters, r, data.g, FitConfig(params=params), device="cpu")
    z = np.array([[0.1, -0.2], [1.5, 0.3]])
    cands = candidates_from_fit(z, clusters, result, ["octahedron", "icosahedron"])
    ranked = sorted(cands, key=lambda c: c.rw)
    return clusters, data, ranked


def centred(p: np.ndarray) -> np.ndarray:
    return p - p.mean(0)


def test_candidates_carry_the_refined_expansion(fitted) -> None:
    clusters, _, ranked = fitted
    best = ranked[0]
    assert best.nearest_type == "octahedron" and best.rw < 0.02
    assert best.expansion == pytest.approx(EXPANSION, abs=0.002)
    np.testing.assert_allclose(best.positions, clusters[0] * best.expansion, atol=1e-9)


def test_candidate_to_atoms_carries_element_rw_parameters_and_latent(fitted) -> None:
    _, data, ranked = fitted
    c = ranked[0]
    info = provenance(data, "mmnp", FitConfig(rmin=2.5, rmax=25.0))
    atoms = candidate_to_atoms(c, "Au", info)
    assert atoms.get_chemical_symbols() == ["Au"] * c.n_atoms
    np.testing.assert_allclose(atoms.positions, c.positions)
    assert atoms.info["rw"] == c.rw and atoms.info["expansion"] == c.expansion
    assert atoms.info["structure_type"] == "octahedron"
    np.testing.assert_allclose(atoms.info["latent"], c.latent)
    assert atoms.info["model"] == "mmnp" and atoms.info["fit_rmax"] == 25.0
    symbols = ["Pt", "Au"] * (c.n_atoms // 2) + ["Pt"] * (c.n_atoms % 2)
    assert candidate_to_atoms(c, symbols).get_chemical_symbols() == symbols
    with pytest.raises(ValueError, match="not a chemical element"):
        candidate_to_atoms(c, "Xx")
    with pytest.raises(ValueError, match="element"):
        candidate_to_atoms(c, None)
    with pytest.raises(ValueError, match="symbols for"):
        candidate_to_atoms(c, ["Pt", "Au"])
    c.element = "Pd"
    assert set(c.to_atoms().get_chemical_symbols()) == {"Pd"}
    assert c.structure_type == c.nearest_type


@pytest.mark.parametrize("suffix", [".xyz", ".extxyz", ".cif"])
def test_structure_formats_round_trip(fitted, tmp_path, suffix) -> None:
    _, data, ranked = fitted
    c = ranked[0]
    path = write_structure(tmp_path / f"best{suffix}", c, "Pt", provenance(data, "mmnp"))
    atoms = ase.io.read(path)
    assert atoms.get_chemical_symbols() == ["Pt"] * c.n_atoms
    # refined coordinates (the CIF's box shifts them; the shape is what counts)
    np.testing.assert_allclose(centred(atoms.positions), centred(c.positions), atol=1e-5)
    if suffix == ".cif":
        text = path.read_text()
        assert text.startswith("#") and f"# rw = {c.rw:.6g}" in text
        assert "# model = mmnp" in text
    else:
        assert atoms.info["rw"] == pytest.approx(c.rw)
        assert atoms.info["structure_type"] == c.nearest_type
        assert atoms.info["model"] == "mmnp"


def test_structure_export_refuses_unknown_suffix_and_leaves_nothing(fitted, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"\.xyz, \.extxyz or \.cif"):
        write_structure(tmp_path / "best.pdb", fitted[2][0], "Pt")
    assert list(tmp_path.iterdir()) == []


def test_multi_frame_extxyz_holds_the_top_candidates_in_rank_order(fitted, tmp_path) -> None:
    _, _, ranked = fitted
    path = write_structures(tmp_path / "top.extxyz", ranked, "Pt", {"model": "mmnp"})
    frames = ase.io.read(path, index=":")
    assert len(frames) == len(ranked)
    for k, (atoms, c) in enumerate(zip(frames, ranked, strict=True), 1):
        assert atoms.info["rank"] == k and atoms.info["rw"] == pytest.approx(c.rw)
        assert len(atoms) == c.n_atoms
        np.testing.assert_allclose(atoms.positions, c.positions, atol=1e-6)
    assert [f.info["rw"] for f in frames] == sorted(f.info["rw"] for f in frames)


def test_table_csv_reads_back_with_the_ranked_values(fitted, tmp_path) -> None:
    _, data, ranked = fitted
    path = write_table(tmp_path / "table.csv", ranked, provenance(data, "mmnp"))
    lines = [x for x in path.read_text().splitlines() if not x.startswith("#")]
    rows = list(csv.DictReader(lines))
    assert tuple(rows[0]) == TABLE_COLUMNS and len(rows) == len(ranked)
    for k, (row, c) in enumerate(zip(rows, ranked, strict=True), 1):
        assert int(row["rank"]) == k and int(row["atoms"]) == c.n_atoms
        assert float(row["Rw"]) == pytest.approx(c.rw, abs=1e-6)
        assert float(row["expansion"]) == pytest.approx(c.expansion, abs=1e-6)
        assert row["type"] == c.nearest_type
        assert float(row["z1"]) == pytest.approx(c.latent[0], abs=1e-6)
    # without provenance: a bare CSV (header and one row per candidate)
    bare = write_table(tmp_path / "bare.csv", ranked)
    assert len(bare.read_text().splitlines()) == len(ranked) + 1


def _check_fit_columns(table: np.ndarray, c: Candidate, data: PDFData) -> None:
    np.testing.assert_allclose(table[:, 0], c.r, atol=1e-6)
    np.testing.assert_allclose(table[:, 1], np.interp(c.r, data.r, data.g), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(table[:, 2], c.gcalc, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(table[:, 3], table[:, 1] - table[:, 2], atol=1e-6)
    # Rw recomputed from the file is the candidate's
    rw = np.sqrt(np.sum(table[:, 3] ** 2) / np.sum(table[:, 1] ** 2))
    assert rw == pytest.approx(c.rw, rel=1e-3)


def test_fit_csv_has_named_columns_in_order_and_reproduces_rw(fitted, tmp_path) -> None:
    _, data, ranked = fitted
    c = ranked[0]
    path = write_fit_csv(tmp_path / "fit.csv", c, data, provenance(data, "mmnp"))
    text = path.read_text()
    assert f"# Rw = {c.rw:.6g}" in text and "# model = mmnp" in text
    rows = [x for x in text.splitlines() if not x.startswith("#")]
    assert rows[0] == ",".join(FIT_COLUMNS)
    _check_fit_columns(np.loadtxt(rows[1:], delimiter=","), c, data)


def test_fgr_fit_file_has_pdfgui_layout_and_reproduces_rw(fitted, tmp_path) -> None:
    _, data, ranked = fitted
    c = ranked[1]
    info = provenance(data, "mmnp", FitConfig(rmin=2.0, rmax=30.0))
    path = write_fit(tmp_path / "fit.fgr", c, data, info)
    text = path.read_text()
    assert "#### start data" in text and "#L r Gobs Gcalc Gdiff" in text
    for key in ("model = mmnp", "fit_rmin = 2", "fit_rmax = 30", "Rw =", "expansion =", "date ="):
        assert f"# {key}" in text
    _check_fit_columns(np.loadtxt(path), c, data)
    assert write_fgr(tmp_path / "again.fgr", c, data).read_text().count("\n") > len(c.r)
    with pytest.raises(ValueError, match=r"\.csv or \.fgr"):
        write_fit(tmp_path / "fit.txt", c, data)


def test_gui_exporting_delegates_with_the_same_names(fitted, tmp_path) -> None:
    from deepstruc_gui.gui import exporting

    _, data, ranked = fitted
    exporting.export_structure(tmp_path / "c.cif", ranked[0], "Pt")
    assert len(ase.io.read(tmp_path / "c.cif")) == ranked[0].n_atoms
    exporting.export_fit(tmp_path / "f.csv", ranked[0], data)
    exporting.export_table(tmp_path / "t.csv", ranked)
    assert len((tmp_path / "t.csv").read_text().splitlines()) == len(ranked) + 1
