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

#: Termination-ripple extension of the calculation range used by diffpy: 6 ripples.
_TERMINATION_RIPPLES = 6
#: Extra extension for peak tails. Measured against the diffpy references shipped
#: with the project: 0.19 Å reproduces all seven within Rw ≤ 0.0014 (diffpy's own
#: tail formula, 0.46 Å here, gives up to 0.008 — the Q grid then ends farther
#: from Qmax than in the references).
_PEAK_TAIL_EXTENSION = 0.19


@dataclass(frozen=True)
class PDFParameters:
    """Parameters of a Debye PDF simulation, named as in diffpy.srreal."""

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
    #: r-range extension for the Q step and the pair cut-off; None = diffpy-like default.
    extension: float | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.qmax > 0, "qmax must be positive"),
            (0 <= self.qmin < self.qmax, "qmin must be in [0, qmax)"),
            (self.qdamp >= 0, "qdamp must not be negative"),
            (self.biso >= 0, "biso must not be negative"),
            (self.rstep > 0, "rstep must be positive"),
            (0 <= self.rmin < self.rmax, "rmin must be in [0, rmax)"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"invalid PDF parameters: {message}")

    @property
    def uiso(self) -> float:
        return self.biso / (8 * math.pi**2)

    @cached_property
    def r_grid(self) -> np.ndarray:
        """diffpy's r grid: ``k·rstep`` for ``ceil(rmin/rstep) ≤ k < ceil(rmax/rstep)``."""
        lo = math.ceil(self.rmin / self.rstep - 1e-9)
        hi = math.ceil(self.rmax / self.rstep - 1e-9)
        return np.arange(lo, hi, dtype=np.float64) * self.rstep

    @property
    def total_extension(self) -> float:
        if self.extension is not None:
            return self.extension
        return _TERMINATION_RIPPLES * 2 * math.pi / self.qmax + _PEAK_TAIL_EXTENSION

    @property
    def rcalc_low(self) -> float:
        return max(self.rmin - self.total_extension, 0.0)

    @property
    def rcalc_high(self) -> float:
        return self.rmax + self.total_extension

    @property
    def qstep(self) -> float:
        rhi = self.rcalc_high
        return math.pi / rhi if self.qmax * rhi / math.pi > 4 else self.qmax / 4

    @cached_property
    def q_grid(self) -> np.ndarray:
        """The Q points where F(Q) is non-zero (diffpy's qmin..qmax steps)."""
        qstep = self.qstep
        kmax = math.ceil(self.qmax / qstep)
        kmin = math.ceil(self.qmin / qstep)
        if abs(self.qmin - (kmin - 1) * qstep) < 1e-12:
            kmin -= 1
        return np.arange(kmin, kmax, dtype=np.float64) * qstep

    def replace(self, **changes: float | None) -> PDFParameters:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, float | None]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> PDFParameters:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


#: The parameters of the training libraries (issue #2/#3 defaults).
TRAINING_PARAMETERS = PDFParameters()


@dataclass(frozen=True)
class FitConfig:
    """What to refine, over which r range, within which bounds."""

    rmin: float = 2.0
    rmax: float = 30.0
    #: simulation parameters for the data: qmin, qmax, and start values of qdamp, delta2, biso
    params: PDFParameters = TRAINING_PARAMETERS
    refine_qdamp: bool = False
    refine_delta2: bool = False
    expansion_bounds: tuple[float, float] = (0.85, 1.15)
    biso_bounds: tuple[float, float] = (0.0, 2.0)
    qdamp_bounds: tuple[float, float] = (0.0, 0.1)
    delta2_bounds: tuple[float, float] = (0.0, 6.0)
    max_iter: int = 8
    batch_size: int = 256

    def __post_init__(self) -> None:
        if not self.rmin < self.rmax:
            raise ValueError(f"fit range is empty: rmin {self.rmin} ≥ rmax {self.rmax}")
        lo, hi = self.expansion_bounds
        if not 0 < lo <= 1 <= hi:
            raise ValueError("expansion bounds must satisfy 0 < low ≤ 1 ≤ high")


def parameters_from_metadata(
    metadata: dict, base: PDFParameters = TRAINING_PARAMETERS
) -> PDFParameters:
    """Simulation parameters for measured data: Qmin, Qmax and Qdamp from its header.

    Values missing from the header, or outside a sane range, keep those of ``base``.
    """
    changes: dict[str, float] = {}
    ranges = {"qmin": (0.0, 5.0), "qmax": (5.0, 60.0), "qdamp": (0.0, 0.2)}
    for key, (lo, hi) in ranges.items():
        value = metadata.get(key)
        if isinstance(value, int | float) and math.isfinite(value) and lo <= value <= hi:
            changes[key] = float(value)
    qmin = changes.get("qmin", base.qmin)
    qmax = changes.get("qmax", base.qmax)
    if qmin >= qmax:
        changes.pop("qmin", None)
    return base.replace(**changes)
