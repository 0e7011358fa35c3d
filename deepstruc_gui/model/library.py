"""Training libraries: clusters, their simulated PDFs and graphs, in one HDF5 file.

The format is documented in docs/LIBRARY_FORMAT.md. Building is deterministic (no
timestamps, fixed seed, fixed enumeration order, PDFs computed in fixed chunks) and
resumable: finished work is kept in ``<file>.partial`` and reused by the next run of
the same build. Shapes are built once at unit bond length and rescaled per distinct
nearest-neighbour distance; PDFs come from the batched Debye engine.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from deepstruc_gui.science.debye import TRAINING_PARAMETERS, PDFParameters, simulate_pdfs
from deepstruc_gui.science.structures import neighbour_edges

FORMAT = "deepstruc-library"
VERSION = 1
KINDS = ("mmnp", "stacking")
EDGE_CUTOFF_FACTOR = 1.02
SPLIT_NAMES = ("train", "val", "test")
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)
MIN_ATOMS = 5
PDF_CHUNK = 512  # entries per Debye call; fixed, so a resumed build gives the same bytes


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

    def record(self) -> str:
        """Everything but the positions, as JSON (how the partial file keeps it)."""
        d = {k: getattr(self, k) for k in ("type", "metal", "metals", "nn_distance", "name")}
        d |= {"size_params": self.size_params, "sequence": self.sequence}
        d["fcc_fraction"] = None if np.isnan(self.fcc_fraction) else self.fcc_fraction
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_record(cls, record: str, positions: np.ndarray) -> Entry:
        """An entry from :meth:`record`'s JSON and its positions (n, 3) in Å."""
        d = json.loads(record)
        fraction = d.pop("fcc_fraction")
        return cls(positions=positions, fcc_fraction=np.nan if fraction is None else fraction, **d)


@dataclass
class LibraryEntry:
    """One stored cluster, as the model reads it."""

    index: int
    positions: np.ndarray  # (n, 3) Å, centred
    pdf: np.ndarray  # (2800,) max-normalised G(r) on parameters.r_grid
    type: str
    metal: str
    name: str
    n_atoms: int
    nn_distance: float
    edge_index: np.ndarray  # (2, E) int64, both directions
    edge_length: np.ndarray  # (E,) Å
    split: str  # "train", "val" or "test"
    sequence: str  # stacking sequence, "" in the seven-type library
    fcc_fraction: float  # NaN in the seven-type library
    metals: list[str] = field(default_factory=list)  # every metal this entry stands for
    size_params: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------- entries


def entry_name(shape: str, metal: str, nn: float) -> str:
    """An entry's name: its shape's label, the metal it is named after, its bond length."""
    return f"{shape}_{metal}_{nn:.2f}"


def shape_label(name: str) -> str:
    """The shape an entry's name (:func:`entry_name`) stands for, the same for every
    bond length: the split is by entry, so a test cluster's shape is usually in the
    training split at another metal, and evaluation reports the two cases apart."""
    return name.rsplit("_", 2)[0]


def _metal_groups(metals: Sequence[str] | None, default: Sequence[str]) -> dict[float, list[str]]:
    """Requested metals grouped by bond length (unknown names raise ValueError)."""
    from deepstruc_gui.science.elements import metals_by_distance

    if metals is not None and len(metals) == 0:
        raise ValueError("no metals given")
    return metals_by_distance(list(metals) if metals else list(default))


def _stands_for(nn: float) -> list[str]:
    """Every metal of the table with this bond length: their clusters are identical."""
    from deepstruc_gui.science.elements import metals_by_distance

    return metals_by_distance()[nn]


def mmnp_entries(
    metals: Sequence[str] | None = None,
    max_atoms: int = 200,
    min_atoms: int = MIN_ATOMS,
    progress: bool = False,
) -> list[Entry]:
    """Seven-type clusters for every distinct bond length among ``metals`` (default all
    28). Metals sharing a bond length give one entry, named after the first."""
    from tqdm import tqdm

    from deepstruc_gui.science.clusters import CLUSTER_TYPES, unique_shapes
    from deepstruc_gui.science.elements import METALS

    groups = _metal_groups(metals, METALS)
    with tqdm(
        total=len(CLUSTER_TYPES), desc="shapes", unit="type", disable=None if progress else True
    ) as bar:
        shapes = unique_shapes(min_atoms, max_atoms, progress=bar.update)
    entries = []
    for nn, group in groups.items():
        for shape in shapes:
            entries.append(
                Entry(
                    positions=shape.scaled(nn),
                    type=shape.type,
                    metal=group[0],
                    metals=_stands_for(nn),
                    nn_distance=nn,
                    size_params=dict(shape.params),
                    name=entry_name(shape.label, group[0], nn),
                )
            )
    return entries


