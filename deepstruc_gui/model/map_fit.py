"""A designed latent map: one axis carries the cubic (fcc) fraction, the other size.

Why: trained freely, the stacking model's map is ordered by atom count (it explains
~80 % of a structure's position), so over the whole map faulted clusters do not lie
between fcc and hcp (13 %; Spearman ρ of fcc fraction along the hcp→fcc axis 0.03),
although they do within groups of equal size (72 %). The paper's picture — faulted
structures between fcc and hcp, ordered by how cubic they are — is what teachers
read from the map.

:func:`designed_layout` gives every structure a target point:

* x = ``x_scale`` · (fcc fraction − ½): hcp on the left, fcc on the right;
* y = ``y_scale`` · standardised ln(atom count) (mean and spread over the shapes);
* plus a small deterministic spread, so that distinct shapes of equal fraction and
  size (up to 14 in the stacking library: sequences that differ only in where the
  cubic layers sit, and patches of another axis site) stay apart — the decoder has
  to tell them apart (its Fourier features resolve a few hundredths of a unit; see
  docs/MODEL.md). Members of one (fraction, count) cell sit on a sunflower spiral
  (Vogel 1979) in the order of their labels; then a few rounds of pairwise pushes
  keep distinct shapes at least ``min_distance`` apart. The same shape at every bond
  length (one decoder target in bond units) gets one point.

:func:`refit_map` makes those points the bundle's map and the posteriors of its
training and validation structures (σ fixed and small): the encoder's posterior head
could not be fitted to them (see :func:`refit_map`). The decoder and the prior then
no longer match the map: ``refit-decoder`` (a new decoder) and ``refit-prior`` must
follow (scripts/train-models.sh); both take the posteriors from the map
(:func:`designed_posteriors`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deepstruc_gui.model.bundle import LatentMap, ModelBundle, refit_metadata, save_bundle
from deepstruc_gui.model.library import Library, shape_label

#: golden angle (radians) of the sunflower spiral
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))


@dataclass
class MapFitConfig:
    """Settings of a map refit: the layout (axis scales in latent units, the spread of
    a cell's members and the smallest distance kept between distinct shapes), the
    posterior σ every map point gets."""

    x_scale: float = 3.0
    y_scale: float = 1.0
    spread: float = 0.025
    min_distance: float = 0.03
    sigma: float = 0.005


def designed_layout(
    names, fcc_fraction, n_atoms, config: MapFitConfig | None = None
) -> tuple[np.ndarray, dict]:
    """Target map points (n, 2), latent units, for structures named ``SEQ_PATCH_METAL_d``
    with their fcc fraction (0 = hcp … 1 = fcc) and atom count; and the layout's
    description (axes, the mean and spread of ln N used), as stored in the bundle.

    Deterministic: the same inputs give the same points. Raises ``ValueError`` when a
    fraction is undefined (NaN: fewer than three layers)."""
    config = config or MapFitConfig()
    f = np.asarray(fcc_fraction, dtype=float)
    n = np.asarray(n_atoms, dtype=float)
    if not np.isfinite(f).all():
        raise ValueError("every structure needs an fcc fraction (three or more layers)")
    labels = [shape_label(str(name)) for name in names]
    shapes = sorted(set(labels))
    first = {s: labels.index(s) for s in reversed(labels)}
    log_n = np.log(np.array([n[first[s]] for s in shapes]))
    mean, std = float(log_n.mean()), float(log_n.std()) or 1.0
    base = np.column_stack(
        [
            config.x_scale * (np.array([f[first[s]] for s in shapes]) - 0.5),
            config.y_scale * (log_n - mean) / std,
        ]
    )
    cells: dict[tuple, list[int]] = defaultdict(list)
    for k, s in enumerate(shapes):
        cells[(round(float(f[first[s]]), 4), int(n[first[s]]))].append(k)
    points = base.copy()
    for members in cells.values():
        k = np.arange(len(members))
        radius = config.spread * np.sqrt(k + 0.5)
        offsets = radius[:, None] * np.column_stack(
            [np.cos(k * GOLDEN_ANGLE), np.sin(k * GOLDEN_ANGLE)]
        )
        points[members] += offsets - offsets.mean(axis=0)
    points = _separate(points, config.min_distance)
    index = {s: k for k, s in enumerate(shapes)}
    layout = {
        "x": f"{config.x_scale:g} · (fcc fraction − 0.5)",
        "y": f"{config.y_scale:g} · (ln N − {mean:.4f}) / {std:.4f}",
        "spread": config.spread,
        "min_distance": config.min_distance,
        "shapes": len(shapes),
        "smallest_distance": round(_smallest_distance(points), 5),
    }
    return points[[index[s] for s in labels]], layout


def _smallest_distance(points: np.ndarray) -> float:
    from scipy.spatial import cKDTree

    d, _ = cKDTree(points).query(points, k=2)
    return float(d[:, 1].min())


def _separate(points: np.ndarray, min_distance: float, rounds: int = 200) -> np.ndarray:
    """Push pairs closer than ``min_distance`` apart, half the shortfall each, until
    none is (or ``rounds`` passes); identical points are split along x by index."""
    from scipy.spatial import cKDTree

    points = points.copy()
    for _ in range(rounds):
        pairs = np.array(sorted(cKDTree(points).query_pairs(min_distance * (1 - 1e-6))))
        if len(pairs) == 0:
            break
        i, j = pairs[:, 0], pairs[:, 1]
        diff = points[j] - points[i]
        dist = np.linalg.norm(diff, axis=1)
        direction = np.where(dist[:, None] > 1e-9, diff / np.maximum(dist, 1e-9)[:, None], [1, 0])
        push = 0.5 * (min_distance - dist)[:, None] * direction * 1.01
        np.add.at(points, i, -push)
        np.add.at(points, j, push)
    return points


def map_axis_titles(metadata: dict) -> tuple[str, str]:
    """What the map's two axes carry, for its axis titles: ``("z₁", "z₂")`` on a map
    its encoder drew; on a designed map (bundle ``map_fit.layout``) the formulas, e.g.
    ``"z₁ = 3 · (fcc fraction − 0.5): hcp ← → fcc"`` and
    ``"z₂ = 1 · (ln N − 4.3804) / 0.5320: N atoms"``."""
    layout = (metadata.get("map_fit") or {}).get("layout") or {}
    if "x" not in layout or "y" not in layout:
        return "z₁", "z₂"
    return f"z₁ = {layout['x']}: hcp ← → fcc", f"z₂ = {layout['y']}: N atoms"


def designed_posteriors(bundle: ModelBundle, names) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Posterior mean and log σ, (m, 2) each, of the structures ``names`` on a bundle
    whose map was designed (:func:`refit_map`); None for a bundle whose map is its
    encoder's. The refits of the decoder and the prior fit to these points.

    Raises ``ValueError`` naming a structure the map does not hold (a designed map
    holds the training and validation structures)."""
    if "map_fit" not in bundle.metadata:
        return None
    m = bundle.latent_map
    row = {name: k for k, name in enumerate(m.names)}
    missing = [str(n) for n in names if str(n) not in row]
    if missing:
        raise ValueError(
            f"{bundle.path}: the designed map has no point for {missing[0]} "
            f"({len(missing)} structures missing): refit the map on this library"
        )
    rows = [row[str(n)] for n in names]
    mean = torch.as_tensor(m.mu[rows], dtype=torch.float32)
    return mean, torch.as_tensor(np.log(m.sigma[rows]), dtype=torch.float32)


def refit_map(
    bundle_path: str | Path,
    library_path: str | Path,
    out_dir: str | Path,
    config: MapFitConfig | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Give the training and validation structures of ``library_path`` their designed
    points (see the module doc) as the map of ``bundle_path``, write the bundle to
    ``out_dir`` and return the figures stored under ``map_fit``.

    The points are the structures' posteriors from now on (σ = ``config.sigma``):
    :func:`designed_posteriors` gives them to ``refit-decoder`` and ``refit-prior``.
    The encoder's own posterior head could not be fitted to them: the frozen graph
    embedding gives 518 of the 1,671 stacking structures the embedding of another
    shape, and a head reading the PDF conditioning as well memorised the metals of
    the training split (0.014 units from its targets) but missed the same shapes at
    other metals by 0.15 — five times the spacing of the layout (docs/MODEL.md).

    Only stacking libraries have an fcc fraction; ``ValueError`` for others."""
    config = config or MapFitConfig()
    bundle = ModelBundle.load(bundle_path)
    net = bundle.load_network("cpu")
    with Library.open(library_path) as library:
        if library.kind != "stacking":
            raise ValueError(
                f"{library_path}: a designed map needs stacked clusters (an fcc fraction), "
                f"not a {library.kind!r} library"
            )
        indices = np.concatenate([library.indices("train"), library.indices("val")])
        names = [str(library.names[i]) for i in indices]
        fraction = library.fcc_fraction[indices].astype(float)
        target, layout = designed_layout(names, fraction, library.n_atoms[indices], config)
        split_names = ("train", "val", "test")
        latent_map = LatentMap(
            mu=target,
            sigma=np.full_like(target, config.sigma),
            types=[str(library.types[i]) for i in indices],
            n_atoms=library.n_atoms[indices].astype(int),
            metals=[str(library.metals[i]) for i in indices],
            names=names,
            split=[split_names[int(library.split[i])] for i in indices],
            fcc_fraction=fraction,
        )
    from deepstruc_gui.model.evaluation import stacking_order

    order = stacking_order(latent_map.mu, latent_map.fcc_fraction, latent_map.names)
    figures = {
        "layout": layout,
        "posterior": "designed: the map points are the posteriors of the training and "
        "validation structures; the graph encoder no longer places them",
        "sigma": config.sigma,
        "stacking_order": order,
        "needs": "the decoder and the prior fitted to these points after this step "
        "(refit-decoder, refit-prior: their records are decoder_fit and prior_fit)",
    }
    log(
        f"designed map of {layout['shapes']} shapes, closest pair {layout['smallest_distance']}; "
        f"order ρ {order['spearman_fcc_fraction_vs_axis']}, faulted between "
        f"{order['faulted_between_fraction']}"
    )
    meta = refit_metadata(bundle, map_fit=figures)
    save_bundle(out_dir, net, meta, latent_map)
    return figures
