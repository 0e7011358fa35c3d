"""Close-packed clusters built layer by layer from A/B/C stacking sequences.

The paper's second experiment: pure fcc (ABCABC…), pure hcp (ABAB…) and faulted
sequences between them. Each layer is the part of a close-packed plane inside a
cylinder around the stacking axis; A, B and C layers are shifted by 0, 1/3 and 2/3 of
the in-plane cell diagonal and stacked √(2/3)·d apart. A layer is *cubic* when its
neighbours differ (…A B C…) and *hexagonal* when they are equal (…A B A…);
``fcc_fraction`` is the fraction of cubic interior layers (1 fcc, 0 hcp).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

_OFFSETS = {"A": 0.0, "B": 1.0 / 3.0, "C": 2.0 / 3.0}
PATCH_RADII = (1.05, 1.55, 1.8, 2.1, 2.65)  # cylinder radius / bond length
LAYER_COUNTS = range(3, 11)
DEFAULT_METALS = ("Pt",)  # one bond length: ~1,640 faulted clusters, as in the paper


def sequences(n_layers: int) -> list[str]:
    """All stacking sequences of ``n_layers`` layers, starting with AB (relabelling)."""
    out = []
    for rest in itertools.product("ABC", repeat=n_layers - 2):
        seq = "AB" + "".join(rest)
        if all(a != b for a, b in itertools.pairwise(seq)):
            out.append(seq)
    return out


def fcc_fraction(sequence: str) -> float:
    """Fraction of interior layers with cubic stacking (neighbours differ)."""
    interior = range(1, len(sequence) - 1)
    cubic = [sequence[i - 1] != sequence[i + 1] for i in interior]
    return float(np.mean(cubic)) if cubic else float("nan")


def stacking_type(sequence: str) -> str:
    f = fcc_fraction(sequence)
    return "fcc" if f == 1.0 else "hcp" if f == 0.0 else "faulted"


def stacked_cluster(sequence: str, patch_radius: float, bond: float = 1.0) -> np.ndarray:
    """Atoms of every layer inside a cylinder of ``patch_radius``·bond, centred."""
    a1 = np.array([1.0, 0.0])
    a2 = np.array([0.5, math.sqrt(3) / 2])
    n = math.ceil(patch_radius) + 2
    ij = np.array([(i, j) for i in range(-n, n + 1) for j in range(-n, n + 1)], dtype=float)
    plane = ij[:, :1] * a1 + ij[:, 1:] * a2
    spacing = math.sqrt(2.0 / 3.0)
    layers = []
    for k, label in enumerate(sequence):
        shift = _OFFSETS[label] * (a1 + a2)
        xy = plane + shift
        keep = np.linalg.norm(xy, axis=1) <= patch_radius + 1e-6
        z = np.full((int(keep.sum()), 1), k * spacing)
        layers.append(np.hstack([xy[keep], z]))
    positions = np.vstack(layers) * bond
    return positions - positions.mean(axis=0)
