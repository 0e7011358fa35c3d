"""The stacking-sequence search: every stacking of the layer counts and patches the
model reads, then a walk through neighbouring stackings, built and fitted.

A stacking model (the paper's second experiment: fcc, hcp and faulted close-packed
clusters) recalls the shapes it was trained on; a sequence one letter off moves a
whole layer, and the map holds hundreds of sequences as close together as one
sequence's metals (docs/MODEL.md). What it reads reliably is the *kind* of cluster:
how many layers, which patch of each layer. So after the model's own search:

1. **Reading** — the training structures nearest the model's best candidates on the
   map give layer counts and patches (:func:`read_stackings`).
2. **Enumeration** — every distinct stacking
   (:func:`~deepstruc_gui.science.stacking.sequences`, the axis through each of the
   three sites) of the read (layer count, patch) pairs.
3. **Walk** — from the best clusters so far, their neighbours: one interior layer's
   stacking turned (cubic ↔ hexagonal, a fault added or removed), a layer added or
   removed at either end, the patch one shell smaller or larger or of another shape
   (circle, hexagon, triangle) with as many atoms, the axis through another site; the
   best of all fitted seed the next round (a beam search) until no neighbour is new.
   A walk stops where every single step is worse, so then every stacking of the best's
   patch with one layer fewer, as many and one more is fitted, and the walk goes on
   from there while that helps. This reaches stackings, layer counts and patches no
   training structure had.

Clusters are kept as canonical (sequence, axis) pairs
(:func:`~deepstruc_gui.science.stacking.canonical_stacking`), so one cluster is fitted
once and built in the library's orientation. All are fitted by the batched fitter with
the search's own settings at the model's bond length, so their Rw ranks with the
model's candidates; they carry ``source = "sequence-search"``, the sequence and patch
in ``shape``, the stacking type (fcc / hcp / faulted) and no map point. The summary
says which other stackings fit within 2 % of the best: two stackings can give PDFs too
alike to tell apart.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from deepstruc_gui.model.ambiguity import alike, indistinguishable_rw
from deepstruc_gui.model.built_fit import built_candidates, fit_sized
from deepstruc_gui.model.candidate import SOURCE_MODEL, SOURCE_SEQUENCE_SEARCH, Candidate
from deepstruc_gui.science.fitting import FitConfig
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.science.stacking import (
    PATCH_SHAPES,
    Patch,
    canonical_stacking,
    fcc_fraction,
    holds_layers,
    parse_stacked_shape,
    sequences,
    stacked_cluster,
    stacking_type,
)
from deepstruc_gui.science.structures import DuplicateFilter
from deepstruc_gui.util.cancel import CancelToken, check


@dataclass(frozen=True)
class SequenceSearchSettings:
    """How wide the sequence search looks.

    ``readings``: model candidates (best Rw first) whose nearest training structure is
    read; ``read_combinations``: distinct (layer count, patch) pairs enumerated from
    that reading; ``beam``: clusters whose neighbours each round of the walk fits;
    ``rounds``: at most this many rounds a walk; ``restarts``: at most this many
    times every stacking around the walk's best is fitted and the walk goes on from
    there; ``layers``: the layer counts built (the issue's 3–10); ``max_atoms``:
    larger clusters are not built (beyond them the size extension's families take
    over); ``max_clusters``: at most this many clusters in
    all (an enumerated pair that would pass it is skipped).
    """

    readings: int = 10
    read_combinations: int = 3
    beam: int = 6
    rounds: int = 8
    layers: tuple[int, int] = (3, 10)
    restarts: int = 3
    max_atoms: int = 500
    max_clusters: int = 4000


@dataclass(frozen=True)
class Stacking:
    """One stacked cluster to build: canonical sequence and patch (unit bond)."""

    sequence: str
    patch: Patch

    @property
    def label(self) -> str:
        """What the table shows: the library's name of the cluster, then its cubic share
        and patch in words, e.g. ``ABCAC_c2.2a (67 % cubic; circle of radius 2.2
        bonds, axis through site A)``."""
        share = fcc_fraction(self.sequence)
        cubic = "" if math.isnan(share) else f"{100 * share:.0f} % cubic; "
        return f"{self.sequence}_{self.patch.label} ({cubic}{self.patch.description})"

    def positions(self, bond_length: float = 1.0) -> np.ndarray:
        """Positions (n, 3) Å of the cluster at ``bond_length`` (centred)."""
        return stacked_cluster(self.sequence, self.patch, bond_length)

    @classmethod
    def of(cls, sequence: str, patch: Patch) -> Stacking:
        """The canonical form of a cluster (:func:`canonical_stacking`)."""
        seq, axis = canonical_stacking(sequence, patch.axis)
        return cls(seq, Patch(patch.shape, patch.size, axis))

    def holds_layers(self) -> bool:
        """Every layer keeps enough atoms in the patch (:func:`holds_layers`)."""
        return holds_layers(self.sequence, self.patch)

    def neighbours(self, layers: tuple[int, int] = (3, 10)) -> list[Stacking]:
        """Clusters one step away: an interior layer's stacking turned (the layers above
        it slip), a layer added or removed at either end (``layers``: the counts
        allowed), the patch one shell smaller or larger or of another shape with as
        many atoms (:meth:`Patch.like`), the axis through another site."""
        seq, patch = self.sequence, self.patch
        third = {"A": "BC", "B": "AC", "C": "AB"}
        forms: list[tuple[str, Patch]] = []
        for i in range(1, len(seq) - 1):  # turn layer i: hexagonal <-> cubic
            turned = (
                seq[i - 1]
                if seq[i - 1] != seq[i + 1]
                else (set("ABC") - {seq[i - 1], seq[i]}).pop()
            )
            rest = seq[: i + 1] + turned
            for k in range(i + 2, len(seq)):  # the layers above keep their own stacking
                hexagonal = seq[k - 2] == seq[k]
                rest += (
                    rest[k - 2] if hexagonal else (set("ABC") - {rest[k - 2], rest[k - 1]}).pop()
                )
            forms.append((rest, patch))
        if len(seq) < layers[1]:
            forms += [(seq + x, patch) for x in third[seq[-1]]]
            forms += [(x + seq, patch) for x in third[seq[0]]]
        if len(seq) > max(layers[0], 2):
            forms += [(seq[1:], patch), (seq[:-1], patch)]
        forms += [(seq, p) for p in patch.neighbours() if p is not None]
        for shape in PATCH_SHAPES:
            if shape != patch.shape:  # as many atoms, and the shells either side
                like = patch.like(shape)
                forms += [(seq, p) for p in (like, *like.neighbours()) if p is not None]
        forms += [(seq, Patch(patch.shape, patch.size, a)) for a in "ABC" if a != patch.axis]
        out: list[Stacking] = []
        for form, p in forms:
            s = Stacking.of(form, p)
            if s != self and s not in out and s.holds_layers():
                out.append(s)
        return out


@dataclass
class SequenceSearchResult:
    """What the sequence search fitted: ``candidates`` best Rw first; the
    ``combinations`` (layers, patch label without axis) it enumerated; clusters fitted
    by the enumeration and by the walk, the walk's rounds, ``seconds`` wall."""

    candidates: list[Candidate]
    combinations: list[tuple[int, str]] = field(default_factory=list)
    #: (layers, patch) whose every stacking was fitted around a walk's best
    around: list[tuple[int, str]] = field(default_factory=list)
    enumerated: int = 0
    walked: int = 0
    rounds: int = 0
    seconds: float = 0.0
    #: the highest Rw as good as the best within the data's noise
    #: (:func:`~deepstruc_gui.model.ambiguity.indistinguishable_rw`); None: 2 % above it
    rw_limit: float | None = None

    def limit(self) -> float:
        """:attr:`rw_limit`, or 2 % above the best Rw when it was not set."""
        if self.rw_limit is not None:
            return self.rw_limit
        return indistinguishable_rw(self.candidates[0].rw) if self.candidates else math.nan

    def equally_good(self) -> list[Candidate]:
        """Candidates other than the best whose Rw is within :meth:`limit`."""
        if not self.candidates:
            return []
        return alike(self.candidates, self.limit())

    def summary(self) -> str:
        """One paragraph for the log, the notes of a result and ``predict``."""
        read = ", ".join(f"{n} layers on {p}" for n, p in self.combinations) or "none"
        text = (
            f"sequence search: {self.enumerated + self.walked} stacked clusters fitted in "
            f"{self.seconds:.1f} s (every stacking of what the model reads: {read}; "
            f"then {self.walked} more: neighbouring stackings in {self.rounds} rounds and "
            f"every stacking of {len(self.around)} (layers, patch) pairs around the best)"
        )
        if not self.candidates:
            return text + "; none could be fitted"
        best = self.candidates[0]
        text += f"; best {best.shape} ({best.nearest_type}), {best.n_atoms} atoms, Rw {best.rw:.4f}"
        same = self.equally_good()
        if same:
            names = ", ".join(c.shape.split(" ")[0] for c in same[:4])
            more = f" and {len(same) - 4} more" if len(same) > 4 else ""
            text += (
                f"; {len(same)} other stacking(s) fit as well within the data's noise "
                f"(Rw ≤ {self.limit():.4f}: {names}{more}): "
                "the data do not tell them apart"
            )
        return text


