"""Pair histograms of the size extension's built shapes, in bond units, cached per user.

A built shape (:mod:`deepstruc_gui.science.cluster_families`) never changes: its
geometry depends only on its family and size parameters, in bond units. Its pair
histogram in bond units is therefore computed once — with the engine's own
:func:`deepstruc_gui.science.debye.pair_histogram` (exact Lagrange weights) on a
grid of :data:`SHAPE_BIN` bond units — and kept beside the shapes in the user's
cache folder (one ``.npz`` per family, a version tag in the name) and in memory for
the process. The fitter takes them as
:class:`~deepstruc_gui.science.histogram_clusters.HistogramCluster` objects at the
data's bond length, which removes the pair-distance work (N² pairs: 2 M for a
2,000-atom cluster) from every fit.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Sequence

import numpy as np
import torch

from deepstruc_gui.science.cluster_families import FamilyShape, cache_folder
from deepstruc_gui.science.debye import pad_structures, pair_histogram
from deepstruc_gui.science.histogram_clusters import HistogramCluster
from deepstruc_gui.util.atomic import atomic_write

#: histogram bin in bond units (0.007 Å at a 2.8 Å bond): with the fitter's own 0.01 Å
#: grid after it, ``Σ sin(Qd)/d`` stays within ~1e-5 of the pair sum at Qmax 25 Å⁻¹.
#: (The landscape's faster builder, :func:`deepstruc_gui.model.coarse.
#: grouped_pair_histograms`, moves each distance to one of 8 sub-bins: measured on a
#: 309-atom icosahedron, 1 % off at Q = 20 Å⁻¹ and fits 5e-4 off in Rw — fine for a
#: coarse map, not for the ranked fit.)
SHAPE_BIN = 0.0025
#: bump when the builder or SHAPE_BIN changes: old files are then ignored
_VERSION = 2

_MEMORY: dict[tuple[str, str, int], HistogramCluster] = {}
_LOADED: set[str] = set()


def _key(shape: FamilyShape) -> tuple[str, str, int]:
    return shape.family, shape.label, shape.n_atoms


def _path(family: str):
    from deepstruc_gui.science import cluster_families as cf

    slug = family.lower().replace(" ", "-")
    folder = cache_folder() / f"cluster-families-v{cf._CACHE_VERSION}"
    return folder / f"{slug}-pairs-v{_VERSION}.npz"


def shape_histograms(shapes: Sequence[FamilyShape]) -> list[HistogramCluster]:
    """The pair histograms (bond units, ``bond_length`` 1) of built shapes, in order.

    Each comes from memory, else from the user's cache file of its family, else is
    built (all missing shapes of one call at once) and added to that file (a
    read-only cache folder only costs the rebuild next time).
    """
    for family in dict.fromkeys(s.family for s in shapes):
        if family not in _LOADED:
            _LOADED.add(family)
            _MEMORY.update(_load(family))
    todo = list({_key(s): s for s in shapes if _key(s) not in _MEMORY}.values())
    if todo:
        for shape, hist in zip(todo, _build(todo), strict=True):
            _MEMORY[_key(shape)] = hist
        for family in dict.fromkeys(s.family for s in todo):
            with contextlib.suppress(OSError):
                _save(family)
    return [_MEMORY[_key(s)] for s in shapes]


def _build(shapes: Sequence[FamilyShape]) -> list[HistogramCluster]:
    """Histograms of every pair of each shape (bond units), trimmed past its diameter:
    the engine's exact Lagrange spreading, one shape at a time (bounded memory)."""
    out = []
    for s in shapes:
        n_bins = math.ceil(s.diameter / SHAPE_BIN) + 8
        pos, mask = pad_structures([s.positions], torch.float32)
        hist = pair_histogram(pos, mask, SHAPE_BIN, n_bins, 0.0, math.inf)[0]
        out.append(HistogramCluster(hist.numpy(), SHAPE_BIN, s.n_atoms, 1.0, s.diameter))
    return out


def _save(family: str) -> None:
    rows = [(k, h) for k, h in _MEMORY.items() if k[0] == family]
    lengths = np.array([len(h.counts) for _, h in rows], dtype=np.int64)
    with atomic_write(_path(family), "wb") as fh:
        np.savez_compressed(
            fh,
            labels=np.array(json.dumps([k[1] for k, _ in rows])),
            n_atoms=np.array([k[2] for k, _ in rows], dtype=np.int64),
            diameters=np.array([h.diameter for _, h in rows]),
            lengths=lengths,
            counts=np.concatenate([h.counts for _, h in rows]).astype(np.float32),
            bin_width=np.array(SHAPE_BIN),
        )


def _load(family: str) -> dict[tuple[str, str, int], HistogramCluster]:
    """The cached histograms of one family ({} when the file is missing or unreadable)."""
    try:
        with np.load(_path(family), allow_pickle=False) as z:
            labels = json.loads(str(z["labels"]))
            n_atoms, diameters = z["n_atoms"], z["diameters"]
            lengths, counts = z["lengths"], z["counts"]
            bin_width = float(z["bin_width"])
    except (OSError, KeyError, ValueError):
        return {}
    if bin_width != SHAPE_BIN or not (len(labels) == len(n_atoms) == len(lengths)):
        return {}
    if lengths.sum() != len(counts):
        return {}
    parts = np.split(counts, np.cumsum(lengths)[:-1]) if len(lengths) else []
    return {
        (family, label, int(n)): HistogramCluster(part, SHAPE_BIN, int(n), 1.0, float(d))
        for label, n, d, part in zip(labels, n_atoms, diameters, parts, strict=True)
    }


def clear_memory() -> None:
    """Forget the histograms held in memory (tests; a changed cache folder)."""
    _MEMORY.clear()
    _LOADED.clear()
