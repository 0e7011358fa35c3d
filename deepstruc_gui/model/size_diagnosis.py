"""``beyond-training-size``: is the particle larger than the training structures?

The diameter is read from G(r) alone (:mod:`deepstruc_gui.science.particle_size`) and
compared with limits computed from the bundle's metadata (its latent map's atom counts
and types, its ``library_kind``); where the envelope is ambiguous (small multiply
twinned particles read like faulted training stacks) a result's ranking decides
(:func:`fit_evidence`). The message's last sentence says what the leading candidate's
size rests on. The rules and their measurements are in docs/WARNINGS.md,
``scripts/measure_size_warning.py`` (the envelope) and
``scripts/measure_size_evidence.py`` (the fit's evidence, whole searches).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepstruc_gui.model.diagnostic import Diagnostic

if TYPE_CHECKING:
    from deepstruc_gui.science.pdf_data import PDFData

__all__ = [
    "AMBIGUOUS_ENVELOPE_FRACTION",
    "COMPACT_EXPONENT",
    "EVIDENCE_MISFIT_RATIO",
    "FitEvidence",
    "SizeAssessment",
    "SizeLimits",
    "assess_size",
    "fit_evidence",
    "size_limits",
    "size_warning",
]

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
#: twinned-looking when the twinned envelope's residual is below TWIN_FIT_RATIO × the
#: sphere's (``SizeEstimate.twin_fit_ratio``; measured, Pt 300–2,300 atoms, clean and 2 %
#: noise: single crystals 1.25–2.6, decahedra 0.85–1.10, icosahedra 0.50–0.69) and
#: icosahedron-like below ICOSAHEDRAL_FIT_RATIO
TWIN_FIT_RATIO = 1.18
ICOSAHEDRAL_FIT_RATIO = 0.77
#: decahedron-like particles are flagged when their twinned-envelope diameter exceeds
#: TWIN_ENVELOPE_FRACTION × the close-packed volume-equivalent diameter of the largest
#: training cluster: the stacking library's faulted ≤ 200-atom stacks read up to 1.31 ×
#: (clean and 2 % noise, bond 2.60 Å), decahedra of 606–1,840 atoms 1.47–2.0 ×, those of
#: 333–389 atoms 1.24–1.32 × (not separable from the stacks by the envelope: flagged on
#: the fit's evidence instead, AMBIGUOUS_ENVELOPE_FRACTION)
TWIN_ENVELOPE_FRACTION = 1.4
#: below that gate, a twinned-looking envelope whose twinned-envelope diameter exceeds
#: AMBIGUOUS_ENVELOPE_FRACTION × the same close-packed diameter is *ambiguous*: Pt
#: decahedra of 257–460 atoms read 1.14–1.38 × (clean and 2 % noise), the faulted
#: stacks up to 1.35 ×, no seven-type test-split shape 1.1 × or more; there the warning
#: rests on the result instead (:func:`fit_evidence`)
AMBIGUOUS_ENVELOPE_FRACTION = 1.1
#: ... and fires when a built cluster larger than the training clusters leads the
#: ranking with a misfit (√(Rw² − noise Rw²)) at most this fraction of the model's best
#: decoded candidate's. Measured (scripts/measure_size_evidence.py, run_solve with the
#: default model, clean and 2 % noise): Pt decahedra of 257–434 atoms 0.00 (15/16; the
#: 16th, 284 atoms with noise, has the model's Rw below the noise too), the 25
#: ambiguous test-split PDFs of the libraries 0.55–1.75
EVIDENCE_MISFIT_RATIO = 0.4
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
class SizeLimits:
    """What the training set covers, at one bond length (Å)."""

    n_atoms: int  # the largest training cluster
    compact: float  # largest envelope diameter of a compact training shape (Å)
    any_shape: float  # largest envelope diameter of any training shape (Å)
    twinned: float = math.inf  # largest extent of a training shape in TWIN_RATIO (Å)
    twinned_envelope: float = math.inf  # limit of the twinned-envelope diameter (Å)


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
    close_packed = volume_equivalent_diameter(n_max, bond_length)
    return SizeLimits(
        n_max,
        compact,
        max(compact, limit * bond_length),
        TWIN_EXTENT_FRACTION * close_packed,
        TWIN_ENVELOPE_FRACTION * close_packed,
    )


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
    #: "icosahedral" (read from the extent) or "decahedral" (from the twinned envelope)
    #: when ``twinned``, else ""
    twin_kind: str = ""
    #: the envelope looks multiply twinned (ratio in ``TWIN_RATIO``, twinned fit ratio
    #: below ``TWIN_FIT_RATIO``, noise floor below ``TWIN_MAX_NOISE``)
    twin_looking: bool = False

    @property
    def envelope_fraction(self) -> float:
        """The twinned-envelope diameter over the close-packed volume-equivalent
        diameter of the largest training cluster (decahedra of 333–389 atoms 1.24–1.32,
        the faulted 200-atom stacks up to 1.35)."""
        close_packed = self.limits.twinned_envelope / TWIN_ENVELOPE_FRACTION
        return self.estimate.twin_envelope_diameter / close_packed

    @property
    def ambiguous(self) -> bool:
        """Not beyond by the envelope, but a twinned-looking envelope as large as a
        small multiply twinned particle's or a faulted training stack's
        (``envelope_fraction`` ≥ ``AMBIGUOUS_ENVELOPE_FRACTION``): only the fit can tell."""
        return (
            not self.beyond
            and self.twin_looking
            and self.envelope_fraction >= AMBIGUOUS_ENVELOPE_FRACTION
        )


def assess_size(data: PDFData, meta: Mapping[str, Any] | None = None) -> SizeAssessment | None:
    """Is the particle whose G(r) this is larger than the training structures?

    None when the data are too short or have no peak. The rules (docs/WARNINGS.md): the
    envelope diameter beyond the compact limit for a compact envelope, or beyond the
    any-shape limit; or, for a twinned-looking envelope (ratio in ``TWIN_RATIO``, twinned
    fit ratio below ``TWIN_FIT_RATIO``), the extent beyond ``SizeLimits.twinned``
    (icosahedron-like: fit ratio below ``ICOSAHEDRAL_FIT_RATIO``; diameter
    ``twin_diameter``) or the twinned-envelope diameter beyond
    ``SizeLimits.twinned_envelope`` (decahedron-like; ``twin_envelope_diameter``).
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
    # twinned-looking: an envelope ratio in the twinned window, not swamped by noise, and
    # the twinned envelope (exponential loss of coherence) fits about as well as the
    # sphere or better; icosahedra (fit ratio below ICOSAHEDRAL_FIT_RATIO) are read from
    # the extent, decahedra from the twinned envelope (docs/WARNINGS.md)
    kind = ""
    twin_looking = bool(
        TWIN_RATIO[0] <= estimate.envelope_ratio < TWIN_RATIO[1]
        and estimate.noise < TWIN_MAX_NOISE
        and estimate.twin_fit_ratio < TWIN_FIT_RATIO
    )
    if twin_looking:
        if estimate.twin_fit_ratio < ICOSAHEDRAL_FIT_RATIO:
            if estimate.extent > limits.twinned:
                kind = "icosahedral"
                d = max(d, estimate.twin_diameter)
                err = max(err, estimate.twin_uncertainty)
        elif estimate.twin_envelope_diameter > limits.twinned_envelope:
            kind = "decahedral"
            d = max(d, estimate.twin_envelope_diameter)
            err = max(err, estimate.twin_envelope_uncertainty)
    twinned = bool(kind)
    return SizeAssessment(
        d, err, by_envelope or twinned, twinned, estimate, limits, bond, kind, twin_looking
    )


