"""Small structure helpers shared by the library, the model and the views."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def centred(positions: np.ndarray) -> np.ndarray:
    """Positions shifted so their centroid is at the origin."""
    p = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    return p - p.mean(axis=0) if len(p) else p


def neighbour_edges(positions: np.ndarray, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """Graph edges (2, E) in both directions between atoms closer than ``cutoff``,
    and their lengths (E,)."""
    p = np.asarray(positions, dtype=np.float64)
    pairs = cKDTree(p).query_pairs(cutoff, output_type="ndarray") if len(p) > 1 else None
    if pairs is None or len(pairs) == 0:
        return np.zeros((2, 0), dtype=np.int64), np.zeros(0)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    edges = np.concatenate([pairs, pairs[:, ::-1]]).T.astype(np.int64)
    lengths = np.linalg.norm(p[edges[0]] - p[edges[1]], axis=1)
    return edges, lengths


def coordination_numbers(positions: np.ndarray, cutoff: float) -> np.ndarray:
    """Number of neighbours of each atom within ``cutoff``."""
    edges, _ = neighbour_edges(positions, cutoff)
    return np.bincount(edges[0], minlength=len(positions))


def nearest_neighbour_distance(positions: np.ndarray) -> float:
    """The most common shortest-bond length (robust to a few surface outliers)."""
    p = np.asarray(positions, dtype=np.float64)
    if len(p) < 2:
        return float("nan")
    d, _ = cKDTree(p).query(p, k=2)
    return float(np.median(d[:, 1]))
