"""A decoded, refined cluster: what the table lists and the views show (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Candidate:
    """One decoded and refined cluster."""

    latent: np.ndarray  # (2,)
    positions: np.ndarray  # (n, 3) Å, centred, refined expansion applied
    n_atoms: int
    rw: float
    scale: float
    expansion: float
    biso: float
    qdamp: float
    delta2: float
    nearest_type: str
    r: np.ndarray = field(repr=False)
    gcalc: np.ndarray = field(repr=False)

    @property
    def diameter(self) -> float:
        from scipy.spatial.distance import pdist

        return float(pdist(self.positions).max()) if self.n_atoms > 1 else 0.0
