"""Reading and writing G(r) files as beamline software writes them.

Accepted layouts (one reader, no format option, because users do not know which
program wrote a file):

* PDFgetX3 / xPDFsuite / PDFgetXgui ``.gr``: an INI-like header (``[DEFAULT]``,
  ``[PDF]``, ``key = value``, ``#`` comments), a ``#### start data`` line, ``#S``/``#L``
  lines, then columns. After that marker every non-comment line must be numeric.
* Plain whitespace columns, with or without ``#`` comments or a header.
* CSV with ``,`` or ``;`` separators and an optional header row of column names;
  with ``;`` a decimal comma (``1,25;0,5``) is accepted too, as it is in tab-separated
  and space-separated spreadsheet exports (``0,01<TAB>0,0014``).
* RMCProfile files (a first line with the number of points, then a title line).
* 2, 3 or 4 columns. Following PDFgui: 3 columns are r, G, dG and 4 columns are
  r, G, dr, dG (a 3rd column named ``dr…`` in a header row is taken as dr instead).
  More columns: r and G are the first two, the rest is ignored.

What the file holds: PDF programs write F(Q), S(Q), I(Q), g(r), R(r) and fit curves
with the same layouts. ``science.quantity.recognise`` decides from the header keys,
titles, column labels, extension and finally the data; only G(r) is returned.
Conversions are made only where exact and complete: r in nm → Å with G nm⁻² → Å⁻²,
and a PDFgui fit file's measured curve rebuilt as Gcalc + Gdiff
(``PDFData.conversions`` lists them, ``PDFData.recognised_from`` says what decided).
Everything else, and a G(r) that is all zero, constant or without a positive value on
2–30 Å, is refused with a ``PDFReadError`` that says what the file appears to hold, the
signal that said so and what to do (docs/WARNINGS.md).

Header metadata: every ``key = value`` line before the data (``#`` prefixes allowed)
goes into ``PDFData.metadata``; keys are lower-cased, values that parse as numbers
become floats, the rest stay strings. When a key repeats, the first occurrence wins
(the ``[PDF]`` section precedes ``[Misc]`` in xPDFsuite files).

Encoding: files are UTF-8 (a UTF-8 BOM is ignored; UTF-16 with a BOM, as Windows
"Unicode text" exports write it, is decoded too). Old programs write "Å" in Latin-1,
so a *header or comment* line that is not valid UTF-8 is decoded as Latin-1 (it only
feeds metadata, and a mis-decoded "Å" costs nothing). A *data* line that is not valid
UTF-8, NUL bytes, many control bytes or a mostly non-ASCII file mean the file is not a
text table and are refused with an error naming the file (and line).

Safety: the input is opened read-only; files over ``MAX_FILE_BYTES`` are refused from
their size before anything is read, and at most that many bytes are ever read (a pipe
or device reporting size 0 cannot make the reader load an unbounded stream).
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase.data import atomic_numbers
from numpy.typing import ArrayLike

from deepstruc_gui.science.grid import MODEL_RMAX, MODEL_RMIN, overlaps_model_range, to_model_grid
from deepstruc_gui.science.quantity import (
    QUANTITY_NAMES,
    Recognition,
    advice,
    recognise,
    unit_from_data,
)
from deepstruc_gui.util.atomic import atomic_write

__all__ = ["MAX_FILE_BYTES", "PDFData", "PDFReadError", "read_pdf", "write_pdf"]

MAX_FILE_BYTES = 64 * 1024 * 1024  # a 0–100 Å G(r) at 0.001 Å step is ~2 MB

_START_DATA = re.compile(r"^#+\s*start\s+data\b", re.IGNORECASE)
_KEY_VALUE = re.compile(r"^[#;!%\s]*([A-Za-z_][A-Za-z0-9_.\-]*)\s*=(.*)$")
_ELEMENT = re.compile(r"[A-Z][a-z]?")
_COMMENT_PREFIXES = ("#", "%", "!", "//")
_CONTROL_BYTES = bytes(range(1, 9)) + bytes(range(14, 32)) + b"\x7f"
_NON_CONTROL = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"


class PDFReadError(ValueError):
    """A G(r) file that cannot be used; ``str(e)`` is ``"FILE:LINE: problem"``.

    ``path``, ``line`` (1-based, or None when no single line is to blame) and ``problem``
    are kept as attributes so the GUI can show or highlight them separately.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str, line: int | None = None):
        self.path = os.fspath(path)
        self.problem = problem
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # keep it picklable (worker processes) despite the custom __init__
        return (type(self), (self.path, self.problem, self.line))


