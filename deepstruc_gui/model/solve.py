"""The solve pipeline: sample the latent region, decode, fit, rank — in batches.

The GUI's worker and ``deepstruc-gui predict`` both call :func:`solve`; batches of
ranked candidates stream out through ``on_batch`` and the cancel token is checked
between batches, so a new request never waits for a stale one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.model.inference import Predictor
from deepstruc_gui.science.fitting import FitConfig, fit_candidates
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.util.cancel import CancelToken, check


def sample_region(
    center: np.ndarray, radius: np.ndarray | float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` points uniform inside an ellipse (semi-axes ``radius``, scalar = circle)."""
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (2,))
    angle = rng.uniform(0, 2 * math.pi, n)
    rho = np.sqrt(rng.uniform(0, 1, n))
    unit = np.column_stack([np.cos(angle), np.sin(angle)]) * rho[:, None]
    return np.asarray(center, dtype=float)[None, :] + unit * radius[None, :]


#: how far past the training map (a fraction of its extent per side) a region's
#: uniform samples may go; beyond it the decoder only extrapolates
MAP_MARGIN = 0.25


def map_box(map_mu: np.ndarray, margin: float = MAP_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of the training map's bounding box, widened by
    ``margin`` of its extent on every side."""
    mu = np.asarray(map_mu, dtype=float).reshape(-1, 2)
    lo, hi = mu.min(axis=0), mu.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-6)
    return lo - pad, hi + pad


def sample_region_on_map(
    center: np.ndarray,
    radius: np.ndarray | float,
    n: int,
    rng: np.random.Generator,
    box: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """``n`` points uniform in the part of the ellipse that lies on the map (``box``).

    A prior can meet data unlike its training PDFs with a σ at its upper clamp (the
    stacking prior gives JQ_S1 σ = (20, 0.001) on a map 8 units wide): a 3σ region
    120 units long, nearly all of it where no training structure lies and the decoder
    only extrapolates. An ellipse inside the box is sampled as before (same points);
    one reaching past it by rejection, and as before when it misses the box almost
    entirely.
    """
    center = np.asarray(center, dtype=float)
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (2,))
    lo, hi = box
    if n <= 0 or ((center - radius >= lo).all() and (center + radius <= hi).all()):
        return sample_region(center, radius, n, rng)
    kept: list[np.ndarray] = []
    for _ in range(20):
        z = sample_region(center, radius, 4 * n, rng)
        kept.append(z[((z >= lo) & (z <= hi)).all(axis=1)])
        if sum(len(k) for k in kept) >= n:
            return np.vstack(kept)[:n]
    got = np.vstack(kept)
    return np.vstack([got, sample_region(center, radius, n - len(got), rng)])


def region_points(
    map_mu: np.ndarray,
    center: np.ndarray,
    radius: np.ndarray | float,
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n`` latent points for a search: training-map points inside the region first.

    The decoder is most precise where training structures sit (it was fitted there),
    so up to half the points are the map's own points inside the ellipse, nearest to
    the centre first; the rest are drawn uniformly over the region where it lies on
    the map (:func:`sample_region_on_map`), so the search still reaches the space
    between them.
    """
    center = np.asarray(center, dtype=float)
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (2,))
    mu = np.asarray(map_mu, dtype=float).reshape(-1, 2)
    inside = mu[((((mu - center) / np.maximum(radius, 1e-12)) ** 2).sum(1) <= 1.0)]
    if len(inside):
        inside = np.unique(np.round(inside, 4), axis=0)
        inside = inside[np.argsort(((inside - center) ** 2).sum(1))][: n // 2]
    if len(mu) == 0:
        return sample_region(center, radius, n, rng)
    drawn = sample_region_on_map(center, radius, n - len(inside), rng, map_box(mu))
    return np.vstack([inside.reshape(-1, 2), drawn])


def candidates_from_fit(
    z: np.ndarray, clusters: list[np.ndarray], result, types: list[str]
) -> list[Candidate]:
    """One :class:`Candidate` per decoded cluster: positions (n, 3) scaled by the refined
    expansion (Å), Rw and the refined parameters from ``result`` (a ``FitResult``),
    latent point from ``z`` (B, 2), nearest type from ``types``."""
    return [
        Candidate(
            latent=z[i],
            positions=clusters[i] * float(result.expansion[i]),
            n_atoms=len(clusters[i]),
            rw=float(result.rw[i]),
            scale=float(result.scale[i]),
            expansion=float(result.expansion[i]),
            biso=float(result.biso[i]),
            qdamp=float(result.qdamp[i]),
            delta2=float(result.delta2[i]),
            nearest_type=types[i],
            r=result.r,
            gcalc=result.gcalc[i],
            rw_kind=getattr(result, "rw_kind", "unweighted"),
            rw_weighted=(
                None
                if getattr(result, "rw_weighted", None) is None
                else float(result.rw_weighted[i])
            ),
            errors={k: float(v[i]) for k, v in getattr(result, "errors", {}).items()},
            at_bound=tuple(k for k, v in getattr(result, "at_bound", {}).items() if bool(v[i])),
            spdiameter=(
                0.0 if getattr(result, "spdiameter", None) is None else float(result.spdiameter[i])
            ),
        )
        for i in range(len(clusters))
    ]


def evaluate_points(
    data: PDFData,
    predictor: Predictor,
    z: np.ndarray,
    fit_config: FitConfig,
    cancel: CancelToken | None = None,
    bond: float | None = None,
) -> list[Candidate]:
    """Decode and fit the given latent points (in input order).

    Clusters come out at the bond length the model reads from ``data`` (pass it as
    ``bond``, in Å, to skip reading it again: a search reads it once); the fit then
    refines it through the expansion factor.
    """
    z = np.asarray(z, dtype=float).reshape(-1, 2)
    if bond is None:
        bond = predictor.bond_length(data.model_input())
    clusters = predictor.decode(z, bond)
    check(cancel)
    # with a dG column the fit also reports PDFgui's weighted Rw (the ranking stays on
    # the Rw FitConfig.weighting names, unweighted by default)
    result = fit_candidates(
        clusters, data.r, data.g, fit_config, device=predictor.device, cancel=cancel,
        dg=getattr(data, "dg", None),
    )  # fmt: skip
    return candidates_from_fit(z, clusters, result, predictor.candidate_type(z))


def solve(
    data: PDFData,
    predictor: Predictor,
    center,
    radius,
    n_samples: int,
    fit_config: FitConfig,
    seed: int | None = None,
    cancel: CancelToken | None = None,
    on_batch: Callable[[list[Candidate]], None] | None = None,
    batch_size: int = 100,
    bond: float | None = None,
) -> list[Candidate]:
    """Search ``n_samples`` points of the region (see :func:`region_points`) batch by batch.

    ``on_batch`` receives the ranked list of all candidates so far after each batch.
    Returns all candidates, best Rw first.
    """
    rng = np.random.default_rng(seed)
    z_all = region_points(predictor.map_mu, np.asarray(center, float), radius, n_samples, rng)
    return solve_points(data, predictor, z_all, fit_config, cancel, on_batch, batch_size, bond)


def whole_map_points(predictor: Predictor) -> np.ndarray:
    """Every distinct training-map point: the whole-map search.

    The prior can misplace a measured PDF that differs from the simulated ones
    (JQ_S1: the prior region decodes poorly, the whole map finds fcc, Rw 0.41), while
    the decoder is most precise at the map's own points. ~3,000 points take ~10 s.
    """
    return np.unique(np.round(np.asarray(predictor.map_mu, float), 4), axis=0)


def solve_points(
    data: PDFData,
    predictor: Predictor,
    z_all: np.ndarray,
    fit_config: FitConfig,
    cancel: CancelToken | None = None,
    on_batch: Callable[[list[Candidate]], None] | None = None,
    batch_size: int = 100,
    bond: float | None = None,
) -> list[Candidate]:
    """Decode and fit the given latent points batch by batch, ranking as they come.

    ``bond``: the data's nearest-neighbour distance (Å); read from ``data`` once here
    when not given, never once per batch.
    """
    z_all = np.asarray(z_all, dtype=float).reshape(-1, 2)
    if bond is None and len(z_all):
        bond = predictor.bond_length(data.model_input())
    ranked: list[Candidate] = []
    for start in range(0, len(z_all), batch_size):
        check(cancel)
        batch = evaluate_points(
            data, predictor, z_all[start : start + batch_size], fit_config, cancel, bond
        )
        ranked = sorted(ranked + batch, key=lambda c: c.rw)
        if on_batch is not None:
            on_batch(ranked)
    return ranked


def refit(
    candidates: list[Candidate],
    data: PDFData,
    fit_config: FitConfig,
    device=None,
    cancel: CancelToken | None = None,
) -> list[Candidate]:
    """Fit existing candidates again (a new fit range or refinement flags), best Rw first.

    No decoding: each candidate's decoded cluster is ``positions / expansion`` (the
    positions carry the refined expansion), fitted afresh from it. Cheap next to a
    search (~1 ms a candidate). A candidate's ``source`` (e.g. "kept") is carried.
    """
    if not candidates:
        return []
    clusters = [c.positions / c.expansion for c in candidates]
    result = fit_candidates(clusters, data.r, data.g, fit_config, device=device, cancel=cancel)
    z = np.array([c.latent for c in candidates], float).reshape(-1, 2)
    fresh = candidates_from_fit(z, clusters, result, [c.nearest_type for c in candidates])
    for new, old in zip(fresh, candidates, strict=True):
        new.element = old.element
        if hasattr(old, "source"):
            new.source = old.source
    return sorted(fresh, key=lambda c: c.rw)
