"""The notebook API: the same pipeline as the window and ``deepstruc-gui predict``.

>>> import deepstruc_gui as ds
>>> data = ds.read_pdf("JQ_S1.gr")
>>> result = ds.solve(data, model="mmnp", samples=1000, seed=0)
>>> best = result.candidates[0]                 # ranked by Rw, best first
>>> best.rw, best.n_atoms, best.structure_type
>>> atoms = best.to_atoms()                     # ase.Atoms, refined coordinates in Å
>>> r, g = ds.simulate(atoms, qmax=25.0)        # the Debye engine (diffpy conventions)
>>> ds.fit(atoms, data).rw                      # refine scale, expansion, Biso

Nothing here imports Qt; torch is imported when a function that needs it runs.
Units: r and distances in Å, Q in Å⁻¹, Biso and delta2 in Å², G(r) in Å⁻².

Cite: E. T. S. Kjær, A. S. Anker et al., "DeepStruc: towards structure solution from
pair distribution function data using deep generative models", Digital Discovery 2,
69–80 (2023), doi:10.1039/d2dd00086e (``deepstruc_gui.CITATION``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.model.pipeline import SolveResult, SolveSettings

if TYPE_CHECKING:
    from ase import Atoms

    from deepstruc_gui.model.inference import Predictor
    from deepstruc_gui.science.pdf_io import PDFData

__all__ = [
    "Candidate",
    "FitOutcome",
    "SolveResult",
    "SolveSettings",
    "fit",
    "read_pdf",
    "simulate",
    "solve",
]


def read_pdf(path: str | os.PathLike[str]) -> PDFData:
    """Read a measured G(r) file (PDFgetX3 ``.gr``, plain columns, CSV …).

    Returns a :class:`~deepstruc_gui.science.pdf_io.PDFData`: ``.r`` and ``.g`` (n,)
    arrays (Å, Å⁻²), ``.metadata`` (header ``key = value`` items: qmin, qmax, qdamp,
    composition …). Raises ``PDFReadError`` (a ``ValueError``) naming the file and line.
    """
    from deepstruc_gui.science.pdf_io import read_pdf as _read

    return _read(path)


def _data(data_or_path: PDFData | str | os.PathLike[str]) -> PDFData:
    if isinstance(data_or_path, str | os.PathLike):
        return read_pdf(data_or_path)
    return data_or_path


@functools.lru_cache(maxsize=4)
def predictor(model: str | None = None, device: str | None = None) -> Predictor:
    """The loaded model (a shipped name such as ``"mmnp"`` or ``"stacking"``, or a
    bundle folder; None: the default), kept for the next call. Raises ``BundleError``."""
    from deepstruc_gui.model.pipeline import load_predictor

    return load_predictor(model, device)


def solve(
    data: PDFData | str | os.PathLike[str],
    model: str | None = None,
    samples: int = 1000,
    seed: int | None = 0,
    *,
    sigma: float = 3.0,
    center: tuple[float, float] | None = None,
    radius: float | tuple[float, float] | None = None,
    rmin: float = 2.0,
    rmax: float = 30.0,
    whole_map: bool = False,
    search: str = "default",
    fallback: bool = True,
    element: str | None = None,
    refine_qdamp: bool = False,
    refine_delta2: bool = False,
    size_extension: bool = True,
    sequence_search: bool = True,
    device: str | None = None,
    **parameters: float,
) -> SolveResult:
    """Solve a measured PDF: sample the prior's latent region, decode, fit, rank by Rw.

    ``search``: ``"default"`` looks at the Rw landscape over the whole map together
    with the prior's region (and says when they disagree); ``"region"`` is the paper's
    plain region search (with the whole-map ``fallback`` above Rw 0.5).

    ``data``: a :class:`PDFData` or a file path. ``model``: shipped model name or bundle
    folder (None: ``mmnp``). ``samples`` latent points within ``sigma``·σ of the prior
    mean (or ``radius`` map units around ``center``); ``seed`` fixes them (the same
    seed as ``predict --seed`` gives the same ranking). ``rmin``/``rmax``: fit range
    (Å). ``whole_map``: fit every training-map point instead; ``fallback``: do so as
    well when the region's best Rw is above 0.5. ``element``: the metal (default: the
    header's ``composition``). ``parameters``: qmin, qmax (Å⁻¹), qdamp (Å⁻¹), delta2,
    biso (Å²) overriding the header and the model's defaults. ``size_extension``: when
    the data show a particle larger than the training structures, also build and fit
    larger clusters (150–3,000 atoms) of the types the model reads.
    ``sequence_search`` (stacking models): also build and fit every stacking of the
    layer counts and patches the model reads, then neighbouring stackings. Each
    candidate's ``.source`` says "model", "size-extension" or "sequence-search"
    (``.shape`` names a built one).

    Returns a :class:`SolveResult`: ``.candidates`` best first, each with ``.rw``,
    ``.n_atoms``, ``.structure_type``, ``.positions`` (n, 3) Å with the refined
    expansion, ``.to_atoms()``; ``.prior_mean``/``.prior_sigma`` (2,);
    ``.parameter_sources``; ``.to_dict()`` (the JSON ``predict --json`` writes).

    Raises ``ValueError`` for impossible settings or data (naming them),
    ``PDFReadError`` for an unreadable file, ``BundleError`` for an unknown model.
    """
    settings = SolveSettings(
        rmin=rmin,
        rmax=rmax,
        samples=samples,
        sigma=sigma,
        center=center,
        radius=radius,
        seed=seed,
        whole_map=whole_map,
        search=search,
        fallback=fallback,
        element=element,
        overrides=dict(parameters),
        refine_qdamp=refine_qdamp,
        refine_delta2=refine_delta2,
        size_extension=size_extension,
        sequence_search=sequence_search,
    )
    from deepstruc_gui.model.pipeline import run_solve

    return run_solve(_data(data), predictor(model, device), settings)


def _parameters(**values: float | None):
    from deepstruc_gui.science.parameters import TRAINING_PARAMETERS

    return TRAINING_PARAMETERS.replace(**{k: v for k, v in values.items() if v is not None})


def simulate(
    atoms: Atoms | np.ndarray,
    qmin: float | None = None,
    qmax: float | None = None,
    qdamp: float | None = None,
    delta2: float | None = None,
    biso: float | None = None,
    rmin: float | None = None,
    rmax: float | None = None,
    rstep: float | None = None,
    device: str | None = None,
    elements: Any = None,
    scattering: str = "xray",
    spdiameter: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """G(r) of a structure with the batched Debye engine, as diffpy.srreal's
    ``DebyePDFCalculator`` computes it (its Q grid, r extension, Debye–Waller and
    delta2 widths, Qdamp envelope; Rw ≤ 1e-5 against diffpy on the references).

    ``atoms``: an ``ase.Atoms`` (its elements are used) or an (n, 3) array in Å with
    ``elements`` (one symbol, or one per atom; default one element). ``scattering``:
    diffpy's table, ``"xray"`` (Q-dependent form factors, its default),
    ``"electronnumber"`` or ``"neutron"``; with one element they cancel.
    ``spdiameter``: diffpy's spherical-shape envelope diameter (Å; None/0: off).
    Parameters left as None take the training values (Qmin 0.7, Qmax 25, Qdamp 0.04
    Å⁻¹, delta2 2 Å², Biso 0.3 Å², r 2–30 Å step 0.01). Returns ``(r, G)``, two (m,)
    arrays in Å and Å⁻². Raises ``ValueError`` for impossible parameters or an unknown
    element or table.
    """
    from deepstruc_gui.science.debye import simulate_pdf

    params = _parameters(
        qmin=qmin, qmax=qmax, qdamp=qdamp, delta2=delta2, biso=biso,
        rmin=rmin, rmax=rmax, rstep=rstep, spdiameter=spdiameter,
    ).replace(scattering=scattering)  # fmt: skip
    return simulate_pdf(atoms, params, device=device, elements=elements)


@dataclass
class FitOutcome:
    """A structure refined against data by :func:`fit`.

    ``rw``: the Rw the fit minimised (``rw_kind``: "unweighted", PDFgui's default, or
    "weighted (1/dG²)"); ``rw_unweighted``/``rw_weighted``: both, the weighted one None
    without a dG column; ``scale``; ``expansion`` (the isotropic factor on the
    coordinates); ``biso`` (Å²), ``qdamp`` (Å⁻¹), ``delta2`` (Å²), ``spdiameter`` (Å,
    0 = off): refined or fixed; ``errors``: standard error of each refined parameter
    (PDFgui/srfit convention, same units); ``at_bound``: refined parameters that ended
    at a bound (their values are limits, not estimates); ``r``, ``gobs``, ``gcalc``:
    (m,) curves on the fit range; ``atoms``: the structure with the expansion applied;
    ``parameter_sources``: where Qmin, Qmax, Qdamp, delta2 and Biso started from
    (header, user, model default).
    """

    rw: float
    scale: float
    expansion: float
    biso: float
    qdamp: float
    delta2: float
    r: np.ndarray = field(repr=False)
    gobs: np.ndarray = field(repr=False)
    gcalc: np.ndarray = field(repr=False)
    atoms: Any = field(repr=False)
    parameter_sources: dict[str, str] = field(default_factory=dict)
    rw_kind: str = "unweighted"
    rw_unweighted: float | None = None
    rw_weighted: float | None = None
    spdiameter: float = 0.0
    errors: dict[str, float] = field(default_factory=dict)
    at_bound: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Rw, the refined parameters, their errors and bound flags as plain values."""
        names = ("rw", "scale", "expansion", "biso", "qdamp", "delta2", "spdiameter")
        out: dict[str, Any] = {name: float(getattr(self, name)) for name in names}
        out.update(
            rw_kind=self.rw_kind,
            rw_unweighted=self.rw_unweighted,
            rw_weighted=self.rw_weighted,
            errors=dict(self.errors),
            at_bound=list(self.at_bound),
        )
        return out


