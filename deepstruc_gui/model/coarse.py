"""A coarse Rw for thousands of decoded clusters at once: the landscape's engine.

The full fit (:func:`deepstruc_gui.science.fitting.fit_candidates`) refines scale,
expansion and ADP of each candidate by Levenberg–Marquardt (~4 ms a candidate on one
core). A picture of the whole latent map needs ~5,000 candidates in a few seconds, so
the coarse pass fits fewer parameters:

* scale: exact least squares (closed form);
* expansion α: scanned over a grid of ``n_alpha`` values (default ±4 % in 1 % steps
  around the data's bond length), best grid value kept;
* Biso, delta2, Qdamp: held at the fit configuration's values.

What makes it cheap is where the work goes. A decoded cluster does not depend on the
data, so its pair histogram (in bond units) is built once per model
(:class:`PairHistogramCache`). The data side is one kernel per expansion value —
``sin(Q·s·x)/(s·x)·exp(−U·Q²·(1 − δ2/(s·x)²))`` on the histogram's grid ``x`` with
``s = α·bond`` (the Debye equation with diffpy's correlated-motion width, as the
engine uses) — so all candidates and all α values are one float32 matrix product
``(B, n_bins) @ (n_bins, n_alpha·nQ)``. Rw then comes from F(Q) through the same Gram
matrix shortcut as the full fit: ``Rw² = 1 − (F·p)² / ((F·Γ·F)·Σg²)`` with
``Γ = E·Eᵀ``, ``p = E·g``, ``E`` the sine transform times the Qdamp envelope.

A coarse Rw is never below what the full fit of the same cluster reaches by more than
the histogram's discretisation (~1e-3), and is usually a little above it (Biso is not
refined); the landscape refines its lowest points with the full fit.
"""

from __future__ import annotations

import hashlib
import math
import weakref
from typing import ClassVar

import numpy as np
import torch

from deepstruc_gui.science.debye import lagrange_weights, sine_transform_matrix
from deepstruc_gui.science.parameters import FitConfig

#: histogram bin width in bond units (≈ 0.014 Å at a 2.8 Å bond); cubic Lagrange
#: spreading keeps sin(Qd) to ~1e-3 at Q = 25 Å⁻¹
UNIT_BIN = 0.005
#: expansion values of the coarse scan: 1 ± 4 % in 1 % steps
DEFAULT_ALPHAS = tuple(np.round(np.linspace(0.96, 1.04, 9), 4))
#: pairs per block of the histogram loop (bounds the temporaries to ~50 MB)
_PAIR_BLOCK = 2_000_000
#: Biso values (Å²) of the coarse scan at the best expansion
BISO_SCAN = (0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.7)
#: terms of the delta2 moment expansion, and the range (Å) of those beyond the second
N_MOMENTS = 5
_NEAR = 8.0
#: sub-bins per histogram bin in which distances are counted before spreading
_SUBBINS = 8


