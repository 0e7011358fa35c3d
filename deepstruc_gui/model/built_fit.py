"""Fitting clusters that were built rather than decoded, whatever their size.

Two searches build clusters beside the model's decoded ones: the size extension
(``model/size_extension.py``: ase families of 150–3,000 atoms) and the stacking
sequence search (``model/sequence_search.py``: every stacking of the layer counts and
patches a stacking model reads). Both fit them here, with bounded memory
(:func:`fit_sized`), turn the fits into :class:`Candidate` rows
(:func:`built_candidates`) and, in a series, fit the last frame's built clusters to
the next frame (:func:`refit_built`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from deepstruc_gui.model.candidate import BUILT_SOURCES, SOURCE_SIZE_EXTENSION, Candidate
from deepstruc_gui.science.fitting import FitConfig, fit_candidates
from deepstruc_gui.science.histogram_clusters import is_histogram_batch
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.util.cancel import CancelToken, check

#: pairs per call of the fitter. The engine's pair histogram holds ~150 bytes per pair
#: of the 8 structures it spreads at a time (2.4 GB for 2,000-atom clusters, 5.4 GB
#: at 3,000), whatever the batch; the budget keeps each call short (streaming) and
#: the number of calls small (each has a fixed cost: tables, LM iterations)
PAIR_BUDGET = 16_000_000
#: histogram clusters per call of the fitter (their cost does not grow with N; each
#: call has a fixed cost: the leaders' polish)
HISTOGRAM_BATCH = 256


def fit_sized(
    data: PDFData,
    structures: Sequence,
    config: FitConfig,
    device=None,
    cancel: CancelToken | None = None,
    pair_budget: int = PAIR_BUDGET,
    on_chunk: Callable[[np.ndarray, object], None] | None = None,
):
    """Fit clusters of any size with bounded memory: sorted by atoms, batched, streamed.

    ``structures``: (n, 3) arrays in Å, or all
    :class:`~deepstruc_gui.science.histogram_clusters.HistogramCluster` (pair
    histograms in bond units at the data's bond length: no pair-distance work). From
    positions, each call of :func:`fit_candidates` gets structures of similar size, as
    many as keep ``batch · n(n-1)/2`` under ``pair_budget`` (with the default budget
    2,000-atom clusters go eight at a time, 200-atom ones 256 at a time); histograms
    cost the same whatever the size and go :data:`HISTOGRAM_BATCH` at a time.
    ``on_chunk(indices, FitResult)`` is called after each call (streaming). Returns
    the columns of :class:`FitResult` in input order as a dict: rw, scale,
    expansion, biso, qdamp, delta2, gcalc, plus r.
    """
    sizes = np.array([len(s) for s in structures])
    from_histograms = is_histogram_batch(structures)
    order = np.argsort(sizes, kind="stable")
    n = len(structures)
    cols: dict[str, np.ndarray] = {}
    r = None
    start = 0
    while start < n:
        check(cancel)
        if from_histograms:
            batch = HISTOGRAM_BATCH
        else:
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


def built_candidates(
    clusters, kinds, fitted, source: str = SOURCE_SIZE_EXTENSION
) -> list[Candidate]:
    """Candidates of built clusters (n_i, 3) Å before the fit's expansion; ``kinds``:
    (structure type, shape label, atoms) of each; ``fitted``: :func:`fit_sized`'s;
    ``source``: which search built them (``Candidate.source``). Latent points are NaN:
    a built cluster has no map point."""
    return [
        Candidate(
            latent=np.full(2, np.nan),
            positions=clusters[i] * float(fitted["expansion"][i]),
            n_atoms=n_atoms,
            rw=float(fitted["rw"][i]),
            scale=float(fitted["scale"][i]),
            expansion=float(fitted["expansion"][i]),
            biso=float(fitted["biso"][i]),
            qdamp=float(fitted["qdamp"][i]),
            delta2=float(fitted["delta2"][i]),
            nearest_type=kind,
            r=fitted["r"],
            gcalc=fitted["gcalc"][i],
            source=source,
            shape=label,
        )
        for i, (kind, label, n_atoms) in enumerate(kinds)
    ]


def refit_built(
    data: PDFData,
    candidates: Sequence[Candidate],
    config: FitConfig,
    device=None,
    cancel: CancelToken | None = None,
    qdamp_known: bool = False,
) -> list[Candidate]:
    """Fit the built candidates among ``candidates`` (an earlier result's: the size
    extension's or the sequence search's) to new ``data``: a series' next frame starts
    from the clusters built for the last one. Each cluster is its positions ÷ its
    refined expansion; Qdamp is refined, as the size extension does, when neither header
    nor user gave it and a size-extension cluster is among them. Returns new
    candidates, best Rw first, with the same sources and shape labels (none when
    ``candidates`` hold no built cluster). Raises ``Cancelled``."""
    built = [c for c in candidates if c.source in BUILT_SOURCES]
    if not built:
        return []
    large = any(c.source == SOURCE_SIZE_EXTENSION for c in built)
    if large and not qdamp_known and not config.refine_qdamp:
        config = dataclasses.replace(config, refine_qdamp=True)
    clusters = [np.asarray(c.positions, float) / c.expansion for c in built]
    fitted = fit_sized(data, clusters, config, device=device, cancel=cancel)
    kinds = [(c.nearest_type, c.shape, c.n_atoms) for c in built]
    refitted = built_candidates(clusters, kinds, fitted)
    for new, old in zip(refitted, built, strict=True):
        new.source = old.source
    return sorted(refitted, key=lambda c: c.rw)
