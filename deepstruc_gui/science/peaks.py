"""The nearest-neighbour distance read off a G(r): its first strong peak.

The first peak of a metal cluster's PDF sits at the nearest-neighbour distance (to
±0.03 Å in the libraries, whatever Qmax, Qdamp or ADP); a learned read-out of the
same number goes wrong on measured data that differ from the training PDFs
(JQ_S1, Pt: a learned head said 3.08 Å, the peak says 2.78 Å).
"""

from __future__ import annotations

import numpy as np


def first_peak_position(
    r: np.ndarray, g: np.ndarray, rmin: float = 2.0, rmax: float = 3.8, fraction: float = 0.3
) -> float:
    """r of the first local maximum of ``g`` in [rmin, rmax] that reaches ``fraction``
    of the largest value there, refined by a parabola through its three points.

    Taking the *first* strong maximum, not the highest, matters for sc and small bcc
    clusters, whose second-neighbour peak can be the taller one.
    """
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    window = np.flatnonzero((r >= rmin) & (r <= rmax))
    if len(window) < 3:
        raise ValueError(f"no data between {rmin} and {rmax} Å to find the first peak in")
    gw = g[window]
    top = gw.max()
    if top <= 0:
        raise ValueError(f"G(r) has no positive peak between {rmin} and {rmax} Å")
    interior = np.arange(1, len(gw) - 1)
    is_max = (gw[interior] >= gw[interior - 1]) & (gw[interior] > gw[interior + 1])
    strong = interior[is_max & (gw[interior] >= fraction * top)]
    i = int(strong[0]) if len(strong) else int(np.argmax(gw))
    i = min(max(i, 1), len(gw) - 2)
    a, b, c = gw[i - 1], gw[i], gw[i + 1]
    curvature = a - 2 * b + c
    offset = 0.5 * (a - c) / curvature if curvature < 0 else 0.0
    step = r[window[i + 1]] - r[window[i]]
    return float(r[window[i]] + np.clip(offset, -0.5, 0.5) * step)
