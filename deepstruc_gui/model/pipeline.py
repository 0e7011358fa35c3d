"""The one path from a loaded PDF and the user's settings to ranked candidates.

``predict``, ``self-test``, the notebook API (``deepstruc_gui.solve``) and the
window's presenter all go through here, so they fit the same way:

* :func:`fit_config_for` turns the data's header, the model's simulation parameters
  and the user's overrides into a :class:`~deepstruc_gui.science.parameters.FitConfig`
  and says where each of Qmin, Qmax, Qdamp, delta2 and Biso came from;
* :class:`SolveSettings` holds what the user chose (fit range, samples, region, seed,
  whole map, fallback) and refuses impossible values with a message naming them;
* :func:`run_solve` reads the model input and the bond length of the data once, places
  the prior, searches the region (or the whole map), falls back to the whole map when
  the region fits nothing (best Rw above ``POOR_FIT_RW``), and returns a
  :class:`SolveResult` that says what the answer rests on.

The search is DeepStruc's (Kjær, Anker et al., Digital Discovery 2, 69–80 (2023),
doi:10.1039/d2dd00086e): sample the prior's latent region, decode, refine, rank by Rw.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from deepstruc_gui.model.candidate import POOR_FIT_RW, Candidate
from deepstruc_gui.science.parameters import (
    TRAINING_PARAMETERS,
    FitConfig,
    PDFParameters,
    parameters_with_sources,
)
from deepstruc_gui.util.cancel import CancelToken

if TYPE_CHECKING:  # torch is imported only when a search runs
    from deepstruc_gui.model.inference import Predictor
    from deepstruc_gui.model.landscape import Landscape
    from deepstruc_gui.science.pdf_io import PDFData

#: the simulation parameters a fit configuration takes from header, user or model
PARAMETER_NAMES = ("qmin", "qmax", "qdamp", "delta2", "biso")
#: settings beyond these are refused: they would run for hours or mean nothing
MAX_SAMPLES = 100_000
MAX_SIGMA = 50.0
MAX_R = 200.0  # Å
#: the searches :class:`SolveSettings` offers (``whole_map`` overrides both)
SEARCHES = ("default", "region")


def fit_config_for(
    data: PDFData | None,
    base_params: PDFParameters = TRAINING_PARAMETERS,
    rmin: float = 2.0,
    rmax: float = 30.0,
    overrides: Mapping[str, float] | None = None,
    *,
    refine_qdamp: bool = False,
    refine_delta2: bool = False,
    **fit_options: Any,
) -> tuple[FitConfig, dict[str, str]]:
    """The fit configuration of ``data`` and where each parameter came from.

    ``base_params``: the model's simulation parameters (a bundle's
    ``metadata["pdf_parameters"]``); Qmin, Qmax and Qdamp in the data's header replace
    them where sane (:func:`~deepstruc_gui.science.parameters.parameters_with_sources`,
    as PDFgetX3 writes them); ``overrides`` (any of ``PARAMETER_NAMES``, Å⁻¹ or Å²)
    replace both. ``rmin``/``rmax``: the fit range in Å.

    Returns ``(config, sources)`` with ``sources[name]`` one of ``"header"``,
    ``"user"``, ``"model default"`` for every name in ``PARAMETER_NAMES``.

    ``fit_options``: any other :class:`FitConfig` field (bounds such as
    ``biso_bounds=(0, 5)``, ``refine_biso=False``, ``weighting="dG"``, ``max_iter``).

    Raises ``ValueError`` for an unknown override name, an empty fit range, bounds or
    parameters :class:`FitConfig`/:class:`PDFParameters` refuse (e.g. Qmin ≥ Qmax), and
    ``TypeError`` for an unknown fit option.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(PARAMETER_NAMES))
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; use {PARAMETER_NAMES}")
    metadata = data.metadata if data is not None else {}
    params, found = parameters_with_sources(
        metadata, base_params, user={k: float(v) for k, v in overrides.items()}
    )
    # the one rule for header values lives in science.parameters; here "default"
    # means the model's own simulation parameters
    sources = {n: "model default" if found[n] == "default" else found[n] for n in found}
    config = FitConfig(
        rmin=float(rmin),
        rmax=float(rmax),
        params=params,
        refine_qdamp=refine_qdamp,
        refine_delta2=refine_delta2,
        **fit_options,
    )
    return config, sources


