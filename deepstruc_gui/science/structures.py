"""Structures as plain arrays: the bridge between ase and the rest of the project.

The library, the model and the views work on ``(n, 3)`` float arrays in Å; ase is
only the way in (any format it reads) and out. The graph helpers define what the
training library calls a bond: atoms closer than a cutoff, usually 1.02 × the
nearest-neighbour distance.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist


class StructureReadError(ValueError):
    """A structure file that cannot be used; ``str(e)`` is ``"FILE: problem"``."""


def centred(positions: np.ndarray) -> np.ndarray:
    """Positions shifted so their centroid is at the origin (float64)."""
    p = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    return p - p.mean(axis=0) if len(p) else p


def to_atoms(positions: np.ndarray, symbols: str | Sequence[str] = "Pt"):
    """An ``ase.Atoms`` cluster (no cell, no periodicity) from an (n, 3) array."""
    from ase import Atoms

    p = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    if isinstance(symbols, str):
        symbols = [symbols] * len(p)
    return Atoms(symbols=list(symbols), positions=p, pbc=False)


def from_atoms(atoms, centre: bool = True) -> tuple[np.ndarray, list[str]]:
    """Positions (centred unless told otherwise) and chemical symbols of ``atoms``."""
    p = np.asarray(atoms.get_positions(), dtype=np.float64)
    return (centred(p) if centre else p), list(atoms.get_chemical_symbols())


def read_structure(path: str | os.PathLike, index: int | str = -1, min_atoms: int = 2):
    """Read any format ase knows (xyz, cif, pdb, POSCAR, …) as an ``ase.Atoms``.

    ase raises a dozen exception types for bad input; all become one
    :class:`StructureReadError` that names the file, so a user sees what to fix.
    """
    import ase.io

    p = Path(path)
    if not p.exists():
        raise StructureReadError(f"{p}: no such file")
    if not p.is_file():
        raise StructureReadError(f"{p}: not a file")
    try:
        atoms = ase.io.read(p, index=index)
    except Exception as exc:  # ase raises many types for unreadable files
        reason = str(exc).strip() or type(exc).__name__
        raise StructureReadError(f"{p}: not a structure file ase can read ({reason})") from exc
    if isinstance(atoms, list):  # index selected several frames
        if not atoms:
            raise StructureReadError(f"{p}: the file holds no structure")
        atoms = atoms[-1]
    if len(atoms) < min_atoms:
        raise StructureReadError(
            f"{p}: a structure needs at least {min_atoms} atoms, found {len(atoms)}"
        )
    if not np.all(np.isfinite(atoms.get_positions())):
        raise StructureReadError(f"{p}: positions are not all finite numbers")
    return atoms


def read_positions(path: str | os.PathLike) -> tuple[np.ndarray, list[str]]:
    """Centred positions (Å) and symbols of the structure in ``path``."""
    return from_atoms(read_structure(path))


def neighbour_edges(positions: np.ndarray, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """Graph edges (2, E) in both directions between atoms closer than ``cutoff``,
    and their lengths (E,).

    Edges are sorted (source, then target) so the same cluster always gives the same
    arrays: the library build must be byte-for-byte reproducible.
    """
    p = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    if len(p) < 2:
        return np.zeros((2, 0), dtype=np.int64), np.zeros(0)
    pairs = cKDTree(p).query_pairs(cutoff, output_type="ndarray")
    if len(pairs) == 0:
        return np.zeros((2, 0), dtype=np.int64), np.zeros(0)
    both = np.concatenate([pairs, pairs[:, ::-1]]).astype(np.int64)
    both = both[np.lexsort((both[:, 1], both[:, 0]))]
    lengths = np.linalg.norm(p[both[:, 0]] - p[both[:, 1]], axis=1)
    keep = lengths < cutoff  # query_pairs includes pairs exactly at the cutoff
    return both[keep].T.copy(), lengths[keep]


def coordination_numbers(positions: np.ndarray, cutoff: float) -> np.ndarray:
    """Number of neighbours of each atom closer than ``cutoff``."""
    edges, _ = neighbour_edges(positions, cutoff)
    return np.bincount(edges[0], minlength=len(np.asarray(positions).reshape(-1, 3)))


def nearest_neighbour_distance(positions: np.ndarray) -> float:
    """The median shortest-bond length (robust to a few stretched surface atoms)."""
    p = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    if len(p) < 2:
        return float("nan")
    d, _ = cKDTree(p).query(p, k=2)
    return float(np.median(d[:, 1]))


def mean_bond_length(positions: np.ndarray, tolerance: float = 0.1) -> float:
    """Mean length of the nearest-neighbour bonds: pairs within (1 + tolerance) × the
    shortest. Equal to every bond in a perfect lattice; in strained (multiply twinned)
    clusters it is where the PDF's first peak sits."""
    d = pdist(np.asarray(positions, dtype=np.float64).reshape(-1, 3))
    if d.size == 0:
        return float("nan")
    return float(d[d <= (1 + tolerance) * d.min()].mean())


def sorted_pair_distances(positions: np.ndarray) -> np.ndarray:
    """All n(n-1)/2 interatomic distances, ascending: a rotation- and
    permutation-free description used to spot duplicate clusters."""
    p = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    return np.sort(pdist(p)) if len(p) > 1 else np.zeros(0)


class DuplicateFilter:
    """Remembers clusters and tells whether a new one repeats an earlier one.

    Two clusters are the same when they share a key (e.g. the type), the atom count
    and their sorted pair distances agree within ``tolerance`` (in the units of the
    positions). Comparing within a tolerance, not after rounding, avoids calling two
    clusters different because a distance sits on a rounding boundary.
    """

    def __init__(self, tolerance: float = 1e-4) -> None:
        self.tolerance = tolerance
        self._seen: dict[tuple, list[np.ndarray]] = {}

    def add(self, key: object, positions: np.ndarray) -> bool:
        """Record the cluster; return False if it duplicates one already recorded."""
        d = sorted_pair_distances(positions)
        bucket = self._seen.setdefault((key, len(d)), [])
        for other in bucket:
            if np.max(np.abs(other - d), initial=0.0) <= self.tolerance:
                return False
        bucket.append(d)
        return True