def fit(
    atoms: Atoms | np.ndarray,
    data: PDFData | str | os.PathLike[str],
    rmin: float = 2.0,
    rmax: float = 30.0,
    refine_qdamp: bool = False,
    refine_delta2: bool = False,
    device: str | None = None,
    elements: Any = None,
    fit_options: dict[str, Any] | None = None,
    **parameters: float,
) -> FitOutcome:
    """Refine scale, expansion and Biso (optionally Qdamp and delta2) of a structure
    against a measured G(r), with the batched fitter the search uses.

    ``atoms``: ``ase.Atoms`` (its elements are used: X-ray form factors, as diffpy's
    ``xray`` table) or an (n, 3) array in Å with ``elements`` (one symbol, or one per
    atom); ``data``: :class:`PDFData` or a file path; Qmin/Qmax/Qdamp come from the data
    header where it gives them, ``parameters`` (qmin, qmax, qdamp, delta2, biso)
    override. When the data carry dG, PDFgui's weighted Rw is reported beside the
    unweighted one (``fit_options={"weighting": "dG"}`` minimises it instead).
    ``fit_options``: other :class:`~deepstruc_gui.science.parameters.FitConfig` fields,
    e.g. ``{"biso_bounds": (0, 5), "refine_expansion": False, "refine_spdiameter":
    True}``. Returns a :class:`FitOutcome`. Raises ``ValueError`` for an empty fit
    range, impossible parameters or bounds, ``TypeError`` for an unknown fit option.
    """
    from ase import Atoms

    from deepstruc_gui.model.pipeline import fit_config_for
    from deepstruc_gui.science.fitting import fit_candidates
    from deepstruc_gui.science.parameters import TRAINING_PARAMETERS

    data = _data(data)
    config, sources = fit_config_for(
        data,
        TRAINING_PARAMETERS,
        rmin,
        rmax,
        parameters,
        refine_qdamp=refine_qdamp,
        refine_delta2=refine_delta2,
        **(fit_options or {}),
    )
    is_atoms = isinstance(atoms, Atoms)
    positions = np.asarray(atoms.get_positions() if is_atoms else atoms, dtype=float)
    centre = positions.mean(axis=0)
    structure = atoms.copy() if is_atoms else positions - centre
    if is_atoms:
        structure.positions = positions - centre
    result = fit_candidates(
        [structure],
        data.r,
        data.g,
        config,
        device=device,
        elements=None if elements is None else [elements],
        dg=data.dg,
    )
    alpha = float(result.expansion[0])
    if is_atoms:
        refined = atoms.copy()
        refined.positions = centre + (positions - centre) * alpha
    else:
        refined = centre + (positions - centre) * alpha

    def first(values) -> float | None:
        """The first value as a float, or None when ``values`` is None."""
        return None if values is None else float(values[0])

    return FitOutcome(
        rw=float(result.rw[0]),
        scale=float(result.scale[0]),
        expansion=alpha,
        biso=float(result.biso[0]),
        qdamp=float(result.qdamp[0]),
        delta2=float(result.delta2[0]),
        r=result.r,
        gobs=result.gobs,
        gcalc=result.gcalc[0],
        atoms=refined,
        parameter_sources=sources,
        rw_kind=result.rw_kind,
        rw_unweighted=first(result.rw_unweighted),
        rw_weighted=first(result.rw_weighted),
        spdiameter=first(result.spdiameter) or 0.0,
        errors={k: float(v[0]) for k, v in result.errors.items()},
        at_bound=tuple(k for k, v in result.at_bound.items() if bool(v[0])),
    )
