"""The size extension: candidates larger than the training structures, chosen by the model.

The seven-type model decodes clusters of 5–200 atoms. When the data show a larger
particle (the ``beyond-training-size`` diagnosis, with a diameter read from where
G(r) falls into the noise), the search extends itself:

1. **Which types** — the model's own reading of the data: the types of its best
   candidates (weighted by how close their Rw is to the best) and of the training
   structures nearest the prior mean on the latent map (:func:`type_evidence`). The
   map keeps the trends of type across sizes (the paper's extrapolation), so these
   say which families to build even when the sizes are out of reach
   (:func:`choose_types`: the types holding 90 % of the evidence, at most three).
2. **Which sizes** — the families of those types (ase.cluster builders,
   :mod:`deepstruc_gui.science.cluster_families`) over a window of atom counts around
   the close-packed count of the diameter estimate (0.45–1.8 ×; the whole
   150–3,000 range without an estimate).
3. **Fit in two passes** — a coarse ladder of sizes per family, then every shape of
   the best types within ±25 % of the atoms of their best fit, all at the data's bond
   length and refined by the batched fitter with the search's own settings, so their
   Rw ranks with the model's candidates. Built candidates carry
   ``source = "size-extension"`` and their shape; their latent point is NaN.

Fitting 2,000-atom clusters is pair-bound (N² pairs): :func:`fit_sized` sorts by size
and gives each call of the fitter a batch whose pair count stays under a budget, so
memory stays bounded (the histogram holds ~150 bytes per pair of a batch).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.cluster_families import (
    FAMILIES_BY_TYPE,
    MAX_ATOMS,
    MIN_ATOMS,
    TYPE_FAMILY,
    FamilyShape,
    close_packed_atoms,
    shapes_for,
)
from deepstruc_gui.science.fitting import FitConfig, fit_candidates
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.util.cancel import CancelToken, check

SOURCE_MODEL = "model"
SOURCE_SIZE_EXTENSION = "size-extension"
#: pairs per call of the fitter: ~150 bytes each in the histogram → ~0.6 GB at most
PAIR_BUDGET = 4_000_000


@dataclass(frozen=True)
class SizeExtensionSettings:
    """How widely the extension searches. Defaults measured on ``evaluate --beyond``."""

    #: atoms window as multiples of the close-packed count of the diameter estimate
    atoms_window: tuple[float, float] = (0.45, 1.8)
    #: the types holding this share of the model's evidence are tried …
    evidence_share: float = 0.9
    #: … but never more than this many (fcc and octahedral count as one)
    max_types: int = 3
    #: sizes per family in the first pass, spread evenly in log(atoms)
    coarse_sizes: int = 6
    #: second pass: shapes within this fraction of the best first-pass atom count
    refine_span: float = 0.25
    #: types refined in the second pass (best first-pass Rw first)
    refine_types: int = 2


def type_evidence(
    nearest_types: Sequence[str], candidates: Sequence[Candidate], rw_scale: float = 0.03
) -> dict[str, float]:
    """The model's reading of the data as a weight per type family (summing to 1).

    ``nearest_types``: types of the training structures nearest the prior mean on the
    latent map (e.g. the 30 nearest, :meth:`Predictor.nearest_structures`);
    ``candidates``: the model's ranked candidates. Half the weight comes from each:
    the map share of each type, and the candidates' types weighted by
    ``exp(-(Rw - best Rw)/rw_scale)``. fcc and octahedral count as one family ("fcc").
    """
    out: dict[str, float] = {}
    if nearest_types:
        for t in nearest_types:
            key = TYPE_FAMILY.get(t, t)
            out[key] = out.get(key, 0.0) + 0.5 / len(nearest_types)
    model = [c for c in candidates if c.source == SOURCE_MODEL and math.isfinite(c.rw)]
    if model:
        best = min(c.rw for c in model)
        w = np.array([math.exp(-(c.rw - best) / rw_scale) for c in model])
        share = 0.5 if nearest_types else 1.0
        for c, wi in zip(model, w / w.sum(), strict=True):
            key = TYPE_FAMILY.get(c.nearest_type, c.nearest_type)
            out[key] = out.get(key, 0.0) + share * float(wi)
    total = sum(out.values())
    return {k: v / total for k, v in sorted(out.items(), key=lambda kv: -kv[1])} if total else {}


def choose_types(evidence: dict[str, float], share: float = 0.9, max_types: int = 3) -> list[str]:
    """The type families holding ``share`` of the evidence, most likely first (≤ max)."""
    chosen, held = [], 0.0
    for key, weight in sorted(evidence.items(), key=lambda kv: -kv[1]):
        if held >= share or len(chosen) >= max_types:
            break
        chosen.append(key)
        held += weight
    return chosen


def atoms_window(
    diameter: float | None, bond_length: float, settings: SizeExtensionSettings
) -> tuple[int, int]:
    """Atom counts to try for a particle of this diameter (Å); all sizes without one."""
    if diameter is None or not math.isfinite(diameter) or diameter <= 0:
        return MIN_ATOMS, MAX_ATOMS
    n = close_packed_atoms(diameter, bond_length)
    lo, hi = settings.atoms_window
    return max(MIN_ATOMS, int(lo * n)), min(MAX_ATOMS, max(int(hi * n), MIN_ATOMS + 50))


def families_for(types: Sequence[str]) -> list[str]:
    """The cluster families of the given types (``FAMILIES_BY_TYPE``), without repeats."""
    out: list[str] = []
    for t in types:
        for f in FAMILIES_BY_TYPE.get(t, ()):
            if f not in out:
                out.append(f)
    return out


def fit_sized(
    data: PDFData,
    structures: Sequence[np.ndarray],
    config: FitConfig,
    device=None,
    cancel: CancelToken | None = None,
    pair_budget: int = PAIR_BUDGET,
    on_chunk: Callable[[np.ndarray, object], None] | None = None,
):
    """Fit clusters of any size with bounded memory: sorted by atoms, batched by pairs.

    Each call of :func:`fit_candidates` gets structures of similar size, as many as
    keep ``batch · n(n-1)/2`` under ``pair_budget`` (so 2,000-atom clusters go two at a
    time, 200-atom ones 200 at a time). ``on_chunk(indices, FitResult)`` is called
    after each call (streaming). Returns the columns of :class:`FitResult` in input
    order as a dict: rw, scale, expansion, biso, qdamp, delta2, gcalc, plus r.
    """
    sizes = np.array([len(s) for s in structures])
    order = np.argsort(sizes, kind="stable")
    n = len(structures)
    cols: dict[str, np.ndarray] = {}
    r = None
    start = 0
    while start < n:
        check(cancel)
        largest = int(sizes[order[min(start + 255, n - 1)]])
        pairs = max(largest * (largest - 1) // 2, 1)
        batch = int(np.clip(pair_budget // pairs, 1, 256))
        # the batch's own largest member decides; shrink until it fits the budget
        while batch > 1:
            big = int(sizes[order[min(start + batch, n) - 1]])
            if batch * big * (big - 1) // 2 <= pair_budget:
                break
            batch = max(1, batch // 2)
        idx = order[start : start + batch]
        cfg = dataclasses.replace(config, batch_size=len(idx))
        result = fit_candidates(
            [structures[i] for i in idx], data.r, data.g, cfg, device=device, cancel=cancel
        )
        if not cols:
            r = result.r
            cols = {k: np.zeros(n) for k in ("rw", "scale", "expansion", "biso", "qdamp", "delta2")}
            cols["gcalc"] = np.zeros((n, result.r.size))
        for key in cols:
            cols[key][idx] = getattr(result, key)
        if on_chunk is not None:
            on_chunk(idx, result)
        start += batch
    cols["r"] = r if r is not None else np.zeros(0)
    return cols


def _candidates(shapes: Sequence[FamilyShape], clusters, fitted) -> list[Candidate]:
    return [
        Candidate(
            latent=np.full(2, np.nan),
            positions=clusters[i] * float(fitted["expansion"][i]),
            n_atoms=shape.n_atoms,
            rw=float(fitted["rw"][i]),
            scale=float(fitted["scale"][i]),
            expansion=float(fitted["expansion"][i]),
            biso=float(fitted["biso"][i]),
            qdamp=float(fitted["qdamp"][i]),
            delta2=float(fitted["delta2"][i]),
            nearest_type=shape.structure_type,
            r=fitted["r"],
            gcalc=fitted["gcalc"][i],
            source=SOURCE_SIZE_EXTENSION,
            shape=shape.label,
        )
        for i, shape in enumerate(shapes)
    ]


def _ladder(shapes: list[FamilyShape], k: int) -> list[FamilyShape]:
    """``k`` shapes spread evenly in log(atoms) over the list (sorted by atoms)."""
    if len(shapes) <= k:
        return shapes
    logn = np.log([s.n_atoms for s in shapes])
    targets = np.linspace(logn[0], logn[-1], k)
    picks = sorted({int(np.argmin(np.abs(logn - t))) for t in targets})
    return [shapes[i] for i in picks]


@dataclass
class SizeExtensionResult:
    """The extension's ranked candidates and what it rested on."""

    candidates: list[Candidate]  # best Rw first, all source "size-extension"
    types: list[str]  # type families tried, most likely first
    evidence: dict[str, float]  # the model's weight per type family
    atoms_window: tuple[int, int]
    diameter: float | None  # Å, the estimate the window came from (None: all sizes)
    bond_length: float  # Å, the data's nearest-neighbour distance

    def summary(self) -> str:
        """One line for reports: what was tried and why."""
        ev = ", ".join(f"{k} {v:.0%}" for k, v in self.evidence.items())
        size = f"diameter {self.diameter:.1f} Å" if self.diameter else "no diameter estimate"
        lo, hi = self.atoms_window
        return (
            f"size extension: {len(self.candidates)} built clusters of "
            f"{', '.join(self.types)} ({lo}–{hi} atoms; {size}; bond {self.bond_length:.3f} Å); "
            f"model's reading: {ev or 'none'}"
        )


