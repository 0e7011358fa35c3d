"""What does a data file hold? G(r), or something else that only looks like two columns.

PDF programs write several related curves with the same layout (Egami & Billinge,
*Underneath the Bragg Peaks*, ch. 3; PDFgetX3 / xPDFsuite ``outputtype``):

======  ==========================================  ===========================
code    quantity                                     how it looks
======  ==========================================  ===========================
G       reduced PDF G(r) = 4πrρ0 (g(r) − 1)          oscillates about 0; −4πρ0r
                                                     below the first bond
g       pair distribution g(r)                       ≥ 0, oscillates about 1
R       radial distribution R(r) = 4πr²ρ(r) (RDF)    ≥ 0, grows like r²
F       reduced structure function F(Q) = Q(S − 1)   Q axis (Å⁻¹), ends at Qmax
S       structure factor S(Q)                        Q axis, oscillates about 1
I       intensity I(Q) or I(2θ)                      Q or angle axis, positive
fit     PDFgui fit file (.fgr): r, Gcalc, dr, dGcalc, Gdiff
======  ==========================================  ===========================

:func:`recognise` weighs every signal a file gives, strongest first: header keys
(``outputtype``, ``PDFType``, ``dataformat``), titles (``#T F(Q) …`` of GSAS-II,
``rmc G(r) # …`` of Mantid's SaveRMCProfile, ``##### PDFgui fit``), column labels
(``#L``, CSV header rows, a last comment line of names), the file extension, and
finally the data themselves (a first strong peak at 0.2–0.35 means r in nm; a curve
oscillating about +1 means g(r); one growing like r² means R(r); an axis ending at
10–60 whose strongest feature lies beyond 4.5 means Q). Every result says which
signal decided it (``evidence``), so a refusal can tell the user why.

No Qt, no torch: numpy only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["QUANTITY_NAMES", "Recognition", "advice", "recognise", "unit_from_data"]

QUANTITY_NAMES = {
    "G": "the reduced pair distribution function G(r)",
    "g": "the pair distribution function g(r) (it oscillates about 1)",
    "R": "the radial distribution function R(r) = 4πr²ρ(r) (it grows as r²)",
    "F": "the reduced structure function F(Q), in reciprocal space",
    "S": "the structure factor S(Q), in reciprocal space",
    "I": "scattered intensity (I(Q) or I(2θ)), in reciprocal space",
    "fit": "a PDFgui fit (.fgr): r, Gcalc, dr, dGcalc, Gdiff",
}

_OUTPUT_TYPES = {"gr": "G", "fq": "F", "sq": "S", "iq": "I", "rdf": "R"}
_EXTENSIONS = {".fq": "F", ".sq": "S", ".iq": "I", ".chi": "I", ".xye": "I", ".fgr": "fit"}
_R_EXTENSIONS = (".gr", ".rdf", ".pdf", ".grc")
_Q_X = re.compile(r"^(q|q_?\(.*\)|q\[.*\]|q_?(a|nm|1/a|1/nm|inv.*)?)$", re.IGNORECASE)
_ANGLE_X = re.compile(r"^(2th(eta)?|tth|2θ|twotheta)", re.IGNORECASE)
_NM = re.compile(r"(\bnm\b|[(\[_ ]nm[)\]]?|\bnanomet)", re.IGNORECASE)
_ANGSTROM = re.compile(r"(å|\\aa|angstrom|\(a\)|\[a\]|_a\b|a\^-?[12])", re.IGNORECASE)


@dataclass(frozen=True)
class Recognition:
    """What a file holds.

    ``quantity``: a key of ``QUANTITY_NAMES``. ``x_unit``: "Å", "nm" (r axis) or "Q"
    / "angle" for reciprocal-space axes. ``evidence``: the signal that decided, for
    messages ("header key outputtype = fq", "column label 'r(nm)'", "the data: …").
    ``from_data``: True when no label said it and the data alone decided.
    """

    quantity: str
    x_unit: str
    evidence: str
    from_data: bool = False

    @property
    def is_g_of_r(self) -> bool:
        """True when the file holds G(r) on an r axis in Å or nm."""
        return self.quantity == "G" and self.x_unit in ("Å", "nm")


def _label_quantity(label: str, x_is_q: bool | None) -> str | None:
    """Quantity named by one y-column label, or None."""
    text = label.strip().strip("\"'")
    bare = re.split(r"[\s\[(]", text, maxsplit=1)[0]
    low = text.lower().replace(" ", "")
    if re.match(r"^(gcalc|gdiff|gcal|gfit)", low):
        return "fit"
    if low.startswith(("rdf", "r(r)")) or bare == "R":
        return "R"
    if text.startswith(("g(r)", "g(R)")) or bare == "g":
        return "g"
    if re.match(r"^(g|gr|g_?obs|gobs)(\(|$|\[|_|\s)", low) or bare in ("G", "Gr", "G(r)"):
        return "G"
    if low.startswith("d(r)"):
        return "G"  # Keen's D(r) = 4πrρ0(g − 1)·(Σcb)²: G(r) up to a scale
    if re.match(r"^(f|fq|f\(q\))(\(|$|\[|_|\s)", low):
        return "F"
    if re.match(r"^(s|sq|s\(q\))(\(|$|\[|_|\s)", low):
        return "S"
    if re.match(r"^(i|iq|i\(q\)|intensity|counts|i\(2)", low):
        return "I"
    return None


def _axis(label: str) -> tuple[str | None, str | None]:
    """(space, unit) of an x-column label: ("r", "nm"/"Å"/None) or ("Q", None)."""
    text = label.strip().strip("\"'")
    low = text.lower()
    if _ANGLE_X.match(low):
        return "angle", None
    if _Q_X.match(low) or low.startswith("q(") or low.startswith("q ") or low == "q":
        return "Q", None
    if low.startswith("r"):
        if _NM.search(text[1:]):
            return "r", "nm"
        if _ANGSTROM.search(text[1:]):
            return "r", "Å"
        return "r", None
    return None, None


def recognise(
    metadata: Mapping[str, float | str],
    names: Sequence[str],
    titles: Sequence[str],
    x: np.ndarray,
    y: np.ndarray,
    extension: str = "",
) -> Recognition:
    """Decide what a two-(or more-)column table holds; see the module docstring.

    ``metadata``: the header's ``key = value`` pairs (keys lower-case); ``names``:
    column labels, first the x column; ``titles``: other header/comment lines (free
    text); ``x``, ``y``: the first two columns; ``extension``: the file's, lower-case.
    """
    label_q = None
    unit = None
    space = None
    if names:
        space, unit = _axis(names[0])
        if len(names) > 1:
            label_q = _label_quantity(names[1], space == "Q")
        if any(_label_quantity(n, None) == "fit" for n in names[1:]):
            label_q = "fit"
    label_evidence = f"column labels {' '.join(names[:5])!r}" if names else ""

    # 1. header keys
    for key in ("outputtype", "pdftype", "datatype"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            # case matters: PDFType = g(r) is not G(r)
            q = _label_quantity(value, None) or _OUTPUT_TYPES.get(value.strip().lower())
            if q is not None:
                evidence = f"header key {key} = {value.strip()}"
                x_unit = unit or ("Q" if q in "FSI" else "Å")
                if unit is not None and q in "GgR":
                    evidence += f" and the column label {names[0]!r}"
                elif q in "GgR":
                    x_unit, why = unit_from_data(x, y, q)
                    evidence += f"; {why}" if why else ""
                return Recognition(q, x_unit, evidence)
    # 2. titles: GSAS-II '#T F(Q) …', Mantid SaveRMCProfile 'rmc F(Q) # …', PDFgui fit
    for title in titles:
        t = title.strip().lstrip("#").strip()
        if re.match(r"^#*\s*PDFgui fit", title.strip()):
            return Recognition("fit", unit or "Å", "the header line '##### PDFgui fit'")
        m = re.match(r"^(?:T\s+|rmc\s+)(\S+)", t)
        if m:
            q = _label_quantity(m.group(1), None)
            if q is not None:
                x_unit = unit or ("Q" if q in "FSI" else unit_from_data(x, y, q)[0])
                return Recognition(q, x_unit, f"the title line {title.strip()[:40]!r}")
    # 3. column labels
    if space in ("Q", "angle"):
        q = label_q if label_q in ("F", "S", "I") else ("I" if space == "angle" else "F")
        return Recognition(q, "Q" if space == "Q" else "angle", label_evidence)
    if label_q is not None:
        x_unit = unit or unit_from_data(x, y, label_q)[0]
        return Recognition(label_q, x_unit, label_evidence)
    # 4. file extension
    if extension in _EXTENSIONS:
        q = _EXTENSIONS[extension]
        return Recognition(q, "Q" if q in "FSI" else "Å", f"the file extension {extension}")
    # 5. the data (a .gr/.rdf/.pdf extension already says r space)
    return _from_data(x, y, unit, r_space=space == "r" or extension in _R_EXTENSIONS)


def _first_peak(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float | None:
    """x of the first local maximum in [lo, hi] reaching 30 % of the curve's maximum."""
    top = float(np.max(y))
    if top <= 0:
        return None
    idx = np.flatnonzero((x >= lo) & (x <= hi))
    for i in idx:
        if 0 < i < len(y) - 1 and y[i] >= y[i - 1] and y[i] > y[i + 1] and y[i] >= 0.3 * top:
            return float(x[i])
    return None


