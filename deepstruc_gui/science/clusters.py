"""The seven cluster types of DeepStruc's training library, built with ase.

Every shape is built ONCE at unit nearest-neighbour distance and rescaled per metal:
ase's builders are the slow part, and a metal only changes the scale.

Size ranges (those of the original generator for clusters of up to 200 atoms):
sc/bcc/fcc cubic clusters with (100), (110), (111) surfaces and h ≤ k ≤ l layers in
1..10; hcp blocks s1 ≤ s2 ≤ s3 in 1..10 with the ideal c/a = √(8/3); icosahedra of
1..5 shells; decahedra p, q in 1..5, r in 0..5; octahedra of length 2..7.

Unlike the original, bcc clusters are built at the same nearest-neighbour distance
as the other types (lattice constant 2d/√3); the original used lattice constant = d,
so its bcc bonds were 13 % shorter than the metal's.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

CLUSTER_TYPES: tuple[str, ...] = (
    "sc", "bcc", "fcc", "hcp", "icosahedral", "decahedral", "octahedral",
)  # fmt: skip
_SURFACES = [(1, 0, 0), (1, 1, 0), (1, 1, 1)]
_HCP_C_OVER_A = math.sqrt(8 / 3)


@dataclass(frozen=True)
class Shape:
    """A cluster at unit nearest-neighbour distance, centred on its centroid."""

    type: str
    params: dict[str, int]
    positions: np.ndarray  # (n, 3), unit bond length

    @property
    def n_atoms(self) -> int:
        return len(self.positions)

    @property
    def label(self) -> str:
        return "_".join([self.type] + [f"{k}{v}" for k, v in self.params.items()])


def _centred(positions: np.ndarray) -> np.ndarray:
    p = np.asarray(positions, dtype=np.float64)
    return p - p.mean(axis=0)


def _cubic(kind: str, layers: tuple[int, int, int]) -> np.ndarray:
    from ase.cluster import BodyCenteredCubic, FaceCenteredCubic, SimpleCubic

    builders = {
        "sc": (SimpleCubic, 1.0),
        "bcc": (BodyCenteredCubic, 2 / math.sqrt(3)),
        "fcc": (FaceCenteredCubic, math.sqrt(2)),
    }
    builder, lattice_constant = builders[kind]
    return builder("Cu", _SURFACES, list(layers), latticeconstant=lattice_constant).positions


def _hcp(size: tuple[int, int, int]) -> np.ndarray:
    from ase.lattice.hexagonal import HexagonalClosedPacked

    atoms = HexagonalClosedPacked(
        symbol="Cu", latticeconstant=(1.0, _HCP_C_OVER_A), size=size, pbc=False
    )
    return atoms.positions


def _candidate_shapes(max_atoms: int) -> Iterator[Shape]:
    """Every parameter combination of every type (before size filter and dedup)."""
    from ase.cluster import Decahedron, Icosahedron, Octahedron

    fcc_lc = math.sqrt(2)
    for kind in ("sc", "bcc", "fcc"):
        for h, k, l_ in itertools.combinations_with_replacement(range(1, 11), 3):
            yield Shape(kind, {"h": h, "k": k, "l": l_}, _cubic(kind, (h, k, l_)))
    for s1, s2, s3 in itertools.combinations_with_replacement(range(1, 11), 3):
        if 2 * s1 * s2 * s3 > 4 * max_atoms:  # far too large; skip building
            continue
        yield Shape("hcp", {"s1": s1, "s2": s2, "s3": s3}, _hcp((s1, s2, s3)))
    for shells in range(1, 6):
        yield Shape(
            "icosahedral",
            {"shells": shells},
            Icosahedron("Cu", shells, latticeconstant=fcc_lc).positions,
        )
    for p, q, r in itertools.product(range(1, 6), range(1, 6), range(0, 6)):
        yield Shape(
            "decahedral",
            {"p": p, "q": q, "r": r},
            Decahedron("Cu", p, q, r, latticeconstant=fcc_lc).positions,
        )
    for length in range(2, 8):
        yield Shape(
            "octahedral",
            {"length": length},
            Octahedron("Cu", length, latticeconstant=fcc_lc).positions,
        )


def shape_fingerprint(shape: Shape, decimals: int = 3) -> tuple:
    """Type, atom count and sorted pair distances: equal for identical clusters."""
    from scipy.spatial.distance import pdist

    d = np.sort(pdist(shape.positions)) if shape.n_atoms > 1 else np.zeros(0)
    return (shape.type, shape.n_atoms, np.round(d, decimals).tobytes())


def unique_shapes(
    min_atoms: int = 5, max_atoms: int = 200, types: tuple[str, ...] = CLUSTER_TYPES
) -> list[Shape]:
    """All distinct shapes of the requested types with min_atoms ≤ n ≤ max_atoms.

    Different parameters often give the same cluster (e.g. decahedra with r beyond
    what their size allows); the first parameter set in enumeration order is kept.
    """
    seen: set[tuple] = set()
    out: list[Shape] = []
    for shape in _candidate_shapes(max_atoms):
        if shape.type not in types or not min_atoms <= shape.n_atoms <= max_atoms:
            continue
        shape = Shape(shape.type, shape.params, _centred(shape.positions))
        key = shape_fingerprint(shape)
        if key in seen:
            continue
        seen.add(key)
        out.append(shape)
    return out