def is_stacking_model(metadata: dict) -> bool:
    """True for a bundle trained on the stacking library (its map names hold sequences)."""
    return metadata.get("library_kind") == "stacking"


def read_stackings(names: Sequence[str]) -> list[tuple[int, Patch]]:
    """(layer count, patch) of each stacking-library name (``SEQ_PATCH_METAL_d``), in
    order, without repeats; names that are not such names are skipped."""
    out: list[tuple[int, Patch]] = []
    for name in names:
        try:
            sequence, patch = parse_stacked_shape("_".join(str(name).split("_")[:2]))
        except ValueError:
            continue
        if (len(sequence), patch) not in out:
            out.append((len(sequence), patch))
    return out


def model_reading(predictor, latents: np.ndarray, k: int) -> list[tuple[int, Patch]]:
    """The (layers, patch) pairs a stacking model reads: those of the training
    structures nearest its ``k`` best candidates' map points ``latents`` (n, 2), best
    first (:func:`read_stackings`)."""
    if len(latents) == 0:
        return []
    names = np.asarray(predictor.bundle.latent_map.names)
    nearest = predictor.nearest_structures(np.asarray(latents, float)[:k], k=1)[:, 0]
    return read_stackings([str(names[i]) for i in nearest])


def _fit(
    data, stackings, units, bond_length, config, device, cancel, report=None
) -> list[Candidate]:
    """Fit ``stackings`` (their positions at unit bond ``units``) at ``bond_length``;
    candidates in input order."""
    if not stackings:
        return []
    clusters = [unit * bond_length for unit in units]

    def chunk(idx, _result) -> None:
        if report is not None:
            report(len(idx))

    fitted = fit_sized(data, clusters, config, device=device, cancel=cancel, on_chunk=chunk)
    kinds = [
        (stacking_type(s.sequence), s.label, len(c))
        for s, c in zip(stackings, clusters, strict=True)
    ]
    return built_candidates(clusters, kinds, fitted, source=SOURCE_SEQUENCE_SEARCH)