@dataclass
class SolveSettings:
    """What the user chose for one search. Invalid values raise ``ValueError`` naming
    the setting (the CLI turns it into exit 2).

    ``rmin``/``rmax``: fit range (Å). ``samples``: latent points of the region search.
    ``sigma``: the region is ``sigma``·σ of the prior (ignored when ``radius`` is
    given). ``center``: (z1, z2) to search around instead of the prior mean.
    ``radius``: region semi-axes in map units (one number: a circle). ``seed``: of the
    sampling (None: fresh). ``whole_map``: fit every training-map point instead of a
    region. ``fallback``: search the whole map too when the region's best Rw is above
    ``POOR_FIT_RW`` (region search only). ``search``: ``"default"`` — the Rw landscape
    over the whole map and the region together (:mod:`deepstruc_gui.model.search`) —
    or ``"region"``, the paper's plain region search. ``element``: symbol of the
    metal (default: the data header's).
    ``overrides``: simulation parameters the user set (see :func:`fit_config_for`).
    ``size_extension``: extend the search beyond the training sizes when the data call
    for it (:func:`deepstruc_gui.model.size_extension.search_beyond`).
    ``sequence_search``: with a stacking model, also build and fit every stacking of the
    layer counts and patches the model reads
    (:func:`deepstruc_gui.model.sequence_search.search_sequences`).
    """

    rmin: float = 2.0
    rmax: float = 30.0
    samples: int = 1000
    sigma: float = 3.0
    center: tuple[float, float] | None = None
    radius: float | tuple[float, float] | None = None
    seed: int | None = 0
    whole_map: bool = False
    fallback: bool = True
    search: str = "default"
    element: str | None = None
    overrides: dict[str, float] = field(default_factory=dict)
    refine_qdamp: bool = False
    refine_delta2: bool = False
    batch_size: int = 100
    #: when the data show a particle larger than the training structures, also build
    #: and fit larger clusters of the types the model reads (model/size_extension.py)
    size_extension: bool = True
    #: with a stacking model, fit every stacking of the layers and patches it reads
    #: (model/sequence_search.py)
    sequence_search: bool = True

    def __post_init__(self) -> None:
        problems = settings_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        if self.center is not None:
            self.center = (float(self.center[0]), float(self.center[1]))

    def region_radius(self, prior_sigma: np.ndarray) -> np.ndarray:
        """Semi-axes (2,) of the searched ellipse for a prior of σ ``prior_sigma``."""
        if self.radius is not None:
            return np.broadcast_to(np.asarray(self.radius, float), (2,)).copy()
        return self.sigma * np.asarray(prior_sigma, float)


def _finite(x) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in np.ravel(np.asarray(x, float)))
    except (TypeError, ValueError):
        return False


def settings_problems(s: SolveSettings) -> list[str]:
    """Every problem with ``s``, each naming its setting; empty when all is well."""
    out = []
    if not isinstance(s.samples, int | np.integer) or isinstance(s.samples, bool):
        out.append(f"samples must be a whole number, not {s.samples!r}")
    elif not 1 <= s.samples <= MAX_SAMPLES:
        out.append(f"samples must be 1–{MAX_SAMPLES}, not {s.samples}")
    if not _finite(s.sigma) or not 0 < s.sigma <= MAX_SIGMA:
        out.append(f"sigma must be above 0 and at most {MAX_SIGMA:g}, not {s.sigma}")
    if s.radius is not None:
        r = np.ravel(np.asarray(s.radius, float)) if _finite(s.radius) else np.array([np.nan])
        if r.size not in (1, 2) or not np.all(r > 0):
            out.append(f"radius must be one or two positive numbers, not {s.radius!r}")
    if s.center is not None and (np.size(s.center) != 2 or not _finite(s.center)):
        out.append(f"center must be two finite numbers (z1, z2), not {s.center!r}")
    if not (_finite(s.rmin) and _finite(s.rmax)):
        out.append(f"rmin and rmax must be finite numbers, not {s.rmin!r}, {s.rmax!r}")
    elif not 0 <= s.rmin < s.rmax <= MAX_R:
        out.append(
            f"the fit range must satisfy 0 ≤ rmin < rmax ≤ {MAX_R:g} Å, not "
            f"rmin {s.rmin:g}, rmax {s.rmax:g}"
        )
    if s.search not in SEARCHES:
        out.append(f"search must be one of {', '.join(SEARCHES)}, not {s.search!r}")
    if not isinstance(s.batch_size, int) or s.batch_size < 1:
        out.append(f"batch_size must be a positive whole number, not {s.batch_size!r}")
    if s.seed is not None and (not isinstance(s.seed, int | np.integer) or s.seed < 0):
        out.append(f"seed must be a whole number ≥ 0 or None, not {s.seed!r}")
    if s.element is not None:
        from ase.data import atomic_numbers

        if s.element not in atomic_numbers:
            out.append(f"element {s.element!r} is not a chemical element symbol")
    unknown = sorted(set(s.overrides) - set(PARAMETER_NAMES))
    if unknown:
        out.append(f"unknown parameter override(s) {', '.join(unknown)}")
    return out