def extend(
    data: PDFData,
    config: FitConfig,
    bond_length: float,
    evidence: dict[str, float],
    diameter: float | None = None,
    settings: SizeExtensionSettings | None = None,
    device=None,
    cancel: CancelToken | None = None,
    on_batch: Callable[[list[Candidate]], None] | None = None,
) -> SizeExtensionResult:
    """Build and fit clusters of the types the model's ``evidence`` favours.

    ``bond_length``: the data's nearest-neighbour distance (Å, first G(r) peak);
    ``diameter``: the particle diameter read from the data (Å) or None to try every
    size from 150 to 3,000 atoms. ``on_batch`` receives this extension's ranked
    candidates after each pass. Raises ``ValueError`` when the evidence is empty.
    """
    settings = settings or SizeExtensionSettings()
    types = choose_types(evidence, settings.evidence_share, settings.max_types)
    if not types:
        raise ValueError("the size extension needs the model's reading of the data (no types)")
    window = atoms_window(diameter, bond_length, settings)
    by_type = {t: shapes_for(families_for([t]), window) for t in types}
    first: list[FamilyShape] = []
    for t in types:
        for family in families_for([t]):
            first += _ladder([s for s in by_type[t] if s.family == family], settings.coarse_sizes)
    ranked = _fit_shapes(data, first, bond_length, config, device, cancel)
    if on_batch is not None:
        on_batch(ranked)
    done = {id(s) for s in first}
    best_by_type: dict[str, Candidate] = {}
    for c in ranked:
        best_by_type.setdefault(TYPE_FAMILY.get(c.nearest_type, c.nearest_type), c)
    second: list[FamilyShape] = []
    for t, best in list(best_by_type.items())[: settings.refine_types]:
        lo, hi = best.n_atoms * (1 - settings.refine_span), best.n_atoms * (1 + settings.refine_span)
        second += [s for s in by_type.get(t, []) if lo <= s.n_atoms <= hi and id(s) not in done]
    if second:
        check(cancel)
        ranked = sorted(
            ranked + _fit_shapes(data, second, bond_length, config, device, cancel),
            key=lambda c: c.rw,
        )
        if on_batch is not None:
            on_batch(ranked)
    return SizeExtensionResult(ranked, types, evidence, window, diameter, bond_length)


def _fit_shapes(data, shapes, bond_length, config, device, cancel) -> list[Candidate]:
    if not shapes:
        return []
    clusters = [s.scaled(bond_length) for s in shapes]
    fitted = fit_sized(data, clusters, config, device=device, cancel=cancel)
    return sorted(_candidates(shapes, clusters, fitted), key=lambda c: c.rw)


def model_evidence(
    predictor, data: PDFData, candidates: Sequence[Candidate], prior_mean=None, k_map: int = 30
) -> dict[str, float]:
    """:func:`type_evidence` from a predictor: the map types nearest the prior mean
    (computed from ``data`` when ``prior_mean`` is None) and the model's candidates."""
    if prior_mean is None:
        prior_mean, _ = predictor.prior(data.model_input())
    idx = predictor.nearest_structures(np.asarray(prior_mean, float), k=k_map)[0]
    types = [str(t) for t in np.asarray(predictor.bundle.latent_map.types)[idx]]
    return type_evidence(types, candidates)
