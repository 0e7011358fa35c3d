"""Training libraries: clusters, their simulated PDFs and graphs, in one HDF5 file.

The format is documented in docs/LIBRARY_FORMAT.md. Building is deterministic (no
timestamps, fixed seed, fixed enumeration order) and cheap enough to redo: shapes are
built once at unit bond length and rescaled per distinct metal radius; PDFs come from
the batched Debye engine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from deepstruc_gui.science.debye import TRAINING_PARAMETERS, PDFParameters, simulate_pdfs
from deepstruc_gui.science.structures import neighbour_edges

FORMAT = "deepstruc-library"
VERSION = 1
EDGE_CUTOFF_FACTOR = 1.02
SPLIT_NAMES = ("train", "val", "test")


class LibraryError(Exception):
    """A file that is not a usable DeepStruc library (message names the file)."""


@dataclass
class Entry:
    """One cluster before it is stored."""

    positions: np.ndarray
    type: str
    metal: str
    metals: list[str]
    nn_distance: float
    size_params: dict
    name: str
    sequence: str = ""
    fcc_fraction: float = float("nan")


@dataclass
class LibraryEntry:
    """One stored cluster, as the model reads it."""

    index: int
    positions: np.ndarray
    pdf: np.ndarray
    type: str
    metal: str
    name: str
    n_atoms: int
    nn_distance: float
    edge_index: np.ndarray
    edge_length: np.ndarray
    split: str
    sequence: str
    fcc_fraction: float


def stratified_split(types: Sequence[str], seed: int = 0, fractions=(0.6, 0.2, 0.2)) -> np.ndarray:
    """0 train / 1 validation / 2 test, the same fractions within every type."""
    rng = np.random.default_rng(seed)
    types = np.asarray(types)
    split = np.zeros(len(types), dtype=np.uint8)
    for kind in sorted(set(types.tolist())):
        idx = np.flatnonzero(types == kind)
        idx = idx[rng.permutation(len(idx))]
        n_train = round(fractions[0] * len(idx))
        n_val = round(fractions[1] * len(idx))
        split[idx[n_train : n_train + n_val]] = 1
        split[idx[n_train + n_val :]] = 2
    return split


def write_library(
    path: str | os.PathLike,
    entries: Sequence[Entry],
    kind: str,
    params: PDFParameters = TRAINING_PARAMETERS,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Simulate PDFs, build graphs and write everything atomically to ``path``."""
    path = Path(path)
    structures = [e.positions for e in entries]
    if progress:
        progress(f"simulating {len(entries)} PDFs")
    pdfs = simulate_pdfs(structures, params, batch_size=128)
    pdfs = pdfs / np.max(pdfs, axis=1, keepdims=True)
    edges, lengths, edge_offsets = [], [], [0]
    for e in entries:
        ei, el = neighbour_edges(e.positions, EDGE_CUTOFF_FACTOR * e.nn_distance)
        edges.append(ei)
        lengths.append(el)
        edge_offsets.append(edge_offsets[-1] + ei.shape[1])
    offsets = np.cumsum([0] + [len(s) for s in structures]).astype(np.int64)
    split = stratified_split([e.type for e in entries], seed)
    tmp = path.with_name(f".{path.name}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    str_dt = h5py.string_dtype()
    with h5py.File(tmp, "w", track_order=True) as f:
        f.attrs["format"] = FORMAT
        f.attrs["version"] = VERSION
        f.attrs["library"] = kind
        f.attrs["pdf_parameters"] = json.dumps(params.to_dict(), sort_keys=True)
        f.attrs["r_grid"] = json.dumps(
            {
                "rmin": params.rmin,
                "rmax": params.rmax,
                "rstep": params.rstep,
                "n": int(params.r_grid.size),
            }
        )
        f.attrs["edge_cutoff_factor"] = EDGE_CUTOFF_FACTOR
        f.attrs["split_seed"] = seed
        f.attrs["split_names"] = json.dumps(SPLIT_NAMES)
        f.create_dataset("positions", data=np.concatenate(structures).astype(np.float32))
        f.create_dataset("offsets", data=offsets)
        f.create_dataset(
            "pdf", data=pdfs.astype(np.float32), chunks=(min(64, len(pdfs)), pdfs.shape[1])
        )
        f.create_dataset("n_atoms", data=np.diff(offsets).astype(np.int32))
        f.create_dataset("type", data=[e.type for e in entries], dtype=str_dt)
        f.create_dataset("metal", data=[e.metal for e in entries], dtype=str_dt)
        f.create_dataset("metals", data=[",".join(e.metals) for e in entries], dtype=str_dt)
        f.create_dataset("name", data=[e.name for e in entries], dtype=str_dt)
        f.create_dataset(
            "size_params",
            data=[json.dumps(e.size_params, sort_keys=True) for e in entries],
            dtype=str_dt,
        )
        f.create_dataset("nn_distance", data=np.array([e.nn_distance for e in entries], np.float32))
        f.create_dataset("edges", data=np.concatenate(edges, axis=1).astype(np.int32))
        f.create_dataset("edge_offsets", data=np.array(edge_offsets, dtype=np.int64))
        f.create_dataset("edge_length", data=np.concatenate(lengths).astype(np.float32))
        f.create_dataset("split", data=split)
        f.create_dataset("sequence", data=[e.sequence for e in entries], dtype=str_dt)
        f.create_dataset(
            "fcc_fraction", data=np.array([e.fcc_fraction for e in entries], np.float32)
        )
    os.replace(tmp, path)
    return path


class Library:
    """Read access to a library file; bulk arrays are loaded once (they are small)."""

    def __init__(self, path: Path, handle: h5py.File) -> None:
        self.path = path
        self._f = handle
        self.kind = str(handle.attrs["library"])
        self.parameters = PDFParameters.from_dict(json.loads(handle.attrs["pdf_parameters"]))
        self.offsets = handle["offsets"][:]
        self.positions = handle["positions"][:]
        self.pdfs = handle["pdf"][:]
        self.n_atoms = handle["n_atoms"][:]
        self.types = handle["type"].asstr()[:].astype(str)
        self.metals = handle["metal"].asstr()[:].astype(str)
        self.names = handle["name"].asstr()[:].astype(str)
        self.nn_distance = handle["nn_distance"][:]
        self.split = handle["split"][:]
        self.edges = handle["edges"][:]
        self.edge_offsets = handle["edge_offsets"][:]
        self.edge_length = handle["edge_length"][:]
        self.sequences = handle["sequence"].asstr()[:].astype(str)
        self.fcc_fraction = handle["fcc_fraction"][:]
        self.size_params = [json.loads(s) for s in handle["size_params"].asstr()[:]]

    @classmethod
    def open(cls, path: str | os.PathLike) -> Library:
        path = Path(path)
        if not path.is_file():
            raise LibraryError(f"{path}: no such library file")
        try:
            handle = h5py.File(path, "r")
        except OSError as exc:
            raise LibraryError(f"{path}: not an HDF5 file ({exc})") from exc
        if handle.attrs.get("format") != FORMAT:
            handle.close()
            raise LibraryError(f"{path}: not a DeepStruc library (format attribute missing)")
        if int(handle.attrs.get("version", -1)) != VERSION:
            handle.close()
            raise LibraryError(
                f"{path}: library version {handle.attrs.get('version')} "
                f"is not supported (expected {VERSION})"
            )
        try:
            return cls(path, handle)
        except KeyError as exc:
            handle.close()
            raise LibraryError(f"{path}: incomplete library, missing {exc}") from exc

    def close(self) -> None:
        self._f.close()

    def __len__(self) -> int:
        return len(self.n_atoms)

    def indices(self, split: str | None = None) -> np.ndarray:
        if split is None:
            return np.arange(len(self))
        return np.flatnonzero(self.split == SPLIT_NAMES.index(split))

    def structure(self, i: int) -> np.ndarray:
        return self.positions[self.offsets[i] : self.offsets[i + 1]].astype(np.float64)

    def entry(self, i: int) -> LibraryEntry:
        e0, e1 = self.edge_offsets[i], self.edge_offsets[i + 1]
        return LibraryEntry(
            index=int(i),
            positions=self.structure(i),
            pdf=self.pdfs[i],
            type=str(self.types[i]),
            metal=str(self.metals[i]),
            name=str(self.names[i]),
            n_atoms=int(self.n_atoms[i]),
            nn_distance=float(self.nn_distance[i]),
            edge_index=self.edges[:, e0:e1].astype(np.int64),
            edge_length=self.edge_length[e0:e1],
            split=SPLIT_NAMES[int(self.split[i])],
            sequence=str(self.sequences[i]),
            fcc_fraction=float(self.fcc_fraction[i]),
        )


def mmnp_entries(
    metals: Sequence[str] | None = None, max_atoms: int = 200, min_atoms: int = 5
) -> list[Entry]:
    """Seven-type clusters for every distinct metal radius (metals sharing a radius
    give one entry named after the first, listing all of them)."""
    from deepstruc_gui.science.clusters import unique_shapes
    from deepstruc_gui.science.elements import METALS, metals_by_distance

    shapes = unique_shapes(min_atoms, max_atoms)
    entries = []
    for nn, group in metals_by_distance(list(metals or METALS)).items():
        for shape in shapes:
            entries.append(
                Entry(
                    positions=shape.positions * nn,
                    type=shape.type,
                    metal=group[0],
                    metals=list(group),
                    nn_distance=nn,
                    size_params=dict(shape.params),
                    name=f"{shape.label}_{group[0]}_{nn:.2f}",
                )
            )
    return entries


def stacking_entries(metals=None, max_atoms: int = 200, min_atoms: int = 5):
    """Library entries for every unique (sequence, patch) and metal distance."""
    from scipy.spatial.distance import pdist

    from deepstruc_gui.science.elements import metals_by_distance
    from deepstruc_gui.science.stacking import (
        DEFAULT_METALS,
        LAYER_COUNTS,
        PATCH_RADII,
        fcc_fraction,
        sequences,
        stacked_cluster,
        stacking_type,
    )

    shapes, seen = [], set()
    for n_layers in LAYER_COUNTS:
        for seq in sequences(n_layers):
            for radius in PATCH_RADII:
                pos = stacked_cluster(seq, radius)
                if not min_atoms <= len(pos) <= max_atoms:
                    continue
                key = (len(pos), np.round(np.sort(pdist(pos)), 3).tobytes())
                if key in seen:  # reversed or mirrored sequences give the same cluster
                    continue
                seen.add(key)
                shapes.append((seq, radius, pos))
    entries = []
    for nn, group in metals_by_distance(list(metals or DEFAULT_METALS)).items():
        for seq, radius, pos in shapes:
            entries.append(
                Entry(
                    positions=pos * nn,
                    type=stacking_type(seq),
                    metal=group[0],
                    metals=list(group),
                    nn_distance=nn,
                    size_params={"layers": len(seq), "patch_radius": radius},
                    name=f"{seq}_R{radius:g}_{group[0]}_{nn:.2f}",
                    sequence=seq,
                    fcc_fraction=fcc_fraction(seq),
                )
            )
    return entries


def build_library(
    kind: str,
    out_path: str | os.PathLike,
    metals: Sequence[str] | None = None,
    max_atoms: int = 200,
    seed: int = 0,
    progress: bool = True,
    params: PDFParameters = TRAINING_PARAMETERS,
) -> Path:
    """Build the ``mmnp`` or ``stacking`` library and write it to ``out_path``."""
    report = print if progress else None
    if kind == "mmnp":
        entries = mmnp_entries(metals, max_atoms)
    elif kind == "stacking":
        entries = stacking_entries(metals, max_atoms)
    else:
        raise ValueError(f"unknown library {kind!r}: choose mmnp or stacking")
    if report:
        report(f"{kind}: {len(entries)} unique clusters")
    return write_library(out_path, entries, kind, params, seed, report)