@dataclass
class SolveResult:
    """The outcome of :func:`run_solve`: ranked candidates and what they rest on.

    ``candidates``: all fitted candidates, best (lowest) Rw first; Rw is PDFgui's
    ``sqrt(Σ(Gobs − Gcalc)² / Σ Gobs²)`` over the fit range, unweighted. ``prior_mean``,
    ``prior_sigma``: (2,) the prior's latent normal for these data; ``center``,
    ``radius``: (2,) the searched ellipse (map units); ``bond_length``: the
    nearest-neighbour distance read from the data (Å); ``search``: ``"region"``,
    ``"whole map"`` or ``"region, then whole map"``; ``parameter_sources``: see
    :func:`fit_config_for`; ``warnings``: ``Diagnostic`` objects (``.code``,
    ``.message``, ``.severity``; model/diagnostics.py, docs/WARNINGS.md) about the
    data and the answer; ``notes``: plain sentences about the search;
    ``seconds``: wall time of the search; ``landscape``: the coarse Rw landscape the
    default search looked at (None for the other searches). Each candidate's
    ``source`` says whether the model decoded it ("model") or the size extension built
    it ("size-extension").
    """

    data_path: str | None
    model: str
    device: str
    candidates: list[Candidate]
    prior_mean: np.ndarray
    prior_sigma: np.ndarray
    bond_length: float
    center: np.ndarray
    radius: np.ndarray
    search: str
    fit_config: FitConfig
    parameter_sources: dict[str, str]
    settings: SolveSettings
    element: str | None = None
    warnings: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    landscape: Landscape | None = None

    @property
    def best(self) -> Candidate | None:
        """The lowest-Rw candidate, or None when there are none."""
        return self.candidates[0] if self.candidates else None

    @property
    def parameters(self) -> dict[str, float]:
        """The simulation parameters the fit started from (``PARAMETER_NAMES``)."""
        p = self.fit_config.params
        return {name: float(getattr(p, name)) for name in PARAMETER_NAMES}

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """The JSON summary ``predict --json`` writes (``top`` candidates, default all)."""
        shown = self.candidates if top is None else self.candidates[:top]
        return {
            "data": self.data_path,
            "model": self.model,
            "device": self.device,
            "element": self.element,
            "prior_mean": np.asarray(self.prior_mean, float).tolist(),
            "prior_sigma": np.asarray(self.prior_sigma, float).tolist(),
            "bond_length": float(self.bond_length),
            "center": np.asarray(self.center, float).tolist(),
            "radius": np.asarray(self.radius, float).tolist(),
            "samples": len(self.candidates),
            "whole_map": self.settings.whole_map,
            "fallback": self.settings.fallback,
            "search": self.search,
            "seed": self.settings.seed,
            "seconds": round(self.seconds, 2),
            "fit_range": [self.fit_config.rmin, self.fit_config.rmax],
            "parameters": self.parameters,
            "parameter_sources": dict(self.parameter_sources),
            "refined": ["scale", "expansion", "biso"]
            + (["qdamp"] if self.fit_config.refine_qdamp else [])
            + (["delta2"] if self.fit_config.refine_delta2 else []),
            "rw_definition": "sqrt(sum((Gobs-Gcalc)^2)/sum(Gobs^2)) over the fit range",
            "warnings": [warning_dict(w) for w in self.warnings],
            "notes": list(self.notes),
            "candidates": [candidate_dict(c, k) for k, c in enumerate(shown, 1)],
            "landscape": None if self.landscape is None else landscape_summary(self.landscape),
        }


def warning_dict(warning) -> dict[str, str]:
    """``{"code", "message", "severity"}`` of a warning object (or of a plain string)."""
    if isinstance(warning, str):
        return {"code": "note", "message": warning, "severity": "info"}
    return {
        "code": str(getattr(warning, "code", type(warning).__name__)),
        "message": str(getattr(warning, "message", warning)),
        "severity": str(getattr(warning, "severity", "warning")),
    }


