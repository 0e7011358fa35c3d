"""The headless ``simulate`` and ``fit`` subcommands, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.cluster import Octahedron

from deepstruc_gui.cli.main import main
from deepstruc_gui.science.debye import TRAINING_PARAMETERS, simulate_pdf
from deepstruc_gui.science.pdf_io import read_pdf


@pytest.fixture
def cluster_file(tmp_path: Path) -> Path:
    path = tmp_path / "pt_oct.xyz"
    ase.io.write(path, Octahedron("Pt", 5, 1))
    return path


def test_help_lists_subcommands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "deepstruc_gui", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for name in ("simulate", "fit"):
        assert name in out.stdout


def test_simulate_writes_a_readable_file_with_its_parameters(
    cluster_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "sim.gr"
    assert main(["simulate", str(cluster_file), "--biso", "0.5", "-o", str(out)]) == 0
    data = read_pdf(out)
    assert data.metadata["biso"] == 0.5
    assert data.metadata["qmax"] == TRAINING_PARAMETERS.qmax
    assert data.metadata["delta2"] == TRAINING_PARAMETERS.delta2
    atoms = ase.io.read(cluster_file)
    r, g = simulate_pdf(atoms, TRAINING_PARAMETERS.replace(biso=0.5))
    assert np.allclose(data.r, r) and np.allclose(data.g, g, atol=1e-6 * np.abs(g).max())
    assert data.r[0] == pytest.approx(2.0) and data.r[-1] == pytest.approx(29.99)


def test_simulate_to_stdout(cluster_file: Path, capsys) -> None:
    assert main(["simulate", str(cluster_file), "--rmax", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# source")
    numeric = [line for line in lines if not line.startswith("#")]
    assert len(numeric) == 300  # 2.00 … 4.99


def test_fit_recovers_expansion_of_simulated_data(cluster_file: Path, tmp_path: Path, capsys):
    atoms = ase.io.read(cluster_file)
    atoms.positions *= 1.02
    expanded = tmp_path / "expanded.xyz"
    ase.io.write(expanded, atoms)
    data = tmp_path / "data.gr"
    assert main(["simulate", str(expanded), "--biso", "0.6", "-o", str(data)]) == 0
    csv = tmp_path / "fit.csv"
    code = main(["fit", str(cluster_file), str(data), "--rmax", "20", "-o", str(csv)])
    assert code == 0
    out = capsys.readouterr().out
    values = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}
    assert float(values["Rw"]) < 0.01
    assert float(values["expansion"]) == pytest.approx(1.02, abs=0.002)
    assert float(values["Biso"]) == pytest.approx(0.6, abs=0.03)
    table = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert table.shape[1] == 4 and table[-1, 0] <= 20.0
    assert np.allclose(table[:, 3], table[:, 1] - table[:, 2], atol=1e-5)


def test_fit_bad_inputs_exit_with_a_message(cluster_file: Path, tmp_path: Path, capsys):
    bad = tmp_path / "bad.gr"
    bad.write_text("1.0 2.0\n2.0 nan\n3.0 1.0\n")
    assert main(["fit", str(cluster_file), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.gr:2:" in err
    assert main(["fit", str(tmp_path / "missing.xyz"), str(bad)]) == 2
    assert "missing.xyz" in capsys.readouterr().err
    notastructure = tmp_path / "junk.xyz"
    notastructure.write_text("this is not xyz\n")
    assert main(["simulate", str(notastructure)]) == 2
    assert "junk.xyz" in capsys.readouterr().err
