"""The seven cluster types of DeepStruc's training library, built with ase.

Every shape is built ONCE at unit nearest-neighbour distance and rescaled per metal:
ase's builders are the slow part, and a metal only changes the scale.

Size ranges (those of the original generator for clusters of up to 200 atoms):
sc/bcc/fcc cubic clusters with (100), (110), (111) surfaces and h ≤ k ≤ l layers in
1..10; hcp blocks s1 ≤ s2 ≤ s3 in 1..10 with the ideal c/a = √(8/3) = 1.633;
icosahedra of 1..5 shells; decahedra p, q in 1..5, r in 0..5; octahedra of length
2..7.

Every type is built at the metal's nearest-neighbour distance d. Unlike the
original, bcc uses lattice constant 2d/√3 (the original used d, so its bcc bonds
were 13 % shorter than the metal's), and the strained icosahedra and decahedra are
scaled so their *mean* bond is d (the original put their shortest, radial bonds at
d, which moves the icosahedral first PDF peak 0.09 Å beyond the metal's).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import pdist

from deepstruc_gui.science.structures import DuplicateFilter, centred, mean_bond_length

CLUSTER_TYPES: tuple[str, ...] = (
    "sc", "bcc", "fcc", "hcp", "icosahedral", "decahedral", "octahedral",
)  # fmt: skip
#: coordination number of a fully surrounded atom of each type
INTERIOR_COORDINATION: dict[str, int] = {
    "sc": 6, "bcc": 8, "fcc": 12, "hcp": 12, "icosahedral": 12, "decahedral": 12,
    "octahedral": 12,
}  # fmt: skip
_SURFACES = [(1, 0, 0), (1, 1, 0), (1, 1, 1)]
HCP_C_OVER_A = math.sqrt(8 / 3)
#: lattice constant giving unit nearest-neighbour distance, per cubic lattice
_UNIT_LATTICE = {"sc": 1.0, "bcc": 2 / math.sqrt(3), "fcc": math.sqrt(2)}
_FCC_UNIT = math.sqrt(2)


@dataclass(frozen=True)
class Shape:
    """A cluster at unit nearest-neighbour distance, centred on its centroid."""

    type: str
    params: dict[str, int]
    positions: np.ndarray  # (n, 3), unit bond length

    @property
    def n_atoms(self) -> int:
        """Number of atoms N (rows of ``positions``, (N, 3) at unit bond length)."""
        return len(self.positions)

    @property
    def label(self) -> str:
        """``fcc_h3_k6_l7``, ``hcp_s1-3_s2-4_s3-5``: type and size parameters, the
        start of an entry's name (a dash where the key itself ends in a digit)."""
        parts = [f"{k}-{v}" if k[-1].isdigit() else f"{k}{v}" for k, v in self.params.items()]
        return "_".join([self.type, *parts])

    def scaled(self, nn_distance: float) -> np.ndarray:
        """Positions in Å for a metal with this nearest-neighbour distance."""
        return self.positions * nn_distance


def build_cluster(kind: str, params: dict[str, int], nn_distance: float = 1.0) -> np.ndarray:
    """Positions (n, 3) of one cluster, centred, with mean bond length ``nn_distance``.

    ``params`` are the builder's size parameters: h, k, l (sc, bcc, fcc: layers along
    (100), (110), (111)); s1, s2, s3 (hcp unit cells along a, b, c); shells
    (icosahedral); p, q, r (decahedral); length (octahedral).
    """
    return normalised(_ase_cluster(kind, params)) * nn_distance


def normalised(positions: np.ndarray) -> np.ndarray:
    """Centred and scaled to unit mean bond length.

    For sc, bcc, fcc, hcp and octahedra this changes nothing (every bond is already
    1). ase's icosahedra have radial bonds 1 and tangential bonds 1.051, its decahedra
    1 and 1.018: scaling to the mean puts their PDF's first peak at the metal's bond
    length, like every other type, instead of 3-4 % (icosahedra) beyond it.
    """
    return centred(positions) / mean_bond_length(positions)


