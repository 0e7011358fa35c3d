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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from deepstruc_gui.science.parameters import TRAINING_PARAMETERS

if TYPE_CHECKING:
    from deepstruc_gui.science.pdf_io import PDFData

__all__ = [
    "CLOSE_FACTOR",
    "CODES",
    "Diagnostic",
    "SizeAssessment",
    "SizeLimits",
    "assess_size",
    "close_pairs",
    "diagnose_data",
    "diagnose_result",
    "diagnose_structure",
    "size_limits",
]

#: every code a Diagnostic may carry (docs/WARNINGS.md explains each)
CODES = (
    "beyond-training-size",
    "q-range",
    "not-monometallic",
    "poor-fit",
    "close-atoms",
    "region-disagrees",  # the default search's finding (model/search.py)
)
SEVERITIES = ("info", "warning")
#: atoms closer than this × the structure's bond length are flagged
CLOSE_FACTOR = 0.6
#: best Rw above which a measured-data fit is "poor" (Rw of the right structure on
#: synchrotron nanoparticle data is typically 0.1–0.3; JQ_S1 with ase octahedra
#: 0.135–0.19, docs/WARNINGS.md), raised when the data's own noise is larger
POOR_RW = 0.35
#: size-warning margins measured on the training libraries (scripts/measure_size_warning.py):
#: the largest envelope diameter of any *compact* (tail exponent < COMPACT_EXPONENT,
#: envelope ratio ≥ COMPACT_RATIO) training shape is the volume-equivalent diameter of
#: the largest cluster in the loosest training packing; plates and rods reach further,
#: up to ANY_SHAPE_LIMIT bond lengths (mmnp: hcp s1=1 sheets, 8.75 d)
COMPACT_EXPONENT = 0.15
#: ... and whose envelope beyond 5 Å reaches this fraction of the largest |G| (compact
#: clusters 0.25–0.35, the library's flat sheets 0.10: noise hides their 1/r tail, not this)
COMPACT_RATIO = 0.2
ANY_SHAPE_LIMIT = {"mmnp": 9.0, "stacking": 9.0}
#: multiply twinned particles (envelope ratio in TWIN_RATIO: the library's flat sheets are
#: below, its simple-cubic and bcc blocks above) are flagged when their extent (where the
#: smoothed envelope falls below 1.5 % of |G|max) exceeds TWIN_EXTENT_FRACTION × the
#: close-packed volume-equivalent diameter of the largest training cluster (6.43 bond
#: lengths for 200 atoms): the training shapes in that ratio window reach 0.85 × (5.5 bond
#: lengths: 171-atom fcc blocks, the 147-atom icosahedron; 5.7 for 197-atom faulted
#: stacks), icosahedra and decahedra of 600–2,000 atoms 0.96–1.6 ×
TWIN_RATIO = (0.165, 0.27)
TWIN_EXTENT_FRACTION = 0.93
TWIN_EXTENT_OVER_D = 0.89
#: ... and only when the envelope fit's noise floor is below this fraction of the envelope
#: (twinned particles with 2 % noise: ≤ 0.15; the field case pt_oct5_noisy_4col, whose
#: noise grows to 25 % beyond 15 Å, 0.67): where noise reaches the end, so does the extent
TWIN_MAX_NOISE = 0.3
#: a size read from data this noisy (noise floor above this fraction of the envelope),
#: or with a 1σ uncertainty above this fraction of itself, claims nothing: the field
#: case pt_oct5_noisy_4col.gr (85 atoms, noise to 25 % past 15 Å) read 265 ± 432 Å
SIZE_MAX_NOISE = 0.3
SIZE_MAX_RELATIVE_ERROR = 0.5
_LOOSE_PACKING = {"sc": 2 ** (1 / 6), "bcc": (3 * math.sqrt(6) / 8) ** (-1 / 3)}