def landscape_summary(land: Landscape) -> dict[str, Any]:
    """Size and lowest point of a Rw landscape, as plain JSON values."""
    i = int(land.lowest(1)[0]) if len(land) else None
    return {
        "points": len(land),
        "rw": land.info.get("rw"),
        "lowest": None
        if i is None
        else {
            "rw_coarse": float(land.rw[i]),
            "type": str(land.types[i]),
            "n_atoms": int(land.n_atoms[i]),
            "latent": np.asarray(land.z[i], float).tolist(),
        },
    }


def candidate_dict(c: Candidate, rank: int) -> dict[str, Any]:
    """One ranked candidate as plain JSON values."""
    return {
        "rank": rank,
        "rw": float(c.rw),
        "n_atoms": int(c.n_atoms),
        "nearest_type": c.nearest_type,
        "scale": float(c.scale),
        "expansion": float(c.expansion),
        "biso": float(c.biso),
        "qdamp": float(c.qdamp),
        "delta2": float(c.delta2),
        "latent": (np.asarray(c.latent, float).tolist() if np.isfinite(c.latent).all() else None),
        "source": c.source,
        "shape": c.shape,
        "rw_kind": c.rw_kind,
        "rw_weighted": None if c.rw_weighted is None else float(c.rw_weighted),
        "errors": {k: float(v) for k, v in c.errors.items()},
        "at_bound": list(c.at_bound),
    }