def _ase_cluster(kind: str, params: dict[str, int]) -> np.ndarray:
    """The cluster as ase builds it, shortest lattice bond 1 (not yet normalised)."""
    from ase.cluster import Decahedron, Icosahedron, Octahedron

    if kind in _UNIT_LATTICE:
        layers = [params["h"], params["k"], params["l"]]
        positions = _cubic_builder(kind)("Cu", _SURFACES, layers, _UNIT_LATTICE[kind]).positions
    elif kind == "hcp":
        from ase.lattice.hexagonal import HexagonalClosedPacked

        size = (params["s1"], params["s2"], params["s3"])
        positions = HexagonalClosedPacked(
            symbol="Cu", latticeconstant=(1.0, HCP_C_OVER_A), size=size, pbc=False
        ).positions
    elif kind == "icosahedral":
        positions = Icosahedron("Cu", params["shells"], latticeconstant=_FCC_UNIT).positions
    elif kind == "decahedral":
        positions = Decahedron(
            "Cu", params["p"], params["q"], params["r"], latticeconstant=_FCC_UNIT
        ).positions
    elif kind == "octahedral":
        positions = Octahedron("Cu", params["length"], latticeconstant=_FCC_UNIT).positions
    else:
        raise ValueError(f"unknown cluster type {kind!r}; known: {', '.join(CLUSTER_TYPES)}")
    return np.asarray(positions, dtype=np.float64)


def _cubic_builder(kind: str) -> Callable:
    from ase.cluster import BodyCenteredCubic, FaceCenteredCubic, SimpleCubic

    return {"sc": SimpleCubic, "bcc": BodyCenteredCubic, "fcc": FaceCenteredCubic}[kind]


def _candidates(kind: str, max_atoms: int) -> Iterator[tuple[dict[str, int], np.ndarray]]:
    """Parameter sets of one type, in a fixed order, with their ase-built clusters.

    Clusters that certainly exceed ``max_atoms`` are not built (an hcp block has
    exactly 2·s1·s2·s3 atoms; see :func:`_cubic_candidates` for the cubic ones).
    """
    sizes = range(1, 11)
    if kind in _UNIT_LATTICE:
        yield from _cubic_candidates(kind, max_atoms)
    elif kind == "hcp":
        for s1, s2, s3 in itertools.combinations_with_replacement(sizes, 3):
            if 2 * s1 * s2 * s3 <= max_atoms:
                params = {"s1": s1, "s2": s2, "s3": s3}
                yield params, _ase_cluster(kind, params)
    elif kind == "icosahedral":
        for shells in range(1, 6):
            yield {"shells": shells}, _ase_cluster(kind, {"shells": shells})
    elif kind == "decahedral":
        for p, q, r in itertools.product(range(1, 6), range(1, 6), range(0, 6)):
            params = {"p": p, "q": q, "r": r}
            yield params, _ase_cluster(kind, params)
    elif kind == "octahedral":
        for length in range(2, 8):
            yield {"length": length}, _ase_cluster(kind, {"length": length})
    else:
        raise ValueError(f"unknown cluster type {kind!r}; known: {', '.join(CLUSTER_TYPES)}")


def _cubic_candidates(kind: str, max_atoms: int) -> Iterator[tuple[dict[str, int], np.ndarray]]:
    """h ≤ k ≤ l in 1..10. Adding a layer never removes atoms, so once (h, k, l) is too
    large every larger l is too; if (h, k, k) is, every larger k is; if (h, h, h)
    is, every larger h is. Skipping those saves most of ase's build time."""
    for h in range(1, 11):
        for k in range(h, 11):
            for l_ in range(k, 11):
                params = {"h": h, "k": k, "l": l_}
                positions = _ase_cluster(kind, params)
                yield params, positions
                if len(positions) > max_atoms:
                    break
            else:
                continue
            if l_ == k:  # (h, k, k) already too large
                break
        else:
            continue
        if k == h and l_ == h:  # (h, h, h) already too large
            break


def unique_shapes(
    min_atoms: int = 5,
    max_atoms: int = 200,
    types: tuple[str, ...] = CLUSTER_TYPES,
    progress: Callable[[int], None] | None = None,
) -> list[Shape]:
    """All distinct shapes of the requested types with min_atoms ≤ n ≤ max_atoms.

    Different parameters often give the same cluster (e.g. decahedra with r beyond
    what their size allows); the first parameter set in enumeration order is kept.
    Clusters are the same when type, atom count and sorted pair distances agree
    (within 1e-4 of a bond). A cluster without a single pair at the bond length is
    dropped (one: the 7-atom bcc h2 k2 l2, whose atoms are all second neighbours, so
    it is not recognisably bcc). ``progress(1)`` is called after each type.
    """
    seen = DuplicateFilter(tolerance=1e-4)
    out: list[Shape] = []
    for kind in types:
        for params, positions in _candidates(kind, max_atoms):
            if not min_atoms <= len(positions) <= max_atoms or not _has_unit_bonds(positions):
                continue
            positions = normalised(positions)
            if seen.add(kind, positions):
                out.append(Shape(kind, params, positions))
        if progress is not None:
            progress(1)
    return out


def _has_unit_bonds(positions: np.ndarray) -> bool:
    """True when the shortest pair is a nearest-neighbour bond (unit length)."""
    d = pdist(positions)
    return d.size > 0 and abs(float(d.min()) - 1.0) < 1e-6
