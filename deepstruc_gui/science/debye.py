"""Batched Debye PDF engine in torch that reproduces diffpy's DebyePDFCalculator.

diffpy (libdiffpy ``DebyePDFCalculator``, diffpy.srreal 1.4.0) computes the total
scattering structure function on a Q grid with the Debye equation, then sine-transforms
it with a zero-padded FFT and interpolates linearly onto the r grid. We follow the same
recipe, step by step (read from libdiffpy's sources), and agree with diffpy.srreal to
Rw ≤ 1.1e-5 on every reference shipped with the project (one and two elements):

* the r range is extended by ``6·2π/Qmax`` (termination ripples) plus the Gaussian
  tail of the widest peak (``2.13·FWHM`` of σ = √(2·Uiso)), at most 10 Å; the upper
  end ``rcalchi`` is rounded up to the r step (``DebyePDFCalculator::cacheRlimitsData``);
  it therefore depends on Biso, and so does the Q grid;
* the Q grid is ``k·qstep`` with ``qstep = π / rcalchi``, from ``ceil(qmin/qstep)``
  (one less when Qmin sits on the grid) to ``ceil(qmax/qstep)`` (exclusive);
* pairs closer than ``rcalclo`` or farther than ``rcalchi`` are left out, as diffpy's
  bond generator does, and pairs at exactly 0 Å (duplicated atoms) are skipped;
* each pair is damped by ``exp(-σ²Q²/2)`` with the Jeong peak width
  ``σ² = (Ui + Uj)(1 - δ1/r - δ2/r² + (Qbroad·r)²)``; where that correction is
  negative (atoms closer than √δ2) the width is zero, as in ``JeongPeakWidth``;
* each pair is weighted by ``f_i(Q)·f_j(Q)`` and F(Q) normalised by ``N·⟨f(Q)⟩²``
  (``BaseDebyeSum::getF``), with diffpy's scattering tables: ``xray`` (its default:
  Waasmaier–Kirfel form factors), ``electronnumber`` (Z) or ``neutron`` (b_c);
* G(r) is the discrete sine sum ``(2/π)·qstep·Σ F(Q) sin(Qr)`` on the padded FFT
  grid, linearly interpolated to r, times the envelopes ``exp(-(Qdamp·r)²/2)`` and,
  when ``spdiameter`` > 0, ``sphericalshape``.

Speed comes from one trick: pair distances are spread onto a fine radial grid (one
histogram per element pair) with 4-point Lagrange weights (so a sum over the grid
reproduces ``sin(Qd)/d`` to ~1e-5), which turns the Debye sum for a whole batch into
one matrix product with a kernel shared by every structure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from deepstruc_gui.science.parameters import (  # noqa: F401  (re-exported)
    TRAINING_PARAMETERS,
    PDFParameters,
    parameters_from_metadata,
)


def sine_transform_matrix(params: PDFParameters, r: np.ndarray) -> np.ndarray:
    """Matrix ``S`` (nQ × nr) with ``G(r) = F(Q) @ S``, as diffpy's padded FFT does it.

    libdiffpy ``DebyePDFCalculator::getPDFAtQmin``: F is zero-padded to
    ``max(ceil(Qmax/qstep), ceil(π/(rstep·qstep)))`` points, then to the next power of
    two ``n``; the sine transform ``(2/π)·qstep·Σ F(Q) sin(Qr)`` is evaluated at
    ``r = k·π/(n·qstep)`` and interpolated linearly onto r (that interpolation matters
    at the 1e-3 level).
    """
    qstep = params.qstep
    q = torch.as_tensor(params.q_grid, dtype=torch.float64)
    nfromdr = math.ceil(math.pi / params.rstep / qstep)
    size = max(math.ceil(params.qmax / qstep), nfromdr)
    npad = 1 << math.ceil(math.log2(size))
    drpad = math.pi / (npad * qstep)
    x = np.asarray(r, dtype=np.float64) / drpad
    lo = np.floor(x)
    w = torch.as_tensor(x - lo)
    s_lo = torch.sin(torch.outer(q, torch.as_tensor(lo * drpad)))  # torch: vectorised sin
    s_hi = torch.sin(torch.outer(q, torch.as_tensor((lo + 1) * drpad)))
    s = (1 - w)[None, :] * s_lo + w[None, :] * s_hi
    return (s * (2 / math.pi * qstep)).numpy()


def lagrange_weights(theta: torch.Tensor) -> torch.Tensor:
    """Cubic Lagrange weights for nodes -1, 0, 1, 2 at fractional position ``theta``."""
    t = theta
    return torch.stack(
        (
            -t * (t - 1) * (t - 2) / 6,
            (t + 1) * (t - 1) * (t - 2) / 2,
            -(t + 1) * t * (t - 2) / 2,
            (t + 1) * t * (t - 1) / 6,
        ),
        dim=-1,
    )


def n_pair_types(n_types: int) -> int:
    """Number of unordered element pairs (a ≤ b) among ``n_types`` elements."""
    return n_types * (n_types + 1) // 2


def pair_type_index(a: torch.Tensor, b: torch.Tensor, n_types: int) -> torch.Tensor:
    """Index of the unordered pair (a, b) in the order (0,0), (0,1) … (0,K-1), (1,1) …"""
    lo, hi = torch.minimum(a, b), torch.maximum(a, b)
    return lo * n_types - lo * (lo - 1) // 2 + (hi - lo)


#: pairs spread per pass of :func:`pair_histogram`: bounds its temporaries to ~200 MB
#: whatever the cluster size (a 2,000-atom cluster has 2 M pairs)
MAX_PAIRS_PER_PASS = 2_000_000


def pair_histogram(
    positions: torch.Tensor,
    mask: torch.Tensor | None,
    bin_width: float,
    n_bins: int,
    r_low: float,
    r_high: float | torch.Tensor,
    weights: torch.Tensor | None = None,
    chunk: int = 8,
    types: torch.Tensor | None = None,
    n_types: int = 1,
) -> torch.Tensor:
    """Spread the distances of all pairs i<j onto ``k·bin_width`` with Lagrange weights.

    Returns (B, n_bins) histograms, or (B, T, n_bins) with ``types`` ((B, N) element
    index of every atom, ``T = n_types(n_types+1)/2`` unordered element pairs, see
    :func:`pair_type_index`). A grid sum ``Σ h_k f(r_k)`` equals ``Σ_pairs f(d)`` to
    fourth order in ``bin_width`` for any even ``f`` (``sin(Qr)/r`` times a width
    term): the node at −bin_width is folded onto +bin_width, so pairs closer than one
    bin (overlapping atoms) are spread correctly too. Pairs outside
    ``[r_low, r_high]`` are dropped, as diffpy's bond generator does; ``r_high`` may
    be a (B,) tensor, one cut-off per structure. Pairs at exactly 0 Å (duplicated
    atoms) are skipped, as diffpy skips them. Structures go a few at a time
    (``chunk``, at most :data:`MAX_PAIRS_PER_PASS` pairs per pass): small
    temporaries stay in cache, and memory stays bounded for large clusters.
    """
    batch, n_atoms, _ = positions.shape
    device, dtype = positions.device, positions.dtype
    if mask is None:
        mask = torch.ones(batch, n_atoms, dtype=torch.bool, device=device)
    n_kinds = n_pair_types(n_types) if types is not None else 1
    counts = mask.sum(dim=1).tolist()
    highs = r_high.tolist() if isinstance(r_high, torch.Tensor) else [r_high] * batch
    out = torch.zeros(batch, n_kinds * n_bins, dtype=dtype, device=device)
    offsets = torch.arange(-1, 3, device=device)
    start = 0
    while start < batch:
        stop, pairs = start, 0
        while stop < batch and stop - start < chunk:
            n_pairs = counts[stop] * (counts[stop] - 1) // 2
            if stop > start and pairs + n_pairs > MAX_PAIRS_PER_PASS:
                break
            pairs += n_pairs
            stop += 1
        fractions, indices, pair_weights, lowest = [], [], [], []
        for b in range(start, stop):
            n = counts[b]
            if n < 2:
                continue
            xyz = positions[b][mask[b]]
            dist = torch.pdist(xyz)  # pairs i<j in row-major order, exact differences
            d_min, d_max = (float(v) for v in torch.aminmax(dist))
            all_kept = not (d_max > highs[b] or d_min < max(r_low, 1e-300))
            if not all_kept:
                keep = (dist > 0) & (dist >= r_low) & (dist <= highs[b])
                dist = dist[keep]
            x = dist / bin_width
            j = torch.floor(x)
            fractions.append(x - j)
            index = j.long() + (b - start) * n_kinds * n_bins
            if weights is not None or types is not None:
                iu, ju = torch.triu_indices(n, n, offset=1, device=device)
                if not all_kept:
                    iu, ju = iu[keep], ju[keep]
                if weights is not None:
                    wb = weights[b][mask[b]]
                    pair_weights.append(wb[iu] * wb[ju])
                if types is not None:
                    tb = types[b][mask[b]].long()
                    index += pair_type_index(tb[iu], tb[ju], n_types) * n_bins
            indices.append(index)
            if r_low < bin_width:
                lowest.append(j == 0)
        if fractions:
            lw = lagrange_weights(torch.cat(fractions))  # (P, 4)
            if weights is not None:
                lw = lw * torch.cat(pair_weights).unsqueeze(-1)
            idx = torch.cat(indices).unsqueeze(-1) + offsets
            # node −1 of a pair in bin 0 (atoms < 1 bin apart) folds onto +1: the kernels
            # are even in r. The grid has 3 spare bins past the cut-off, so no real pair
            # reaches past its block.
            first = torch.cat(lowest) if lowest else None
            if first is not None and bool(first.any()):
                idx[first, 0] += 2
            size = (stop - start) * n_kinds * n_bins
            hist = torch.bincount(idx.view(-1), weights=lw.view(-1), minlength=size)
            out[start:stop] = hist.view(stop - start, -1).to(dtype)
        start = stop
    return out if types is None else out.view(batch, n_kinds, n_bins)


def default_device() -> torch.device:
    """The torch device the engine uses by default: CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def debye_kernel(radii: np.ndarray, params: PDFParameters) -> np.ndarray:
    """``sin(Q r)/r · exp(−σ²(r)·Q²/2)`` on ``radii`` × ``params.q_grid`` (diffpy's pair term).

    σ² = 2·Uiso·(1 − δ1/r − δ2/r² + (Qbroad·r)²), set to 0 where the correction is
    negative (libdiffpy ``JeongPeakWidth::calculate``: atoms closer than √δ2 get no
    Debye–Waller damping); at r = 0 the limit Q (undamped when δ1 or δ2 is set).
    """
    q = params.q_grid[None, :]
    r = np.asarray(radii, dtype=np.float64)[:, None]
    safe = np.where(r > 0, r, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = 1 - params.delta1 / safe - params.delta2 / safe**2 + (params.qbroad * safe) ** 2
    if params.delta1 != 0 or params.delta2 != 0:
        corr = np.where(r > 0, corr, 0.0)
    sigma2 = 2 * params.uiso * np.clip(corr, 0, None)
    sine = np.where(r > 0, np.sin(safe * q) / safe, q)
    return sine * np.exp(-0.5 * sigma2 * q**2)


def envelope(params: PDFParameters, r: np.ndarray) -> np.ndarray:
    """diffpy's r-space envelopes: ``qresolution`` exp(−(Qdamp·r)²/2) times, when
    ``spdiameter`` > 0, ``sphericalshape`` 1 − 1.5x + 0.5x³ (x = r/spdiameter, 0 past 1)."""
    r = np.asarray(r, dtype=np.float64)
    env = np.exp(-0.5 * (params.qdamp * r) ** 2)
    if params.spdiameter > 0:
        x = r / params.spdiameter
        env = env * np.where(x <= 1, 1 - 1.5 * x + 0.5 * x**3, 0.0)
    return env


class ElementTypes:
    """The elements of a batch as integer types: ``types`` (B, N), ``symbols`` (K,),
    ``counts`` (B, K). Built by :meth:`from_elements` from one element per atom."""

    def __init__(self, types: torch.Tensor, symbols: list[str], counts: torch.Tensor) -> None:
        self.types, self.symbols, self.counts = types, symbols, counts

    @property
    def n_types(self) -> int:
        """Number of element types K in the batch (length of ``symbols``)."""
        return len(self.symbols)

    @property
    def single(self) -> bool:
        """Every structure holds one element (its form factor then cancels out)."""
        return bool(((self.counts > 0).sum(dim=1) <= 1).all())

    @classmethod
    def from_elements(cls, elements: Sequence, n_atoms: Sequence[int], width: int) -> ElementTypes:
        """``elements[i]``: a symbol or atomic number for all atoms of structure i, or one
        per atom (length ``n_atoms[i]``)."""
        from deepstruc_gui.science.elements import element_symbol

        if len(elements) != len(n_atoms):
            raise ValueError(f"{len(elements)} element lists for {len(n_atoms)} structures")
        symbols: dict[str, int] = {}
        per_structure = []
        for i, (el, n) in enumerate(zip(elements, n_atoms, strict=True)):
            if isinstance(el, str | int | np.integer):
                el = [el] * n
            el = list(el)
            if len(el) != n:
                raise ValueError(f"structure {i}: {len(el)} elements for {n} atoms")
            cache: dict = {}
            ids = []
            for e in el:
                if e not in cache:
                    cache[e] = symbols.setdefault(element_symbol(e), len(symbols))
                ids.append(cache[e])
            per_structure.append(ids)
        types = torch.zeros(len(n_atoms), max(width, 1), dtype=torch.long)
        counts = torch.zeros(len(n_atoms), max(len(symbols), 1), dtype=torch.float64)
        for i, ids in enumerate(per_structure):
            if ids:
                t = torch.as_tensor(ids, dtype=torch.long)
                types[i, : len(ids)] = t
                counts[i] = torch.bincount(t, minlength=counts.shape[1]).double()
        return cls(types, list(symbols), counts)

    def pair_factors(self, q: np.ndarray, table: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``f_a(Q)·f_b(Q)`` per element pair (T, nQ) and ``N·⟨f(Q)⟩²`` per structure (B, nQ):
        diffpy's F(Q) is the pair sum over N⟨f⟩² (libdiffpy ``BaseDebyeSum::getF``)."""
        from deepstruc_gui.science.elements import scattering_factors

        f = torch.as_tensor(scattering_factors(self.symbols, q, table))  # (K, nQ)
        k = self.n_types
        a, b = torch.triu_indices(k, k)
        pair = f[a] * f[b]
        n = self.counts.sum(dim=1, keepdim=True).clamp(min=1)
        mean_f = (self.counts @ f) / n
        norm = n * mean_f**2
        return pair, torch.where(norm.abs() > 0, norm, torch.ones_like(norm))


class DebyeEngine:
    """Compute G(r) for batches of clusters with one set of :class:`PDFParameters`.

    Structures are padded to a common atom count; ``mask`` marks real atoms.
    ``elements`` (one entry per structure: a symbol or atomic number for the whole
    structure, or one per atom) weights every pair by ``f_a(Q)·f_b(Q)`` from
    ``params.scattering`` and normalises F by ``N·⟨f(Q)⟩²`` as diffpy does; without it
    every atom is the same element. The older ``weights`` (Q-independent per-atom
    factors, normalised by ``N·⟨f⟩²``) still work.
    """

    def __init__(
        self,
        params: PDFParameters = TRAINING_PARAMETERS,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        bin_width: float = 0.01,
    ) -> None:
        self.params = params
        self.device = torch.device(device) if device is not None else default_device()
        self.dtype = dtype
        self.bin_width = bin_width
        self.r = params.r_grid
        self.n_bins = math.ceil(params.rcalc_high / bin_width) + 3
        radii = np.arange(self.n_bins, dtype=np.float64) * bin_width
        kernel = debye_kernel(radii, params)
        transform = sine_transform_matrix(params, self.r) * envelope(params, self.r)[None, :]
        self._kernel = torch.as_tensor(kernel, dtype=dtype, device=self.device)
        self._transform = torch.as_tensor(transform, dtype=dtype, device=self.device)

    def structure_function(
        self,
        positions: torch.Tensor,
        mask: torch.Tensor | None = None,
        weights: torch.Tensor | None = None,
        elements: Sequence | None = None,
    ) -> torch.Tensor:
        """F(Q) on ``params.q_grid`` for a padded batch (B, N, 3) in Å: (B, nQ)."""
        positions = positions.to(self.device, self.dtype)
        if mask is not None:
            mask = mask.to(self.device)
        if weights is not None:
            weights = weights.to(self.device, self.dtype)
        p = self.params
        if mask is None:
            n = torch.full((positions.shape[0],), positions.shape[1], device=self.device)
        else:
            n = mask.sum(dim=1)
        el = None
        if elements is not None and weights is None:
            el = ElementTypes.from_elements(elements, n.tolist(), positions.shape[1])
            if el.single:
                el = None
        if el is not None:
            hist = pair_histogram(
                positions, mask, self.bin_width, self.n_bins, p.rcalc_low, p.rcalc_high,
                types=el.types.to(self.device), n_types=el.n_types,
            )  # fmt: skip
            pair, norm = el.pair_factors(p.q_grid, p.scattering)
            f = torch.einsum("btk,kq->btq", hist, self._kernel)
            f = (f * pair.to(self.device, self.dtype)).sum(1)
            return 2 * f / norm.to(self.device, self.dtype)
        hist = pair_histogram(
            positions, mask, self.bin_width, self.n_bins, p.rcalc_low, p.rcalc_high, weights
        )
        f = hist @ self._kernel
        n = n.to(self.dtype).clamp(min=1)
        if weights is None:
            norm = n
        else:
            w = weights if mask is None else weights * mask.to(self.dtype)
            mean_f = w.sum(dim=1) / n
            norm = n * mean_f.clamp(min=1e-12) ** 2
        return 2 * f / norm.unsqueeze(1)

    def compute(
        self,
        positions: torch.Tensor,
        mask: torch.Tensor | None = None,
        weights: torch.Tensor | None = None,
        elements: Sequence | None = None,
    ) -> torch.Tensor:
        """G(r) on ``params.r_grid`` (Å⁻²) for a padded batch of structures (B, N, 3)."""
        return self.structure_function(positions, mask, weights, elements) @ self._transform


def pad_structures(
    structures: Sequence[np.ndarray], dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack (n_i, 3) arrays into a zero-padded (B, N, 3) tensor and a (B, N) mask."""
    n_max = max((len(s) for s in structures), default=0)
    positions = torch.zeros(len(structures), max(n_max, 1), 3, dtype=dtype)
    mask = torch.zeros(len(structures), max(n_max, 1), dtype=torch.bool)
    for i, s in enumerate(structures):
        arr = np.asarray(s, dtype=np.float64).reshape(-1, 3)
        positions[i, : len(arr)] = torch.as_tensor(arr, dtype=dtype)
        mask[i, : len(arr)] = True
    return positions, mask


def split_structures(structures: Sequence, elements: Sequence | None = None):
    """Positions (n, 3) of every structure and its elements: ``ase.Atoms`` carry theirs
    (atomic numbers); plain arrays take ``elements[i]`` or none (one element)."""
    positions, found, any_found = [], [], elements is not None
    for i, s in enumerate(structures):
        if hasattr(s, "get_positions"):
            positions.append(np.asarray(s.get_positions(), dtype=np.float64))
            found.append(elements[i] if elements is not None else s.get_atomic_numbers().tolist())
            any_found = True
        else:
            positions.append(np.asarray(s, dtype=np.float64).reshape(-1, 3))
            found.append(elements[i] if elements is not None else "Pt")
    return positions, (found if any_found else None)


def simulate_pdfs(
    structures: Sequence,
    params: PDFParameters = TRAINING_PARAMETERS,
    device: torch.device | str | None = None,
    batch_size: int = 256,
    dtype: torch.dtype = torch.float32,
    elements: Sequence | None = None,
) -> np.ndarray:
    """G(r) of many clusters, (n, len(params.r_grid)); each an (n_i, 3) array in Å or
    an ``ase.Atoms``. ``elements[i]``: the element(s) of structure i (one symbol or
    atomic number, or one per atom); without it arrays are one element.

    Batches are formed from structures of similar size so padding wastes little.
    """
    positions_list, found = split_structures(structures, elements)
    engine = DebyeEngine(params, device=device, dtype=dtype)
    out = np.zeros((len(structures), engine.r.size), dtype=np.float64)
    order = np.argsort([len(s) for s in positions_list], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            positions, mask = pad_structures([positions_list[i] for i in idx], dtype)
            el = None if found is None else [found[i] for i in idx]
            out[idx] = engine.compute(positions, mask, elements=el).double().cpu().numpy()
    return out


def simulate_pdf(
    structure,
    params: PDFParameters = TRAINING_PARAMETERS,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    elements: Sequence | str | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(r, G) of one structure: an ``ase.Atoms`` (its elements, weighted by
    ``params.scattering``) or an (n, 3) array in Å with optional ``elements`` (one for
    all atoms or one per atom). r in Å, G in Å⁻² (diffpy's DebyePDFCalculator)."""
    el = None if elements is None else [elements]
    g = simulate_pdfs([structure], params, device=device, batch_size=1, dtype=dtype, elements=el)
    return params.r_grid.copy(), g[0]
