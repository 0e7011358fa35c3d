"""Text tables as beamline software writes them: bytes → header and numeric rows.

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

What the rows *mean* (G(r), F(Q), g(r), …, and the columns' roles) is decided by
:mod:`deepstruc_gui.science.pdf_io` with :mod:`deepstruc_gui.science.quantity`; this
module only splits header from data and turns tokens into numbers, raising
``PDFReadError`` naming the file and line for anything that is not a number.

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
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

from deepstruc_gui.science.pdf_data import PDFReadError

__all__ = ["TableHeader", "TextLine", "decode_lines", "parse_lines"]

_START_DATA = re.compile(r"^#+\s*start\s+data\b", re.IGNORECASE)
_KEY_VALUE = re.compile(r"^[#;!%\s]*([A-Za-z_][A-Za-z0-9_.\-]*)\s*=(.*)$")
_COMMENT_PREFIXES = ("#", "%", "!", "//")
_CONTROL_BYTES = bytes(range(1, 9)) + bytes(range(14, 32)) + b"\x7f"
_NON_CONTROL = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class TextLine:
    number: int  # 1-based
    text: str
    utf8: bool  # False: decoded as Latin-1 because it was not valid UTF-8


_NEWLINE = re.compile(r"\r\n|\r|\n")


def decode_lines(path: str | os.PathLike[str], data: bytes) -> list[TextLine]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise PDFReadError(path, "not a text file (broken UTF-16)") from None
        return [TextLine(i, t, True) for i, t in enumerate(_NEWLINE.split(text), 1)]
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
        return [TextLine(i, t, True) for i, t in enumerate(_NEWLINE.split(text), 1)]
    n_high = len(data) - len(data.translate(None, bytes(range(128, 256))))
    if n_high > len(data) // 10:
        raise PDFReadError(path, "not a text file (binary or unknown encoding, not UTF-8)")
    out = []
    for i, raw in enumerate(re.split(rb"\r\n|\r|\n", data), 1):
        try:
            out.append(TextLine(i, raw.decode("utf-8"), True))
        except UnicodeDecodeError:
            out.append(TextLine(i, raw.decode("latin-1"), False))
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
class TableHeader:
    """What the lines before (and between) the data said about them."""

    metadata: dict[str, float | str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # column labels, x first
    titles: list[str] = field(default_factory=list)  # other free-text header lines


_LABEL_LINE = re.compile(r"^[#\s]*L\s+(.*)$")  # "#L r G", "# #L r G dr dG"


def parse_lines(
    path: str | os.PathLike[str], lines: list[TextLine]
) -> tuple[TableHeader, list[list[float]], list[int]]:
    """Split header from data; return what the header said, numeric rows and their
    line numbers."""
    header = TableHeader()
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
