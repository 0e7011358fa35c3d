"""Clusters given by their pair histogram in bond units: the fitter's input without positions.

The Debye sum of a one-element cluster depends on its atoms only through the
multiset of pair distances, and the fitter only ever uses that multiset spread on a
radial grid (:func:`deepstruc_gui.science.debye.pair_histogram`). A built shape's
geometry is fixed in bond units (the size extension's families, scaled to the data's
bond length), so its histogram can be computed once, in bond units, and reused for
every data set: :class:`HistogramCluster` carries it, and
:func:`spread_histograms` turns a batch of them into the fitter's grid in Å.

The move from the bond-unit grid ``k·u`` (u in bond units) to the fitter's grid in Å
treats every bond-unit node as a point mass at ``k·u·bond`` and spreads it with the
same 4-point Lagrange weights the engine uses for pairs. Lagrange spreading keeps the
sum ``Σ h_k f(r_k)`` of any smooth ``f`` to fourth order in the bin width, so the two
steps together reproduce the Debye sum of the positions to ~1e-5 (``sin(Qd)/d`` at
Qmax 25 Å⁻¹ with a 0.0025-bond-unit grid); nodes closer than the fitter's exact-sum
distance are returned as weighted "pairs" for that sum instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from deepstruc_gui.science.debye import lagrange_weights


@dataclass(frozen=True, eq=False)
class HistogramCluster:
    """A one-element cluster given by its pair histogram in bond units.

    ``counts`` (n_bins,): every pair i<j Lagrange-spread on ``k·bin_width`` (bond
    units; e.g. :func:`deepstruc_gui.model.coarse.grouped_pair_histograms` with a
    ``r_high`` past the longest distance); ``bin_width`` in bond units; ``n_atoms``;
    ``bond_length`` (Å per bond unit: distances in Å are ``k·bin_width·bond_length``);
    ``diameter``: the longest distance in bond units (the start of a refined
    spdiameter). One element: its form factor cancels, as for plain position arrays.
    """

    counts: np.ndarray = field(repr=False)
    bin_width: float
    n_atoms: int
    bond_length: float = 1.0
    diameter: float = 0.0

    def __len__(self) -> int:
        """The atom count N (so sizes read alike for positions and histograms)."""
        return self.n_atoms

    def at_bond(self, bond_length: float) -> HistogramCluster:
        """The same cluster at another bond length (Å); the histogram is shared."""
        return HistogramCluster(
            self.counts, self.bin_width, self.n_atoms, float(bond_length), self.diameter
        )

    @property
    def diameter_angstrom(self) -> float:
        """The longest distance in Å (``diameter · bond_length``)."""
        return self.diameter * self.bond_length


def is_histogram_batch(structures: Sequence) -> bool:
    """True when every structure is a :class:`HistogramCluster` (False for none of
    them); raises ``ValueError`` for a mix of histograms and positions."""
    kinds = {isinstance(s, HistogramCluster) for s in structures}
    if len(kinds) > 1:
        raise ValueError("a batch mixes pair histograms and positions: fit them separately")
    return kinds == {True}


def spread_histograms(
    clusters: Sequence[HistogramCluster],
    bin_width: float,
    n_bins: int,
    exact_below: float,
    r_high: float,
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fitter's pair grid of a batch of histogram clusters.

    Returns ``hist`` (B, 1, n_bins) float32: the mass of every bond-unit node at
    ``exact_below`` ≤ d ≤ ``r_high`` (Å) spread on ``k·bin_width`` (Å) with the
    engine's Lagrange weights; and the nodes closer than ``exact_below`` (Å) as one
    flat list over the batch, for the fitter's exact sum of close pairs: ``close_d``
    (K,) float64 in Å, ``close_owner`` (K,) the cluster of each, ``close_w`` (K,)
    float64 their masses (pairs).
    """
    b = len(clusters)
    out = torch.zeros(b, n_bins + 4, dtype=torch.float64)
    offsets = torch.arange(-1, 3)
    close = []
    for i, c in enumerate(clusters):
        counts = np.asarray(c.counts, dtype=np.float64)
        nz = np.flatnonzero(counts)
        d = nz * (c.bin_width * c.bond_length)
        mass = counts[nz]
        near = (d < exact_below) & (d > 0)
        if near.any():
            close.append((i, d[near], mass[near]))
        far = (d >= exact_below) & (d <= r_high)
        x = torch.as_tensor(d[far] / bin_width)
        j = torch.floor(x)
        lw = lagrange_weights(x - j) * torch.as_tensor(mass[far])[:, None]  # (P, 4)
        idx = (j.long()[:, None] + offsets + 1).clamp(0, n_bins + 3)
        out[i] = torch.bincount(idx.view(-1), weights=lw.view(-1), minlength=n_bins + 4)
    hist = out[:, 1 : n_bins + 1].to(torch.float32).unsqueeze(1).to(device)

    def flat(k: int, dtype: torch.dtype) -> torch.Tensor:
        """Column k of the close list, concatenated over the batch (K,)."""
        parts = [np.broadcast_to(c[k], c[1].shape) for c in close]
        return torch.as_tensor(np.concatenate(parts) if close else np.zeros(0), dtype=dtype).to(
            device
        )

    return hist, flat(1, torch.float64), flat(0, torch.long), flat(2, torch.float64)