def run_solve(
    data: PDFData,
    predictor: Predictor,
    settings: SolveSettings | None = None,
    cancel: CancelToken | None = None,
    on_batch: Callable[[list[Candidate]], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
    on_landscape: Callable[[Landscape], None] | None = None,
    on_stage: Callable[[str, float], None] | None = None,
    on_answer: Callable[[list[Candidate], str, float], None] | None = None,
) -> SolveResult:
    """Search ``data`` with ``predictor`` as ``settings`` say; see the module docstring.

    ``on_batch(ranked)``: all candidates so far, best first, after each batch.
    ``progress(done, total)``: latent points fitted so far and the total planned (the
    total grows when the whole-map fallback starts). ``log(sentence)``: what the search
    decides (the fallback), as it decides it. ``on_landscape(landscape)``: snapshots
    of the default search's Rw landscape as it is computed (the window draws them).
    ``on_stage(stage, fraction)``: the stage after the model's search (the sequence
    search of a stacking model, the size extension: a sentence) and the share of it
    done (0–1), as it runs; ``progress`` counts the model's search only.
    ``on_answer(ranked, search, seconds)``: the model's own answer (its candidates,
    best first, the search that found them and the seconds it took), as soon as it
    exists and before any sequence search or size extension starts.

    Raises ``ValueError`` (the data do not overlap the model grid or the fit range,
    impossible parameters) and ``Cancelled`` when ``cancel`` is set.
    """
    from deepstruc_gui.model.solve import region_points, solve_points, whole_map_points

    settings = settings or SolveSettings()
    element = settings.element or data.main_element
    base = PDFParameters.from_dict(predictor.bundle.metadata["pdf_parameters"])
    config, sources = fit_config_for(
        data,
        base,
        settings.rmin,
        settings.rmax,
        settings.overrides,
        refine_qdamp=settings.refine_qdamp,
        refine_delta2=settings.refine_delta2,
    )
    model_input = data.model_input()  # once per data set: the prior and the bond use it
    mean, sigma = predictor.prior(model_input)
    bond = predictor.bond_length(model_input)
    center = np.asarray(settings.center, float) if settings.center is not None else mean
    radius = settings.region_radius(sigma)
    say = log or (lambda _sentence: None)
    notes: list[str] = []
    done = [0]
    total = [0]

    def run_points(z: np.ndarray, ranked_before: list[Candidate]) -> list[Candidate]:
        """Decode and fit latent points ``z`` (n, 2) in batches, reporting progress and the
        ranking merged with ``ranked_before``; returns the new candidates."""
        total[0] += len(z)
        start = done[0]

        def batch(ranked: list[Candidate]) -> None:
            """Progress callback per fitted batch: advance the count, pass the merged ranking."""
            done[0] = min(total[0], done[0] + settings.batch_size)
            if progress is not None:
                progress(done[0], total[0])
            if on_batch is not None:
                on_batch(sorted(ranked_before + ranked, key=lambda c: c.rw))

        out = solve_points(
            data, predictor, z, config, cancel, batch, settings.batch_size, bond=bond
        )
        done[0] = start + len(z)
        return out

    t0 = time.perf_counter()
    findings: list = []
    landscape = None
    if settings.whole_map:
        search = "whole map"
        ranked = run_points(whole_map_points(predictor), [])
    elif settings.search == "default":
        from deepstruc_gui.model.search import default_search

        search = "landscape and region"

        def fitted(ranked_so_far: list[Candidate]) -> None:
            """Report the candidates ranked so far (all counted done) to the callbacks."""
            if progress is not None:
                progress(len(ranked_so_far), len(ranked_so_far))
            if on_batch is not None:
                on_batch(ranked_so_far)

        outcome = default_search(
            data,
            predictor,
            config,
            center,
            radius,
            settings.samples,
            seed=settings.seed,
            bond=bond,
            cancel=cancel,
            on_batch=fitted,
            on_landscape=on_landscape,
        )
        ranked, landscape = outcome.candidates, outcome.landscape
        findings.extend(outcome.findings)
        for finding in outcome.findings:
            say(finding.message)
    else:
        search = "region"
        rng = np.random.default_rng(settings.seed)
        z = region_points(predictor.map_mu, center, radius, settings.samples, rng)
        ranked = run_points(z, [])
        if ranked and ranked[0].rw > POOR_FIT_RW:
            note = (
                f"the best Rw in this region is {ranked[0].rw:.3f} (above {POOR_FIT_RW}): "
                "the prior may have misplaced these data"
                + ("" if not settings.fallback else "; searching the whole map as well")
            )
            notes.append(note)
            say(note)
            if settings.fallback:
                search = "region, then whole map"
                more = run_points(whole_map_points(predictor), ranked)
                ranked = sorted(ranked + more, key=lambda c: c.rw)
    if on_answer is not None:
        on_answer(ranked, search, time.perf_counter() - t0)

    def merge(stage: str, found) -> None:
        """A later stage's built candidates joined to the ranking, its summary kept."""
        nonlocal search, ranked
        if found is not None:
            search += f", then {stage}"
            notes.append(found.summary())
            say(found.summary())
            ranked = sorted(ranked + found.candidates, key=lambda c: c.rw)

    if settings.sequence_search and ranked:
        from deepstruc_gui.model.sequence_search import search_sequences

        merge(
            "sequence search",
            search_sequences(
                data,
                predictor,
                config,
                ranked,
                bond,
                cancel=cancel,
                on_batch=on_batch,
                progress=on_stage,
            ),
        )
    if settings.size_extension and ranked:
        from deepstruc_gui.model.size_extension import search_beyond

        merge(
            "size extension",
            search_beyond(
                data,
                predictor,
                config,
                ranked,
                mean,
                bond,
                cancel=cancel,
                on_batch=on_batch,
                log=say,
                qdamp_known=sources["qdamp"] != "model default",
                progress=on_stage,
            ),
        )
    seconds = time.perf_counter() - t0
    for c in ranked:
        c.element = element
    warnings = result_warnings(data, ranked, predictor.bundle.metadata, config) + findings
    return SolveResult(
        data_path=str(data.path) if data.path is not None else None,
        model=predictor.bundle.name,
        device=predictor.device_name,
        candidates=ranked,
        prior_mean=mean,
        prior_sigma=sigma,
        bond_length=float(bond),
        center=np.asarray(center, float),
        radius=np.asarray(radius, float),
        search=search,
        fit_config=config,
        parameter_sources=sources,
        settings=settings,
        element=element,
        warnings=warnings,
        notes=notes,
        seconds=seconds,
        landscape=landscape,
    )


def result_warnings(data: PDFData, ranked: list[Candidate], metadata: dict, config: FitConfig):
    """The warnings of a result: about the data, then about its ranked candidates
    (model/diagnostics.py); called again when candidates join a result afterwards.
    ``beyond-training-size`` reads the ranking too: what its leader rests on, and the
    fit's evidence where the envelope alone is ambiguous."""
    from deepstruc_gui.model.diagnostics import diagnose_data, diagnose_result

    fit_range = (config.rmin, config.rmax)
    data_warnings = diagnose_data(data, metadata, candidates=ranked, fit_range=fit_range)
    return data_warnings + diagnose_result(
        data,
        ranked,
        metadata,
        data_warnings=data_warnings,
        fit_range=fit_range,
        qmax=config.params.qmax,
    )


def load_predictor(model: str | None = None, device: str | None = None) -> Predictor:
    """The :class:`Predictor` of a shipped model name or bundle folder (None: the
    default model). Raises ``BundleError`` for a missing or damaged bundle."""
    from deepstruc_gui.model.bundle import ModelBundle, resolve_model
    from deepstruc_gui.model.inference import Predictor

    return Predictor(ModelBundle.load(resolve_model(model)), device)