@dataclass(eq=False)
class PDFData:
    """A measured (or simulated) G(r) with whatever the file header told about it."""

    path: Path | None
    r: np.ndarray
    g: np.ndarray
    dg: np.ndarray | None = None
    metadata: dict[str, float | str] = field(default_factory=dict)
    #: how the reader knew this is G(r) ("column labels 'r(Å) G(Å^-2)'", …); "" when made in code
    recognised_from: str = ""
    #: conversions applied while reading (nm → Å, a PDFgui fit's Gcalc + Gdiff, …)
    conversions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.r = np.asarray(self.r, dtype=np.float64)
        self.g = np.asarray(self.g, dtype=np.float64)
        if self.r.ndim != 1 or self.r.shape != self.g.shape:
            raise ValueError(f"r and G must be 1-D of equal length: {self.r.shape}, {self.g.shape}")
        if self.dg is not None:
            self.dg = np.asarray(self.dg, dtype=np.float64)
            if self.dg.shape != self.r.shape:
                raise ValueError(f"dG has shape {self.dg.shape}, r has {self.r.shape}")
        if self.path is not None:
            self.path = Path(self.path)

    @property
    def name(self) -> str:
        """File name for titles and messages."""
        return self.path.name if self.path is not None else "<unsaved data>"

    @property
    def main_element(self) -> str | None:
        """The metal of the particle: the heaviest element in ``composition``.

        Ligands and solvents are light (``Au144 S60 C180`` -> ``Au``), so the heaviest
        element is the one whose cluster the model should look for.
        """
        composition = self.metadata.get("composition")
        if not isinstance(composition, str):
            return None
        return heaviest_element(composition)

    def model_input(self) -> np.ndarray:
        """(2800,) float32 on ``MODEL_R``, max-normalised: what the network takes."""
        try:
            return to_model_grid(self.r, self.g)
        except ValueError as exc:
            raise PDFReadError(self.path or "<unsaved data>", str(exc)) from None


def heaviest_element(composition: str) -> str | None:
    """Heaviest element symbol in a formula such as ``"Au144 S60 C180"`` or ``"PtNi3"``."""
    symbols = [s for s in _ELEMENT.findall(composition) if s in atomic_numbers]
    if not symbols:
        word = composition.strip().capitalize()  # "pt" or "PT" written by hand
        symbols = [word] if word in atomic_numbers else []
    if not symbols:
        return None
    return max(symbols, key=lambda s: atomic_numbers[s])


# --------------------------------------------------------------------------- reading


def read_pdf(path: str | os.PathLike[str]) -> PDFData:
    """Read a G(r) file of any of the layouts in the module docstring.

    Raises ``PDFReadError`` (a ``ValueError``) naming the file, and the line where one
    line is to blame, for anything that would give a wrong or meaningless curve.
    """
    lines = _decoded_lines(path, _read_bounded(path))
    header, rows, row_lines = _parse(path, lines)
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


