"""Batched refinement of many candidate clusters against one measured PDF.

Each candidate gets a scale factor, an isotropic expansion factor α of its
coordinates and an isotropic ADP (optionally delta2, Qdamp and diffpy's
spherical-shape envelope diameter), refined by a Levenberg–Marquardt loop that runs
for all candidates at once, within bounds (:class:`FitConfig`). The model curve is
diffpy.srreal's DebyePDFCalculator at the refined parameters (see
:mod:`deepstruc_gui.science.fit_model` for how it is made fast).

With Qdamp and spdiameter fixed, the r-space misfit is a quadratic form in F(Q), so
every iteration works on ~250-point Q vectors through a precomputed Gram matrix
instead of on 2800-point curves.

Rw is PDFgui's ``sqrt(Σ w (Gobs − Gcalc)² / Σ w Gobs²)``: unit weights by default,
``w = 1/dG²`` with ``FitConfig(weighting="dG")`` and data that carry dG. Standard
errors follow diffpy.srfit's ``FitResults``: the covariance is ``(JᵀWJ)⁻¹`` of the
weighted residual; without dG (unit weights, no absolute scale of the noise) it is
scaled by the reduced χ² ``Σ w r² / (N − P)``, as PDFgui/pdffit2 and
``scipy.optimize.curve_fit`` do. PDF points on a fine r grid are correlated, so these
errors are lower bounds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from deepstruc_gui.science.debye import default_device, split_structures
from deepstruc_gui.science.fit_problem import Problem
from deepstruc_gui.science.histogram_clusters import is_histogram_batch
from deepstruc_gui.science.parameters import FIT_PARAMETERS, FitConfig, PDFParameters
from deepstruc_gui.util.cancel import CancelToken, check


@dataclass
class FitResult:
    """Refined parameters and fitted curves, one entry per candidate (input order).

    ``rw`` is the Rw the fit minimised and ranks by, named in ``rw_kind``:
    ``"unweighted"`` (unit weights) or ``"weighted (1/dG²)"`` (PDFgui's, when the data
    carry dG and ``FitConfig.weighting == "dG"``). ``rw_unweighted`` always holds the
    unweighted one, ``rw_weighted`` PDFgui's weighted one when dG was given (else None).
    ``errors[name]``: standard error of each refined parameter (same unit);
    ``at_bound[name]``: True where it ended at one of its bounds (its value is then a
    limit, not an estimate). Curves: ``r`` (nr,) Å, ``gobs`` (nr,), ``gcalc`` (B, nr),
    on the fit range. ``params``: the simulation parameters used (Qmin, Qmax, table,
    start values). Units: Biso, delta2 Å²; Qdamp Å⁻¹; spdiameter Å (0 = off).
    """

    rw: np.ndarray
    scale: np.ndarray
    expansion: np.ndarray
    biso: np.ndarray
    qdamp: np.ndarray
    delta2: np.ndarray
    r: np.ndarray
    gcalc: np.ndarray
    gobs: np.ndarray = field(repr=False)
    spdiameter: np.ndarray | None = None
    rw_kind: str = "unweighted"
    rw_unweighted: np.ndarray | None = None
    rw_weighted: np.ndarray | None = None
    errors: dict[str, np.ndarray] = field(default_factory=dict)
    at_bound: dict[str, np.ndarray] = field(default_factory=dict)
    refined: tuple[str, ...] = ()
    errors_kind: str = ""
    params: PDFParameters | None = None

    def ranking(self) -> np.ndarray:
        """Candidate indices, best Rw first."""
        return np.argsort(self.rw, kind="stable")

    def __len__(self) -> int:
        return len(self.rw)

    def bound_flags(self, i: int) -> list[str]:
        """Names of candidate ``i``'s refined parameters that ended at a bound."""
        return [n for n, flags in self.at_bound.items() if bool(flags[i])]


