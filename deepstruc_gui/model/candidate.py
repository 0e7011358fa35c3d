"""A decoded, refined cluster: what the table lists and the views show (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: a search whose best Rw is above this found nothing like the data: most often the
#: prior placed a PDF unlike the training ones in the wrong region (the whole-map
#: search then helps; on the Pt example it finds fcc where the region gives bcc)
POOR_FIT_RW = 0.5


@dataclass
class Candidate:
    """One decoded (or, from the size extension, built) and refined cluster."""

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
    #: where the candidate came from: "model" (decoded from ``latent``) or
    #: "size-extension" (an ase-built cluster larger than the training structures;
    #: its ``latent`` is NaN, it has no map point)
    source: str = "model"
    #: for built clusters, the family and its size parameters, e.g.
    #: "truncated octahedron (length 9, cutoff 2)"; empty for decoded ones
    shape: str = ""

    @property
    def diameter(self) -> float:
        from scipy.spatial.distance import pdist

        return float(pdist(self.positions).max()) if self.n_atoms > 1 else 0.0
