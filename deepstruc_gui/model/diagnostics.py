"""When not to trust an answer: the one list of warnings every front end shows.

The window (banner beside the result), ``predict`` (printed, and ``"warnings"`` in
``--json``), the notebook API and the series mode all call these functions, so a
warning reads the same everywhere. Each :class:`Diagnostic` has a stable ``code``
(documented in docs/WARNINGS.md) and one or two sentences saying what is wrong, how
sure we are, and what to do.

* :func:`diagnose_data`: about the data, before or without a search —
  ``beyond-training-size``, ``q-range``, ``not-monometallic``.
* :func:`diagnose_result`: about an answer — ``poor-fit``, ``close-atoms``.
* :func:`diagnose_structure`: a structure the user brought (``close-atoms``).

The bundle's metadata (``ModelBundle.metadata``) tells what the model was trained
on: ``pdf_parameters`` (the training simulation), ``prior_fit.ranges`` (the Qmin,
Qmax, Qdamp ranges it was refitted on), ``latent_map.n_atoms`` and ``.types`` (the
largest training cluster and its packings), ``library_kind``. None means the
training defaults of the seven-type library.

Each family has its own module: :mod:`~deepstruc_gui.model.size_diagnosis`
(``beyond-training-size``), :mod:`~deepstruc_gui.model.header_diagnosis` (``q-range``,
``not-monometallic``), :mod:`~deepstruc_gui.model.fit_diagnosis` (``poor-fit``,
``close-atoms``); :mod:`~deepstruc_gui.model.diagnostic` holds the record itself. Their
public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from deepstruc_gui.model.diagnostic import CODES, SEVERITIES, Diagnostic
from deepstruc_gui.model.fit_diagnosis import (
    CLOSE_FACTOR,
    POOR_RW,
    candidates_close_atoms,
    close_pairs,
    noise_rw,
    poor_fit_warning,
    structure_close_atoms,
)
from deepstruc_gui.model.header_diagnosis import composition_warning, q_range_warnings
from deepstruc_gui.model.size_diagnosis import (
    COMPACT_EXPONENT,
    SizeAssessment,
    SizeLimits,
    assess_size,
    size_limits,
    size_warning,
)

if TYPE_CHECKING:
    from deepstruc_gui.science.pdf_data import PDFData

__all__ = [
    "CLOSE_FACTOR",
    "CODES",
    "COMPACT_EXPONENT",
    "POOR_RW",
    "SEVERITIES",
    "Diagnostic",
    "SizeAssessment",
    "SizeLimits",
    "assess_size",
    "close_pairs",
    "diagnose_data",
    "diagnose_result",
    "diagnose_structure",
    "noise_rw",
    "size_limits",
]


def diagnose_data(
    data: PDFData,
    bundle_metadata: Mapping[str, Any] | None = None,
    *,
    candidates: Sequence[Any] | None = None,
    fit_range: tuple[float, float] = (2.0, 30.0),
) -> list[Diagnostic]:
    """Warnings about the data themselves: is this within what the model knows?

    ``data``: a read G(r) (``read_pdf``); ``bundle_metadata``: the model's
    (``ModelBundle.metadata``) or None for the training defaults. ``candidates``: a
    result's candidates, ranked best first, when there is one: ``beyond-training-size``
    then says what the leading one's size rests on, and in the envelope's ambiguous
    zone rests on the fit (:func:`~deepstruc_gui.model.size_diagnosis.size_warning`;
    ``fit_range``: (rmin, rmax) Å of the fit, over which the noise Rw is measured).
    """
    out: list[Diagnostic] = []
    floor = noise_rw(data, *fit_range) if candidates else None
    size = size_warning(data, bundle_metadata, candidates, floor)
    if size is not None:
        out.append(size)
    out.extend(q_range_warnings(data, bundle_metadata))
    composition = composition_warning(data)
    if composition is not None:
        out.append(composition)
    return out


def diagnose_structure(positions: np.ndarray, name: str = "the structure") -> list[Diagnostic]:
    """``close-atoms`` for a structure the user loaded (positions (n, 3) Å)."""
    return structure_close_atoms(positions, name)


def diagnose_result(
    data: PDFData,
    candidates: Sequence[Any],
    bundle_metadata: Mapping[str, Any] | None = None,
    *,
    top: int = 10,
    data_warnings: Iterable[Diagnostic] = (),
    fit_range: tuple[float, float] = (2.0, 30.0),
    qmax: float | None = None,
) -> list[Diagnostic]:
    """Warnings about an answer: ``candidates`` ranked best first (objects with
    ``.rw`` and ``.positions`` (n, 3) Å, e.g. ``Candidate``); the ``top`` best are
    checked for close atoms. ``data_warnings``: :func:`diagnose_data`'s list, so the
    poor-fit advice can name a known cause. ``fit_range``: (rmin, rmax) Å of the fit,
    over which the data's own noise Rw is measured; ``qmax`` (Å⁻¹) of the data, for
    ``not-unique`` (:mod:`deepstruc_gui.model.ambiguity`; candidates with
    ``.n_atoms`` and ``.nearest_type``)."""
    out: list[Diagnostic] = []
    if candidates:
        poor = poor_fit_warning(
            data, candidates[0].rw, bundle_metadata, list(data_warnings), fit_range
        )
        if poor is not None:
            out.append(poor)
    close = candidates_close_atoms(candidates, top)
    if close is not None:
        out.append(close)
    if candidates and hasattr(candidates[0], "n_atoms"):
        from deepstruc_gui.model.ambiguity import ambiguity_warning

        unsure = ambiguity_warning(data, candidates, qmax, fit_range)
        if unsure is not None:
            out.append(unsure)
    return out