def fit_candidates(
    structures: Sequence,
    r_obs: np.ndarray,
    g_obs: np.ndarray,
    config: FitConfig | None = None,
    device: torch.device | str | None = None,
    cancel: CancelToken | None = None,
    elements: Sequence | None = None,
    dg: np.ndarray | None = None,
) -> FitResult:
    """Refine every candidate against the measured G(r).

    ``structures``: (n, 3) arrays in Å or ``ase.Atoms`` (which carry their elements),
    or — all of them — :class:`~deepstruc_gui.science.histogram_clusters.HistogramCluster`
    (a one-element cluster's pair histogram in bond units, at its ``bond_length``: the
    same fit without the pair-distance work, for shapes whose histogram is cached);
    ``elements[i]``: the element(s) of structure i (a symbol or atomic number, or one
    per atom; without it arrays are one element, whose form factor cancels);
    ``dg``: the data's dG (same shape as ``g_obs``), for PDFgui's weighted Rw.
    Raises ``ValueError`` for a fit range with fewer than 10 points, weighting by
    dG without (positive) dG, or histogram clusters mixed with positions or elements.
    """
    config = config or FitConfig()
    r_obs = np.asarray(r_obs, dtype=np.float64)
    g_obs = np.asarray(g_obs, dtype=np.float64)
    inside = (r_obs >= config.rmin) & (r_obs <= config.rmax) & np.isfinite(g_obs)
    dg_in = None
    if dg is not None:
        dg = np.asarray(dg, dtype=np.float64)
        inside &= np.isfinite(dg) & (dg > 0)
    elif config.weighting == "dG":
        raise ValueError("weighting by 1/dG² needs data with a dG column")
    if inside.sum() < 10:
        raise ValueError(
            f"fewer than 10 data points in the fit range {config.rmin}–{config.rmax} Å"
        )
    r, g = r_obs[inside], g_obs[inside]
    if dg is not None:
        dg_in = dg[inside]
    weights = 1 / dg_in**2 if config.weighting == "dG" else np.ones_like(g)
    device = torch.device(device) if device is not None else default_device()
    if is_histogram_batch(structures):
        if elements is not None:
            raise ValueError("histogram clusters are one element: pass elements=None")
        positions, found = list(structures), None
    else:
        positions, found = split_structures(structures, elements)
    base = config.params
    params = base.replace(rmin=min(base.rmin, config.rmin), rmax=max(base.rmax, config.rmax))
    # every call starts from ``config.params``: the same inputs give the same answer
    # whatever was fitted before in this process (an earlier version started later
    # batches on the previous call's leaders' grid; a second identical run then moved Rw
    # by up to 0.3 % and reordered candidates)
    problem = _problem_for(r, g, weights, config, params, device)
    parts = []
    for start in range(0, len(positions), config.batch_size):
        check(cancel)
        stop = start + config.batch_size
        parts.append(
            problem.fit(positions[start:stop], None if found is None else found[start:stop], cancel)
        )
    if not parts:
        empty = np.zeros(0)
        return FitResult(
            empty, empty, empty, empty, empty, empty, r, np.zeros((0, r.size)), g,
            spdiameter=empty, refined=config.refined(), params=params,
        )  # fmt: skip
    cols = {k: _concat([p[k] for p in parts]) for k in parts[0]}
    _polish(cols, positions, found, r, g, weights, config, params, device, cancel)
    rw_unweighted = _rw(g, cols["gcalc"], np.ones_like(g))
    rw_weighted = _rw(g, cols["gcalc"], 1 / dg_in**2) if dg_in is not None else None
    weighted = config.weighting == "dG"
    return FitResult(
        rw=rw_weighted if weighted else rw_unweighted,
        scale=cols["scale"],
        expansion=cols["expansion"],
        biso=cols["biso"],
        qdamp=cols["qdamp"],
        delta2=cols["delta2"],
        r=r,
        gcalc=cols["gcalc"],
        gobs=g,
        spdiameter=cols["spdiameter"],
        rw_kind="weighted (1/dG²)" if weighted else "unweighted",
        rw_unweighted=rw_unweighted,
        rw_weighted=rw_weighted,
        errors=cols["errors"],
        at_bound=cols["at_bound"],
        refined=config.refined(),
        errors_kind=(
            "from (JᵀWJ)⁻¹ with W = 1/dG² (diffpy.srfit)"
            if weighted
            else "from (JᵀJ)⁻¹ scaled by the reduced χ² (unit weights, as PDFgui)"
        ),
        params=params,
    )


def _concat(values: list):
    if isinstance(values[0], dict):
        return {k: np.concatenate([v[k] for v in values]) for k in values[0]}
    return np.concatenate(values)


