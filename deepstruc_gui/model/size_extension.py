"""The size extension: candidates larger than the training structures, chosen by the model.

The seven-type model decodes clusters of 5–200 atoms. When the data show a larger
particle (the ``beyond-training-size`` diagnosis, with a diameter read from where
G(r) falls into the noise), the search extends itself:

1. **Which types** — the model's own reading of the data: the types of its best
   candidates (weighted by how close their Rw is to the best) and of the training
   structures nearest the prior mean on the latent map (:func:`type_evidence`). The
   map keeps the trends of type across sizes (the paper's extrapolation), so these
   say which families to build even when the sizes are out of reach
   (:func:`choose_types`: the types holding 90 % of the evidence, at most three).
2. **Which sizes** — the families of those types (ase.cluster builders,
   :mod:`deepstruc_gui.science.cluster_families`) over a window of atom counts around
   the close-packed count of the diameter estimate (0.45–1.8 ×; the whole
   150–3,000 range without an estimate).
3. **Fit in two passes** — a coarse ladder of sizes per family, then every shape of
   the best types within ±25 % of the atoms of their best fit, all at the data's bond
   length and refined by the batched fitter with the search's own settings, so their
   Rw ranks with the model's candidates. Built candidates carry
   ``source = "size-extension"`` and their shape; their latent point is NaN.

Fitting 2,000-atom clusters from positions is pair-bound (N² pairs): :func:`fit_sized`
sorts by size and gives each call of the fitter a batch whose pair count stays under a
budget, so memory stays bounded (``model/built_fit.py``). Built shapes never change, so
the extension fits them from their pair histograms in bond units, computed once per
user (:mod:`deepstruc_gui.model.shape_histograms`): no pair work at all per fit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from deepstruc_gui.model.built_fit import built_candidates, fit_sized
from deepstruc_gui.model.candidate import (
    SIZE_RANGE_RW,
    SOURCE_MODEL,
    Candidate,
    built_size_range,
)
from deepstruc_gui.model.shape_histograms import shape_histograms
from deepstruc_gui.science.cluster_families import (
    FAMILIES_BY_TYPE,
    MAX_ATOMS,
    MIN_ATOMS,
    TYPE_FAMILY,
    FamilyShape,
    shapes_for,
)
from deepstruc_gui.science.fitting import FitConfig
from deepstruc_gui.science.particle_size import atoms_in_sphere
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.util.cancel import CancelToken, check


@dataclass(frozen=True)
class SizeExtensionSettings:
    """How widely the extension searches. Defaults measured on ``evaluate --beyond``."""

    #: atoms window: close-packed counts of the diameter estimate ∓ this many σ …
    window_sigmas: float = 2.0
    #: … widened by these factors (the estimate is the volume-equivalent diameter of
    #: single crystals to ±10 %; multiply twinned particles read 0.6–0.8 × smaller,
    #: so their window reaches 1/0.6³ ≈ 4.6 × higher)
    window_factors: tuple[float, float] = (0.7, 1.4)
    twinned_factor: float = 4.6
    #: the types holding this share of the model's evidence are tried …
    evidence_share: float = 0.9
    #: … but never more than this many (fcc and octahedral count as one)
    max_types: int = 3
    #: sizes per family in the first pass, spread evenly in log(atoms)
    coarse_sizes: int = 4
    #: later passes zoom in on the best size of each refined type: shapes between the
    #: sizes fitted next to it, and at least within these fractions of its atom count,
    #: one pass per entry (a coarse ladder lands up to a step away from the right size;
    #: measured: 730 atoms read as 1,051 with one ±25 % pass)
    refine_spans: tuple[float, ...] = (0.45, 0.15)
    #: types refined in the second pass (best first-pass Rw first)
    refine_types: int = 2
    #: sizes per family of the types the model did NOT choose (a safety net measured
    #: on ``evaluate --beyond``: beyond 200 atoms the model's reading is often off);
    #: 0 tries the model's types only
    other_sizes: int = 2
    #: shapes per type and pass, spread evenly in log(atoms) within each family, but
    #: at least ``min_refine`` per family
    max_refine: int = 6
    min_refine: int = 3
    #: the last pass fits every shape of each refined type within its span (at most
    #: this many per type, nearest the best size first)
    final_shapes: int = 40


def type_evidence(
    nearest_types: Sequence[str], candidates: Sequence[Candidate], rw_scale: float = 0.03
) -> dict[str, float]:
    """The model's reading of the data as a weight per type family (summing to 1).

    ``nearest_types``: types of the training structures nearest the prior mean on the
    latent map (e.g. the 30 nearest, :meth:`Predictor.nearest_structures`);
    ``candidates``: the model's ranked candidates. Half the weight comes from each:
    the map share of each type, and the candidates' types weighted by
    ``exp(-(Rw - best Rw)/rw_scale)``. fcc and octahedral count as one family ("fcc").
    """
    out: dict[str, float] = {}
    if nearest_types:
        for t in nearest_types:
            key = TYPE_FAMILY.get(t, t)
            out[key] = out.get(key, 0.0) + 0.5 / len(nearest_types)
    model = [c for c in candidates if c.source == SOURCE_MODEL and math.isfinite(c.rw)]
    if model:
        best = min(c.rw for c in model)
        w = np.array([math.exp(-(c.rw - best) / rw_scale) for c in model])
        share = 0.5 if nearest_types else 1.0
        for c, wi in zip(model, w / w.sum(), strict=True):
            key = TYPE_FAMILY.get(c.nearest_type, c.nearest_type)
            out[key] = out.get(key, 0.0) + share * float(wi)
    total = sum(out.values())
    return {k: v / total for k, v in sorted(out.items(), key=lambda kv: -kv[1])} if total else {}


def choose_types(evidence: dict[str, float], share: float = 0.9, max_types: int = 3) -> list[str]:
    """The type families holding ``share`` of the evidence, most likely first (≤ max)."""
    chosen, held = [], 0.0
    for key, weight in sorted(evidence.items(), key=lambda kv: -kv[1]):
        if held >= share or len(chosen) >= max_types:
            break
        chosen.append(key)
        held += weight
    return chosen


def atoms_window(
    structure_type: str,
    diameter: float | None,
    uncertainty: float,
    bond_length: float,
    settings: SizeExtensionSettings,
) -> tuple[int, int]:
    """Atom counts to try for one type: around the close-packed count of the diameter
    estimate (Å, ± ``settings.window_sigmas`` × ``uncertainty``); every size from
    150 to 3,000 atoms without an estimate."""
    if diameter is None or not math.isfinite(diameter) or diameter <= 0:
        return MIN_ATOMS, MAX_ATOMS
    spread = settings.window_sigmas * max(uncertainty, 0.0)
    lo_f, hi_f = settings.window_factors
    if structure_type in ("icosahedral", "decahedral"):
        hi_f = settings.twinned_factor
    lo = lo_f * atoms_in_sphere(max(diameter - spread, 1.0), bond_length)
    hi = hi_f * atoms_in_sphere(diameter + spread, bond_length)
    lo = int(min(max(MIN_ATOMS, lo), MAX_ATOMS - 100))
    return lo, int(min(MAX_ATOMS, max(hi, lo + 100)))


def families_for(types: Sequence[str]) -> list[str]:
    """The cluster families of the given types (``FAMILIES_BY_TYPE``), without repeats."""
    out: list[str] = []
    for t in types:
        for f in FAMILIES_BY_TYPE.get(t, ()):
            if f not in out:
                out.append(f)
    return out


def _candidates(shapes: Sequence[FamilyShape], bond_length: float, fitted) -> list[Candidate]:
    clusters = [shape.scaled(bond_length) for shape in shapes]
    kinds = [(s.structure_type, s.label, s.n_atoms) for s in shapes]
    return built_candidates(clusters, kinds, fitted)


def _ladder(shapes: list[FamilyShape], k: int) -> list[FamilyShape]:
    """``k`` shapes spread evenly in log(atoms) over the list (sorted by atoms): the
    centres of ``k`` equal cells, so every size lies within half a cell of a shape
    fitted (a ladder of the ends left the middle of the range untried: two sizes of a
    safety-net type were its smallest and largest shapes, and a 547-atom icosahedron
    came out 309 atoms because 561 was never fitted)."""
    if len(shapes) <= k:
        return shapes
    logn = np.log([s.n_atoms for s in shapes])
    targets = logn[0] + (np.arange(k) + 0.5) / k * (logn[-1] - logn[0])
    picks = sorted({int(np.argmin(np.abs(logn - t))) for t in targets})
    return [shapes[i] for i in picks]


def _distinct(shapes: list[FamilyShape]) -> list[FamilyShape]:
    """The shapes without repeats of one geometry (atoms, longest distance and the sum
    of the atoms' distances from the centre all equal): ase's FaceCenteredCubic and
    wulff_construction build some of the same clusters, which were fitted twice."""
    seen, out = set(), []
    for s in shapes:
        key = (
            s.n_atoms,
            round(s.diameter, 3),
            round(float(np.linalg.norm(s.positions, axis=1).sum()), 2),
        )
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


@dataclass
class SizeExtensionResult:
    """The extension's ranked candidates and what it rested on."""

    candidates: list[Candidate]  # best Rw first, all source "size-extension"
    model_types: list[str]  # type families the model's reading chose, most likely first
    other_types: list[str]  # type families tried as a safety net (short size ladder)
    evidence: dict[str, float]  # the model's weight per type family
    windows: dict[str, tuple[int, int]]  # atoms tried per type family
    diameter: float | None  # Å, the estimate the windows came from (None: all sizes)
    uncertainty: float  # Å, 1σ of the diameter
    bond_length: float  # Å, the data's nearest-neighbour distance
    refined_qdamp: bool = False  # the built clusters' fits refined Qdamp

    def size_range(self) -> tuple[int, int]:
        """Fewest and most atoms among built clusters of the best one's type family
        whose Rw is within ``SIZE_RANGE_RW`` (relative) of the best: how well the data
        fix the size (an unknown Qdamp trades with the size through the envelope;
        :func:`~deepstruc_gui.model.candidate.built_size_range`)."""
        return built_size_range(self.candidates)

    def summary(self) -> str:
        """One sentence for reports: what was tried and why."""
        ev = ", ".join(f"{k} {v:.0%}" for k, v in self.evidence.items() if v >= 0.005)
        size = (
            f"diameter {self.diameter:.0f} ± {self.uncertainty:.0f} Å"
            if self.diameter
            else "no diameter estimate: 150–3,000 atoms"
        )
        others = (
            f"; as a safety net, a few sizes of {', '.join(self.other_types)}"
            if self.other_types
            else ""
        )
        best = self.candidates[0] if self.candidates else None
        found = ""
        if best is not None:
            lo, hi = self.size_range()
            found = (
                f"; best {best.shape}, {best.n_atoms} atoms, Rw {best.rw:.3f} (clusters of "
                f"its type fit within {SIZE_RANGE_RW:.0%} of that Rw from {lo} to {hi} atoms: "
                "the data fix the size no better)"
            )
        return (
            f"size extension ({size}, bond {self.bond_length:.3f} Å): the model's reading "
            f"({ev or 'none'}) chose {', '.join(self.model_types) or 'no type'}{others}; "
            f"{len(self.candidates)} built clusters fitted"
            f"{' (Qdamp refined: the data do not give it)' if self.refined_qdamp else ''}{found}"
        )


def extend(
    data: PDFData,
    config: FitConfig,
    bond_length: float,
    evidence: dict[str, float],
    diameter: float | None = None,
    uncertainty: float = 0.0,
    settings: SizeExtensionSettings | None = None,
    device=None,
    cancel: CancelToken | None = None,
    on_batch: Callable[[list[Candidate]], None] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> SizeExtensionResult:
    """Build and fit clusters of the types the model's ``evidence`` favours.

    ``bond_length``: the data's nearest-neighbour distance (Å, first G(r) peak);
    ``diameter`` ± ``uncertainty``: the particle diameter read from the data (Å;
    :func:`beyond_training_size`) or None to try every size from 150 to 3,000 atoms.
    ``on_batch`` receives this extension's ranked candidates after each pass;
    ``progress(stage, fraction)`` what it is doing (a sentence) and the share of its
    passes done (0–1, never decreasing; 1 at the end), after each fitted chunk.
    Raises ``ValueError`` when the evidence is empty.
    """
    settings = settings or SizeExtensionSettings()
    chosen = choose_types(evidence, settings.evidence_share, settings.max_types)
    if not chosen:
        raise ValueError("the size extension needs the model's reading of the data (no types)")
    all_types = list(dict.fromkeys(TYPE_FAMILY[t] for t in TYPE_FAMILY))
    others = [t for t in all_types if t not in chosen] if settings.other_sizes > 0 else []
    windows = {
        t: atoms_window(t, diameter, uncertainty, bond_length, settings) for t in chosen + others
    }
    by_type = {t: _distinct(shapes_for(families_for([t]), windows[t])) for t in windows}
    first: list[FamilyShape] = []
    for t in chosen + others:
        k = settings.coarse_sizes if t in chosen else settings.other_sizes
        # a safety-net type tries its two main families only (fcc: truncated
        # octahedra and cuboctahedra; decahedra: Ino and Marks)
        for family in families_for([t])[: None if t in chosen else 2]:
            first += _ladder([s for s in by_type[t] if s.family == family], k)
    passes = 1 + len(settings.refine_spans)
    stage = _stage_reporter(progress, passes)
    ranked = _fit_shapes(
        data, first, bond_length, config, device, cancel,
        stage(0, f"size extension: fitting {len(first)} built clusters of "
              f"{', '.join(chosen + others)}"),
    )  # fmt: skip
    if on_batch is not None:
        on_batch(ranked)
    done = {id(s) for s in first}
    for k, span in enumerate(settings.refine_spans, start=1):
        last = k == len(settings.refine_spans)
        more = _zoom(ranked, by_type, done, span, settings, every=last)
        if not more:
            continue
        check(cancel)
        done |= {id(s) for s in more}
        report = stage(
            k, f"size extension: zooming in on the best sizes (±{span:.0%}, {len(more)} clusters)"
        )
        ranked = sorted(
            ranked + _fit_shapes(data, more, bond_length, config, device, cancel, report),
            key=lambda c: c.rw,
        )
        if on_batch is not None:
            on_batch(ranked)
    if progress is not None:
        progress("size extension: done", 1.0)
    return SizeExtensionResult(
        ranked,
        chosen,
        others,
        evidence,
        windows,
        diameter,
        uncertainty,
        bond_length,
        config.refine_qdamp,
    )


#: a model answer this poor on a particle near the training sizes' limit also
#: triggers the extension: multiply twinned particles read smaller than they are
#: (their coherent size is 0.6–0.8 × their diameter), and particles of 200–300 atoms
#: lie within the diagnosis' uncertainty, so it can miss them (measured: a 272-atom
#: fcc particle, model Rw 0.196, not flagged). Au144(SR)60 (about 16 Å, Rw 0.33)
#: stays below NEAR_LIMIT × the limit (about 20 Å at its bond length).
EXTEND_RW = 0.15
NEAR_LIMIT = 0.9
#: the same for data whose envelope decays like a multiply twinned particle's (tail
#: exponent above the diagnosis' compact limit): they read 0.6–0.8 × their size
#: (measured: icosahedra of 547 and 912 atoms read 20 and 18 Å, decahedra of 962 and
#: 1,808 atoms 16 and 20 Å; tail exponents 0.4–1.1, compact particles ~0)
TWINNED_NEAR_LIMIT = 0.6


def size_estimate(data: PDFData):
    """The particle's diameter estimate (``SizeEstimate``: diameter, 1σ in Å, from
    :func:`deepstruc_gui.science.particle_size.estimate_diameter` with the header's
    Qdamp when it has one), or None when the data are too short to read one."""
    from deepstruc_gui.science.particle_size import estimate_diameter

    qdamp = data.metadata.get("qdamp")
    qdamp = float(qdamp) if isinstance(qdamp, float) and 0 <= qdamp <= 0.2 else None
    try:
        return estimate_diameter(data.r, data.g, qdamp=qdamp)
    except ValueError:
        return None


def extension_reason(
    data: PDFData, bundle_metadata, model_best_rw: float, bond_length: float, estimate=None
) -> str | None:
    """Why the search should extend beyond the training sizes, or None when it should not.

    Either the ``beyond-training-size`` diagnosis
    (:func:`deepstruc_gui.model.size_diagnosis.assess_size`), or an envelope in its
    ambiguous zone (``SizeAssessment.ambiguous``: small multiply twinned particles read
    like faulted training stacks; the size warning then rests on the built clusters'
    fit), or a model answer with Rw
    above ``EXTEND_RW`` for a particle whose diameter estimate is at least
    ``NEAR_LIMIT`` of the largest compact training structure's.
    """
    from deepstruc_gui.model.size_diagnosis import assess_size, size_limits

    size = assess_size(data, bundle_metadata)
    if size is not None and size.beyond:
        return "beyond-training-size"
    if size is not None and size.ambiguous:
        return (
            f"the envelope reads a multiply twinned particle of about "
            f"{size.estimate.twin_envelope_diameter:.0f} Å, as large as the training "
            "structures' largest or larger: only built clusters can tell"
        )
    estimate = estimate if estimate is not None else size_estimate(data)
    if estimate is None or not math.isfinite(model_best_rw) or model_best_rw <= EXTEND_RW:
        return None
    from deepstruc_gui.model.size_diagnosis import COMPACT_EXPONENT

    limit = size_limits(bundle_metadata, bond_length).compact
    twinned = getattr(estimate, "tail_exponent", 0.0) > COMPACT_EXPONENT
    if estimate[0] >= (TWINNED_NEAR_LIMIT if twinned else NEAR_LIMIT) * limit:
        return (
            f"the model's best Rw {model_best_rw:.2f} is above {EXTEND_RW} and the particle "
            f"(about {estimate[0]:.0f} Å) is near the training sizes' limit ({limit:.0f} Å)"
        )
    return None


def _zoom(ranked, by_type, done, span, settings, every: bool = False) -> list[FamilyShape]:
    """Shapes not yet fitted around the best atom count of each of the
    ``refine_types`` best types: between the nearest sizes of that type fitted so far
    on either side (a bracket, as a 1-D minimiser narrows one) and at least within
    ``span`` of it. Per family max(min_refine, max_refine / families) of them, spread
    evenly in log(atoms); with ``every``, all of them (at most ``final_shapes`` per
    type, nearest the best first): shapes of one size differ in Rw by more than sizes
    near the best do (measured: 0.055–0.065 among fcc shapes of 1,130–1,290 atoms),
    so the last pass tries each."""
    best_by_type: dict[str, Candidate] = {}
    sizes_by_type: dict[str, list[int]] = {}
    for c in ranked:
        t = TYPE_FAMILY.get(c.nearest_type, c.nearest_type)
        best_by_type.setdefault(t, c)
        sizes_by_type.setdefault(t, []).append(c.n_atoms)
    out: list[FamilyShape] = []
    for t, best in list(best_by_type.items())[: settings.refine_types]:
        below = [n for n in sizes_by_type[t] if n < best.n_atoms]
        above = [n for n in sizes_by_type[t] if n > best.n_atoms]
        lo = min(best.n_atoms * (1 - span), max(below, default=0))
        hi = max(best.n_atoms * (1 + span), min(above, default=MAX_ATOMS))
        near = [s for s in by_type.get(t, []) if lo < s.n_atoms < hi and id(s) not in done]
        if every:
            near.sort(key=lambda s: abs(math.log(s.n_atoms / best.n_atoms)))
            out += near[: settings.final_shapes]
            continue
        # every family of the type gets its own ladder: shapes of one family fit alike,
        # and the right size of the right family is what the zoom must reach (a mixed
        # ladder read an 854-atom fcc particle as 1,523 atoms; per family, 857)
        families = list(dict.fromkeys(s.family for s in near))
        k = max(settings.min_refine, settings.max_refine // max(1, len(families)))
        for family in families:
            out += _ladder([s for s in near if s.family == family], k)
    return out


def _stage_reporter(progress, passes: int):
    """``stage(k, sentence)`` → a callback ``(done, total)`` for pass ``k`` of ``passes``
    that reports ``progress(sentence, (k + done/total)/passes)`` (None without progress)."""

    def stage(k: int, sentence: str):
        if progress is None:
            return None

        def report(done: int, total: int) -> None:
            progress(sentence, (k + done / max(total, 1)) / passes)

        report(0, 1)
        return report

    return stage


def _fit_shapes(data, shapes, bond_length, config, device, cancel, report=None) -> list[Candidate]:
    """Fit built shapes at ``bond_length`` from their cached pair histograms;
    ``report(done, total)`` after each chunk of the fitter."""
    if not shapes:
        return []
    clusters = [h.at_bond(bond_length) for h in shape_histograms(shapes)]
    count = [0]

    def chunk(idx, _result) -> None:
        count[0] += len(idx)
        if report is not None:
            report(count[0], len(shapes))

    fitted = fit_sized(data, clusters, config, device=device, cancel=cancel, on_chunk=chunk)
    return sorted(_candidates(shapes, bond_length, fitted), key=lambda c: c.rw)


def model_evidence(
    predictor, data: PDFData, candidates: Sequence[Candidate], prior_mean=None, k_map: int = 30
) -> dict[str, float]:
    """:func:`type_evidence` from a predictor: the map types nearest the prior mean
    (computed from ``data`` when ``prior_mean`` is None) and the model's candidates."""
    if prior_mean is None:
        prior_mean, _ = predictor.prior(data.model_input())
    idx = predictor.nearest_structures(np.asarray(prior_mean, float), k=k_map)[0]
    types = [str(t) for t in np.asarray(predictor.bundle.latent_map.types)[idx]]
    return type_evidence(types, candidates)


def search_beyond(
    data: PDFData,
    predictor,
    config: FitConfig,
    ranked: Sequence[Candidate],
    prior_mean: np.ndarray,
    bond_length: float,
    settings: SizeExtensionSettings | None = None,
    cancel: CancelToken | None = None,
    on_batch: Callable[[list[Candidate]], None] | None = None,
    log: Callable[[str], None] | None = None,
    qdamp_known: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> SizeExtensionResult | None:
    """The extension as :func:`deepstruc_gui.model.pipeline.run_solve` runs it: None
    when the data do not call for it (:func:`extension_reason`), else the built
    candidates (``on_batch`` gets them after each pass, ranked among ``ranked``).

    ``progress(stage, fraction)``: as :func:`extend` reports it.
    ``qdamp_known``: the header or the user gave Qdamp. When neither did, the built
    clusters' fits refine it: a large particle's size is read from the envelope of
    G(r), which an assumed Qdamp biases (measured on a 730-atom sc particle with
    Qdamp 0.022: 997 atoms with Qdamp fixed at 0.04, 743 with it refined, which comes
    back as 0.022).
    """
    model_best = min((c.rw for c in ranked), default=math.inf)
    estimate = size_estimate(data)
    reason = extension_reason(
        data, predictor.bundle.metadata, model_best, bond_length, estimate=estimate
    )
    if reason is None:
        return None
    if log is not None:
        why = (
            "the particle is larger than the training structures"
            if (reason == "beyond-training-size")
            else reason
        )
        log(f"{why}: building larger clusters of the types the model reads")
    evidence = model_evidence(predictor, data, ranked, prior_mean)
    merged = None
    if on_batch is not None:

        def merged(built: list[Candidate]) -> None:
            """Pass the built candidates merged with the ranked ones, by Rw, to ``on_batch``."""
            on_batch(sorted([*ranked, *built], key=lambda c: c.rw))

    diameter, err = (estimate[0], estimate[1]) if estimate is not None else (None, 0.0)
    if not qdamp_known and not config.refine_qdamp:
        config = dataclasses.replace(config, refine_qdamp=True)
    return extend(
        data,
        config,
        bond_length,
        evidence,
        diameter,
        err,
        settings,
        device=predictor.device,
        cancel=cancel,
        on_batch=merged,
        progress=progress,
    )
