"""The model side of the batched fitter: every candidate's Debye sum as tables in t = αQ.

Scaling every distance by α maps a pair term ``sin(Qd)/d`` to ``sin(αQd)/(αd)``, so each
candidate's Debye sum is tabulated ONCE as a function of ``t = αQ`` and only
interpolated while α changes. The tables come from one matrix product of the
candidates' pair histograms (one per element pair) with kernels shared by all of them
and by every Q grid. diffpy's delta2 sharpening ``exp(U·δ2·Q²/d²)`` is expanded in
powers of ``U·δ2`` (a few terms, restricted to short distances where it matters), so U
and δ2 enter as per-candidate coefficients. Because α changes the phase ``t·d`` by at
most a few radians across the bounds, a band-limited (Kaiser-windowed sinc)
interpolation on an oversampled t grid reproduces the direct sum to ~1e-4.

Pairs closer than :data:`CLOSE_DISTANCE` (overlapping atoms, a file with duplicated
sites, ligand bonds) are summed exactly at every step instead: for them the series
does not converge, and below √δ2 diffpy gives the pair no Debye–Waller damping at all
(libdiffpy ``JeongPeakWidth``: a negative width correction is set to zero).

With one element per candidate the form factors cancel; with several, each element
pair (a, b) has its own table, weighted by ``2 f_a(Q) f_b(Q) / (N ⟨f(Q)⟩²)`` as in
diffpy's ``BaseDebyeSum::getF``. Form factors depend on Q, not on t, so the weights are
applied after the interpolation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from deepstruc_gui.science.debye import (
    ElementTypes,
    pad_structures,
    pair_histogram,
    pair_type_index,
)
from deepstruc_gui.science.histogram_clusters import is_histogram_batch, spread_histograms

BIN_WIDTH = 0.01  # Å, Lagrange-spread pair histogram
#: pairs closer than this (Å) are summed exactly, not through the tables
CLOSE_DISTANCE = 2.0
#: for a few candidates (the `fit` command, the best one's re-fit) pairs closer than
#: this are summed exactly too: the first shells, where a large delta2 makes the series
#: converge slowly (Uδ2Q²/d² up to ~6 for δ2 = 5.5 Å², Biso 1 Å², Qmax 25 Å⁻¹, Pt)
EXACT_DISTANCE_FEW = 4.2
_TAPS = 5  # half-width of the interpolation kernel, in table steps
_KAISER_BETA = 8.0
_OVERSAMPLING = 2.5  # table points per Nyquist step of the longest distance
_NEAR_DISTANCE = 8.0  # Å: delta2 terms beyond second order only for pairs closer than this
N_MOMENTS = 7  # powers of U·δ2 kept (0..6) when delta2 is used
_I0_BETA = float(np.i0(_KAISER_BETA))
_KERNEL_STEPS = 1024  # fractional positions tabulated per table step


def _kaiser_sinc(x: torch.Tensor) -> torch.Tensor:
    """Kaiser-windowed sinc with half-width ``_TAPS``: band-limited interpolation."""
    ratio = (x / _TAPS).clamp(-1, 1)
    window = torch.special.i0(_KAISER_BETA * torch.sqrt(1 - ratio**2)) / _I0_BETA
    return torch.sinc(x) * window


def _kernel_table() -> torch.Tensor:
    """Weights of the 2·TAPS taps and their derivatives, for fractional positions 0 … 1.

    Shape (steps + 1, 2, 2·TAPS): [:, 0] interpolates a table, [:, 1] its derivative
    (per table step), so one gather serves both Ψ(t) and dΨ/dt.
    """
    frac = torch.linspace(0, 1, _KERNEL_STEPS + 1, dtype=torch.float64)
    offsets = torch.arange(-_TAPS + 1, _TAPS + 1, dtype=torch.float64)
    u = frac[:, None] - offsets[None, :]
    h = 1e-5
    slope = (_kaiser_sinc(u + h) - _kaiser_sinc(u - h)) / (2 * h)
    return torch.stack((_kaiser_sinc(u), slope), 1)


class TableSpace:
    """The t grid and kernels ``sin(r·t)·r^-(2m+1)`` shared by all candidates and Q grids.

    ``r_cut``: the longest distance (Å) any table holds; ``t_max``: the largest α·Q.
    """

    def __init__(self, r_cut: float, t_max: float, n_moments: int, device) -> None:
        dd = dict(dtype=torch.float64, device=device)
        self.device = device
        self.r_cut = r_cut
        self.n_bins = math.ceil(r_cut / BIN_WIDTH) + 3
        self.dt = math.pi / (_OVERSAMPLING * r_cut)
        self.n_t = math.ceil((t_max + (_TAPS + 1) * self.dt) / self.dt) + 2 * _TAPS + 2
        self.t0 = -_TAPS * self.dt
        t = (torch.arange(self.n_t, **dd) - _TAPS) * self.dt
        radii = torch.arange(self.n_bins, **dd) * BIN_WIDTH
        # rows below CLOSE_DISTANCE never receive weight (those pairs are summed exactly)
        radii[radii < 0.5 * CLOSE_DISTANCE] = 1.0
        self.n_near = min(self.n_bins, math.ceil(_NEAR_DISTANCE / BIN_WIDTH) + 3)
        sin_k = torch.sin(torch.outer(radii, t))
        kernels = []
        for m in range(n_moments):
            rows = self.n_bins if m <= 1 else self.n_near
            kernels.append((sin_k[:rows] * radii[:rows, None] ** -(2 * m + 1)).float())
        self.kernels = kernels
        self.radii32 = (torch.arange(self.n_bins, **dd) * BIN_WIDTH).float()
        self.kernel_table = _kernel_table().to(device=device, dtype=torch.float32)


@dataclass
class ClosePairs:
    """A chunk's pairs closer than :data:`CLOSE_DISTANCE`, summed exactly: one flat list
    over all candidates (a blend decoded between map points can have hundreds, its
    neighbours none: padding to the longest list made every candidate pay for it).

    ``d`` (K,) distances (Å); ``owner`` (K,) the candidate of each pair; ``kind`` (K,)
    its element pair; ``w`` (K,) float64 how many pairs each entry stands for (1 a
    pair, a node's mass for a histogram cluster; 0: not summed).
    """

    d: torch.Tensor
    owner: torch.Tensor
    kind: torch.Tensor
    w: torch.Tensor

    def from_r(self, r_low: torch.Tensor) -> ClosePairs:
        """The same pairs with those below their candidate's ``r_low`` (B,) (Å) not
        summed, as diffpy's bond generator leaves them out."""
        return replace(self, w=self.w * (self.d >= r_low[self.owner]))


@dataclass
class CandidateTables:
    """One chunk of candidates as the fitter sees them.

    ``tables`` (B, T·M, n_t): Ψ_{T,m}(t) per element pair T and power m;
    ``close`` the close pairs (those below the candidate's rcalclo not summed);
    ``n_atoms`` (B,); ``elements`` the element types (None: one element each);
    ``probe`` (B, n_near) the near histogram summed over element pairs.
    """

    tables: torch.Tensor
    close: ClosePairs
    n_atoms: torch.Tensor
    elements: ElementTypes | None
    probe: torch.Tensor
    n_pair_types: int
    n_moments: int


@dataclass
class PairHistograms:
    """Pair histograms of a chunk (B, T, n_bins) beyond :data:`CLOSE_DISTANCE`, the
    close pairs, and the element types (None: one element each)."""

    hist: torch.Tensor
    close: ClosePairs
    n_atoms: torch.Tensor
    elements: ElementTypes | None

    @property
    def n_kinds(self) -> int:
        """Number of pair kinds T: axis 1 of ``hist`` (B, T, n_bins); 1 for one element."""
        return self.hist.shape[1]


def histograms(
    space: TableSpace,
    positions: Sequence[np.ndarray],
    elements: Sequence | None,
    exact_below: float = CLOSE_DISTANCE,
) -> PairHistograms:
    """All pairs of a chunk up to ``space.r_cut``: spread on the grid, or listed when
    closer than ``exact_below`` (Å, at least :data:`CLOSE_DISTANCE`). ``positions``:
    (n, 3) arrays in Å, or :class:`HistogramCluster` objects (pair histograms in bond
    units, one element; see :mod:`deepstruc_gui.science.histogram_clusters`)."""
    exact_below = max(exact_below, CLOSE_DISTANCE)
    device = space.device
    if is_histogram_batch(positions):
        if elements is not None:
            raise ValueError("histogram clusters are one element: pass elements=None")
        hist, close_d, close_owner, close_w = spread_histograms(
            positions, BIN_WIDTH, space.n_bins, exact_below, space.r_cut, device
        )
        n_atoms = torch.as_tensor([c.n_atoms for c in positions], dtype=torch.float64)
        close_type = torch.zeros(close_d.shape, dtype=torch.long, device=device)
        close = ClosePairs(close_d, close_owner, close_type, close_w)
        return PairHistograms(hist, close, n_atoms.to(device), None)
    pos, mask = pad_structures(positions, torch.float32)
    pos, mask = pos.to(device), mask.to(device)
    n_atoms = mask.sum(1)
    el = None
    if elements is not None:
        el = ElementTypes.from_elements(elements, n_atoms.tolist(), pos.shape[1])
        if el.single:
            el = None
    n_types = el.n_types if el is not None else 1
    types = el.types.to(device) if el is not None else None
    hist = pair_histogram(
        pos, mask, BIN_WIDTH, space.n_bins, exact_below, space.r_cut,
        types=types, n_types=n_types,
    )  # fmt: skip
    if types is None:
        hist = hist.unsqueeze(1)  # (B, 1, n_bins)
    close = []
    for i, xyz in enumerate(positions):
        xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        if len(xyz) < 2:
            continue
        # a cheap screen first: most clusters have no pair closer than CLOSE_DISTANCE
        from scipy.spatial import cKDTree

        pairs = cKDTree(xyz).query_pairs(exact_below, output_type="ndarray")
        if len(pairs) == 0:
            continue
        d = np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)
        keep = d > 0
        pairs, d = pairs[keep], d[keep]
        kind = np.zeros(len(d), dtype=np.int64)
        if types is not None and len(d):
            ti = types[i].cpu()
            kind = pair_type_index(
                ti[torch.as_tensor(pairs[:, 0])], ti[torch.as_tensor(pairs[:, 1])], n_types
            ).numpy()
        if len(d):
            close.append((i, d, kind))
    close_d = torch.as_tensor(
        np.concatenate([c[1] for c in close]) if close else np.zeros(0), dtype=torch.float64
    ).to(device)
    owner = [np.full(len(c[1]), c[0], dtype=np.int64) for c in close]
    close_owner = torch.as_tensor(
        np.concatenate(owner) if close else np.zeros(0, dtype=np.int64)
    ).to(device)
    close_type = torch.as_tensor(
        np.concatenate([c[2] for c in close]) if close else np.zeros(0, dtype=np.int64)
    ).to(device)
    close_w = torch.ones(close_d.shape, dtype=torch.float64, device=device)
    close = ClosePairs(close_d, close_owner, close_type, close_w)
    return PairHistograms(hist, close, n_atoms.double(), el)