def _rw(g: np.ndarray, gcalc: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.sqrt(((g - gcalc) ** 2 * w).sum(-1) / max(float((g**2 * w).sum()), 1e-300))


#: candidates re-fitted together on the Q grid of the leaders' median Biso
_REGRID_TOP = 16
#: in batches, a grid whose rcalchi is this close (Å) counts as the same (Rw moves by
#: ≤ 5e-4), so re-fits reuse the problems of earlier batches; a few candidates (the
#: `fit` command, the window's single fits) always get their exact grid
_GRID_TOLERANCE = 0.03


def _polish(
    cols, positions, found, r, g, weights, config, params, device, cancel
) -> PDFParameters | None:
    """Bring the leaders onto the Q grid diffpy would use at their refined Biso and
    delta2 (its r-range extension, hence Q step and pair cut-offs, follow the widest
    peak). First the best :data:`_REGRID_TOP` are re-fitted together on the grid of
    the median Biso of the best ten, so they are compared on (nearly) their own grid;
    then the best ``config.polish`` each on exactly its own, until it no longer
    changes. Returns the leaders' shared grid (None when nothing was polished)."""
    if config.polish == 0:
        return None
    tol = 0.0 if len(positions) <= 4 else _GRID_TOLERANCE
    order = np.argsort(cols["rw"], kind="stable")
    top = order[: max(config.polish, _REGRID_TOP)]
    used = {int(i): params for i in top}
    shared = _refined_grid(params, config, cols, order[:10], np.median)
    # leaders on another grid, or still moving after max_iter (data far from the
    # start values), are re-fitted from where they stopped
    moved = not _same_grid(shared, params, tol)
    which = top if moved else top[~cols["converged"][top].astype(bool)]
    if len(which):
        args = (positions, found, r, g, weights, config, device, cancel)
        _refit(cols, which, shared if moved else params, *args)
        if moved:
            used = {int(i): shared for i in top}
        order = np.argsort(cols["rw"], kind="stable")
    for i in order[: config.polish]:
        i = int(i)
        for _ in range(3):
            check(cancel)
            wanted = _refined_grid(used[i], config, cols, [i], np.median)
            if _same_grid(wanted, used[i], tol):
                break
            args = (positions, found, r, g, weights, config, device, cancel)
            _refit(cols, [i], wanted, *args)
            used[i] = wanted
    return shared


def _refined_grid(params, config, cols, which, reduce) -> PDFParameters:
    changes = {"biso": float(reduce(cols["biso"][which]))}
    if config.refine_delta2:
        changes["delta2"] = float(reduce(cols["delta2"][which]))
    return params.replace(**changes)


def _refit(cols, which, params, positions, found, r, g, weights, config, device, cancel):
    """Re-fit candidates ``which`` on exactly the grid of ``params``, from their current
    values."""
    which = np.asarray(which, dtype=int)
    # a cached problem only on exactly this grid: one merely close to it would make the
    # answer depend on what was fitted before in this process
    problem = _problem_for(r, g, weights, config, params, device, grid_only=True)
    start = {name: cols[name][which] for name in FIT_PARAMETERS}
    out = problem.fit(
        [positions[i] for i in which],
        None if found is None else [found[i] for i in which],
        cancel,
        start,
    )
    for key, value in out.items():
        if isinstance(value, dict):
            for name in value:
                cols[key][name][which] = value[name]
        else:
            cols[key][which] = value


def _same_grid(a: PDFParameters, b: PDFParameters, tol: float = 0.0) -> bool:
    """Same Q grid and pair cut-offs, to within ``tol`` Å in rcalchi and rcalclo."""
    return (
        abs(a.rcalc_high - b.rcalc_high) < tol + 0.5 * a.rstep
        and abs(a.rcalc_low - b.rcalc_low) < tol + 0.5 * a.rstep
    )


_PROBLEMS: dict[tuple, Problem] = {}


def _digest(a: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()


def _problem_for(
    r, g, w, config: FitConfig, params: PDFParameters, device, grid_only=False
) -> Problem:
    """The data-side tables, reused while the same data and settings are fitted again
    (the GUI fits the point under the marker many times a second). ``grid_only``: any
    cached problem on the same Q grid and cut-offs will do (re-fits pass their own
    start values, so Biso and delta2 of ``params`` only matter through the grid)."""
    data = (_digest(r), _digest(g), _digest(w), config, str(device))
    problem = _PROBLEMS.get((*data, params))
    if problem is None and grid_only:
        plain = params.replace(biso=0.0, delta2=0.0)
        for key, cached in _PROBLEMS.items():
            other = cached.params
            if (
                key[:-1] == data
                and other.replace(biso=0.0, delta2=0.0) == plain
                and _same_grid(other, params)
            ):
                return cached
    if problem is None:
        if len(_PROBLEMS) >= 16:
            _PROBLEMS.pop(next(iter(_PROBLEMS)))
        problem = _PROBLEMS[(*data, params)] = Problem(r, g, w, config, params, device)
    return problem
