"""Writing results: structures, the ranked table, fits. Qt-free; the window and the CLI
(``predict --out``) both write through here, so their files are the same.

Everything a user might later ask "where did this come from?" about travels with the
file: the data file, the model, the fit range, the simulation parameters, the refined
parameters, Rw and the date (in ``atoms.info`` / the extxyz comment line, in ``#``
comment lines of CSV, CIF and ``.fgr`` files). Every write is atomic
(:mod:`deepstruc_gui.util.atomic`): a failure never leaves half a file, and an existing
file is only replaced once the new one is complete.

Formats: ``.xyz`` and ``.extxyz`` (extended XYZ: the info rides in the comment line,
which plain XYZ readers ignore), ``.cif`` (the cluster in a P1 box with 10 Å of
vacuum), a multi-frame ``.extxyz`` of the top N (ase's GUI and OVITO read it), the
ranked table as CSV, a fit as CSV or as a PDFgui-style ``.fgr`` (columns r, Gobs,
Gcalc, Gdiff = Gobs − Gcalc).
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.util.atomic import atomic_write, atomic_write_bytes

if TYPE_CHECKING:
    from deepstruc_gui.model.pipeline import SolveResult
    from deepstruc_gui.science.parameters import FitConfig
    from deepstruc_gui.science.pdf_io import PDFData

#: structure file suffix -> ase format
STRUCTURE_FORMATS = {".xyz": "extxyz", ".extxyz": "extxyz", ".cif": "cif"}
#: columns of the ranked table CSV
TABLE_COLUMNS = (
    "rank", "Rw", "atoms", "type", "scale", "expansion", "Biso", "qdamp", "delta2", "z1", "z2",
    "source",
)  # fmt: skip
#: columns of a fit file (CSV and .fgr)
FIT_COLUMNS = ("r", "Gobs", "Gcalc", "Gdiff")
CIF_VACUUM = 10.0  # Å around the cluster in a CIF's box


def provenance(
    data: PDFData | None = None,
    model: str | None = None,
    fit_config: FitConfig | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What an export rests on: program, date (UTC, ISO 8601), data file, model, fit
    range (Å) and simulation parameters. ``extra`` items are added as they are."""
    from deepstruc_gui import __version__

    out: dict[str, Any] = {
        "program": f"deepstruc-gui {__version__}",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    if data is not None:
        out["data_file"] = str(data.path.resolve()) if data.path is not None else data.name
    if model is not None:
        out["model"] = str(model)
    if fit_config is not None:
        out["fit_rmin"] = float(fit_config.rmin)
        out["fit_rmax"] = float(fit_config.rmax)
        for name in ("qmin", "qmax", "qdamp", "delta2", "biso"):
            out[f"start_{name}"] = float(getattr(fit_config.params, name))
    out.update(extra)
    return out


def result_provenance(result: SolveResult, data: PDFData | None = None) -> dict[str, Any]:
    """:func:`provenance` of a :class:`~deepstruc_gui.model.pipeline.SolveResult`."""
    extra = {"search": result.search}
    if data is None and result.data_path is not None:
        extra["data_file"] = result.data_path
    return provenance(data, result.model, result.fit_config, **extra)


def _symbols(element: str | Sequence[str] | None, n_atoms: int) -> list[str]:
    if element is None or (isinstance(element, str) and not element.strip()):
        raise ValueError("no element given: say which metal the structure is made of")
    symbols = [element] * n_atoms if isinstance(element, str) else list(element)
    if len(symbols) != n_atoms:
        raise ValueError(f"{len(symbols)} element symbols for {n_atoms} atoms")
    bad = sorted({s for s in symbols if s not in atomic_numbers})
    if bad:
        raise ValueError(f"not a chemical element symbol: {', '.join(bad)}")
    return symbols


def candidate_to_atoms(
    candidate: Candidate,
    element: str | Sequence[str] | None,
    provenance: Mapping[str, Any] | None = None,
) -> Atoms:
    """The one bridge from a :class:`Candidate` to ``ase.Atoms``.

    Positions (n, 3) in Å are the candidate's, with the refined expansion applied;
    ``element`` is one symbol or one per atom. ``atoms.info`` carries ``rw``,
    ``n_atoms``, ``structure_type``, ``scale``, ``expansion``, ``biso`` (Å²), ``qdamp``
    (Å⁻¹), ``delta2`` (Å²), ``latent`` (2,; NaN for built clusters), ``source``
    ("model", "size-extension" or "sequence-search"), ``shape`` and every ``provenance``
    item. Raises ``ValueError`` for a missing or unknown element or a wrong number of
    symbols.
    """
    atoms = Atoms(
        _symbols(element, candidate.n_atoms), positions=np.asarray(candidate.positions, float)
    )
    atoms.info.update(
        {
            "rw": float(candidate.rw),
            "n_atoms": int(candidate.n_atoms),
            "structure_type": str(candidate.nearest_type),
            "scale": float(candidate.scale),
            "expansion": float(candidate.expansion),
            "biso": float(candidate.biso),
            "qdamp": float(candidate.qdamp),
            "delta2": float(candidate.delta2),
            "latent": np.asarray(candidate.latent, float).copy(),
            "source": candidate.source,
            "shape": candidate.shape,
        }
    )
    atoms.info.update(dict(provenance or {}))
    return atoms


def _ase_text(atoms: Atoms | list[Atoms], fmt: str) -> bytes:
    """What ase writes for ``atoms`` in ``fmt``, as bytes. Written through a scratch
    file: some ase writers (CIF in ase 3.29) write bytes, others text."""
    import ase.io

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / f"structure.{fmt}"
        ase.io.write(scratch, atoms, format=fmt)
        return scratch.read_bytes()


def _comment_lines(items: Mapping[str, Any]) -> str:
    return "".join(f"# {key} = {_plain(value)}\n" for key, value in items.items())


def _plain(value: Any) -> str:
    if isinstance(value, np.ndarray | list | tuple):
        return " ".join(_plain(v) for v in np.ravel(np.asarray(value)))
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def structure_bytes(atoms: Atoms, fmt: str) -> bytes:
    """The file content of one structure in ``fmt`` (a value of ``STRUCTURE_FORMATS``)."""
    if fmt == "cif":  # a cluster in a box with vacuum; info as comments
        boxed = atoms.copy()
        boxed.center(vacuum=CIF_VACUUM)
        boxed.pbc = False
        boxed.info = {}
        header = "# DeepStruc GUI candidate structure (a cluster in a P1 box)\n"
        return (header + _comment_lines(atoms.info)).encode() + _ase_text(boxed, "cif")
    return _ase_text(atoms, fmt)


def write_structure(
    path: str | Path,
    candidate: Candidate,
    element: str | Sequence[str] | None,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write one candidate as ``.xyz``, ``.extxyz`` or ``.cif`` (by suffix); returns the
    path. Raises ``ValueError`` for another suffix or a bad element, ``OSError`` when
    the file cannot be written."""
    path = Path(path)
    fmt = STRUCTURE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: choose .xyz, .extxyz or .cif")
    atoms = candidate_to_atoms(candidate, element, provenance)
    atomic_write_bytes(path, structure_bytes(atoms, fmt))
    return path


def write_structures(
    path: str | Path,
    candidates: Sequence[Candidate],
    element: str | Sequence[str] | None,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write candidates (best first) as one multi-frame extended XYZ file; each frame's
    info has its ``rank`` (1-based) besides what :func:`candidate_to_atoms` gives."""
    path = Path(path)
    if path.suffix.lower() not in (".xyz", ".extxyz"):
        raise ValueError(f"{path.name}: several structures go into an .extxyz file")
    if not candidates:
        raise ValueError("no candidates to write")
    frames = []
    for k, c in enumerate(candidates, 1):
        atoms = candidate_to_atoms(c, element, provenance)
        atoms.info["rank"] = k
        frames.append(atoms)
    atomic_write_bytes(path, _ase_text(frames, "extxyz"))
    return path


def write_table(
    path: str | Path,
    candidates: Sequence[Candidate],
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """The ranked table as CSV (``TABLE_COLUMNS``, one row per candidate, best first),
    preceded by ``# key = value`` provenance lines when ``provenance`` is given."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        if provenance:
            handle.write(_comment_lines(provenance))
        handle.write(",".join(TABLE_COLUMNS) + "\n")
        for k, c in enumerate(candidates, 1):
            handle.write(
                f"{k},{c.rw:.6f},{c.n_atoms},{c.nearest_type},{c.scale:.6g},"
                f"{c.expansion:.6f},{c.biso:.5f},{c.qdamp:.5f},{c.delta2:.5f},"
                f"{c.latent[0]:.6f},{c.latent[1]:.6f},{c.source}\n"
            )
    return Path(path)


def fit_table(candidate: Candidate, data: PDFData) -> np.ndarray:
    """(n, 4) columns r (Å), Gobs, Gcalc, Gdiff = Gobs − Gcalc (Å⁻²) on the fit's r."""
    obs = np.interp(candidate.r, data.r, data.g)
    return np.column_stack([candidate.r, obs, candidate.gcalc, obs - candidate.gcalc])


def _fit_header(candidate: Candidate, provenance: Mapping[str, Any] | None) -> dict[str, Any]:
    items = dict(provenance or {})
    items.update(
        {
            "Rw": float(candidate.rw),
            "structure_type": candidate.nearest_type,
            "n_atoms": int(candidate.n_atoms),
            "scale": float(candidate.scale),
            "expansion": float(candidate.expansion),
            "biso": float(candidate.biso),
            "qdamp": float(candidate.qdamp),
            "delta2": float(candidate.delta2),
            "latent": np.asarray(candidate.latent, float),
            "source": candidate.source,
            "shape": candidate.shape,
            "Gdiff": "Gobs - Gcalc",
        }
    )
    return items


def write_fit_csv(
    path: str | Path,
    candidate: Candidate,
    data: PDFData,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """A fit as CSV: ``# key = value`` lines (Rw, refined parameters, provenance), a
    header row ``r,Gobs,Gcalc,Gdiff`` and one row per r of the fit range."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(_comment_lines(_fit_header(candidate, provenance)))
        handle.write(",".join(FIT_COLUMNS) + "\n")
        np.savetxt(handle, fit_table(candidate, data), delimiter=",", fmt="%.8g")
    return Path(path)


def write_fgr(
    path: str | Path,
    candidate: Candidate,
    data: PDFData,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """A fit in the layout of PDFgui's fit export (``.fgr``): a ``#`` header naming the
    model, data file, fit range, refined parameters and Rw, a ``#### start data`` line,
    ``#L r Gobs Gcalc Gdiff`` and whitespace columns."""
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write("# DeepStruc GUI fit (PDFgui-style .fgr)\n")
        handle.write(_comment_lines(_fit_header(candidate, provenance)))
        handle.write("#### start data\n#S 1\n#L " + " ".join(FIT_COLUMNS) + "\n")
        np.savetxt(handle, fit_table(candidate, data), fmt="%.8g")
    return Path(path)


def write_fit(
    path: str | Path,
    candidate: Candidate,
    data: PDFData,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """:func:`write_fit_csv` or :func:`write_fgr`, by the suffix of ``path``."""
    suffix = Path(path).suffix.lower()
    if suffix == ".fgr":
        return write_fgr(path, candidate, data, provenance)
    if suffix == ".csv":
        return write_fit_csv(path, candidate, data, provenance)
    raise ValueError(f"{Path(path).name}: choose .csv or .fgr")


def write_result(
    folder: str | Path,
    result: SolveResult,
    data: PDFData,
    top: int = 10,
    element: str | Sequence[str] | None = None,
) -> list[Path]:
    """What ``predict --out`` writes for the ``top`` best candidates: per rank k a
    structure ``rankKK_TYPE_N.xyz``, fits ``rankKK_fit.csv`` and ``rankKK_fit.fgr``;
    all of them in ``top.extxyz``; the whole ranked table in ``candidates.csv``.
    Returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    element = element if element is not None else result.element
    info = result_provenance(result, data)
    best = result.candidates[:top]
    written = []
    for k, c in enumerate(best, 1):
        name = f"rank{k:02d}_{c.nearest_type}_{c.n_atoms}.xyz"
        written.append(write_structure(folder / name, c, element, info))
        written.append(write_fit_csv(folder / f"rank{k:02d}_fit.csv", c, data, info))
        written.append(write_fgr(folder / f"rank{k:02d}_fit.fgr", c, data, info))
    if best:
        written.append(write_structures(folder / "top.extxyz", best, element, info))
    written.append(write_table(folder / "candidates.csv", result.candidates, info))
    return written