def unit_from_data(x: np.ndarray, y: np.ndarray, quantity: str) -> tuple[str, str]:
    """("nm" or "Å", why) for an r axis whose label gives no unit."""
    if quantity == "R":  # R grows with r: judge the first peak of R/r² instead
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(x > 0, y / np.maximum(x, 1e-12) ** 2, 0.0)
    peak = _first_peak(x, y, 0.15, 0.4) if x[-1] < 15 else None
    if peak is not None and _first_peak(x, y, 1.8, 3.6) is None:
        return "nm", f"its first strong peak is at r = {peak:.3f}, a metal bond in nm"
    return "Å", ""


def _from_data(
    x: np.ndarray, y: np.ndarray, unit: str | None, r_space: bool = False
) -> Recognition:
    span = float(np.max(np.abs(y))) or 1.0
    positive = float(np.min(y)) >= -0.02 * span
    upper = x >= x[0] + 0.5 * (x[-1] - x[0])
    q_like_axis = not r_space and 10 <= x[-1] <= 60 and x[0] > 0.05
    x_unit, why_unit = (unit, "") if unit is not None else unit_from_data(x, y, "G")
    r = x * (10.0 if x_unit == "nm" else 1.0)
    if positive and np.sum(upper) > 5:
        hi, rr = y[upper], r[upper]
        # R(r): never negative, growing like r² (correlation with r² on the upper half)
        grows = np.std(hi) > 0 and np.corrcoef(rr**2, hi)[0, 1] > 0.9
        if grows and np.mean(hi) > 3 * max(np.mean(np.abs(y[~upper])), 1e-12):
            return Recognition("R", x_unit, "the data: never negative and growing like r²", True)
        median = float(np.median(hi))
        if 0.6 < median < 1.4 and float(np.max(y)) > 1.3 * median:
            about = f"never negative and oscillating about {median:.2f} at high x"
            if q_like_axis and x[0] >= 0.3:  # S(Q) starts at Qmin, g(r) at r ≈ 0
                return Recognition("S", "Q", f"the data: {about}, starting at {x[0]:g}", True)
            return Recognition("g", x_unit, f"the data: {about}", True)
    floor, top = float(np.min(y)), float(np.max(y))
    if y.size >= 50 and 0 < floor < top and (x[-1] > 60 or q_like_axis or floor > 0.1 * top):
        # a G(r) oscillates about 0; counts on a Q or 2θ axis never go below zero
        return Recognition(
            "I",
            "angle" if x[-1] > 60 else "Q",
            f"the data: never below zero (minimum {floor:.3g}) on an axis from {x[0]:g} to "
            f"{x[-1]:g}, like an intensity (G(r) oscillates about 0)",
            True,
        )
    # reciprocal space: an axis ending at Qmax, its strongest feature well past the
    # 2.2–3.3 Å of a first r-space peak, nothing at r = 0
    x_max_abs = float(x[np.argmax(np.abs(y))])
    if q_like_axis and x_max_abs > 4.5:
        return Recognition(
            "I" if positive else "F",
            "Q",
            f"the data: the axis ends at {x[-1]:g} and the strongest feature is at "
            f"{x_max_abs:.2f}, where no G(r) has one (a Q axis ending at Qmax)",
            True,
        )
    evidence = "the data: oscillating about 0" + (f"; {why_unit}" if why_unit else "")
    return Recognition("G", x_unit, evidence, True)


def advice(quantity: str) -> str:
    """What to do with a file that holds ``quantity`` instead of G(r)."""
    if quantity in ("F", "S", "I"):
        return (
            "transform it to G(r) with PDFgetX3/xPDFsuite, GSAS-II or Mantid "
            "(PDFFourierTransform), or open the .gr file written beside it"
        )
    if quantity == "g":
        return (
            "convert it with G(r) = 4πρ0·r·(g(r) − 1), which needs the number density ρ0 "
            "(atoms/Å³) the file does not give, or export G(r) from the program that "
            "wrote it"
        )
    if quantity == "R":
        return (
            "convert it with G(r) = R(r)/r − 4πρ0·r, which needs the number density ρ0 the "
            "file does not give, or export G(r) from the program that wrote it"
        )
    if quantity == "fit":
        return "open the measured data (.gr) the fit was made against"
    return "export G(r) (r in Å, G in Å⁻²) from the program that wrote it"
