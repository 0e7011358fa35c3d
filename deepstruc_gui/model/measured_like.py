"""Training PDFs as a beamline would have measured them.

The library's PDFs all share one set of simulation parameters (Qmax 25 Å⁻¹, Biso
0.3 Å², Qdamp 0.04 Å⁻¹, delta2 2 Å², no noise). Measured data differ in every one of
them: the Pt example (JQ_S1) stops at Qmax 22 Å⁻¹ and its peaks are broader than any
simulated one, and a prior that has only seen the library's parameters puts it far
from fcc. Here each structure's G(r) is computed again, exactly, with the Debye
engine, for parameters drawn from the ranges real experiments span, with noise that
is correlated over the width of a peak (as Fourier-transformed counting noise is) and,
for some, data that stop short of 30 Å. The prior is then refitted on these
(:mod:`deepstruc_gui.model.prior_fit`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import convolve1d

from deepstruc_gui.science.debye import TRAINING_PARAMETERS, PDFParameters, simulate_pdfs
from deepstruc_gui.science.peaks import first_peak_position


@dataclass(frozen=True)
class MeasurementRanges:
    """Uniform ranges of the experimental conditions a measured PDF may come with."""

    qmin: tuple[float, float] = (0.5, 1.5)
    qmax: tuple[float, float] = (16.0, 28.0)
    qdamp: tuple[float, float] = (0.01, 0.07)
    biso: tuple[float, float] = (0.2, 1.5)
    delta2: tuple[float, float] = (0.0, 4.0)
    #: noise standard deviation as a fraction of the maximum of G(r)
    noise: tuple[float, float] = (0.0, 0.03)
    #: a fraction of the variants stops at an r drawn from ``rmax`` (zero beyond)
    truncated_fraction: float = 0.25
    rmax: tuple[float, float] = (15.0, 30.0)


@dataclass
class MeasuredLikePDFs:
    """``pdf[k]`` is a variant of structure ``source[k]``; ``bond[k]`` its first peak."""

    pdf: np.ndarray  # (m, n_r) float32, max-normalised
    source: np.ndarray  # (m,) int, index into the structures given
    bond: np.ndarray  # (m,) float32, Å, read from the first peak as inference does
    params: list[PDFParameters]  # (m,) the conditions each variant was simulated with


def draw_parameters(
    rng: np.random.Generator,
    ranges: MeasurementRanges = MeasurementRanges(),
    base: PDFParameters = TRAINING_PARAMETERS,
) -> PDFParameters:
    """One set of experimental conditions (on the base's r grid)."""

    def u(lo_hi: tuple[float, float]) -> float:
        """A uniform random draw between ``lo_hi[0]`` and ``lo_hi[1]``."""
        return float(rng.uniform(*lo_hi))

    return dataclasses.replace(
        base,
        qmin=u(ranges.qmin),
        qmax=u(ranges.qmax),
        qdamp=u(ranges.qdamp),
        biso=u(ranges.biso),
        delta2=u(ranges.delta2),
    )


def correlated_noise(
    rng: np.random.Generator, shape: tuple[int, int], rstep: float, qmax: float
) -> np.ndarray:
    """Unit-variance Gaussian noise correlated over ~π/Qmax, like noise in G(r)."""
    white = rng.standard_normal(shape)
    width = max(0.5 * math.pi / qmax / rstep, 0.5)  # σ of the smoothing, grid points
    half = math.ceil(4 * width)
    x = np.arange(-half, half + 1)
    kernel = np.exp(-0.5 * (x / width) ** 2)
    kernel /= math.sqrt(float((kernel**2).sum()))
    return convolve1d(white, kernel, axis=1, mode="constant")


def measured_like_pdfs(
    structures: Sequence[np.ndarray],
    n_variants: int,
    seed: int,
    ranges: MeasurementRanges = MeasurementRanges(),
    base: PDFParameters = TRAINING_PARAMETERS,
    group: int = 32,
    device=None,
) -> MeasuredLikePDFs:
    """``n_variants`` measured-like G(r) of every structure (Å coordinates).

    Structures are taken in random groups of ``group``; each group gets its own
    conditions, so the variants of one structure differ and no condition goes with
    one shape only. Deterministic for a given seed.
    """
    rng = np.random.default_rng(seed)
    n = len(structures)
    r = base.r_grid
    pdfs, sources, conditions = [], [], []
    for _ in range(n_variants):
        order = rng.permutation(n)
        for start in range(0, n, group):
            idx = order[start : start + group]
            params = draw_parameters(rng, ranges, base)
            g = simulate_pdfs([structures[i] for i in idx], params, device=device)
            g /= np.maximum(np.abs(g).max(axis=1, keepdims=True), 1e-12)
            level = rng.uniform(*ranges.noise, size=(len(idx), 1))
            g += level * correlated_noise(rng, g.shape, base.rstep, params.qmax)
            cut = rng.uniform(size=len(idx)) < ranges.truncated_fraction
            stops = rng.uniform(*ranges.rmax, size=len(idx))
            g[cut[:, None] & (r[None, :] > stops[:, None])] = 0.0
            g /= np.maximum(np.abs(g).max(axis=1, keepdims=True), 1e-12)
            pdfs.append(g.astype(np.float32))
            sources.append(idx)
            conditions += [params] * len(idx)
    pdf = np.concatenate(pdfs)
    bond = np.array([_first_peak(r, row) for row in pdf], dtype=np.float32)
    return MeasuredLikePDFs(pdf, np.concatenate(sources), bond, conditions)


def _first_peak(r: np.ndarray, g: np.ndarray) -> float:
    try:
        return first_peak_position(r, g)
    except ValueError:
        return float("nan")