def grouped_pair_histograms(
    clusters: list[np.ndarray], bin_width: float, n_bins: int, r_high: float
) -> torch.Tensor:
    """Lagrange-spread pair histograms (B, n_bins) of many clusters, float32.

    The histogram of :func:`deepstruc_gui.science.debye.pair_histogram` (4-point
    Lagrange weights on ``k·bin_width``, pairs i<j, none beyond ``r_high``), built
    faster for thousands of clusters: all clusters of one atom count at once, and each
    distance first counted into one of ``_SUBBINS`` sub-bins (no weights), whose
    counts are then spread with the Lagrange weights of the sub-bin's centre. The
    distance moves by at most ``bin_width / (2·_SUBBINS)`` (0.0009 Å at a 2.8 Å bond).
    """
    fine = _SUBBINS
    out = torch.zeros(len(clusters), n_bins, dtype=torch.float32)
    sizes = np.array([len(c) for c in clusters])
    centres = (torch.arange(fine, dtype=torch.float32) + 0.5) / fine
    weights = lagrange_weights(centres)  # (fine, 4): weight o goes to node j + o − 1
    for n in np.unique(sizes):
        if n < 2:
            continue
        members = np.flatnonzero(sizes == n)
        upper = torch.ones(int(n), int(n), dtype=torch.bool).triu(1).view(-1)
        pairs = torch.nonzero(upper)[:, 0]  # flat indices of the pairs i<j
        per_block = max(1, _PAIR_BLOCK // int(n * n))
        for start in range(0, len(members), per_block):
            idx = members[start : start + per_block]
            g = len(idx)
            pos = torch.as_tensor(np.stack([clusters[i] for i in idx]), dtype=torch.float32)
            # exact differences (not the |x|²+|y|²−2x·y shortcut), then the pairs i<j
            d = torch.cdist(pos, pos, compute_mode="donot_use_mm_for_euclid_dist")
            d = d.view(g, -1)[:, pairs]  # (G, P)
            width = n_bins * fine + 1  # last column: pairs left out
            k = (d * (fine / bin_width)).long().clamp_(max=width - 1)
            k[d > r_high] = width - 1
            k += torch.arange(g).view(-1, 1) * width
            c = torch.bincount(k.view(-1), minlength=g * width).view(g, width)[:, :-1]
            spread = c.to(torch.float32).view(g, n_bins, fine) @ weights  # (G, n, 4)
            h = torch.zeros(g, n_bins + 3)
            for o in range(4):
                h[:, o : o + n_bins] += spread[:, :, o]
            h[:, 1] += h[:, 0]  # node −1 (only overlapping atoms reach it) into bin 0
            out[torch.as_tensor(idx)] = h[:, 1 : n_bins + 1]
    return out


class PairHistogramCache:
    """Pair histograms of decoded clusters, per model, in bond units.

    ``histograms(z)`` returns ``(hist (B, n_bins) float32 tensor, n_atoms (B,))`` for
    latent points ``z`` (B, 2), building only those not seen before. ``x_max`` (bond
    units) is the longest distance kept; :meth:`for_predictor` rebuilds a cache that
    is too short for the data.
    """

    _by_predictor: ClassVar[weakref.WeakKeyDictionary] = weakref.WeakKeyDictionary()

    def __init__(self, predictor, x_max: float) -> None:
        self.predictor = predictor
        self.x_max = float(x_max)
        self.n_bins = math.ceil(self.x_max / UNIT_BIN) + 3
        self._rows: dict[bytes, tuple[torch.Tensor, int]] = {}

    @classmethod
    def for_predictor(cls, predictor, x_max: float) -> PairHistogramCache:
        """The cache of this predictor, rebuilt when it reaches less than ``x_max`` (bond
        units; rounded up to an even number so similar data share one)."""
        cache = cls._by_predictor.get(predictor)
        if cache is None or cache.x_max < x_max:
            # round up so data sets of similar range share one cache
            cache = cls(predictor, 2.0 * math.ceil(x_max / 2.0))
            cls._by_predictor[predictor] = cache
        return cache

    def histograms(self, z: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """Pair histograms of the decoded clusters at latent points ``z`` (B, 2): a float32
        tensor (B, n_bins) in bond units and the atom counts (B,); new points are decoded."""
        z32 = np.ascontiguousarray(np.asarray(z, dtype=np.float32).reshape(-1, 2))
        keys = [row.tobytes() for row in z32]
        todo = [k for k in dict.fromkeys(keys) if k not in self._rows]
        if todo:
            rows = np.frombuffer(b"".join(todo), dtype=np.float32).reshape(-1, 2).copy()
            clusters = self.predictor.decode_unit(rows)
            hist = grouped_pair_histograms(clusters, UNIT_BIN, self.n_bins, self.x_max)
            for k, h, c in zip(todo, hist, clusters, strict=True):
                self._rows[k] = (h, len(c))
        if not keys:
            return torch.zeros(0, self.n_bins), np.zeros(0, dtype=int)
        hist = torch.stack([self._rows[k][0] for k in keys])
        return hist, np.array([self._rows[k][1] for k in keys])


class CoarseScorer:
    """The data side of the coarse pass for one data set, bond length and fit config.

    ``score(hist, n_atoms)`` → ``(rw, alpha, biso)``, each (B,): the lowest Rw found,
    the expansion α (relative to ``bond``: distances in Å are ``α·bond·x``) and the
    Biso (Å²) it was reached at. Two steps: α is scanned at the configuration's Biso;
    at the best α, Biso is scanned over ``BISO_SCAN`` through the moment expansion of
    the delta2 width (as the full fit does: ``exp(U·δ2·Q²/d²) = Σ (U·δ2·Q²)^m/m!·d^-2m``,
    ``N_MOMENTS`` terms, terms beyond the second only for pairs within 8 Å).
    """

    _recent: ClassVar[dict] = {}

    def __init__(
        self,
        r: np.ndarray,
        g: np.ndarray,
        config: FitConfig,
        bond: float,
        n_bins: int,
        alphas=DEFAULT_ALPHAS,
        device: torch.device | str = "cpu",
    ) -> None:
        inside = (r >= config.rmin) & (r <= config.rmax) & np.isfinite(g)
        if inside.sum() < 10:
            raise ValueError(
                f"fewer than 10 data points in the fit range {config.rmin}–{config.rmax} Å"
            )
        r, g = np.asarray(r, float)[inside], np.asarray(g, float)[inside]
        base = config.params
        p = base.replace(rmin=min(base.rmin, config.rmin), rmax=max(base.rmax, config.rmax))
        self.params = p
        self.device = torch.device(device)
        self.alphas = np.asarray(alphas, dtype=float)
        self.bond = float(bond)
        self.q = p.q_grid
        self.n_q = self.q.size
        self.x = np.arange(n_bins) * UNIT_BIN
        env = np.exp(-0.5 * (p.qdamp * r) ** 2)
        e = sine_transform_matrix(p, r) * env[None, :]  # (nQ, nr)
        dd = dict(dtype=torch.float64, device=self.device)
        self.gram = torch.as_tensor(e @ e.T, **dd)
        self.proj = torch.as_tensor(e @ g, **dd)
        self.gg = float(g @ g)
        # sin(Q·d)/d per α, shared by the α scan and the Biso scan's moment kernels
        self._base = [self._sine_kernel(a) for a in self.alphas]
        kernels = [
            self._with_width(k, a, p.uiso) for k, a in zip(self._base, self.alphas, strict=True)
        ]
        self.kernel = self._tensor(np.concatenate(kernels, 1))
        lo, hi = config.biso_bounds
        self.biso_scan = np.unique(np.clip([p.biso, *BISO_SCAN], lo, hi))
        self.n_near = min(n_bins, math.ceil(_NEAR / (self.bond * self.alphas.min() * UNIT_BIN)))
        self._moments: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32).to(self.device)

    def _distances(self, alpha: float) -> np.ndarray:
        d = self.x * alpha * self.bond
        d[0] = 1.0  # bin 0 holds only overlapping atoms; left out by _cut
        return d

    def _cut(self, k: np.ndarray, d: np.ndarray) -> np.ndarray:
        k[(d > self.params.rcalc_high)] = 0.0  # as diffpy: no pairs past rcalchi
        k[0] = 0.0
        return k

    def _sine_kernel(self, alpha: float) -> np.ndarray:
        """``sin(Q·d)/d`` (n_bins, nQ) at expansion ``alpha``, pairs past rcalchi cut
        (float64; torch's sine is ~4× numpy's here)."""
        d = self._distances(alpha)
        arg = torch.as_tensor(np.outer(d, self.q))
        return self._cut((torch.sin(arg) / torch.as_tensor(d)[:, None]).numpy(), d)

    def _with_width(self, base: np.ndarray, alpha: float, uiso: float) -> np.ndarray:
        """The Debye kernel: ``base`` damped by diffpy's correlated-motion width."""
        d = self._distances(alpha)
        width = np.clip(1.0 - self.params.delta2 / d**2, 0, None)
        return base * np.exp(-uiso * width[:, None] * self.q[None, :] ** 2)

    def _moment_kernels(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(full-range kernels m = 0, 1; near kernels m = 2 …) at the k-th α."""
        if k not in self._moments:
            d = self._distances(self.alphas[k])
            base = self._base[k]
            full = [base, base / d[:, None] ** 2]
            n = self.n_near
            near = [base[:n] / d[:n, None] ** (2 * m) for m in range(2, N_MOMENTS)]
            self._moments[k] = (
                self._tensor(np.concatenate(full, 1)),
                self._tensor(np.concatenate(near, 1)),
            )
        return self._moments[k]

    @classmethod
    def for_data(cls, r, g, config: FitConfig, bond: float, n_bins: int) -> CoarseScorer:
        """A scorer for these data, reused while the same data and settings come back
        (the landscape and then the search's region use the same one)."""
        key = (
            hashlib.sha1(np.ascontiguousarray(r, dtype=float).tobytes()).hexdigest(),
            hashlib.sha1(np.ascontiguousarray(g, dtype=float).tobytes()).hexdigest(),
            config,
            round(float(bond), 9),
            n_bins,
        )
        scorer = cls._recent.get(key)
        if scorer is None:
            if len(cls._recent) >= 2:
                cls._recent.pop(next(iter(cls._recent)))
            scorer = cls._recent[key] = cls(r, g, config, bond, n_bins)
        return scorer

    def _rw2(self, f: torch.Tensor) -> torch.Tensor:
        """Rw² with the best scale ≥ 0 for F(Q) (..., nQ), float64."""
        c = f @ self.proj
        a = ((f @ self.gram) * f).sum(-1).clamp(min=1e-300)
        return torch.where(c > 0, 1.0 - c**2 / (a * self.gg), torch.ones_like(c)).clamp(0, 1)

    @torch.inference_mode()
    def score(
        self, hist: torch.Tensor, n_atoms: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coarse Rw of B clusters from their pair histograms (B, n_bins) and atom counts
        (B,): ``(rw, alpha, biso)`` each (B,), α relative to ``bond``, Biso in Å² (see class)."""
        b = hist.shape[0]
        if b == 0:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        hist = hist.to(self.device)
        norm = (2.0 / torch.as_tensor(np.maximum(n_atoms, 1), dtype=torch.float64)).to(self.device)
        f = (hist @ self.kernel).view(b, len(self.alphas), self.n_q)
        rw2 = self._rw2(f.to(torch.float64) * norm[:, None, None])  # (B, A)
        best_k = rw2.argmin(1).cpu().numpy()
        best = rw2.min(1).values
        biso = np.full(b, self.params.biso)
        q2 = torch.as_tensor(self.q**2, dtype=torch.float64, device=self.device)
        u_scan = torch.as_tensor(self.biso_scan / (8 * math.pi**2), dtype=torch.float64)
        fact = torch.exp(-torch.lgamma(torch.arange(N_MOMENTS, dtype=torch.float64) + 1))
        for k in np.unique(best_k):
            rows = torch.as_tensor(np.flatnonzero(best_k == k), device=self.device)
            full, near = self._moment_kernels(int(k))
            h = hist[rows]
            psi = torch.cat([h @ full, h[:, : self.n_near] @ near], 1)
            psi = (
                psi.view(len(rows), N_MOMENTS, self.n_q).to(torch.float64) * norm[rows, None, None]
            )
            # F(U) = exp(−U·Q²)·Σ_m (U·δ2·Q²)^m / m! · Ψ_m  for every U of the scan
            x = u_scan.to(self.device)[:, None] * self.params.delta2 * q2[None, :]  # (U, nQ)
            coef = x[:, None, :] ** torch.arange(N_MOMENTS, device=self.device)[None, :, None]
            coef = coef * fact.to(self.device)[None, :, None]
            damp = torch.exp(-u_scan.to(self.device)[:, None] * q2[None, :])  # (U, nQ)
            f_u = torch.einsum("bmq,umq->buq", psi, coef) * damp[None]  # (G, U, nQ)
            r2 = self._rw2(f_u)  # (G, U)
            r2_min, u_best = r2.min(1)
            better = r2_min < best[rows]
            best[rows] = torch.where(better, r2_min, best[rows])
            picked = self.biso_scan[u_best.cpu().numpy()]
            biso[rows.cpu().numpy()] = np.where(
                better.cpu().numpy(), picked, biso[rows.cpu().numpy()]
            )
        return best.sqrt().cpu().numpy(), self.alphas[best_k], biso
