"""Qmax read from a G(r) itself: where its sine transform stops.

A G(r) is the sine transform of the reduced structure function F(Q) measured (or
simulated) up to Qmax, ``G(r) = (2/π) ∫_Qmin^Qmax F(Q) sin(Qr) dQ`` (PDFgetX3,
diffpy); cutting F(Q) at Qmax is what puts the termination ripples of period 2π/Qmax
into G(r). Transforming G(r) back therefore gives F(Q) below Qmax and only noise
above it: the power ``|∫ G(r) w(r) sin(Qr) dr|²`` drops by orders of magnitude at Qmax
(``w``: a Blackman window over the r range, whose side lobes fall to −58 dB, so the
finite r range does not smear the step over several Å⁻¹; a Tukey taper did).

:func:`estimate_qmax` finds that step and reports it only when it is a *step*: much
larger than the power's own decline just below it (the Debye–Waller fall of F(Q) makes
a knee, not a step, where the signal sinks into white noise). When no such step is
seen (high ADPs or strong white noise hide it, or the r step is too coarse to see
beyond Qmax) it returns None and claims nothing. Measured reliability:
``scripts/measure_qmax_estimate.py`` and docs/WARNINGS.md.

Qdamp cannot be read this way: it damps G(r) by ``exp(−(Qdamp·r)²/2)``, which the
particle's finite size does too (both shorten the envelope; see
:mod:`deepstruc_gui.science.particle_size`).

No Qt, no torch: plain numpy/scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import uniform_filter1d
from scipy.signal.windows import blackman

from deepstruc_gui.science.pdf_data import checked_curve

__all__ = ["QmaxEstimate", "estimate_qmax", "transform_power"]

#: the Q step of the back transform (Å⁻¹); the r range gives a resolution of π/L ≈ 0.1
Q_STEP = 0.02
#: the lowest and highest Qmax looked for (Å⁻¹)
Q_SEARCH = (8.0, 60.0)
#: windows (Å⁻¹): the power is averaged over BAND on either side of the edge, leaving
#: GAP out (the taper blurs the step over ~0.2 Å⁻¹); TREND is compared with BELOW to
#: see how fast the power already falls ahead of the edge
GAP = 0.3
BAND = 2.2
#: a step is reported when the power below it is at least MIN_CONTRAST × the power
#: above, and that drop is at least MIN_SHARPNESS × the drop over the band before it.
#: Measured (scripts/measure_qmax_estimate.py --thresholds, 672 simulated PDFs): true
#: steps 10⁴–10¹⁰ (measured files 7.9·10⁵ and more); wrong ones (the Debye–Waller knee at
#: Biso 2.5, white noise) contrast ≤ 3·10³ and sharpness ≤ 250
MIN_CONTRAST = 1e4
MIN_SHARPNESS = 1e3
#: ... and the power below the edge is at least MIN_LEVEL × the largest power (below
#: it, what drops is round-off, not data: steps of 1e14 were found there at Biso 2.5)
MIN_LEVEL = 1e-7


@dataclass(frozen=True)
class QmaxEstimate:
    """Qmax read from the data (Å⁻¹) and ``uncertainty`` (Å⁻¹, the edge's width);
    ``contrast``: power below / above the edge; ``sharpness``: contrast over the
    decline of the power in the band before the edge; ``nyquist``: π / r step, the
    highest Q the data can show."""

    qmax: float
    uncertainty: float
    contrast: float
    sharpness: float
    nyquist: float


def _uniform(r: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(r, G) on a uniform grid (block-averaged to a step ≥ 0.01 Å, which keeps Q ≤ 80
    Å⁻¹ to within 1 %), and its step."""
    steps = np.diff(r)
    step = float(np.median(steps))
    if np.ptp(steps) > 1e-3 * step:
        grid = np.arange(r[0], r[-1] + 0.5 * step, step)
        g = np.interp(grid, r, g)
        r = grid
    k = max(1, math.floor(0.01 / step + 1e-9))
    if k > 1:
        n = (len(r) // k) * k
        r = r[:n].reshape(-1, k).mean(axis=1)
        g = g[:n].reshape(-1, k).mean(axis=1)
        step *= k
    return r, g, step


def transform_power(r: ArrayLike, g: ArrayLike) -> tuple[np.ndarray, np.ndarray, float]:
    """``(Q, P, nyquist)``: the power ``P(Q) = |∫ G(r) w(r) sin(Qr) dr|²`` of the tapered
    back transform on Q = 0 … min(π/Δr, Q_SEARCH[1] + BAND + GAP) in steps of Q_STEP
    (Å⁻¹), and π/Δr. ``r`` (Å, increasing) and ``g`` are 1-D of equal length."""
    r_arr, g_arr, step = _uniform(np.asarray(r, float), np.asarray(g, float))
    nyquist = math.pi / step
    top = min(nyquist, Q_SEARCH[1] + BAND + GAP)
    q = np.arange(0.0, top, Q_STEP)
    taper = blackman(len(r_arr))
    weighted = (g_arr - np.mean(g_arr)) * taper * step
    f = np.empty(q.size)
    for start in range(0, q.size, 512):  # chunks: (512, n_r) at a time
        block = q[start : start + 512]
        f[start : start + block.size] = np.sin(np.outer(block, r_arr)) @ weighted
    return q, f**2, nyquist


def estimate_qmax(r: ArrayLike, g: ArrayLike) -> QmaxEstimate | None:
    """The Qmax of the transform that made this G(r), or None when no clear step shows.

    ``r`` (Å, increasing, ≥ 100 points) and ``g`` (any scale) are 1-D of equal length.
    The method and its limits are in the module docstring; raises ValueError for
    arrays that are not 1-D, of unequal length, non-finite or too short.
    """
    r_arr, g_arr = checked_curve(r, g, 100)
    q, power, nyquist = transform_power(r_arr, g_arr)
    if not np.any(power > 0):
        return None
    band, gap = round(BAND / Q_STEP), round(GAP / Q_STEP)
    csum = np.concatenate([[0.0], np.cumsum(power)])

    def mean(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)

    lo_i = max(int(Q_SEARCH[0] / Q_STEP), 2 * band + gap)
    hi_i = q.size - band - gap
    if hi_i <= lo_i:
        return None
    i = np.arange(lo_i, hi_i)
    below = mean(i - gap - band, i - gap)
    above = mean(i + gap, i + gap + band)
    before = mean(i - gap - 2 * band, i - gap - band)
    tiny = 1e-30 * float(power.max())
    contrast = below / np.maximum(above, tiny)
    trend = np.maximum(before / np.maximum(below, tiny), 1.0)
    score = contrast / trend
    score[below < MIN_LEVEL * float(power.max())] = 0.0  # round-off, not data
    k = int(np.argmax(score))
    if contrast[k] < MIN_CONTRAST or score[k] < MIN_SHARPNESS:
        return None
    if below[k] < MIN_LEVEL * float(power.max()):
        return None
    # the edge: where the power, lightly smoothed, last stands above a quarter of the
    # level below (half the amplitude: the middle of the window-blurred step), within a
    # band of the best split
    level = max(0.25 * below[k], math.sqrt(below[k] * above[k]))
    smooth = uniform_filter1d(power, max(1, round(0.2 / Q_STEP)))
    window = np.arange(max(0, i[k] - band), min(q.size, i[k] + band))
    high = window[smooth[window] >= level]
    edge = float(q[high[-1]]) if high.size else float(q[i[k]])
    if edge > 0.97 * nyquist:  # the data cannot show what lies beyond
        return None
    return QmaxEstimate(edge, GAP, float(contrast[k]), float(score[k]), nyquist)