@dataclass(frozen=True)
class FitEvidence:
    """What the result says about the size when the envelope is ambiguous: the leading
    candidate ``lead`` was built by the size extension with more atoms than any
    training cluster, and fits better than the model's best decoded candidate
    (``model_rw``) by more than the data's noise explains: ``misfit_ratio`` is the
    lead's misfit over the model's, each misfit √max(Rw² − ``noise_rw``², 0)."""

    lead: Any
    model_rw: float
    noise_rw: float
    misfit_ratio: float


def fit_evidence(
    candidates: Sequence[Any], n_max: int, noise_rw: float | None = None
) -> FitEvidence | None:
    """Does the result show a particle larger than the training clusters? ``candidates``:
    ranked best first (``.rw``, ``.source``, ``.n_atoms``); ``n_max``: the largest
    training cluster; ``noise_rw``: the Rw the data's own noise gives (None: 0).

    Yes (a :class:`FitEvidence`) when the leader is a built cluster of more than
    ``n_max`` atoms and its misfit is at most ``EVIDENCE_MISFIT_RATIO`` × that of the
    model's best decoded candidate (scripts/measure_size_evidence.py); else None.
    """
    from deepstruc_gui.model.candidate import SOURCE_MODEL, SOURCE_SIZE_EXTENSION

    if not candidates:
        return None
    lead = candidates[0]
    model = [c.rw for c in candidates if c.source == SOURCE_MODEL and math.isfinite(c.rw)]
    if lead.source != SOURCE_SIZE_EXTENSION or lead.n_atoms <= n_max or not model:
        return None
    if not math.isfinite(lead.rw):
        return None
    floor = noise_rw if noise_rw is not None and math.isfinite(noise_rw) else 0.0
    model_rw = min(model)
    model_misfit = math.sqrt(max(model_rw**2 - floor**2, 0.0))
    lead_misfit = math.sqrt(max(lead.rw**2 - floor**2, 0.0))
    if model_misfit <= 0 or lead.rw >= model_rw:
        return None
    ratio = lead_misfit / model_misfit
    if ratio > EVIDENCE_MISFIT_RATIO:
        return None
    return FitEvidence(lead, model_rw, floor, ratio)


