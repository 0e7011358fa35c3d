"""Parameters of PDF simulations and fits: plain data, no torch.

Kept apart from the engine so the window can hold and edit them without importing
torch at start-up.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

#: Termination-ripple extension of the calculation range used by diffpy: 6 ripples
#: (libdiffpy ``DebyePDFCalculator::extFromTerminationRipples``).
_TERMINATION_RIPPLES = 6
#: Peak-tail extension: diffpy extends by ``GaussianProfile::xboundhi(maxfwhm)`` at its
#: default peak precision 3.33e-6, i.e. ``sqrt(-ln(3.33e-6) / (4 ln 2)) · FWHM``.
_PEAK_PRECISION = 3.33e-6
_GAUSS_SIGMA_TO_FWHM = 2 * math.sqrt(2 * math.log(2))
#: diffpy's ``maxextension`` default (Å).
_MAX_EXTENSION = 10.0
#: the X-ray, electron-number and neutron scattering tables (diffpy's names)
SCATTERING_TABLES = ("xray", "electronnumber", "neutron")


def _steps_min(value: float, step: float) -> int:
    """diffpy ``pdfutils_rminSteps``: ceil(value/step), one less when on a grid point."""
    k = math.ceil(value / step)
    if abs(value - (k - 1) * step) < 1e-9:
        k -= 1
    return k


@dataclass(frozen=True)
class PDFParameters:
    """Parameters of a Debye PDF simulation, named and applied as in diffpy.srreal.

    Units: Q in Å⁻¹, r in Å, Biso and delta2 in Å², delta1 in Å, spdiameter in Å
    (0 switches diffpy's ``sphericalshape`` envelope off). ``scattering`` names the
    scattering-factor table: ``"xray"`` (diffpy's default: Q-dependent
    Waasmaier–Kirfel form factors), ``"electronnumber"`` (f = Z) or ``"neutron"``
    (coherent scattering lengths). With one element the table cancels out.
    """

    qmin: float = 0.7
    qmax: float = 25.0
    qdamp: float = 0.04
    delta1: float = 0.0
    delta2: float = 2.0
    qbroad: float = 0.0
    biso: float = 0.3
    rmin: float = 2.0
    rmax: float = 30.0
    rstep: float = 0.01
    #: r-range extension for the Q step and the pair cut-offs; None = diffpy's own
    #: (termination ripples plus peak tails, see :attr:`total_extension`).
    extension: float | None = None
    #: diameter of diffpy's spherical-shape envelope (Å); 0 = no envelope
    spdiameter: float = 0.0
    scattering: str = "xray"

    def __post_init__(self) -> None:
        checks = [
            (self.qmax > 0, "qmax must be positive"),
            (0 <= self.qmin < self.qmax, "qmin must be in [0, qmax)"),
            (self.qdamp >= 0, "qdamp must not be negative"),
            (self.biso >= 0, "biso must not be negative"),
            (self.rstep > 0, "rstep must be positive"),
            (0 <= self.rmin < self.rmax, "rmin must be in [0, rmax)"),
            (self.spdiameter >= 0, "spdiameter must not be negative"),
            (
                self.scattering in SCATTERING_TABLES,
                f"scattering must be one of {', '.join(SCATTERING_TABLES)}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"invalid PDF parameters: {message}")

    @property
    def uiso(self) -> float:
        """Uiso = Biso / 8π² in Å² (the diffpy/PDFgui relation)."""
        return self.biso / (8 * math.pi**2)

    @cached_property
    def r_grid(self) -> np.ndarray:
        """diffpy's r grid: ``k·rstep`` for ``ceil(rmin/rstep) ≤ k < ceil(rmax/rstep)``."""
        lo = math.ceil(self.rmin / self.rstep - 1e-9)
        hi = math.ceil(self.rmax / self.rstep - 1e-9)
        return np.arange(lo, hi, dtype=np.float64) * self.rstep

    def _sharpening(self, r: float) -> float:
        """Jeong's msd sharpening ratio ``1 − δ1/r − δ2/r² + (Qbroad·r)²`` (0 at r = 0)."""
        if r < 1e-12:
            return 0.0
        return 1 - self.delta1 / r - self.delta2 / r**2 + (self.qbroad * r) ** 2

    @property
    def total_extension(self) -> float:
        """How far diffpy extends the r range beyond [rmin, rmax] (Å).

        libdiffpy ``DebyePDFCalculator::cacheRlimitsData``: six termination ripples
        ``6·2π/Qmax`` plus the Gaussian tail of the widest peak
        (``JeongPeakWidth::maxWidth``: FWHM of σ = √(2·Uiso), times
        √max(1, sharpening at rmin and rmax)), at most 10 Å. It depends on Biso, so
        the Q step does too.
        """
        if self.extension is not None:
            return self.extension
        fwhm = _GAUSS_SIGMA_TO_FWHM * math.sqrt(2 * self.uiso)
        fwhm *= math.sqrt(max(1.0, self._sharpening(self.rmin), self._sharpening(self.rmax)))
        tails = math.sqrt(-math.log(_PEAK_PRECISION) / (4 * math.log(2))) * fwhm
        ripples = _TERMINATION_RIPPLES * 2 * math.pi / self.qmax
        return min(_MAX_EXTENSION, ripples + tails)

    @property
    def rcalc_low(self) -> float:
        """Pairs closer than this are left out (diffpy ``rcalclo``, on the r step grid)."""
        return max(0, _steps_min(self.rmin - self.total_extension, self.rstep)) * self.rstep

    @property
    def rcalc_high(self) -> float:
        """Pairs farther than this are left out; also sets the Q step (diffpy ``rcalchi``)."""
        return math.ceil((self.rmax + self.total_extension) / self.rstep - 1e-9) * self.rstep

    @property
    def qstep(self) -> float:
        """diffpy's optimum Q step ``π / rcalchi`` (at least four steps to Qmax)."""
        rhi = self.rcalc_high
        return math.pi / rhi if self.qmax * rhi / math.pi > 4 else self.qmax / 4

    @cached_property
    def q_grid(self) -> np.ndarray:
        """The Q points where F(Q) is non-zero (diffpy's qmin..qmax steps)."""
        qstep = self.qstep
        kmax = math.ceil(self.qmax / qstep)
        return np.arange(_steps_min(self.qmin, qstep), kmax, dtype=np.float64) * qstep

    def replace(self, **changes: float | str | None) -> PDFParameters:
        """A copy with the given fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, float | str | None]:
        """The fields as a plain dict (JSON-ready; same units as the fields)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> PDFParameters:
        """Parameters from a dict; unknown keys are ignored, missing ones take defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


#: The parameters of the training libraries (issue #2/#3 defaults).
TRAINING_PARAMETERS = PDFParameters()


#: the parameters the fitter can refine, in the order results list them
FIT_PARAMETERS = ("scale", "expansion", "biso", "qdamp", "delta2", "spdiameter")


@dataclass(frozen=True)
class FitConfig:
    """What to refine, over which r range (Å), within which bounds.

    Bounds are (low, high) in the parameter's unit: scale (none), expansion (factor on
    all coordinates), Biso (Å²), Qdamp (Å⁻¹), delta2 (Å²), spdiameter (Å). Start values
    of Biso, Qdamp, delta2 and spdiameter come from ``params`` (spdiameter 0 = off;
    refining it from 0 starts at twice the candidate's largest distance).
    ``weighting``: ``"unweighted"`` (Rw with unit weights, the ranking default) or
    ``"dG"`` (PDFgui's Rw with weights 1/dG², when the data carry dG). ``polish``: how
    many of the best candidates are refitted on the Q grid diffpy would use at their
    refined Biso (diffpy's Q step depends on Biso through the r-range extension; the
    others keep the grid of the start Biso, which moves Rw by up to ~0.02 at Biso far
    from the start; each costs ~0.15 s unless a recent fit used the same grid).
    """

    rmin: float = 2.0
    rmax: float = 30.0
    #: simulation parameters for the data: qmin, qmax, scattering table, and start
    #: values of qdamp, delta2, biso, spdiameter
    params: PDFParameters = TRAINING_PARAMETERS
    #: scale when it is not refined (refined: the best linear scale is the start)
    scale: float = 1.0
    refine_scale: bool = True
    refine_expansion: bool = True
    refine_biso: bool = True
    refine_qdamp: bool = False
    refine_delta2: bool = False
    refine_spdiameter: bool = False
    scale_bounds: tuple[float, float] = (0.0, math.inf)
    expansion_bounds: tuple[float, float] = (0.85, 1.15)
    biso_bounds: tuple[float, float] = (0.0, 8.0)
    qdamp_bounds: tuple[float, float] = (0.0, 0.2)
    delta2_bounds: tuple[float, float] = (0.0, 6.0)
    spdiameter_bounds: tuple[float, float] = (5.0, 500.0)
    weighting: str = "unweighted"
    max_iter: int = 8
    batch_size: int = 256
    polish: int = 1

    def __post_init__(self) -> None:
        if not self.rmin < self.rmax:
            raise ValueError(f"fit range is empty: rmin {self.rmin} ≥ rmax {self.rmax}")
        lo, hi = self.expansion_bounds
        if not 0 < lo <= 1 <= hi:
            raise ValueError("expansion bounds must satisfy 0 < low ≤ 1 ≤ high")
        for name in FIT_PARAMETERS:
            lo, hi = self.bounds(name)
            if not (math.isfinite(lo) and lo >= 0 and lo < hi):
                raise ValueError(f"{name} bounds must satisfy 0 ≤ low < high, got ({lo:g}, {hi:g})")
        if self.weighting not in ("unweighted", "dG"):
            raise ValueError("weighting must be 'unweighted' or 'dG'")
        if self.max_iter < 1 or self.batch_size < 1 or self.polish < 0:
            raise ValueError("max_iter and batch_size must be ≥ 1, polish ≥ 0")

    def bounds(self, name: str) -> tuple[float, float]:
        """(low, high) of a parameter named in :data:`FIT_PARAMETERS`."""
        lo, hi = getattr(self, f"{name}_bounds")
        return float(lo), float(hi)

    def refined(self) -> tuple[str, ...]:
        """Names of the refined parameters, in :data:`FIT_PARAMETERS` order."""
        return tuple(n for n in FIT_PARAMETERS if getattr(self, f"refine_{n}"))

    def replace(self, **changes) -> FitConfig:
        """A copy with the given fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


#: header values outside these ranges are ignored (a typo, or another unit)
_HEADER_RANGES = {"qmin": (0.0, 5.0), "qmax": (5.0, 60.0), "qdamp": (0.0, 0.2)}


def parameters_with_sources(
    metadata: dict,
    base: PDFParameters = TRAINING_PARAMETERS,
    user: dict[str, float] | None = None,
) -> tuple[PDFParameters, dict[str, str]]:
    """Simulation parameters for measured data and where each came from.

    Qmin, Qmax and Qdamp come from the data file's header when present and sane,
    anything in ``user`` (e.g. given on the command line) overrides, the rest keep
    ``base``. Returns the parameters and ``{name: "header" | "user" | "default"}`` for
    qmin, qmax, qdamp, delta2 and biso. Raises ``ValueError`` when the user's values
    are invalid (Qmin ≥ Qmax …).
    """
    changes: dict[str, float] = {}
    sources = {k: "default" for k in ("qmin", "qmax", "qdamp", "delta2", "biso")}
    for key, (lo, hi) in _HEADER_RANGES.items():
        value = metadata.get(key)
        if isinstance(value, int | float) and math.isfinite(value) and lo <= value <= hi:
            changes[key] = float(value)
            sources[key] = "header"
    if changes.get("qmin", base.qmin) >= changes.get("qmax", base.qmax):
        changes.pop("qmin", None)
        sources["qmin"] = "default"
    for key, value in (user or {}).items():
        if value is not None:
            changes[key] = value
            sources[key] = "user"
    return base.replace(**changes), sources


def parameters_from_metadata(
    metadata: dict, base: PDFParameters = TRAINING_PARAMETERS
) -> PDFParameters:
    """Simulation parameters for measured data: Qmin, Qmax and Qdamp from its header.

    Values missing from the header, or outside a sane range, keep those of ``base``.
    """
    return parameters_with_sources(metadata, base)[0]
