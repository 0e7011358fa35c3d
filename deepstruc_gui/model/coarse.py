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
``Γ = E·Eᵀ``, ``p = E·g``, ``E`` the sine transform times the Qdamp envelope,
evaluated as ``|F·R|²`` and ``(F·R)·p̃`` with ``Γ = R·Rᵀ`` from its eigenvectors (one
float32 product, no float64 copy of F). The products skip the histogram bins past each
cluster's longest pair (rows are grouped by that reach) and past rcalchi.

A coarse Rw is never below what the full fit of the same cluster reaches by more than
the histogram's discretisation (~1e-3), and is usually a little above it (Biso is not
refined); the landscape refines its lowest points with the full fit.
"""

from __future__ import annotations

import hashlib
import itertools
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
    extent = np.array([float(np.abs(c).max()) if len(c) else 0.0 for c in clusters])
    for n in np.unique(sizes):
        if n < 2:
            continue
        members = np.flatnonzero(sizes == n)
        # blocks of similar extent, so a compact cluster's block stops early (below)
        members = members[np.argsort(extent[members], kind="stable")]
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
            # sub-bins up to the block's longest kept pair (compact clusters stop early)
            top = min(float(d.max()), r_high) * (fine / bin_width)
            nb = min(n_bins, int(top) // fine + 1)
            width = nb * fine + 1  # last column: pairs left out
            k = (d * (fine / bin_width)).to(torch.int32)
            k.masked_fill_(d > r_high, width - 1).clamp_(max=width - 1)
            k += torch.arange(0, g * width, width, dtype=torch.int32).view(-1, 1)
            c = torch.bincount(k.view(-1), minlength=g * width).view(g, width)[:, :-1]
            spread = c.to(torch.float32).view(g, nb, fine) @ weights  # (G, nb, 4)
            h = torch.zeros(g, nb + 3)
            for o in range(4):
                h[:, o : o + nb] += spread[:, :, o]
            h[:, 1] += h[:, 0]  # node −1 (only overlapping atoms reach it) into bin 0
            m = min(nb + 2, n_bins)  # nodes 0 … nb + 1
            out[torch.as_tensor(idx), :m] = h[:, 1 : m + 1]
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
        # bins past rcalchi at the smallest α hold pairs no kernel counts: not kept
        n_live = min(n_bins, int(p.rcalc_high / (self.alphas.min() * self.bond * UNIT_BIN)) + 1)
        self.x = np.arange(n_live) * UNIT_BIN
        env = np.exp(-0.5 * (p.qdamp * r) ** 2)
        e = sine_transform_matrix(p, r) * env[None, :]  # (nQ, nr)
        dd = dict(dtype=torch.float64, device=self.device)
        gram = e @ e.T
        self.gram = torch.as_tensor(gram, **dd)
        self.proj = torch.as_tensor(e @ g, **dd)
        self.gg = float(g @ g)
        # Γ = V·Λ·Vᵀ: F·Γ·F = |F·R|² and F·p = (F·R)·p̃ with R = V·√Λ, p̃ = Λ^-½·Vᵀ·p
        # (p = E·g lies in Γ's range), so Rw needs one (nQ × k) product in float32
        lam, vec = np.linalg.eigh(gram)
        keep = lam > lam.max() * 1e-12
        self._root = self._tensor(vec[:, keep] * np.sqrt(lam[keep]))
        self._proj_w = torch.as_tensor((vec[:, keep].T @ (e @ g)) / np.sqrt(lam[keep]), **dd)
        # sin(Q·d)/d per α (A, n, nQ) float64, shared by the α scan and the Biso
        # scan's moment kernels; torch's sine and exp are several times numpy's here
        d = self._distances()
        q = torch.as_tensor(self.q)
        base = torch.sin(d[:, :, None] * q) / d[:, :, None]
        base[(d > p.rcalc_high) | (torch.arange(n_live) == 0)] = 0.0  # as diffpy: rcalchi
        self._base = base
        width = (1.0 - p.delta2 / d**2).clamp(min=0.0)
        kernels = base * torch.exp(-p.uiso * width[:, :, None] * q**2)
        #: (n, A·nQ) float32: the Debye kernel of every α side by side; its rows are the
        #: histogram bins up to rcalchi at the smallest α (later bins count nowhere)
        self.kernel = kernels.permute(1, 0, 2).reshape(n_live, -1).to(torch.float32)
        self.kernel = self.kernel.to(self.device)
        #: rows past this are zero in every kernel (pairs beyond rcalchi at every α)
        self.n_reach = n_live
        lo, hi = config.biso_bounds
        self.biso_scan = np.unique(np.clip([p.biso, *BISO_SCAN], lo, hi))
        self.n_near = min(n_live, math.ceil(_NEAR / (self.bond * self.alphas.min() * UNIT_BIN)))
        self._moments: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._coef: torch.Tensor | None = None

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32).to(self.device)

    def _distances(self) -> torch.Tensor:
        """Pair distances (A, n) in Å of the histogram bins at every α, float64."""
        d = torch.as_tensor(self.alphas)[:, None] * self.bond * torch.as_tensor(self.x)[None, :]
        d[:, 0] = 1.0  # bin 0 holds only overlapping atoms; its kernel rows are zero
        return d

    def _moment_kernels(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(full-range kernels m = 0, 1; near kernels m = 2 …) at the k-th α."""
        if k not in self._moments:
            d = self._distances()[k][:, None]
            base = self._base[k]
            n = self.n_near
            near = [base[:n] / d[:n] ** (2 * m) for m in range(2, N_MOMENTS)]
            self._moments[k] = (
                torch.cat([base, base / d**2], 1).to(torch.float32).to(self.device),
                torch.cat(near, 1).to(torch.float32).to(self.device),
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
        """Rw² with the best scale ≥ 0 for F(Q) (..., nQ) (any float dtype; the product
        with Γ's square root runs in float32, the sums in float64)."""
        fw = (f.to(torch.float32) @ self._root).to(torch.float64)
        c = fw @ self._proj_w
        a = (fw * fw).sum(-1).clamp(min=1e-300)
        return torch.where(c > 0, 1.0 - c**2 / (a * self.gg), torch.ones_like(c)).clamp(0, 1)

    @torch.inference_mode()
    def score(
        self, hist: torch.Tensor, n_atoms: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coarse Rw of B clusters from their pair histograms (B, n_bins) and atom counts
        (B,): ``(rw, alpha, biso)`` each (B,), α relative to ``bond``, Biso in Å² (see class).

        Rw does not depend on F's overall factor (the scale is exact), so the atom
        counts only size the output. Rows are multiplied in groups of similar reach
        (the last non-zero bin: a compact cluster's histogram ends long before the
        kernel's rows do), which skips products with bins that are zero.
        """
        b = hist.shape[0]
        if b == 0:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        n_a = len(self.alphas)
        # rows sorted by reach: every group below is a slice of columns [0, m)
        hist = hist.to(self.device)
        nz = hist[:, : self.n_reach].ne(0).flip(1).to(torch.uint8)
        reach = (nz.shape[1] - nz.argmax(1)) * nz.amax(1)  # 0 for an empty row
        order = torch.argsort(reach, stable=True)
        hs, reach = hist[order], reach[order]
        rw2 = torch.empty(b, n_a, dtype=torch.float64, device=self.device)
        for lo, hi, m in _groups(reach):
            f = hs[lo:hi, :m] @ self.kernel[:m]
            rw2[lo:hi] = self._rw2(f.view(hi - lo, n_a, self.n_q))
        best, best_k = rw2.min(1)
        biso_k = torch.zeros(b, dtype=torch.long, device=self.device)
        coef = self._biso_coefficients()  # (U, M, nQ)
        for k in torch.unique(best_k).tolist():
            full, near = self._moment_kernels(int(k))
            rows = torch.nonzero(best_k == k)[:, 0]
            hk, rk = hs[rows], reach[rows]
            for lo, hi, m in _groups(rk):
                h = hk[lo:hi, :m]
                near_part = h[:, : self.n_near] @ near[: min(m, self.n_near)]
                psi = torch.cat([h @ full[:m], near_part], 1)
                psi = psi.view(hi - lo, 1, N_MOMENTS, self.n_q)
                f_u = psi[:, :, 0] * coef[None, :, 0]  # (G, U, nQ)
                for m in range(1, N_MOMENTS):
                    f_u.addcmul_(psi[:, :, m], coef[None, :, m])
                r2_min, u_best = self._rw2(f_u).min(1)  # (G,)
                at = rows[lo:hi]
                better = r2_min < best[at]
                best[at] = torch.where(better, r2_min, best[at])
                biso_k[at] = torch.where(better, u_best + 1, 0)
        # back to the input order
        rw = torch.empty_like(best)
        rw[order] = best.sqrt()
        out_k = torch.empty_like(best_k)
        out_k[order] = best_k
        out_u = torch.empty_like(biso_k)
        out_u[order] = biso_k
        u = out_u.cpu().numpy()
        biso = np.where(u > 0, self.biso_scan[np.maximum(u - 1, 0)], self.params.biso)
        return rw.cpu().numpy(), self.alphas[out_k.cpu().numpy()], biso

    def _biso_coefficients(self) -> torch.Tensor:
        """(U, M, nQ) float32: ``exp(−U·Q²)·(U·δ2·Q²)^m/m!`` for the Biso scan's U."""
        if self._coef is None:
            q2 = self.q**2
            u = self.biso_scan[:, None] / (8 * math.pi**2)  # (U, 1)
            x = u * self.params.delta2 * q2[None, :]  # (U, nQ)
            m = np.arange(N_MOMENTS)
            fact = np.array([math.factorial(int(k)) for k in m], dtype=float)
            coef = x[:, None, :] ** m[None, :, None] / fact[None, :, None]
            self._coef = self._tensor(coef * np.exp(-u * q2[None, :])[:, None, :])
        return self._coef


def _groups(reach: torch.Tensor, min_rows: int = 128, max_groups: int = 6):
    """Slices ``(lo, hi, m)`` of rows sorted by ``reach`` (ascending), each with every
    row's histogram zero from column ``m`` on."""
    n = len(reach)
    n_groups = max(1, min(max_groups, n // min_rows))
    bounds = np.linspace(0, n, n_groups + 1).round().astype(int)
    out = []
    for lo, hi in itertools.pairwise(bounds):
        if hi > lo:
            out.append((int(lo), int(hi), max(1, int(reach[hi - 1]))))
    return out