def size_warning(
    data: PDFData,
    meta: Mapping[str, Any] | None,
    candidates: Sequence[Any] | None = None,
    noise_rw: float | None = None,
) -> Diagnostic | None:
    """``beyond-training-size`` for ``data``, or None.

    Without ``candidates`` (the data alone, before a search) it rests on the envelope
    (:func:`assess_size`). With a result's ranked ``candidates`` it also fires in the
    envelope's ambiguous zone (``SizeAssessment.ambiguous``) on :func:`fit_evidence`
    (``noise_rw``: the data's noise Rw over the fit range), and its last sentence says
    what the leading candidate rests on: a model candidate's atom count is a lower
    bound; a built one's size rests on the fit of built clusters (family, atoms, the
    sizes within ``SIZE_RANGE_RW`` of its Rw).
    """
    from deepstruc_gui.science.particle_size import atoms_in_sphere

    size = assess_size(data, meta)
    if size is None:
        return None
    limits = size.limits
    evidence = None
    if not size.beyond:
        if not candidates or not size.ambiguous:
            return None
        evidence = fit_evidence(candidates, limits.n_atoms, noise_rw)
        if evidence is None:
            return None
    d, err, bond, estimate = size.diameter, size.uncertainty, size.bond, size.estimate
    note = " (beyond the end of the data: read from the envelope's shape)"
    note = note if estimate.extrapolated else ""
    if size.twin_kind == "icosahedral":
        note = (
            ", read from how far G(r) still oscillates: its envelope decays early, as in a "
            "multiply twinned (icosahedral-like) particle"
            + (", and past the end of the data: a lower bound" if estimate.extent_at_end else "")
        )
    elif size.twinned or evidence is not None:
        note = (
            ", read from an envelope that loses coherence with r as in a multiply twinned "
            "(decahedral-like) particle, whose peaks fade before the particle ends"
        )
    if evidence is not None:
        d, err = estimate.twin_envelope_diameter, estimate.twin_envelope_uncertainty
    n_est = atoms_in_sphere(d, bond)
    n_lo = atoms_in_sphere(max(d - err, 0.0), bond)
    n_hi = atoms_in_sphere(d + err, bond)
    if evidence is None:
        opening = "the particle looks larger than any training structure: its PDF stays above "
        opening += "the noise out to a diameter of about"
    else:
        lead = evidence.lead
        noise = (
            f", beyond what the data's noise (Rw ≈ {evidence.noise_rw:.2f}) explains"
            if evidence.noise_rw
            else ""
        )
        opening = (
            f"the particle looks larger than any training structure: a built cluster of "
            f"{lead.n_atoms:,} atoms leads the ranking with Rw {lead.rw:.3f}, against "
            f"{evidence.model_rw:.3f} for the model's best decoded candidate{noise}; from its "
            "envelope alone it could be a faulted training-sized stack, but it reads a "
            "diameter of about"
        )
    return Diagnostic(
        "beyond-training-size",
        f"{opening} {d / 10:.1f} ± {err / 10:.1f} nm ({d:.0f} ± {err:.0f} Å{note}; roughly "
        f"{_round_count(n_est)} atoms, {_round_count(n_lo)}–{_round_count(n_hi)}), while the "
        f"model's largest clusters have {limits.n_atoms} atoms (about {limits.compact:.0f} Å "
        f"at this {bond:.2f} Å bond length). {_what_the_answer_rests_on(candidates, limits)}",
    )


