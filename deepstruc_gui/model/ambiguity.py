"""What the data can tell apart: candidates that fit as well as the best within the
data's noise, and the ``not-unique`` warning when they disagree.

Noisy data, a Qdamp or delta2 the header does not give and a search that fits
hundreds of clusters together make a wrong cluster fit a little better than the right
one by chance (measured on measured-like stacking PDFs: a 98-atom stack at Rw 0.185
beat the true 146-atom one at 0.195, with the data's own noise at Rw 0.193). Ranking
by Rw alone then gives a confident wrong answer; this module says when the ranking's
top is not decided by the data.

The rule (:func:`indistinguishable_rw`): a G(r) measured to Qmax over
[rmin, rmax] holds N = (rmax − rmin) · Qmax / π independent points (Nyquist–Shannon
sampling of the PDF, Farrow et al., Phys. Rev. B 84, 134105 (2011)). With the noise's
own Rw, Rw_noise (:func:`~deepstruc_gui.model.fit_diagnosis.noise_rw`), a fit's
χ² ≈ N · Rw² / Rw_noise²; two fits whose χ² differ by less than two standard
deviations of a χ² with N degrees of freedom, 2 · √(2N), are not told apart:

    Rw_limit² = Rw_best² + 2 · √(2 / N) · Rw_noise²,

and never less than 2 % above the best Rw (clean data: what the sequence search
always named).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from deepstruc_gui.model.diagnostic import Diagnostic
from deepstruc_gui.model.fit_diagnosis import noise_rw

if TYPE_CHECKING:
    from deepstruc_gui.science.pdf_io import PDFData

__all__ = ["RELATIVE_FLOOR", "alike", "ambiguity_warning", "indistinguishable_rw", "rw_limit"]

#: candidates within this relative Rw of the best are always "as good"
RELATIVE_FLOOR = 0.02
#: atom counts that differ by more than this share of the best's disagree
COUNT_SPREAD = 0.10


def independent_points(qmax: float, fit_range: tuple[float, float]) -> float:
    """N = (rmax − rmin) · Qmax / π (Farrow et al. 2011); ``qmax`` Å⁻¹, range Å."""
    rmin, rmax = fit_range
    return max((rmax - rmin) * qmax / math.pi, 1.0)


def indistinguishable_rw(
    best_rw: float,
    data: PDFData | None = None,
    qmax: float | None = None,
    fit_range: tuple[float, float] = (2.0, 30.0),
) -> float:
    """The highest Rw that fits ``data`` as well as ``best_rw`` within their noise
    (the module's rule); ``best_rw · 1.02`` when the noise cannot be estimated
    (no data, no Qmax, too short a range)."""
    noise = noise_rw(data, *fit_range) if data is not None and qmax else None
    return rw_limit(best_rw, noise, qmax, fit_range)


def rw_limit(
    best_rw: float, noise: float | None, qmax: float | None, fit_range: tuple[float, float]
) -> float:
    """The module's rule for a known noise Rw (None: the 2 % floor alone)."""
    floor = best_rw * (1 + RELATIVE_FLOOR)
    if noise is None or not qmax or not math.isfinite(best_rw):
        return floor
    n = independent_points(qmax, fit_range)
    return max(floor, math.sqrt(best_rw**2 + 2 * math.sqrt(2 / n) * noise**2))


def alike(candidates: Sequence[Any], limit: float) -> list[Any]:
    """The candidates (ranked best first, objects with ``.rw``) other than the best
    whose Rw is within ``limit``."""
    return [c for c in candidates[1:] if c.rw <= limit]


def ambiguity_warning(
    data: PDFData,
    candidates: Sequence[Any],
    qmax: float | None,
    fit_range: tuple[float, float] = (2.0, 30.0),
) -> Diagnostic | None:
    """``not-unique`` when candidates that fit as well as the best (ranked best first;
    ``.rw``, ``.n_atoms``, ``.nearest_type``, ``.shape``) disagree on the structure
    type or on the atom count by more than 10 %; None when they agree or none does."""
    if not candidates:
        return None
    best = candidates[0]
    noise = noise_rw(data, *fit_range) if qmax else None
    limit = rw_limit(best.rw, noise, qmax, fit_range)
    others = alike(candidates, limit)
    group = [best, *others]
    counts = [int(c.n_atoms) for c in group]
    types = sorted({str(c.nearest_type) for c in group})
    spread = (max(counts) - min(counts)) > COUNT_SPREAD * max(int(best.n_atoms), 1)
    if not spread and len(types) == 1:
        return None
    said_noise = f"; the noise alone gives Rw ≈ {noise:.3f}" if noise is not None else ""
    what = []
    if len(types) > 1:
        what.append("the structure type (" + ", ".join(types) + ")")
    if spread:
        what.append(f"the atom count ({min(counts)}–{max(counts)})")
    agreed = []
    if len(types) == 1:
        agreed.append(f"{types[0]}")
    if not spread:
        agreed.append(f"about {int(best.n_atoms)} atoms")
    fixed = f" They agree on {' and '.join(agreed)}." if agreed else ""
    return Diagnostic(
        "not-unique",
        f"{len(others)} other candidate(s) fit as well as the best within the noise of "
        f"these data (Rw ≤ {limit:.3f} against the best {best.rw:.3f}{said_noise}) and "
        f"differ in {' and '.join(what)}: these data do not decide between them.{fixed} "
        "Compare them (the table lists them next to the best) and read the answer as a "
        "range, or measure to a higher Qmax or with less noise.",
    )
