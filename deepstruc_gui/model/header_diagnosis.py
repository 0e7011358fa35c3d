"""What the file's header says the model does not know: ``q-range`` (Qmin, Qmax,
Qdamp outside what the model was trained or refitted on) and ``not-monometallic``
(a composition naming several elements)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from deepstruc_gui.model.diagnostic import Diagnostic
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS

if TYPE_CHECKING:
    from deepstruc_gui.science.pdf_data import PDFData

__all__ = ["composition_warning", "q_range_warnings", "trained_ranges"]


def trained_ranges(meta: Mapping[str, Any] | None) -> dict[str, tuple[float, float]]:
    """Qmin, Qmax, Qdamp ranges the model saw: the training value, widened by the
    ranges the prior was refitted on."""
    params = dict(TRAINING_PARAMETERS.to_dict())
    if meta:
        params.update(meta.get("pdf_parameters") or {})
    refit = ((meta or {}).get("prior_fit") or {}).get("ranges") or {}
    out = {}
    for key in ("qmin", "qmax", "qdamp"):
        value = float(params[key])
        lo, hi = refit.get(key, (value, value))
        out[key] = (min(value, float(lo)), max(value, float(hi)))
    return out


#: relative error of a Qmax read from the ripples (measured worst case 4.3 %, rounded up)
READ_QMAX_ERROR = 0.05
_Q_NAMES = {"qmin": "Qmin", "qmax": "Qmax", "qdamp": "Qdamp"}


def q_range_warnings(data: PDFData, meta: Mapping[str, Any] | None) -> list[Diagnostic]:
    """``q-range`` when the header's Qmin, Qmax or Qdamp lies outside the trained ranges;
    without a header Qmax, Qmax read from the termination ripples
    (:func:`deepstruc_gui.science.termination.estimate_qmax`, within 4.3 % where it
    answers) stands in, its error added to the tolerance."""
    ranges = trained_ranges(meta)
    outside = []
    for key, (lo, hi) in ranges.items():
        value = data.metadata.get(key)
        tolerance = 0.05 * (hi - lo) + (0.002 if key == "qdamp" else 0.05)
        source = ""
        if key == "qmax" and not (isinstance(value, float) and math.isfinite(value)):
            value = _qmax_from_ripples(data)
            if value is not None:
                tolerance += READ_QMAX_ERROR * value
                source = " read from the termination ripples (the header gives none)"
        if not isinstance(value, float) or not math.isfinite(value):
            continue
        if value < lo - tolerance or value > hi + tolerance:
            what = f"{_Q_NAMES[key]} {'≈ ' if source else ''}{value:g} Å⁻¹{source}"
            outside.append(f"{what} (trained on {lo:g}–{hi:g})")
    if not outside:
        return []
    return [
        Diagnostic(
            "q-range",
            f"the data were measured or processed outside what the model was trained on: "
            f"{'; '.join(outside)}. Peak widths and termination ripples differ from the "
            "training PDFs, so the prior may place the data wrongly; the fit uses the "
            "header's values, and a search of the whole map is the safer check.",
        )
    ]


def _qmax_from_ripples(data: PDFData) -> float | None:
    from deepstruc_gui.science.termination import estimate_qmax

    try:
        estimate = estimate_qmax(data.r, data.g)
    except ValueError:
        return None
    return None if estimate is None else round(estimate.qmax, 1)


def composition_warning(data: PDFData) -> Diagnostic | None:
    from ase.data import atomic_numbers

    composition = data.metadata.get("composition")
    if not isinstance(composition, str):
        return None
    symbols = []
    for symbol in re.findall(r"[A-Z][a-z]?", composition):
        if symbol in atomic_numbers and symbol not in symbols:
            symbols.append(symbol)
    if len(symbols) < 2:
        return None
    metal = data.main_element
    others = [s for s in symbols if s != metal]
    return Diagnostic(
        "not-monometallic",
        f"the header's composition '{composition}' names {', '.join(symbols)}; the model "
        f"knows clusters of one metal, so candidates hold {metal} only. Pairs with "
        f"{', '.join(others)} are in the data but in no candidate: Rw cannot reach zero, "
        "and the lighter atoms' peaks may be taken for metal–metal distances.",
    )