@dataclass
class _Line:
    number: int  # 1-based
    text: str
    utf8: bool  # False: decoded as Latin-1 because it was not valid UTF-8


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _decoded_lines(path: str | os.PathLike[str], data: bytes) -> list[_Line]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise PDFReadError(path, "not a text file (broken UTF-16)") from None
        return [_Line(i, t, True) for i, t in enumerate(_NEWLINE.split(text), 1)]
    if data.startswith(_GZIP_MAGIC):
        raise PDFReadError(path, "gzip-compressed file; decompress it first")
    if data.startswith(_ZIP_MAGIC):
        raise PDFReadError(path, "binary file (zip or Excel workbook); save the data as CSV")
    if b"\x00" in data:
        raise PDFReadError(path, "binary file, not text (contains NUL bytes)")
    n_control = len(data.translate(None, _NON_CONTROL))
    if n_control > max(8, len(data) // 100):
        raise PDFReadError(path, f"binary file, not text ({n_control} control bytes)")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return [_Line(i, t, True) for i, t in enumerate(_NEWLINE.split(text), 1)]
    n_high = len(data) - len(data.translate(None, bytes(range(128, 256))))
    if n_high > len(data) // 10:
        raise PDFReadError(path, "not a text file (binary or unknown encoding, not UTF-8)")
    out = []
    for i, raw in enumerate(re.split(rb"\r\n|\r|\n", data), 1):
        try:
            out.append(_Line(i, raw.decode("utf-8"), True))
        except UnicodeDecodeError:
            out.append(_Line(i, raw.decode("latin-1"), False))
    return out


def _is_comment(stripped: str) -> bool:
    return stripped.startswith(_COMMENT_PREFIXES)


_DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+([eE][-+]?\d+)?$")


def _split(text: str) -> tuple[list[str], bool]:
    """Tokens of one row and whether a decimal comma is allowed in them.

    ';' separated (spreadsheets in comma-decimal locales), tab separated, ','
    separated (CSV), else whitespace. A decimal comma is accepted with ';' and tab
    separators, and between whitespace-separated tokens that all look like "0,01".
    """
    if ";" in text:
        tokens, decimal_comma = [t.strip() for t in text.split(";")], True
    elif "\t" in text:
        tokens, decimal_comma = [t.strip() for t in text.split("\t")], True
    elif "," in text:
        words = text.split()
        if len(words) >= 2 and all(_DECIMAL_COMMA.match(w) or _is_float(w) for w in words):
            return words, True
        tokens, decimal_comma = [t.strip() for t in text.split(",")], False
    else:
        return text.split(), False
    while tokens and not tokens[-1]:  # spreadsheets add trailing separators
        tokens.pop()
    return [t.strip("\"'") for t in tokens], decimal_comma


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _number(token: str, decimal_comma: bool) -> float | None:
    try:
        return float(token)
    except ValueError:
        pass
    if decimal_comma and token.count(",") == 1 and "." not in token:
        try:
            return float(token.replace(",", "."))
        except ValueError:
            return None
    return None


@dataclass
class _Header:
    """What the lines before (and between) the data said about them."""

    metadata: dict[str, float | str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # column labels, x first
    titles: list[str] = field(default_factory=list)  # other free-text header lines


_LABEL_LINE = re.compile(r"^[#\s]*L\s+(.*)$")  # "#L r G", "# #L r G dr dG"


def _parse(
    path: str | os.PathLike[str], lines: list[_Line]
) -> tuple[_Header, list[list[float]], list[int]]:
    """Split header from data; return what the header said, numeric rows and their
    line numbers."""
    header = _Header()
    metadata = header.metadata
    rows: list[list[float]] = []
    row_lines: list[int] = []
    strict = False  # after '#### start data' every non-comment line must be data
    n_columns = 0
    for line in lines:
        stripped = line.text.strip()
        if not stripped:
            continue
        in_header = not rows
        if in_header and not strict and _START_DATA.match(stripped):
            strict = True
            continue
        if _is_comment(stripped):
            label = _LABEL_LINE.match(stripped) if stripped.startswith("#") else None
            if in_header and label is not None:
                header.names = label.group(1).split()
            elif in_header and (strict or not _add_metadata(metadata, stripped)):
                header.titles.append(stripped)
            continue
        body = stripped.split("#", 1)[0].rstrip()  # "2.80 1.74  # first shell"
        tokens, decimal_comma = _split(body)
        first = _number(tokens[0], decimal_comma) if tokens else None
        if in_header and not strict and not n_columns and len(tokens) == 1 and body.isdigit():
            header.titles.append(stripped)  # RMCProfile: the number of points first
            continue
        if in_header and first is None and not strict:
            # header text before the first row: INI lines, "[PDF]", titles, or a row of
            # names. Like configparser (which PDFgetX3 uses), '#' in a value is kept.
            is_text = "=" not in stripped and not stripped.startswith("[")
            if not _add_metadata(metadata, stripped) and is_text:
                header.titles.append(stripped)
                if not re.match(r"^rmc\s", stripped, re.IGNORECASE):
                    header.names = tokens
            continue
        if not line.utf8:
            raise PDFReadError(path, "data line is not UTF-8 text (binary or garbled)", line.number)
        values = []
        for column, token in enumerate(tokens, 1):
            value = _number(token, decimal_comma)
            if value is None:
                shown = token if len(token) <= 20 else token[:20] + "…"
                raise PDFReadError(path, f"not a number in column {column}: {shown!r}", line.number)
            if not math.isfinite(value):
                raise PDFReadError(
                    path, f"non-finite value {token!r} in column {column}", line.number
                )
            values.append(value)
        if not rows:
            n_columns = len(values)
            if n_columns < 2:
                raise PDFReadError(path, "only one column of numbers; need r and G(r)", line.number)
        elif len(values) != n_columns:
            raise PDFReadError(
                path,
                f"{len(values)} columns, but the data started with {n_columns} "
                f"(line {row_lines[0]})",
                line.number,
            )
        rows.append(values)
        row_lines.append(line.number)
    if not rows:
        raise PDFReadError(path, "no numeric data found (expected columns r and G(r))")
    if not header.names and header.titles:  # "# r(Angstrom) RDF(r)": a comment of names
        words = header.titles[-1].lstrip("#%!/ ").split()
        if len(words) == n_columns and "=" not in header.titles[-1]:
            header.names = words
    return header, rows, row_lines


def _add_metadata(metadata: dict[str, float | str], text: str) -> bool:
    """Store a ``key = value`` header line; False when the line is not one."""
    match = _KEY_VALUE.match(text)
    if match is None:
        return False
    key, value = match.group(1).lower(), match.group(2).strip()
    if key not in metadata:
        try:
            metadata[key] = float(value)
        except ValueError:
            metadata[key] = value
    return True


def _to_pdfdata(
    path: str | os.PathLike[str],
    header: _Header,
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