def build_tables(
    space: TableSpace,
    pairs: PairHistograms,
    n_moments: int,
    r_low: torch.Tensor,
    r_high: torch.Tensor,
) -> CandidateTables:
    """Tables of a chunk; pairs outside [r_low, r_high] (per candidate, Å, in the
    candidates' own coordinates) are left out, as diffpy's bond generator does."""
    radii = space.radii32[None, None, :]
    keep = (radii <= r_high.float()[:, None, None]) & (radii >= r_low.float()[:, None, None])
    hist = pairs.hist * keep
    b, n_kinds = hist.shape[0], hist.shape[1]
    probe = hist[:, :, : space.n_near].sum(1)
    parts = [
        torch.einsum("btk,kn->btn", hist[:, :, : k.shape[0]], k)
        if n_kinds > 1
        else (hist[:, 0, : k.shape[0]] @ k).unsqueeze(1)
        for k in space.kernels[:n_moments]
    ]
    tables = torch.stack(parts, 2).reshape(b, n_kinds * n_moments, space.n_t)
    return CandidateTables(
        tables, pairs.close.from_r(r_low), pairs.n_atoms, pairs.elements,
        probe, n_kinds, n_moments,
    )  # fmt: skip


def pair_weights(cand: CandidateTables, q: np.ndarray, table: str, device) -> torch.Tensor:
    """``2 f_a f_b / (N ⟨f⟩²)`` per candidate, element pair and Q: (B, T, nQ) (or (B, 1, 1)
    with one element, where it is 2/N)."""
    if cand.elements is None:
        return (2.0 / cand.n_atoms.clamp(min=1))[:, None, None]
    pair, norm = cand.elements.pair_factors(q, table)
    w = 2 * pair[None, :, :] / norm[:, None, :]
    return w.to(device)


