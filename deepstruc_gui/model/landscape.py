"""The Rw landscape: how well the loaded data fit everywhere on the latent map.

Every training-map point and a grid over the map's box are decoded and scored with
the coarse pass of :mod:`deepstruc_gui.model.coarse` (scale exact, expansion and
Biso scanned; ~0.2 ms a point once a model's pair histograms are cached), in stages
so a picture appears at once and fills in:

1. ``first``: a spread subset of map points and a coarse grid (the first picture);
2. ``map``: the remaining map points and the full grid;
3. ``refine``: half-step points around the grid's lowest-Rw nodes;
4. ``fit``: the full fit (:func:`~deepstruc_gui.science.fitting.fit_candidates`,
   the one every search uses) at the ``n_fit`` lowest points: ``rw_fit`` there.

``on_update(landscape)`` receives a consistent snapshot after every batch; the cancel
token is checked between batches (a cancelled computation raises ``Cancelled``; the
last snapshot is a consistent partial picture).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from deepstruc_gui.model.coarse import CoarseScorer, PairHistogramCache
from deepstruc_gui.model.solve import map_box, whole_map_points
from deepstruc_gui.science.fitting import fit_candidates
from deepstruc_gui.science.parameters import FitConfig
from deepstruc_gui.util.ahead import Ahead
from deepstruc_gui.util.atomic import atomic_write, atomic_write_bytes
from deepstruc_gui.util.cancel import CancelToken, check

SOURCES = ("map", "grid", "refine")
STAGES = ("first", "map", "refine", "fit")


@dataclass(frozen=True)
class LandscapeSettings:
    """How dense and how far: ``grid`` nodes per axis over the map's box widened by
    ``margin`` of its extent per side; ``first_map``/``first_grid``: map points and
    grid nodes per axis of the first picture; ``refine_fraction``: grid nodes (lowest
    Rw first) that get half-step neighbours; ``n_fit``: lowest points fully fitted;
    ``batch_size``: points per streamed batch."""

    grid: int = 45
    margin: float = 0.1
    first_map: int = 250
    first_grid: int = 12
    refine_fraction: float = 0.03
    n_fit: int = 24
    batch_size: int = 1024


@dataclass
class Landscape:
    """Rw over latent points, in the order they were computed (arrays of length n).

    ``z`` (n, 2) map units; ``rw``: coarse Rw (scale exact, expansion α and Biso
    scanned, delta2 and Qdamp fixed; PDFgui's unweighted Rw over the fit range);
    ``alpha``: expansion relative to the data's bond length; ``biso`` (Å²); ``n_atoms``
    and ``types`` (nearest training structure's type) of the decoded cluster;
    ``source``: index into ``SOURCES``; ``stage``: index into ``STAGES``; ``rw_fit``:
    Rw of the full fit where it ran, NaN elsewhere. ``box``: (lo, hi) corners of the
    gridded box; ``bond``: the data's nearest-neighbour distance (Å); ``info``: data
    file, model, fit range, timings.
    """

    z: np.ndarray
    rw: np.ndarray
    alpha: np.ndarray
    biso: np.ndarray
    n_atoms: np.ndarray
    types: np.ndarray
    source: np.ndarray
    stage: np.ndarray
    rw_fit: np.ndarray
    box: tuple[np.ndarray, np.ndarray]
    bond: float
    complete: bool = False
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rw)

    @property
    def best_rw(self) -> np.ndarray:
        """Per point: the full fit's Rw where it ran, else the coarse Rw."""
        return np.where(np.isfinite(self.rw_fit), self.rw_fit, self.rw)

    def lowest(self, k: int) -> np.ndarray:
        """Indices of the ``k`` lowest coarse Rw values, lowest first."""
        return np.argsort(self.rw, kind="stable")[:k]

    def nearest(self, z) -> int:
        """Index of the computed point nearest latent point ``z`` (for hover)."""
        return int(np.argmin(((self.z - np.asarray(z, float)[None, :2]) ** 2).sum(1)))

    def image(self, shape: tuple[int, int] = (200, 200), reach: float = 2.0) -> np.ndarray:
        """Rw on a regular grid over ``box``: (nx, ny), x along axis 0 (pyqtgraph's
        ImageItem order), the value of the nearest computed point, NaN where none lies
        within ``reach`` grid steps of the landscape's own grid."""
        from scipy.spatial import cKDTree

        lo, hi = self.box
        xs = np.linspace(lo[0], hi[0], shape[0])
        ys = np.linspace(lo[1], hi[1], shape[1])
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        if len(self) == 0:
            return np.full(shape, np.nan)
        step = (hi - lo) / max(int(self.info.get("grid", 45)) - 1, 1)
        tree = cKDTree(self.z / step)
        dist, idx = tree.query(np.column_stack([gx.ravel(), gy.ravel()]) / step)
        values = self.best_rw[idx]
        values[dist > reach] = np.nan
        return values.reshape(shape)

    # --- files --------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Everything, as the bytes of a compressed ``.npz`` (read back with :meth:`load`
        from a path or a ``BytesIO``); the file format and the session's both."""
        import io

        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            z=self.z,
            rw=self.rw,
            alpha=self.alpha,
            biso=self.biso,
            n_atoms=self.n_atoms,
            types=self.types.astype(str),
            source=self.source,
            stage=self.stage,
            rw_fit=self.rw_fit,
            box=np.vstack(self.box),
            bond=np.array(self.bond),
            complete=np.array(self.complete),
            info=np.array(json.dumps(self.info)),
        )
        return buffer.getvalue()

    def save(self, path: str | Path) -> None:
        """Everything, as a compressed ``.npz`` (read back with :meth:`load`)."""
        atomic_write_bytes(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> Landscape:
        """A landscape written by :meth:`save`; ``ValueError`` naming the file if not."""
        try:
            with np.load(path, allow_pickle=False) as f:
                box = f["box"]
                return cls(
                    z=f["z"],
                    rw=f["rw"],
                    alpha=f["alpha"],
                    biso=f["biso"],
                    n_atoms=f["n_atoms"],
                    types=f["types"],
                    source=f["source"],
                    stage=f["stage"],
                    rw_fit=f["rw_fit"],
                    box=(box[0], box[1]),
                    bond=float(f["bond"]),
                    complete=bool(f["complete"]),
                    info=json.loads(str(f["info"])),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: not a saved Rw landscape ({exc})") from exc

    def export_csv(self, path: str | Path) -> None:
        """One row per computed point: z1, z2, Rw (coarse), Rw of the full fit, α,
        Biso, atoms, type, source."""
        with atomic_write(path) as fh:
            fh.write("# Rw landscape; " + json.dumps(self.info) + "\n")
            fh.write("z1,z2,rw_coarse,rw_fit,expansion,biso,n_atoms,type,source\n")
            for i in range(len(self)):
                fit = "" if not np.isfinite(self.rw_fit[i]) else f"{self.rw_fit[i]:.6g}"
                fh.write(
                    f"{self.z[i, 0]:.6g},{self.z[i, 1]:.6g},{self.rw[i]:.6g},{fit},"
                    f"{self.alpha[i]:.4g},{self.biso[i]:.4g},{int(self.n_atoms[i])},"
                    f"{self.types[i]},{SOURCES[int(self.source[i])]}\n"
                )

    def export_grid(self, path: str | Path, shape: tuple[int, int] = (200, 200)) -> None:
        """The heat-map grid (:meth:`image`) with its axes, as ``.npz`` (z1, z2, rw)."""
        import io

        lo, hi = self.box
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            z1=np.linspace(lo[0], hi[0], shape[0]),
            z2=np.linspace(lo[1], hi[1], shape[1]),
            rw=self.image(shape),
        )
        atomic_write_bytes(path, buffer.getvalue())


def grid_points(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    """An n × n grid over the box, (n², 2), x slowest."""
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    return np.column_stack([gx.ravel(), gy.ravel()])


def spread_subset(z: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` of the points spread over the map (every m-th in a
    deterministic order that interleaves the map's regions)."""
    if k >= len(z):
        return np.arange(len(z))
    order = np.lexsort((z[:, 1], z[:, 0]))
    return np.sort(order[np.linspace(0, len(z) - 1, k).round().astype(int)])


class _Builder:
    """Accumulates scored batches and hands out snapshots."""

    def __init__(self, box, bond: float, info: dict) -> None:
        self.parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("z", "rw", "alpha", "biso", "n_atoms", "types", "source", "stage")
        }
        self.box, self.bond, self.info = box, bond, info
        self.rw_fit = np.zeros(0)

    def add(self, **cols: np.ndarray) -> None:
        """Append one scored batch (columns as in :class:`Landscape`, each (b,) or (b, 2))."""
        for key, value in cols.items():
            self.parts[key].append(value)
        n_new = len(cols["rw"])
        self.rw_fit = np.concatenate([self.rw_fit, np.full(n_new, np.nan)])

    def snapshot(self, complete: bool = False) -> Landscape:
        """The points scored so far as a :class:`Landscape` (``complete``: the run ended);
        the batches are concatenated, empty columns have shape (0,) or (0, 2)."""

        def cat(key, dtype, shape=(0,)):
            """The batches of column ``key`` concatenated as ``dtype``, or an empty ``shape``."""
            parts = self.parts[key]
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype)

        return Landscape(
            z=cat("z", float, (0, 2)),
            rw=cat("rw", float),
            alpha=cat("alpha", float),
            biso=cat("biso", float),
            n_atoms=cat("n_atoms", int),
            types=cat("types", str),
            source=cat("source", np.int8),
            stage=cat("stage", np.int8),
            rw_fit=self.rw_fit.copy(),
            box=self.box,
            bond=self.bond,
            complete=complete,
            info=dict(self.info),
        )


def compute_landscape(
    data,
    predictor,
    config: FitConfig,
    settings: LandscapeSettings | None = None,
    *,
    bond: float | None = None,
    on_update: Callable[[Landscape], None] | None = None,
    cancel: CancelToken | None = None,
    prepare: np.ndarray | None = None,
) -> Landscape:
    """The Rw landscape of ``data`` (a PDFData) on ``predictor``'s latent map.

    ``config``: the fit configuration of the data (range, simulation parameters,
    bounds); ``bond``: the data's nearest-neighbour distance in Å (read from the data
    when None); ``prepare``: more latent points (n, 2) whose clusters to decode and
    histogram along the way (a search's region, scored next). Returns the complete
    :class:`Landscape`. Raises ``ValueError`` when the data do not overlap the fit
    range, ``Cancelled`` when ``cancel`` is set.

    The clusters of the next batches are decoded and histogrammed in a background
    thread while the current batch is scored (torch releases the GIL: the two share
    the cores); the order, the values and every snapshot are those of doing it in turn.
    """
    settings = settings or LandscapeSettings()
    t0 = time.perf_counter()
    if bond is None:
        bond = predictor.bond_length(data.model_input())
    unit = bond if predictor.bond_units else 1.0
    alpha_lo = 0.96
    cache = PairHistogramCache.for_predictor(
        predictor, config.params.rcalc_high / (alpha_lo * unit)
    )
    map_z = whole_map_points(predictor)
    lo, hi = map_box(map_z, settings.margin)
    first_map = spread_subset(map_z, settings.first_map)
    grid_z = grid_points(lo, hi, settings.grid)
    step = max(1, (settings.grid - 1) // max(settings.first_grid - 1, 1))
    node = np.arange(len(grid_z))
    first_grid = ((node // settings.grid) % step == 0) & ((node % settings.grid) % step == 0)
    rest = np.ones(len(map_z), bool)
    rest[first_map] = False
    # (points, source, stage) of the first two stages, in the order they are shown
    jobs = [
        (map_z[first_map], 0, 0),
        (grid_z[first_grid], 1, 0),
        (map_z[rest], 0, 1),
        (grid_z[~first_grid], 1, 1),
    ]

    def clusters_of(zb: np.ndarray) -> tuple:
        """Pair histograms, atom counts and types of the clusters at ``zb`` (background)."""
        # one core here (the setting is per thread): the scorer's products use the rest
        torch.set_num_threads(1)
        hist, n_atoms = cache.histograms(zb)
        return hist, n_atoms, _types(predictor, zb)

    ahead = Ahead(clusters_of)
    try:
        batches = [
            (z[i : i + settings.batch_size], source, stage)
            for z, source, stage in jobs
            for i in range(0, len(z), settings.batch_size)
        ]
        ahead.submit([zb for zb, _, _ in batches])
        if prepare is not None and len(prepare):
            ahead.submit([np.asarray(prepare, float).reshape(-1, 2)], keep=False)
        scorer = CoarseScorer.for_data(data.r, data.g, config, unit, cache.n_bins)
        info = {
            "data": str(getattr(data, "path", None)),
            "model": predictor.bundle.name,
            "fit_range": [config.rmin, config.rmax],
            "grid": settings.grid,
            "rw": "coarse: scale exact, expansion and Biso scanned, delta2/Qdamp fixed",
        }
        out = _Builder((lo, hi), float(bond), info)
        stage_times: dict[str, float] = {}

        def run(batches: list[tuple[np.ndarray, int, int]]) -> None:
            """Score the batches ``(z (b, 2), source, stage)`` prepared by ``ahead``, in
            order, adding each; raises ``Cancelled`` when the token is set."""
            for zb, source, stage in batches:
                check(cancel)
                hist, n_atoms, types = ahead.next()
                rw, alpha, biso = scorer.score(hist, n_atoms)
                n = len(zb)
                out.add(
                    z=zb,
                    rw=rw,
                    alpha=alpha,
                    biso=biso,
                    n_atoms=n_atoms,
                    types=types,
                    source=np.full(n, source),
                    stage=np.full(n, stage),
                )
                if on_update is not None:
                    on_update(out.snapshot())

        n_first = sum(1 for _, _, stage in batches if stage == 0)
        run(batches[:n_first])
        stage_times["first"] = time.perf_counter() - t0
        run(batches[n_first:])
        stage_times["map"] = time.perf_counter() - t0
        refine = _refine_points(out.snapshot(), lo, hi, settings)
        refine_batches = [
            (refine[i : i + settings.batch_size], 2, 2)
            for i in range(0, len(refine), settings.batch_size)
        ]
        ahead.submit([zb for zb, _, _ in refine_batches])
        run(refine_batches)
        stage_times["refine"] = time.perf_counter() - t0
    finally:
        ahead.close()
    _fit_lowest(out, data, predictor, config, bond, settings.n_fit, cancel)
    stage_times["fit"] = time.perf_counter() - t0
    out.info["seconds"] = {k: round(v, 3) for k, v in stage_times.items()}
    result = out.snapshot(complete=True)
    if on_update is not None:
        on_update(result)
    return result


def prepare_landscape(
    predictor,
    settings: LandscapeSettings | None = None,
    x_max: float = 14.0,
    cancel: CancelToken | None = None,
) -> int:
    """Decode and histogram every map and grid point of a landscape ahead of the data.

    They do not depend on the data, so the window can run this in its worker once a
    model is loaded; the first landscape then takes what later ones take. ``x_max``:
    longest pair distance kept, in bond units (14 covers bonds from 2.4 Å at a 30 Å
    fit range). Returns the number of points prepared. Raises ``Cancelled``.
    """
    settings = settings or LandscapeSettings()
    cache = PairHistogramCache.for_predictor(predictor, x_max)
    map_z = whole_map_points(predictor)
    lo, hi = map_box(map_z, settings.margin)
    z = np.vstack([map_z, grid_points(lo, hi, settings.grid)])
    for start in range(0, len(z), settings.batch_size):
        check(cancel)
        cache.histograms(z[start : start + settings.batch_size])
    predictor.candidate_type(map_z[:1])  # builds the map's k-d tree
    return len(z)


def _types(predictor, z: np.ndarray) -> np.ndarray:
    """Type of the nearest training structure (the candidate label)."""
    return np.array(predictor.candidate_type(z))


def _refine_points(land: Landscape, lo, hi, settings: LandscapeSettings) -> np.ndarray:
    """Half-step neighbours of the lowest-Rw grid nodes, not computed yet."""
    grid = np.flatnonzero(land.source == 1)
    if len(grid) == 0:
        return np.zeros((0, 2))
    k = max(1, round(settings.refine_fraction * len(grid)))
    best = grid[np.argsort(land.rw[grid], kind="stable")[:k]]
    half = (hi - lo) / max(settings.grid - 1, 1) / 2
    offsets = np.array([(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)])
    pts = (land.z[best][:, None, :] + offsets[None] * half).reshape(-1, 2)
    pts = pts[((pts >= lo) & (pts <= hi)).all(1)]
    pts = np.unique(np.round(pts, 6), axis=0)
    seen = {tuple(np.round(p, 6)) for p in land.z}
    return np.array([p for p in pts if tuple(p) not in seen]).reshape(-1, 2)


def _fit_lowest(out: _Builder, data, predictor, config, bond, n_fit: int, cancel) -> None:
    """The full fit at the ``n_fit`` lowest coarse points (``rw_fit`` there)."""
    land = out.snapshot()
    if n_fit <= 0 or len(land) == 0:
        return
    check(cancel)
    idx = land.lowest(n_fit)
    clusters = predictor.decode(land.z[idx], bond)
    result = fit_candidates(clusters, data.r, data.g, config, device=predictor.device)
    out.rw_fit[idx] = result.rw