def _family(candidate: Any) -> str:
    """A built candidate's family and size parameters, or its type."""
    return str(getattr(candidate, "shape", "") or candidate.nearest_type)


def _what_the_answer_rests_on(candidates: Sequence[Any] | None, limits: SizeLimits) -> str:
    """The warning's last sentence: what the leading candidate's size rests on."""
    from deepstruc_gui.model.candidate import (
        SIZE_RANGE_RW,
        SOURCE_SEQUENCE_SEARCH,
        SOURCE_SIZE_EXTENSION,
        built_size_range,
        is_built,
    )

    n = limits.n_atoms
    lead = candidates[0] if candidates else None
    if lead is None:
        return (
            f"The model decodes at most {n} atoms, so its candidates' atom counts are lower "
            "bounds and their shapes fragments of the particle; the search builds larger "
            "clusters too (the size extension). Judge the type from the first peaks and do "
            "not read the size off a decoded candidate."
        )
    if not is_built(lead):
        return (
            f"Candidates are at most {n} atoms, so their atom counts are lower bounds and "
            "their shapes fragments of the particle; judge the type from the first peaks and "
            "do not read the size off the candidates."
        )
    by = {
        SOURCE_SIZE_EXTENSION: "by the size extension",
        SOURCE_SEQUENCE_SEARCH: "by the sequence search",
    }.get(lead.source, "(not decoded)")
    lo, hi = built_size_range(list(candidates))
    beyond = (
        f", beyond the model's range (it decodes at most {n} atoms)" if lead.n_atoms > n else ""
    )
    spread = (
        f"only {lead.n_atoms:,} atoms do"
        if lo == hi
        else f"clusters of its family from {lo:,} to {hi:,} atoms do"
    )
    return (
        f"The leading structure was built {by}{beyond}: {_family(lead)}, "
        f"{lead.n_atoms:,} atoms. Its type rests on the model's reading and the fit, its "
        f"size on how well built clusters of whole particles fit G(r): within "
        f"{SIZE_RANGE_RW:.0%} of its Rw {lead.rw:.3f}, {spread}; the data fix the size "
        "no better."
    )


def _round_count(n: float) -> str:
    if n < 100:
        return f"{n:.0f}"
    digits = 10 ** max(0, int(math.log10(n)) - 1)
    return f"{round(n / digits) * digits:,.0f}"