def stacking_entries(
    metals: Sequence[str] | None = None,
    max_atoms: int = 200,
    min_atoms: int = MIN_ATOMS,
    progress: bool = False,
) -> list[Entry]:
    """fcc, hcp and faulted stacked clusters for every distinct bond length among
    ``metals`` (default Co, Pt, Au)."""
    from deepstruc_gui.science.stacking import DEFAULT_METALS, stacked_shapes

    groups = _metal_groups(metals, DEFAULT_METALS)
    if progress:
        print("shapes: stacking sequences", file=sys.stderr)
    shapes = stacked_shapes(min_atoms=min_atoms, max_atoms=max_atoms)
    entries = []
    for nn, group in groups.items():
        for shape in shapes:
            entries.append(
                Entry(
                    positions=shape.positions * nn,
                    type=shape.type,
                    metal=group[0],
                    metals=_stands_for(nn),
                    nn_distance=nn,
                    size_params=shape.params,
                    name=entry_name(shape.label, group[0], nn),
                    sequence=shape.sequence,
                    fcc_fraction=shape.fcc_fraction,
                )
            )
    return entries


def stratified_split(
    types: Sequence[str], seed: int = 0, fractions: Sequence[float] = SPLIT_FRACTIONS
) -> np.ndarray:
    """0 train / 1 validation / 2 test, the same fractions within every type.

    Types are visited in sorted order and each gets a permutation from one seeded
    generator, so the split depends only on the seed and the list of types.
    """
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


# ---------------------------------------------------------------------------- building


def build_library(
    kind: str,
    out_path: str | os.PathLike,
    metals: Sequence[str] | None = None,
    max_atoms: int = 200,
    seed: int = 0,
    progress: bool = True,
    params: PDFParameters = TRAINING_PARAMETERS,
) -> Path:
    """Build the ``mmnp`` or ``stacking`` library and write it to ``out_path``.

    Work finished by an interrupted run of the same build (same kind, metals, sizes,
    seed and parameters) is picked up from ``<out_path>.partial``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown library {kind!r}: choose {' or '.join(KINDS)}")
    if max_atoms < MIN_ATOMS:
        raise ValueError(f"--max-atoms must be at least {MIN_ATOMS}, not {max_atoms}")
    out = Path(out_path)
    default = _default_metals(kind)
    groups = _metal_groups(metals, default)  # validates the names before any work
    key = {
        "format": FORMAT,
        "version": VERSION,
        "library": kind,
        "metals": [m for group in groups.values() for m in group],
        "min_atoms": MIN_ATOMS,
        "max_atoms": max_atoms,
        "seed": seed,
        "pdf_parameters": params.to_dict(),
        "pdf_chunk": PDF_CHUNK,
    }
    key_json = json.dumps(key, sort_keys=True)
    partial = out.with_name(out.name + ".partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    with _open_partial(partial, key_json, progress) as work:
        entries = _stage_entries(work, kind, key["metals"], max_atoms, progress)
        pdfs = _stage_pdfs(work, entries, params, progress)
    _write_final(out, entries, pdfs, kind, params, seed, key_json, progress)
    partial.unlink()
    return out


def _default_metals(kind: str) -> tuple[str, ...]:
    from deepstruc_gui.science.elements import METALS
    from deepstruc_gui.science.stacking import DEFAULT_METALS

    return METALS if kind == "mmnp" else DEFAULT_METALS


@contextlib.contextmanager
def _open_partial(path: Path, key_json: str, progress: bool):
    """The work file of this build: reused when it belongs to the same build, else new."""
    handle = None
    if path.exists():
        try:
            handle = h5py.File(path, "a")
            if handle.attrs.get("build") != key_json:
                handle.close()
                handle = None
            elif progress:
                print(f"resuming from {path}", file=sys.stderr)
        except OSError:  # a run killed mid-write can leave an unreadable file
            handle = None
    if handle is None:
        handle = h5py.File(path, "w")
        handle.attrs["build"] = key_json
    try:
        yield handle
    finally:
        handle.close()


def _stage_entries(
    work: h5py.File, kind: str, metals: list[str], max_atoms: int, progress: bool
) -> list[Entry]:
    """Build the clusters, or read them back from a previous run's work file."""
    if work.attrs.get("entries_done"):
        offsets = work["offsets"][:]
        positions = work["positions"][:]
        records = work["records"].asstr()[:]
        return [
            Entry.from_record(r, positions[offsets[i] : offsets[i + 1]])
            for i, r in enumerate(records)
        ]
    make = mmnp_entries if kind == "mmnp" else stacking_entries
    entries = make(metals, max_atoms, MIN_ATOMS, progress)
    if not entries:
        raise ValueError(f"no {kind} cluster has between {MIN_ATOMS} and {max_atoms} atoms")
    offsets = np.cumsum([0] + [len(e.positions) for e in entries]).astype(np.int64)
    for name in ("positions", "offsets", "records", "pdf"):
        if name in work:
            del work[name]
    work["positions"] = np.concatenate([e.positions for e in entries])  # float64: exact
    work["offsets"] = offsets
    work.create_dataset("records", data=[e.record() for e in entries], dtype=h5py.string_dtype())
    work.attrs["entries_done"] = True
    work.attrs["pdf_chunks_done"] = 0
    work.flush()
    return entries


