"""The particle diameter read from G(r): simulated clusters of known size, the field case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.cluster import FaceCenteredCubic, Octahedron

from deepstruc_gui.science.debye import simulate_pdf
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS
from deepstruc_gui.science.particle_size import (
    atoms_in_sphere,
    estimate_diameter,
    volume_equivalent_diameter,
)
from deepstruc_gui.science.pdf_io import read_pdf

FIELD = Path(__file__).resolve().parents[2] / "shared" / "data" / "field-cases"
PT_LATTICE = 3.92
PT_BOND = PT_LATTICE / np.sqrt(2)

LARGE = {  # single-crystal Pt particles of 300–2,000 atoms, as ase builds them
    "octahedron 489": lambda: Octahedron("Pt", 9, latticeconstant=PT_LATTICE),
    "truncated octahedron 711": lambda: Octahedron("Pt", 11, cutoff=4, latticeconstant=PT_LATTICE),
    "cuboctahedron 1925": lambda: Octahedron("Pt", 15, cutoff=5, latticeconstant=PT_LATTICE),
    "fcc (100)(110)(111) 423": lambda: FaceCenteredCubic(
        "Pt", [(1, 0, 0), (1, 1, 0), (1, 1, 1)], (6, 7, 6), latticeconstant=PT_LATTICE
    ),
}


@pytest.mark.parametrize("noise", [0.0, 0.02])
@pytest.mark.parametrize("name", sorted(LARGE))
def test_diameter_of_large_particles_within_20_percent(name: str, noise: float) -> None:
    atoms = LARGE[name]()
    r, g = simulate_pdf(atoms, TRAINING_PARAMETERS)
    rng = np.random.default_rng(1)
    g = g + noise * np.abs(g).max() * rng.standard_normal(g.size)
    truth = volume_equivalent_diameter(len(atoms), PT_BOND)
    diameter, uncertainty = estimate_diameter(r, g, qdamp=TRAINING_PARAMETERS.qdamp)
    assert abs(diameter / truth - 1) < 0.2, (name, diameter, truth)
    assert 0 < uncertainty < 0.5 * diameter


def test_pt_oct11_field_case_is_about_three_nanometres() -> None:
    data = read_pdf(FIELD / "pt_oct11.gr")
    estimate = estimate_diameter(data.r, data.g, qdamp=data.metadata["qdamp"])
    truth = volume_equivalent_diameter(891, PT_BOND)  # 29.5 Å
    assert abs(estimate.diameter / truth - 1) < 0.2
    assert atoms_in_sphere(estimate.diameter, PT_BOND) > 400


def test_small_particle_is_small() -> None:
    data = read_pdf(FIELD / "pt_oct5.gr")  # 85 atoms, 13.5 Å
    diameter, _ = estimate_diameter(data.r, data.g, qdamp=data.metadata["qdamp"])
    assert 11 < diameter < 17


def test_atoms_and_diameter_are_inverse() -> None:
    assert atoms_in_sphere(volume_equivalent_diameter(200, 2.77), 2.77) == pytest.approx(200)


def test_too_short_or_flat_data_are_refused() -> None:
    r = np.arange(2.0, 10.0, 0.01)
    with pytest.raises(ValueError, match="needs data"):
        estimate_diameter(r, np.sin(2 * np.pi * r / 2.77))
    r = np.arange(2.0, 30.0, 0.01)
    with pytest.raises(ValueError, match="no oscillation"):
        estimate_diameter(r, np.zeros_like(r))