def search_stackings(
    data: PDFData,
    config: FitConfig,
    reading: Sequence[tuple[int, Patch]],
    bond_length: float,
    settings: SequenceSearchSettings | None = None,
    device=None,
    cancel: CancelToken | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> SequenceSearchResult:
    """Enumerate the stackings of ``reading`` ((layers, patch) pairs, most likely
    first, e.g. from :func:`read_stackings`), walk from the best to their neighbours,
    and fit every cluster to ``data`` once.

    ``progress(stage, fraction)``: a sentence and the share of ``max_clusters`` done
    (0–1; 1 at the end). Raises ``Cancelled``; ``ValueError`` from the fitter.
    """
    settings = settings or SequenceSearchSettings()
    t0 = time.perf_counter()
    fitted: dict[Stacking, Candidate] = {}
    seen = DuplicateFilter(tolerance=1e-4)  # clusters equal by symmetry the pairs miss
    done = [0]

    def fit(stackings: list[Stacking], stage: str) -> int:
        new, units = [], []
        for s in stackings:
            if s in fitted or len(fitted) + len(new) >= settings.max_clusters:
                continue
            unit = s.positions()
            if len(unit) <= settings.max_atoms and seen.add(None, unit):
                new.append(s)
                units.append(unit)
        check(cancel)

        def report(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(stage, min(done[0] / settings.max_clusters, 0.99))

        for s, c in zip(
            new, _fit(data, new, units, bond_length, config, device, cancel, report), strict=True
        ):
            fitted[s] = c
        return len(new)

    def every_stacking(n: int, patch: Patch) -> list[Stacking]:
        """Every stacking of ``n`` layers on ``patch``'s shape and size, each axis site."""
        batch = [
            Stacking.of(seq, Patch(patch.shape, patch.size, axis))
            for axis in "ABC"
            for seq in sequences(n)
        ]
        return [s for s in dict.fromkeys(batch) if s.holds_layers() and s not in fitted]

    # 1. every stacking of the read (layers, patch) pairs, the axis through each site
    combinations: list[tuple[int, str]] = []
    for n, patch in reading:
        name = (n, patch.label[:-1])
        if name in combinations or len(combinations) >= settings.read_combinations:
            continue
        batch = every_stacking(n, patch)
        if len(fitted) + len(batch) > settings.max_clusters:
            continue
        combinations.append(name)
        what = patch.description.split(",")[0]
        fit(batch, f"fitting every stacking of {n} layers on a {what}")
    enumerated = len(fitted)

    # 2. walk: the neighbours of the best so far, until none is new; then every
    # stacking of the best's patch with one layer fewer, as many and one more (a walk
    # stops where every single step is worse), and walk again while that helps
    expanded: set[Stacking] = set()
    rounds = 0
    around: list[tuple[int, str]] = []
    for _ in range(settings.restarts + 1):
        for _ in range(settings.rounds):
            best = sorted(fitted, key=lambda s: fitted[s].rw)[: settings.beam]
            todo = [s for s in best if s not in expanded]
            if not todo:
                break
            rounds += 1
            expanded.update(todo)
            steps = [m for s in todo for m in s.neighbours(settings.layers)]
            fit(steps, f"walking to neighbouring stackings (round {rounds})")
        if not fitted:
            break
        top = min(fitted, key=lambda s: fitted[s].rw)
        before = fitted[top].rw
        lo, hi = settings.layers
        pairs = [
            (n, top.patch)
            for n in (len(top.sequence), len(top.sequence) - 1, len(top.sequence) + 1)
            if lo <= n <= hi and (n, top.patch.label[:-1]) not in combinations + around
        ]
        for n, patch in pairs:
            around.append((n, patch.label[:-1]))
            fit(every_stacking(n, patch), f"fitting every stacking of {n} layers near the best")
        if min(c.rw for c in fitted.values()) >= before:
            break
    if progress is not None:
        progress("sequence search done", 1.0)
    ranked = sorted(fitted.values(), key=lambda c: c.rw)
    return SequenceSearchResult(
        candidates=ranked,
        rw_limit=indistinguishable_rw(
            ranked[0].rw, data, config.params.qmax, (config.rmin, config.rmax)
        )
        if ranked
        else None,
        combinations=combinations,
        around=around,
        enumerated=enumerated,
        walked=len(fitted) - enumerated,
        rounds=rounds,
        seconds=time.perf_counter() - t0,
    )


def search_sequences(
    data: PDFData,
    predictor,
    config: FitConfig,
    ranked: Sequence[Candidate],
    bond_length: float,
    settings: SequenceSearchSettings | None = None,
    cancel: CancelToken | None = None,
    on_batch: Callable[[list[Candidate]], None] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> SequenceSearchResult | None:
    """The sequence search as :func:`deepstruc_gui.model.pipeline.run_solve` runs it
    after a stacking model's search: None for other models or when no decoded
    candidate can be read; else the built candidates (``on_batch`` gets them ranked
    among ``ranked`` when done)."""
    settings = settings or SequenceSearchSettings()
    if not is_stacking_model(predictor.bundle.metadata):
        return None
    decoded = [c for c in ranked if c.source == SOURCE_MODEL and np.all(np.isfinite(c.latent))][
        : settings.readings
    ]
    if not decoded:
        return None
    reading = model_reading(predictor, np.array([c.latent for c in decoded]), settings.readings)
    if not reading:
        return None
    result = search_stackings(
        data, config, reading, bond_length, settings, predictor.device, cancel, progress
    )
    if on_batch is not None:
        on_batch(sorted([*ranked, *result.candidates], key=lambda c: c.rw))
    return result
