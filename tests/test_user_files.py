"""What a user gets from ``predict --out``, checked against independent sources: the
structure file holds the decoded cluster times its refined expansion, and the fit CSV's
columns are, by name, the measured file's G(r), the fit, and their difference."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import ase.io
import numpy as np
import pytest

from deepstruc_gui.cli.main import main
from deepstruc_gui.model.bundle import ModelBundle
from deepstruc_gui.model.inference import Predictor
from deepstruc_gui.science.pdf_io import read_pdf

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "JQ_S1.gr"


@pytest.fixture(scope="module")
def predicted(random_bundle, tmp_path_factory):
    out = tmp_path_factory.mktemp("predict")
    args = ["predict", str(EXAMPLE), "--model", str(random_bundle), "--samples", "30"]
    args += ["--top", "2", "--rmin", "2.5", "--rmax", "20", "--seed", "2", "--no-fallback"]
    # the model's own candidates: the size extension's built clusters have no latent
    # point to decode again (tests/test_size_extension.py checks those)
    args += ["--no-size-extension"]
    assert main([*args, "--out", str(out / "files"), "--json", str(out / "s.json")]) == 0
    return out / "files", json.loads((out / "s.json").read_text()), random_bundle


def test_the_structure_file_is_the_decoded_cluster_times_its_expansion(predicted) -> None:
    folder, summary, bundle = predicted
    best = summary["candidates"][0]
    atoms = ase.io.read(next(folder.glob("rank01_*.xyz")))
    predictor = Predictor(ModelBundle.load(bundle), "cpu")
    (decoded,) = predictor.decode(np.array([best["latent"]]), summary["bond_length"])
    assert len(atoms) == len(decoded) == best["n_atoms"]
    assert best["expansion"] != pytest.approx(1.0, abs=1e-4)  # a real refinement
    np.testing.assert_allclose(atoms.positions, decoded * best["expansion"], atol=1e-4)
    # not the unrefined cluster
    assert not np.allclose(atoms.positions, decoded, atol=1e-4)


def test_fit_csv_columns_are_data_fit_and_difference_by_name(predicted) -> None:
    folder, summary, _ = predicted
    lines = (folder / "rank01_fit.csv").read_text().splitlines()
    rows = list(csv.DictReader(x for x in lines if not x.startswith("#")))
    assert list(rows[0]) == ["r", "Gobs", "Gcalc", "Gdiff"]
    col = {k: np.array([float(row[k]) for row in rows]) for k in rows[0]}
    assert col["r"].min() >= 2.5 - 1e-9 and col["r"].max() <= 20 + 1e-9
    data = read_pdf(EXAMPLE)  # the measured file, read again
    np.testing.assert_allclose(col["Gobs"], np.interp(col["r"], data.r, data.g), atol=1e-5)
    np.testing.assert_allclose(col["Gdiff"], col["Gobs"] - col["Gcalc"], atol=1e-5)
    rw = np.sqrt(np.sum(col["Gdiff"] ** 2) / np.sum(col["Gobs"] ** 2))
    assert rw == pytest.approx(summary["candidates"][0]["rw"], rel=1e-3)
