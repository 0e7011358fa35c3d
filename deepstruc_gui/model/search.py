"""The default search: the prior's region and the landscape's basins together.

DeepStruc samples the prior's latent region (Kjær, Anker et al., Digital Discovery 2,
69–80 (2023)). On measured data the prior can place the data far from where they fit
(JQ_S1: its 3σ region's best is bcc at Rw 0.86 while fcc fits at 0.36; Au144(SR)60:
hcp 0.384 in the region, an icosahedron at 0.331 elsewhere). So the default search
always looks at the global picture first, cheaply, and spends its full fits where Rw
is low:

1. the coarse Rw landscape over the whole map (:mod:`deepstruc_gui.model.landscape`);
2. the region's points scored the same coarse way;
3. full fits (:func:`~deepstruc_gui.science.fitting.fit_candidates`) of the lowest
   coarse points overall, of the region's own lowest points, and of points jittered
   around each basin's minimum (the decoder changes between map points);
4. a :class:`~deepstruc_gui.model.diagnostics.Diagnostic` (``region-disagrees``)
   when the best basin lies outside the prior's region and fits clearly better than
   anything inside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.model.coarse import CoarseScorer, PairHistogramCache
from deepstruc_gui.model.diagnostics import Diagnostic
from deepstruc_gui.model.landscape import Landscape, LandscapeSettings, compute_landscape
from deepstruc_gui.model.solve import evaluate_points, region_points
from deepstruc_gui.science.parameters import FitConfig
from deepstruc_gui.util.cancel import CancelToken, check

#: a best basin outside the region is reported when the region's best full-fit Rw is
#: worse than the overall best by more than this
DISAGREE_RW = 0.02


@dataclass(frozen=True)
class SearchSettings:
    """Budget of the default search: ``n_fit`` full fits in all, of which
    ``region_share`` go to the region's lowest coarse points and ``basin_share`` to
    jittered points around up to ``n_basins`` basin minima (the rest: the lowest
    coarse points anywhere); basins are at least ``basin_separation`` of the map's
    box diagonal apart; ``landscape``: its density (no own full fits: the search
    does them)."""

    n_fit: int = 200
    region_share: float = 0.25
    basin_share: float = 0.25
    n_basins: int = 4
    basin_separation: float = 0.04
    landscape: LandscapeSettings = field(
        default_factory=lambda: LandscapeSettings(grid=30, n_fit=0, refine_fraction=0.02)
    )


@dataclass
class SearchOutcome:
    """Ranked candidates (all full fits, best Rw first), the landscape, the basin
    minima (k, 2), the region's best candidate and the findings."""

    candidates: list[Candidate]
    landscape: Landscape
    basins: np.ndarray
    region_best: Candidate | None
    findings: list[Diagnostic]


def basin_minima(land: Landscape, k: int, separation: float) -> np.ndarray:
    """Up to ``k`` lowest coarse points at least ``separation`` (fraction of the box
    diagonal) apart: one per basin, lowest first. (k', 2)."""
    lo, hi = land.box
    min_d = separation * float(np.hypot(*(hi - lo)))
    picked: list[np.ndarray] = []
    for i in np.argsort(land.rw, kind="stable"):
        z = land.z[i]
        if all(np.hypot(*(z - p)) >= min_d for p in picked):
            picked.append(z)
            if len(picked) == k:
                break
    return np.array(picked).reshape(-1, 2)


def inside_region(z: np.ndarray, center, radius) -> np.ndarray:
    """Whether points (n, 2) lie inside the ellipse (semi-axes ``radius``)."""
    radius = np.broadcast_to(np.maximum(np.asarray(radius, float), 1e-12), (2,))
    return (((np.asarray(z, float) - np.asarray(center, float)) / radius) ** 2).sum(-1) <= 1.0