def _stage_pdfs(
    work: h5py.File, entries: Sequence[Entry], params: PDFParameters, progress: bool
) -> np.ndarray:
    """Max-normalised G(r) of every entry, computed chunk by chunk; finished chunks
    of an interrupted run are kept."""
    from tqdm import tqdm

    n_r = params.r_grid.size
    if "pdf" not in work:
        work.create_dataset("pdf", shape=(len(entries), n_r), dtype=np.float32)
    pdf = work["pdf"]
    done = int(work.attrs.get("pdf_chunks_done", 0))
    starts = list(range(0, len(entries), PDF_CHUNK))
    with tqdm(
        total=len(entries), desc="PDFs", unit="cluster", disable=None if progress else True
    ) as bar:
        bar.update(min(done * PDF_CHUNK, len(entries)))
        for chunk, start in enumerate(starts):
            if chunk < done:
                continue
            stop = min(start + PDF_CHUNK, len(entries))
            g = simulate_pdfs([e.positions for e in entries[start:stop]], params, batch_size=128)
            peak = np.max(g, axis=1, keepdims=True)
            if np.any(peak <= 0):
                bad = entries[start + int(np.argmin(peak))].name
                raise ValueError(f"{bad}: simulated G(r) has no positive peak")
            pdf[start:stop] = (g / peak).astype(np.float32)
            work.attrs["pdf_chunks_done"] = chunk + 1
            work.flush()
            bar.update(stop - start)
    return pdf[:]


