"""Reading and writing G(r) files as beamline software writes them.

``read_pdf`` opens a file read-only and bounded, lets
:mod:`deepstruc_gui.science.pdf_table` split it into header and numeric rows (the
accepted layouts, separators and encodings are listed there), decides what the file
holds, and returns only a G(r); ``write_pdf`` writes PDFgetX3's layout.

What the file holds: PDF programs write F(Q), S(Q), I(Q), g(r), R(r) and fit curves
with the same layouts. ``science.quantity.recognise`` decides from the header keys,
titles, column labels, extension and finally the data; only G(r) is returned.
Conversions are made only where exact and complete: r in nm → Å with G nm⁻² → Å⁻²,
and a PDFgui fit file's measured curve rebuilt as Gcalc + Gdiff
(``PDFData.conversions`` lists them, ``PDFData.recognised_from`` says what decided).
Everything else, and a G(r) that is all zero, constant or without a positive value on
2–30 Å, is refused with a ``PDFReadError`` that says what the file appears to hold, the
signal that said so and what to do (docs/WARNINGS.md).

Safety: the input is opened read-only; files over ``MAX_FILE_BYTES`` are refused from
their size before anything is read, and at most that many bytes are ever read (a pipe
or device reporting size 0 cannot make the reader load an unbounded stream).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from deepstruc_gui.science.grid import MODEL_RMAX, MODEL_RMIN, overlaps_model_range
from deepstruc_gui.science.pdf_data import PDFData, PDFReadError, heaviest_element
from deepstruc_gui.science.pdf_table import TableHeader, decode_lines, parse_lines
from deepstruc_gui.science.quantity import (
    QUANTITY_NAMES,
    Recognition,
    advice,
    recognise,
    unit_from_data,
)
from deepstruc_gui.util.atomic import atomic_write

__all__ = [
    "MAX_FILE_BYTES",
    "PDFData",
    "PDFReadError",
    "heaviest_element",
    "read_pdf",
    "write_pdf",
]

MAX_FILE_BYTES = 64 * 1024 * 1024  # a 0–100 Å G(r) at 0.001 Å step is ~2 MB


# --------------------------------------------------------------------------- reading


def read_pdf(path: str | os.PathLike[str]) -> PDFData:
    """Read a G(r) file of any of the layouts in the module docstring.

    Raises ``PDFReadError`` (a ``ValueError``) naming the file, and the line where one
    line is to blame, for anything that would give a wrong or meaningless curve.
    """
    lines = decode_lines(path, _read_bounded(path))
    header, rows, row_lines = parse_lines(path, lines)
    return _to_pdfdata(path, header, rows, row_lines)


def _read_bounded(path: str | os.PathLike[str]) -> bytes:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise PDFReadError(path, "file not found") from None
    except OSError as exc:
        raise PDFReadError(path, f"cannot access file: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise PDFReadError(path, "is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise PDFReadError(path, "not a regular file (device, pipe or socket)")
    if info.st_size > MAX_FILE_BYTES:
        raise PDFReadError(path, _too_large(info.st_size))
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise PDFReadError(path, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:  # grew while we looked, or lied about its size
        raise PDFReadError(path, _too_large(len(data)))
    if not data.strip():
        raise PDFReadError(path, "file is empty")
    return data


def _too_large(size: int) -> str:
    return (
        f"file too large ({size / 2**20:.0f} MB, limit {MAX_FILE_BYTES / 2**20:.0f} MB); "
        "a G(r) file is a few hundred kB"
    )


def _to_pdfdata(
    path: str | os.PathLike[str],
    header: TableHeader,
    rows: list[list[float]],
    row_lines: list[int],
) -> PDFData:
    if len(rows) < 2:
        raise PDFReadError(path, "only one data row; need at least two points", row_lines[0])
    table = np.asarray(rows, dtype=np.float64)
    names = header.names
    steps = np.diff(table[:, 0])
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        r = table[:, 0]
        if steps[i - 1] == 0:
            problem = f"duplicate r = {r[i]:g} (also on line {row_lines[i - 1]})"
        else:
            problem = f"r not increasing: {r[i]:g} after {r[i - 1]:g} (line {row_lines[i - 1]})"
        raise PDFReadError(path, problem, row_lines[i])
    found = recognise(
        header.metadata,
        names,
        header.titles,
        table[:, 0],
        table[:, 1],
        Path(path).suffix.lower(),
    )
    r, g, dg, notes = _as_g_of_r(path, found, table, names)
    if not overlaps_model_range(r):
        raise PDFReadError(
            path,
            f"r = {r[0]:g}–{r[-1]:g} Å does not overlap the model range "
            f"{MODEL_RMIN:.0f}–{MODEL_RMAX + 0.01:.0f} Å",
        )
    _check_curve(path, r, g)
    return PDFData(
        path=Path(path),
        r=r,
        g=g,
        dg=dg,
        metadata=header.metadata,
        recognised_from=found.evidence,
        conversions=notes,
    )


def _as_g_of_r(
    path: str | os.PathLike[str], found: Recognition, table: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[str]]:
    """r (Å), G (Å⁻²), dG and what was converted; PDFReadError for anything else."""
    notes: list[str] = []
    if found.quantity == "fit":
        lowered = [n.lower() for n in names]
        if table.shape[1] >= 5 and (len(lowered) < 5 or lowered[4].startswith("gdiff")):
            r, g = table[:, 0].copy(), table[:, 1] + table[:, 4]
            notes.append("PDFgui fit file: the measured G(r) rebuilt as Gcalc + Gdiff")
            dg = None
        else:
            raise PDFReadError(
                path,
                f"the file holds {QUANTITY_NAMES['fit']} ({found.evidence}) without the "
                f"difference column, so the measured data cannot be rebuilt from it; "
                f"{advice('fit')}.",
            )
    elif found.quantity != "G" or found.x_unit not in ("Å", "nm"):
        what = QUANTITY_NAMES.get(found.quantity, found.quantity)
        if found.quantity == "G":
            what = "G(r) on a reciprocal-space axis"
        raise PDFReadError(
            path,
            f"the file appears to hold {what}, not G(r) (recognised from {found.evidence}); "
            f"nothing was solved. To use it, {advice(found.quantity)}.",
        )
    else:
        r, g = table[:, 0].copy(), table[:, 1].copy()
        dg = _uncertainty_column(table, names)
    if found.x_unit == "nm":
        r *= 10.0  # nm → Å
        g /= 100.0  # G in nm⁻² → Å⁻² (G = 4πrρ0(g − 1) has units of length⁻²)
        if dg is not None:
            dg = dg / 100.0
        notes.append(f"r converted from nm to Å and G from nm⁻² to Å⁻² ({found.evidence})")
    elif not found.from_data:
        unit, why = unit_from_data(r, g, "G")
        if unit == "nm":
            raise PDFReadError(
                path,
                f"the file says its r is in Å ({found.evidence}), but {why}; refusing to guess. "
                "Fix the column label (r(nm) or r(Å)) or convert the file.",
            )
    return r, g, dg, notes


def _uncertainty_column(table: np.ndarray, names: list[str]) -> np.ndarray | None:
    """dG following PDFgui: 3 columns r, G, dG (unless the 3rd is named dr…); 4: r, G,
    dr, dG."""
    if table.shape[1] == 4:
        return table[:, 3].copy()
    if table.shape[1] == 3 and not (len(names) >= 3 and names[2].lower().startswith("dr")):
        return table[:, 2].copy()
    return None


def _check_curve(path: str | os.PathLike[str], r: np.ndarray, g: np.ndarray) -> None:
    """Refuse a G(r) that carries no structure: all zero, constant, or no positive peak."""
    if not np.any(g):
        raise PDFReadError(path, "G(r) is zero everywhere; there is nothing to solve")
    if np.ptp(g) <= 1e-12 * max(1.0, float(np.max(np.abs(g)))):
        raise PDFReadError(path, f"G(r) is constant ({g[0]:g}); it holds no peaks")
    inside = (r >= MODEL_RMIN) & (r <= MODEL_RMAX)
    if not np.any(g[inside] > 0):
        raise PDFReadError(
            path,
            f"G(r) has no positive peak between {MODEL_RMIN:.0f} and "
            f"{MODEL_RMAX + 0.01:.0f} Å (largest value {float(np.max(g[inside])):.3g}); a G(r) "
            "has its interatomic-distance peaks there. Is the sign flipped, or is this a "
            "baseline or a difference curve?",
        )


# --------------------------------------------------------------------------- writing


def write_pdf(
    path: str | os.PathLike[str],
    r: ArrayLike,
    g: ArrayLike,
    header: Mapping[str, object] | None = None,
) -> None:
    """Write ``# key = value`` header lines and two columns r, G, atomically.

    The layout is PDFgetX3's (``#### start data``, ``#L``), so diffpy tools read it and
    ``read_pdf`` returns the same numbers (floats written in shortest round-trip form)
    and header (keys lower-cased, numeric values as floats).
    """
    r_arr = np.asarray(r, dtype=np.float64)
    g_arr = np.asarray(g, dtype=np.float64)
    if r_arr.ndim != 1 or r_arr.shape != g_arr.shape or r_arr.size < 2:
        raise ValueError(
            f"r and G must be 1-D, equal length, >= 2 points: {r_arr.shape}, {g_arr.shape}"
        )
    if not (np.all(np.isfinite(r_arr)) and np.all(np.isfinite(g_arr))):
        raise ValueError("r and G must be finite")
    header_lines = list(_header_lines(header or {}))  # validate before touching the disk
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(header_lines)
        handle.write("#### start data\n#S 1\n#L r(Å)  G(Å^-2)\n")
        handle.writelines(f"{float(a)!r} {float(b)!r}\n" for a, b in zip(r_arr, g_arr, strict=True))


def _header_lines(header: Mapping[str, object]) -> Iterable[str]:
    for key, value in header.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", str(key)):
            raise ValueError(f"header key {key!r}: use letters, digits, '_', '.', '-'")
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            text = repr(float(value))
        else:
            text = str(value)
        if "\n" in text or "\r" in text:
            raise ValueError(f"header value for {key!r} spans several lines")
        yield f"# {key} = {text}\n"