def default_search(
    data,
    predictor,
    config: FitConfig,
    center,
    radius,
    n_region: int,
    *,
    seed: int | None = 0,
    bond: float | None = None,
    settings: SearchSettings | None = None,
    cancel: CancelToken | None = None,
    on_landscape: Callable[[Landscape], None] | None = None,
    on_batch: Callable[[list[Candidate]], None] | None = None,
) -> SearchOutcome:
    """Search ``data`` on the whole map and in the region ``center ± radius`` (map
    units; ``n_region`` points there). ``on_landscape`` streams the landscape,
    ``on_batch`` the ranked full fits so far. Raises ``Cancelled``."""
    settings = settings or SearchSettings()
    if bond is None:
        bond = predictor.bond_length(data.model_input())
    rng = np.random.default_rng(seed)
    z_region = region_points(predictor.map_mu, np.asarray(center, float), radius, n_region, rng)
    land = compute_landscape(
        data,
        predictor,
        config,
        settings.landscape,
        bond=bond,
        on_update=on_landscape,
        cancel=cancel,
        prepare=z_region,  # the region's clusters, decoded while the landscape is scored
    )
    check(cancel)
    # the region, scored the coarse way
    unit = bond if predictor.bond_units else 1.0
    cache = PairHistogramCache.for_predictor(predictor, config.params.rcalc_high / (0.96 * unit))
    scorer = CoarseScorer.for_data(data.r, data.g, config, unit, cache.n_bins)
    region_rw = scorer.score(*cache.histograms(z_region))[0] if len(z_region) else np.zeros(0)
    check(cancel)
    # where the full fits go
    n_region_fit = min(len(z_region), round(settings.region_share * settings.n_fit))
    basins = basin_minima(land, settings.n_basins, settings.basin_separation)
    lo, hi = land.box
    step = (hi - lo) / max(settings.landscape.grid - 1, 1)
    per_basin = round(settings.basin_share * settings.n_fit / max(len(basins), 1))
    jitter = [b + rng.normal(scale=0.35, size=(per_basin, 2)) * step for b in basins]
    n_global = settings.n_fit - n_region_fit - per_basin * len(basins)
    chosen = [
        land.z[land.lowest(max(n_global, 0))],
        z_region[np.argsort(region_rw, kind="stable")[:n_region_fit]],
        *jitter,
    ]
    z_fit = np.unique(np.round(np.vstack(chosen), 6), axis=0)
    ranked: list[Candidate] = []
    for start in range(0, len(z_fit), 120):
        check(cancel)
        batch = evaluate_points(data, predictor, z_fit[start : start + 120], config, cancel, bond)
        ranked = sorted(ranked + batch, key=lambda c: c.rw)
        if on_batch is not None:
            on_batch(ranked)
    in_region = [c for c in ranked if inside_region(c.latent[None], center, radius)[0]]
    region_best = in_region[0] if in_region else None
    findings = _findings(ranked, region_best, center, radius)
    return SearchOutcome(ranked, land, basins, region_best, findings)


def _findings(ranked, region_best, center, radius) -> list[Diagnostic]:
    if not ranked:
        return []
    best = ranked[0]
    if inside_region(best.latent[None], center, radius)[0]:
        return []
    radius = np.broadcast_to(np.maximum(np.asarray(radius, float), 1e-12), (2,))
    how_far = float(np.sqrt((((best.latent - np.asarray(center)) / radius) ** 2).sum()))
    where = (
        f"the best fit ({best.nearest_type}, {best.n_atoms} atoms, Rw {best.rw:.3f}) lies "
        f"{how_far:.1f}× the searched region's radius from the prior's centre"
    )
    if region_best is None:
        return [
            Diagnostic(
                "region-disagrees",
                f"The data fit best far from where the model places them: {where}; "
                "no candidate inside the region was fitted.",
                "info",
            )
        ]
    if region_best.rw - best.rw > DISAGREE_RW:
        return [
            Diagnostic(
                "region-disagrees",
                f"The data fit best far from where the model places them: {where}; "
                f"inside the region the best is {region_best.nearest_type} "
                f"({region_best.n_atoms} atoms) at Rw {region_best.rw:.3f}.",
                "info",
            )
        ]
    return []