def _write_final(
    path: Path,
    entries: Sequence[Entry],
    pdfs: np.ndarray,
    kind: str,
    params: PDFParameters,
    seed: int,
    key_json: str,
    progress: bool,
) -> None:
    """Graphs, split and every array, written to a temporary file renamed over ``path``."""
    from tqdm import tqdm

    edges, lengths, edge_offsets = [], [], [0]
    for e in tqdm(entries, desc="graphs", unit="cluster", disable=None if progress else True):
        ei, el = neighbour_edges(e.positions, EDGE_CUTOFF_FACTOR * e.nn_distance)
        edges.append(ei)
        lengths.append(el)
        edge_offsets.append(edge_offsets[-1] + ei.shape[1])
    offsets = np.cumsum([0] + [len(e.positions) for e in entries]).astype(np.int64)
    split = stratified_split([e.type for e in entries], seed)
    tmp = path.with_name(f".{path.name}.tmp")
    strings = h5py.string_dtype()

    def put(f: h5py.File, name: str, data, dtype=None, **kw) -> None:
        """Write one HDF5 data set without timestamps (unchunked when empty)."""
        if np.size(data) == 0:  # HDF5 cannot chunk an empty array
            kw = {}
        f.create_dataset(name, data=data, dtype=dtype, track_times=False, **kw)

    # gzip + shuffle halves the file (edges compress 10×); zlib output is deterministic
    packed = {"compression": "gzip", "compression_opts": 4, "shuffle": True}

    with h5py.File(tmp, "w", track_order=True) as f:
        f.attrs["format"] = FORMAT
        f.attrs["version"] = VERSION
        f.attrs["library"] = kind
        f.attrs["pdf_parameters"] = json.dumps(params.to_dict(), sort_keys=True)
        grid = {"rmin": params.rmin, "rmax": params.rmax, "rstep": params.rstep}
        f.attrs["r_grid"] = json.dumps(grid | {"n": int(params.r_grid.size)})
        f.attrs["edge_cutoff_factor"] = EDGE_CUTOFF_FACTOR
        f.attrs["split_seed"] = seed
        f.attrs["split_names"] = json.dumps(SPLIT_NAMES)
        f.attrs["split_fractions"] = json.dumps(SPLIT_FRACTIONS)
        f.attrs["build"] = key_json
        positions = np.concatenate([e.positions for e in entries]).astype(np.float32)
        put(f, "positions", positions, chunks=True, **packed)
        put(f, "offsets", offsets)
        chunks = (min(64, len(pdfs)), pdfs.shape[1])
        put(f, "pdf", pdfs.astype(np.float32), chunks=chunks, **packed)
        put(f, "n_atoms", np.diff(offsets).astype(np.int32))
        put(f, "type", [e.type for e in entries], strings)
        put(f, "metal", [e.metal for e in entries], strings)
        put(f, "metals", [",".join(e.metals) for e in entries], strings)
        put(f, "name", [e.name for e in entries], strings)
        put(f, "size_params", [json.dumps(e.size_params, sort_keys=True) for e in entries], strings)
        put(f, "nn_distance", np.array([e.nn_distance for e in entries], np.float32))
        put(f, "edges", np.concatenate(edges, axis=1).astype(np.int32), chunks=True, **packed)
        put(f, "edge_offsets", np.array(edge_offsets, dtype=np.int64))
        put(f, "edge_length", np.concatenate(lengths).astype(np.float32), chunks=True, **packed)
        put(f, "split", split)
        put(f, "sequence", [e.sequence for e in entries], strings)
        put(f, "fcc_fraction", np.array([e.fcc_fraction for e in entries], np.float32))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------- reading


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
        self.metal_groups = [s.split(",") for s in handle["metals"].asstr()[:]]
        self.names = handle["name"].asstr()[:].astype(str)
        self.nn_distance = handle["nn_distance"][:]
        self.split = handle["split"][:]
        self.edges = handle["edges"][:]
        self.edge_offsets = handle["edge_offsets"][:]
        self.edge_length = handle["edge_length"][:]
        self.sequences = handle["sequence"].asstr()[:].astype(str)
        self.fcc_fraction = handle["fcc_fraction"][:]
        self.size_params = [json.loads(s) for s in handle["size_params"].asstr()[:]]
        n = len(self.n_atoms)
        if self.pdfs.shape != (n, self.parameters.r_grid.size) or len(self.offsets) != n + 1:
            raise LibraryError(f"{path}: inconsistent array shapes")

    @classmethod
    def open(cls, path: str | os.PathLike) -> Library:
        """Open a library, or raise :class:`LibraryError` naming the file and the problem."""
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
        except LibraryError:
            handle.close()
            raise
        except (KeyError, ValueError) as exc:
            handle.close()
            raise LibraryError(f"{path}: incomplete library ({exc})") from exc

    def close(self) -> None:
        """Close the underlying HDF5 file."""
        self._f.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.n_atoms)

    def indices(self, split: str | None = None) -> np.ndarray:
        """Entry indices of one split ("train", "val", "test"), or all for None."""
        if split is None:
            return np.arange(len(self))
        if split not in SPLIT_NAMES:
            raise ValueError(f"unknown split {split!r}; choose one of {SPLIT_NAMES}")
        return np.flatnonzero(self.split == SPLIT_NAMES.index(split))

    def structure(self, i: int) -> np.ndarray:
        """Positions (n, 3) in Å of entry ``i``."""
        return self.positions[self.offsets[i] : self.offsets[i + 1]].astype(np.float64)

    def entry(self, i: int) -> LibraryEntry:
        """Entry ``i`` (negative counts from the end) with its positions (n, 3) in Å and
        PDF. Raises ``IndexError`` when ``i`` is out of range."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"entry {i} out of range for {len(self)} entries")
        i = int(i) % len(self)
        e0, e1 = self.edge_offsets[i], self.edge_offsets[i + 1]
        return LibraryEntry(
            index=i,
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
            metals=list(self.metal_groups[i]),
            size_params=dict(self.size_params[i]),
        )
