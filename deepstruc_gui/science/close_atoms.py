"""Atoms that overlap or nearly overlap: the `close-atoms` check (numpy and scipy only).

A structure file with duplicated sites, or a decoded cluster with two atoms 0.15 Å
apart, is not a physical cluster: its PDF has a sharp spike at the short distance and
a first peak that is too strong. The engine and the fitter compute such structures
exactly as diffpy does (close pairs are summed exactly, see
:mod:`deepstruc_gui.science.fit_model`), but the user must be told.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def close_atom_pairs(positions: np.ndarray, bond_length: float, factor: float = 0.6) -> np.ndarray:
    """Index pairs (i, j), i < j, of atoms closer than ``factor × bond_length``.

    ``positions``: (n, 3) Å; ``bond_length``: the nearest-neighbour distance the
    structure should have (Å, e.g. the first PDF peak). Returns an (m, 2) int array
    sorted by distance, shortest first (m = 0 for a sound structure). Duplicated atoms
    (distance 0) are included. Raises ``ValueError`` for a non-positive bond length or
    positions that are not (n, 3).
    """
    xyz = np.asarray(positions, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"positions must be (n, 3), got shape {xyz.shape}")
    if not bond_length > 0 or not factor > 0:
        raise ValueError(f"bond length and factor must be positive ({bond_length}, {factor})")
    if len(xyz) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = cKDTree(xyz).query_pairs(factor * bond_length, output_type="ndarray")
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(pairs, axis=1).astype(np.int64)
    d = np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)
    return pairs[np.argsort(d, kind="stable")]