def interpolate(space: TableSpace, tables: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Tables and their t-derivatives at ``t`` (B, nQ): (B, C, 2, nQ) in float64."""
    x = (t - space.t0) / space.dt
    j0 = torch.floor(x).long()
    offsets = torch.arange(-_TAPS + 1, _TAPS + 1, device=space.device)
    idx = (j0[..., None] + offsets).clamp(0, space.n_t - 1)  # (B, nQ, 2T)
    # weights from the tabulated kernel, linear in the fractional position
    pos = (x - j0) * _KERNEL_STEPS
    k0 = torch.floor(pos).long().clamp(0, _KERNEL_STEPS - 1)
    blend = (pos - k0).to(torch.float32)[..., None, None]
    w = torch.lerp(space.kernel_table[k0], space.kernel_table[k0 + 1], blend)  # (B, nQ, 2, 2T)
    b, c, nq = tables.shape[0], tables.shape[1], t.shape[1]
    gathered = torch.gather(tables, 2, idx.reshape(b, 1, -1).expand(b, c, -1))
    gathered = gathered.view(b, c, nq, 2 * _TAPS)
    out = torch.einsum("bcqk,bqdk->bcdq", gathered, w)  # (B, C, 2, nQ)
    out[:, :, 1] /= space.dt
    return out.to(torch.float64)


def structure_functions(
    space: TableSpace,
    cand: CandidateTables,
    weights: torch.Tensor,
    q: torch.Tensor,
    alpha: torch.Tensor,
    uiso: torch.Tensor,
    delta2: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """F(Q) and dF/dα, dF/dU, dF/dδ2 for every candidate, each (B, nQ).

    ``weights`` from :func:`pair_weights`; ``q`` the Q grid (nQ,); α, U (Å²), δ2 (Å²)
    per candidate (B,).
    """
    b = alpha.shape[0]
    psi = interpolate(space, cand.tables, alpha[:, None] * q[None, :])  # (B, T·M, 2, nQ)
    n_m = cand.n_moments
    psi = psi.view(b, cand.n_pair_types, n_m, 2, -1)
    psi = (psi * weights[:, :, None, None, :]).sum(1)  # (B, M, 2, nQ)
    q = q[None, :]
    q2 = q**2
    base = torch.exp(-uiso[:, None] * q2)  # (B, nQ)
    orders = torch.arange(n_m, device=alpha.device, dtype=torch.float64)
    # c_m = (U·δ2·Q²)^m / m!  and  α^-(2m+1), for all m at once
    x = (uiso * delta2)[:, None, None] * q2[:, None, :]  # (B, 1, nQ)
    inv_fact = torch.exp(-torch.lgamma(orders + 1))[None, :, None]
    coef = x ** orders[None, :, None] * inv_fact  # (B, M, nQ)
    a_pow = alpha[:, None] ** -(2 * orders + 1)  # (B, M)
    weighted = coef * a_pow[:, :, None]  # (B, M, nQ)
    s_m, c_m = psi[:, :, 0], psi[:, :, 1]
    f = (weighted * s_m).sum(1)
    d_alpha = (
        weighted
        * (-(2 * orders + 1)[None, :, None] / alpha[:, None, None] * s_m + q[:, None, :] * c_m)
    ).sum(1)
    # d/dU and d/dδ2 of c_m: m·c_m/U and m·c_m/δ2 (written without dividing by zero)
    lower = torch.zeros_like(coef)
    if n_m > 1:
        lower[:, 1:] = coef[:, :-1] * q2[:, None, :]  # c_{m-1}·Q² = m·c_m / (U·δ2)
    lower = (lower * a_pow[:, :, None] * s_m).sum(1)
    f = base * f
    out = {
        "f": f,
        "alpha": base * d_alpha,
        "uiso": base * (delta2[:, None] * lower) - q2 * f,
        "delta2": base * (uiso[:, None] * lower),
    }
    if cand.close.d.shape[0]:
        _add_close_pairs(out, cand, weights, q[0], alpha, uiso, delta2)
    return out


def _add_close_pairs(out, cand: CandidateTables, weights, q, alpha, uiso, delta2) -> None:
    """Exact pair terms of the close pairs, with diffpy's zero width where 1 − δ2/d² < 0.

    The pairs are one flat list (K,): each term is (K, nQ) and is added to its own
    candidate's row, so the cost follows the number of close pairs, not B times the
    longest list."""
    close = cand.close
    own = close.owner
    w = weights.expand(-1, -1, q.shape[0]) if weights.shape[-1] == 1 else weights
    w_pair = w[own, close.kind] * close.w[:, None]  # (K, nQ)
    d = close.d[:, None]
    s = alpha[own, None] * d  # (K, 1)
    qs = q[None, :] * s
    sine, cosine = torch.sin(qs), torch.cos(qs)
    g = sine / s
    dl2 = delta2[own, None]
    ratio = 1 - dl2 / s**2
    positive = ratio > 0
    corr = torch.where(positive, ratio, torch.zeros_like(ratio))
    q2 = q[None, :] ** 2
    u = uiso[own, None]
    damp = torch.exp(-u * q2 * corr)
    term = w_pair * g * damp
    dg_ds = (q[None, :] * cosine - g) / s
    dcorr_ds = torch.where(positive, 2 * dl2 / s**3, torch.zeros_like(s))
    d_alpha = w_pair * damp * (dg_ds - g * u * q2 * dcorr_ds) * d
    dd2 = torch.where(positive, u * q2 / s**2, torch.zeros_like(s))
    for key, value in (
        ("f", term),
        ("alpha", d_alpha),
        ("uiso", -(term * q2 * corr)),
        ("delta2", term * dd2),
    ):
        out[key] = out[key].index_add(0, own, value)