@dataclass(frozen=True)
class Diagnostic:
    """One warning: a stable ``code`` (see ``CODES``), a ``message`` for people, and a
    ``severity`` ("warning": do not trust the answer without checking; "info": worth
    knowing)."""

    code: str
    message: str
    severity: str = "warning"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown diagnostic code {self.code!r}; known: {', '.join(CODES)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def to_dict(self) -> dict[str, str]:
        """``{"code", "message", "severity"}`` as ``predict --json`` writes it."""
        return {"code": self.code, "message": self.message, "severity": self.severity}


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SizeLimits:
    """What the training set covers, at one bond length (Å)."""

    n_atoms: int  # the largest training cluster
    compact: float  # largest envelope diameter of a compact training shape (Å)
    any_shape: float  # largest envelope diameter of any training shape (Å)
    twinned: float = math.inf  # largest extent of a training shape in TWIN_RATIO (Å)


def size_limits(bundle_metadata: Mapping[str, Any] | None, bond_length: float) -> SizeLimits:
    """The training set's size limits for data whose bond length is ``bond_length``.

    Computed from what every bundle has: the largest atom count and the cluster types
    of its latent map (a compact cluster of n atoms in the loosest training packing —
    simple cubic holds √2 × fewer atoms per volume than close packing — has this
    volume-equivalent diameter), plus the measured plate/rod limit of its library kind.
    """
    from deepstruc_gui.science.particle_size import volume_equivalent_diameter

    meta = bundle_metadata or {}
    latent = meta.get("latent_map") or {}
    counts = latent.get("n_atoms") or [200]
    types = set(latent.get("types") or ["sc"])
    n_max = int(max(counts))
    packing = max([1.0] + [_LOOSE_PACKING[t] for t in types if t in _LOOSE_PACKING])
    compact = volume_equivalent_diameter(n_max, bond_length) * packing
    limit = ANY_SHAPE_LIMIT.get(str(meta.get("library_kind", "mmnp")), ANY_SHAPE_LIMIT["mmnp"])
    twinned = TWIN_EXTENT_FRACTION * volume_equivalent_diameter(n_max, bond_length)
    return SizeLimits(n_max, compact, max(compact, limit * bond_length), twinned)


def diagnose_data(
    data: PDFData, bundle_metadata: Mapping[str, Any] | None = None
) -> list[Diagnostic]:
    """Warnings about the data themselves: is this within what the model knows?

    ``data``: a read G(r) (``read_pdf``); ``bundle_metadata``: the model's
    (``ModelBundle.metadata``) or None for the training defaults.
    """
    out: list[Diagnostic] = []
    size = _size_warning(data, bundle_metadata)
    if size is not None:
        out.append(size)
    out.extend(_q_range_warnings(data, bundle_metadata))
    composition = _composition_warning(data)
    if composition is not None:
        out.append(composition)
    return out


@dataclass(frozen=True)
class SizeAssessment:
    """The particle diameter the size warning reports (Å, 1σ), whether it is beyond the
    training set (``beyond``), and whether it was read from the extent of a multiply
    twinned-looking envelope (``twinned``); ``estimate`` is the envelope fit
    (``SizeEstimate``), ``limits`` the training limits at the data's ``bond`` length."""

    diameter: float
    uncertainty: float
    beyond: bool
    twinned: bool
    estimate: Any
    limits: SizeLimits
    bond: float


def assess_size(data: PDFData, meta: Mapping[str, Any] | None = None) -> SizeAssessment | None:
    """Is the particle whose G(r) this is larger than the training structures?

    None when the data are too short or have no peak. The rules (docs/WARNINGS.md): the
    envelope diameter beyond the compact limit for a compact envelope, or beyond the
    any-shape limit; or, for an envelope ratio in ``TWIN_RATIO``, the extent beyond
    ``SizeLimits.twinned`` (then the diameter is the larger of the envelope's and
    ``twin_diameter``).
    """
    from deepstruc_gui.science.particle_size import estimate_diameter
    from deepstruc_gui.science.peaks import first_peak_position

    qdamp = data.metadata.get("qdamp")
    qdamp = float(qdamp) if isinstance(qdamp, float) and 0 <= qdamp <= 0.2 else None
    try:
        bond = first_peak_position(data.r, data.g)
        estimate = estimate_diameter(data.r, data.g, qdamp=qdamp)
    except ValueError:
        return None  # too short or no peak: other checks speak for these data
    limits = size_limits(meta, bond)
    d, err = estimate
    cautious = estimate.lowest  # without a header Qdamp: the smallest D it could be
    compact = estimate.tail_exponent < COMPACT_EXPONENT and estimate.envelope_ratio >= COMPACT_RATIO
    informative = estimate.noise < SIZE_MAX_NOISE and err < SIZE_MAX_RELATIVE_ERROR * d
    by_envelope = informative and (
        cautious > limits.any_shape or (compact and cautious > limits.compact)
    )
    # a single crystal's envelope follows the sphere's γ0 and ends at 0.82–0.86 × its D;
    # in twinned particles it ends at ≥ 0.89 × D (decahedra 0.92–1.0, icosahedra up to 1.5)
    short = estimate.extent >= TWIN_EXTENT_OVER_D * d
    twinned = (
        (short or not (compact and cautious > limits.compact))
        and TWIN_RATIO[0] <= estimate.envelope_ratio < TWIN_RATIO[1]
        and estimate.extent > limits.twinned
        and estimate.noise < TWIN_MAX_NOISE
    )
    if twinned:  # the envelope shows only coherent domains: read the size from the extent
        d = max(d, estimate.twin_diameter)
        err = max(err, estimate.twin_uncertainty)
    return SizeAssessment(d, err, by_envelope or twinned, twinned, estimate, limits, bond)


def _size_warning(data: PDFData, meta: Mapping[str, Any] | None) -> Diagnostic | None:
    from deepstruc_gui.science.particle_size import atoms_in_sphere

    size = assess_size(data, meta)
    if size is None or not size.beyond:
        return None
    d, err, bond, limits, estimate = (
        size.diameter,
        size.uncertainty,
        size.bond,
        size.limits,
        size.estimate,
    )
    note = " (beyond the end of the data: read from the envelope's shape)"
    note = note if estimate.extrapolated else ""
    if size.twinned:
        note = (
            ", read from how far G(r) still oscillates: its envelope decays early, as in a "
            "multiply twinned (icosahedral or decahedral) particle"
            + (", and past the end of the data: a lower bound" if estimate.extent_at_end else "")
        )
    n_est = atoms_in_sphere(d, bond)
    n_lo = atoms_in_sphere(max(d - err, 0.0), bond)
    n_hi = atoms_in_sphere(d + err, bond)
    return Diagnostic(
        "beyond-training-size",
        f"the particle looks larger than any training structure: its PDF stays above "
        f"the noise out to a diameter of about {d / 10:.1f} ± {err / 10:.1f} nm "
        f"({d:.0f} ± {err:.0f} Å{note}; roughly "
        f"{_round_count(n_est)} atoms, {_round_count(n_lo)}–{_round_count(n_hi)}), while the "
        f"model's largest clusters have {limits.n_atoms} atoms (about {limits.compact:.0f} Å "
        f"at this {bond:.2f} Å bond length). Candidates are at most {limits.n_atoms} atoms, "
        "so their atom counts are lower bounds and their shapes fragments of the particle; "
        "judge the type from the first peaks and do not read the size off the candidates.",
    )


def _round_count(n: float) -> str:
    if n < 100:
        return f"{n:.0f}"
    digits = 10 ** max(0, int(math.log10(n)) - 1)
    return f"{round(n / digits) * digits:,.0f}"


def _trained_ranges(meta: Mapping[str, Any] | None) -> dict[str, tuple[float, float]]:
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


_Q_NAMES = {"qmin": "Qmin", "qmax": "Qmax", "qdamp": "Qdamp"}


def _q_range_warnings(data: PDFData, meta: Mapping[str, Any] | None) -> list[Diagnostic]:
    ranges = _trained_ranges(meta)
    outside = []
    for key, (lo, hi) in ranges.items():
        value = data.metadata.get(key)
        if not isinstance(value, float) or not math.isfinite(value):
            continue
        tolerance = 0.05 * (hi - lo) + (0.002 if key == "qdamp" else 0.05)
        if value < lo - tolerance or value > hi + tolerance:
            outside.append(f"{_Q_NAMES[key]} {value:g} Å⁻¹ (trained on {lo:g}–{hi:g})")
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


def _composition_warning(data: PDFData) -> Diagnostic | None:
    import re

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


# --------------------------------------------------------------------------- result


def close_pairs(
    positions: np.ndarray, factor: float = CLOSE_FACTOR, bond_length: float | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Atom pairs closer than ``factor`` × the bond length.

    ``positions``: (n, 3) Å. ``bond_length``: None = the median nearest-neighbour
    distance of the structure itself (robust to a few overlapping atoms). Returns
    (pairs (k, 2) int, their distances (k,) Å, the bond length used).
    """
    from scipy.spatial import cKDTree

    from deepstruc_gui.science.structures import nearest_neighbour_distance

    p = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    bond = nearest_neighbour_distance(p) if bond_length is None else float(bond_length)
    if len(p) < 2 or not math.isfinite(bond) or bond <= 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0), bond
    pairs = cKDTree(p).query_pairs(factor * bond, output_type="ndarray")
    distances = np.linalg.norm(p[pairs[:, 0]] - p[pairs[:, 1]], axis=1)
    order = np.argsort(distances)
    return pairs[order], distances[order], bond


def diagnose_structure(positions: np.ndarray, name: str = "the structure") -> list[Diagnostic]:
    """``close-atoms`` for a structure the user loaded (positions (n, 3) Å)."""
    pairs, distances, bond = close_pairs(positions)
    if not len(pairs):
        return []
    shown = ", ".join(
        f"{i + 1}–{j + 1} ({d:.2f} Å)" for (i, j), d in zip(pairs[:3], distances[:3], strict=True)
    )
    more = f" and {len(pairs) - 3} more" if len(pairs) > 3 else ""
    return [
        Diagnostic(
            "close-atoms",
            f"{name} has {len(pairs)} atom pair(s) closer than {CLOSE_FACTOR} × its bond "
            f"length {bond:.2f} Å: atoms {shown}{more} (1-based). Overlapping atoms are "
            "usually a duplicated site in the file; remove one of each pair before fitting.",
        )
    ]


def diagnose_result(
    data: PDFData,
    candidates: Sequence[Any],
    bundle_metadata: Mapping[str, Any] | None = None,
    *,
    top: int = 10,
    data_warnings: Iterable[Diagnostic] = (),
    fit_range: tuple[float, float] = (2.0, 30.0),
) -> list[Diagnostic]:
    """Warnings about an answer: ``candidates`` ranked best first (objects with
    ``.rw`` and ``.positions`` (n, 3) Å, e.g. ``Candidate``); the ``top`` best are
    checked for close atoms. ``data_warnings``: :func:`diagnose_data`'s list, so the
    poor-fit advice can name a known cause. ``fit_range``: (rmin, rmax) Å of the fit,
    over which the data's own noise Rw is measured."""
    out: list[Diagnostic] = []
    if candidates:
        poor = _poor_fit(data, candidates[0].rw, bundle_metadata, list(data_warnings), fit_range)
        if poor is not None:
            out.append(poor)
    flagged = []
    for rank, c in enumerate(candidates[:top], 1):
        pairs, distances, bond = close_pairs(c.positions)
        if len(pairs):
            flagged.append((rank, len(pairs), float(distances[0]), bond))
    if flagged:
        ranks = ", ".join(f"#{rank}" for rank, *_ in flagged)
        rank, n, shortest, bond = flagged[0]
        out.append(
            Diagnostic(
                "close-atoms",
                f"candidate(s) {ranks} of the top {min(top, len(candidates))} have atoms "
                f"closer than {CLOSE_FACTOR} × the bond length (#{rank}: {n} pair(s), the "
                f"closest {shortest:.2f} Å for a {bond:.2f} Å bond). Such a cluster is not "
                "physical; its Rw may still look good. Prefer a candidate without them.",
            )
        )
    return out


def noise_rw(data: PDFData, rmin: float = 2.0, rmax: float = 30.0) -> float | None:
    """The Rw that the data's own noise alone gives: sqrt(Σσ²/ΣG²) over [rmin, rmax],
    σ from the file's dG column, else from the size fit's noise floor (None if
    neither is available)."""
    keep = (data.r >= rmin) & (data.r <= rmax)
    if keep.sum() < 10:
        return None
    g2 = float(np.sum(data.g[keep] ** 2))
    if g2 <= 0:
        return None
    if data.dg is not None and np.all(np.isfinite(data.dg)) and np.any(data.dg > 0):
        return math.sqrt(float(np.sum(data.dg[keep] ** 2)) / g2)
    from deepstruc_gui.science.particle_size import estimate_diameter

    try:
        estimate = estimate_diameter(data.r, data.g)
    except ValueError:
        return None
    return math.sqrt(estimate.noise_rms**2 * keep.sum() / g2)


def _poor_fit(
    data: PDFData,
    rw: float,
    meta: Mapping[str, Any] | None,
    known: list[Diagnostic],
    fit_range: tuple[float, float] = (2.0, 30.0),
) -> Diagnostic | None:
    if not math.isfinite(rw):
        return Diagnostic(
            "poor-fit", "the fit gave no finite Rw: nothing can be concluded from it."
        )
    floor = noise_rw(data, *fit_range)
    threshold = max(POOR_RW, 1.5 * floor) if floor is not None else POOR_RW
    if rw <= threshold:
        return None
    noise = f" (the noise alone gives Rw ≈ {floor:.2f})" if floor is not None else ""
    causes = [w.code for w in known if w.code in ("beyond-training-size", "not-monometallic")]
    other = "stacking" if (meta or {}).get("library_kind") == "mmnp" else "mmnp"
    because = f" The warnings {', '.join(causes)} may explain it." if causes else ""
    return Diagnostic(
        "poor-fit",
        f"the best Rw {rw:.3f} is above {threshold:.2f}, what a right structure usually "
        f"reaches on data of this quality{noise}: none of these candidates is a good "
        f"description.{because} Try the whole map or a wider region (5σ or 7σ), the "
        f"other model ({other}), refining Qdamp, or a narrower fit range.",
    )
