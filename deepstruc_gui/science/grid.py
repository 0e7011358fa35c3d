"""The r grid the DeepStruc network was trained on, and resampling onto it.

The network sees G(r) on r = 2.00, 2.01, … 29.99 Å (2800 points), divided by its
maximum. Measured data come on any grid (start, step, end), so they are resampled by
linear interpolation *in r*: the original DeepStruc indexed the array instead and
silently shifted every peak for files whose grid did not start at 0 Å with step 0.01.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

MODEL_RMIN = 2.0  # Å, first grid point
MODEL_RMAX = 29.99  # Å, last grid point
MODEL_RSTEP = 0.01  # Å
MODEL_NPOINTS = 2800

# Built from integers (200 … 2999) / 100 so every point is the float nearest to its
# decimal value; np.arange(2.0, 30.0, 0.01) accumulates drift and can gain a point.
MODEL_R: np.ndarray = np.arange(200, 3000, dtype=np.int64) / 100.0
MODEL_R.flags.writeable = False  # shared module constant: nobody may edit it in place


def overlaps_model_range(r: np.ndarray) -> bool:
    """True when at least one model grid point lies inside [r[0], r[-1]] (r increasing)."""
    if len(r) == 0:
        return False
    first = np.searchsorted(MODEL_R, r[0], side="left")
    end = np.searchsorted(MODEL_R, r[-1], side="right")
    return bool(end > first)


def to_model_grid(r: ArrayLike, g: ArrayLike) -> np.ndarray:
    """Resample G(r) onto ``MODEL_R`` and divide by its maximum.

    Linear interpolation on the r values (never by index), zero outside the measured
    range, because the network was trained on curves that are zero where nothing is
    known. Returns a (2800,) float32 array whose maximum is exactly 1.

    Raises ``ValueError`` when r and g do not form a usable curve, or when nothing
    positive is left on 2–30 Å to normalise by.
    """
    r_arr = np.asarray(r, dtype=np.float64)
    g_arr = np.asarray(g, dtype=np.float64)
    if r_arr.ndim != 1 or g_arr.ndim != 1:
        raise ValueError(f"r and G must be 1-D arrays, got shapes {r_arr.shape} and {g_arr.shape}")
    if r_arr.shape != g_arr.shape:
        raise ValueError(f"r and G differ in length: {r_arr.size} and {g_arr.size} points")
    if r_arr.size < 2:
        raise ValueError(f"need at least two points to interpolate, got {r_arr.size}")
    if not (np.all(np.isfinite(r_arr)) and np.all(np.isfinite(g_arr))):
        raise ValueError("r and G must be finite (no NaN or infinity)")
    if np.any(np.diff(r_arr) <= 0):
        raise ValueError("r must be strictly increasing")
    if not overlaps_model_range(r_arr):
        raise ValueError(
            f"r = {r_arr[0]:g}–{r_arr[-1]:g} Å does not overlap the model range "
            f"{MODEL_RMIN:.2f}–{MODEL_RMAX:.2f} Å"
        )
    out = np.interp(MODEL_R, r_arr, g_arr, left=0.0, right=0.0)
    peak = float(out.max())
    if not peak > 0.0:
        raise ValueError(
            f"G(r) has no positive value on {MODEL_RMIN:.2f}–{MODEL_RMAX:.2f} Å "
            f"(maximum {peak:g}), so it cannot be normalised by its maximum"
        )
    out /= peak
    return out.astype(np.float32)
