""" "Refine here": move a latent point downhill in Rw, refitting scale, expansion and ADP.

A decoded cluster changes in jumps as z moves (an atom appears when its presence
logit crosses zero), so Rw(z) is piecewise smooth with steps; its gradient through
the decoder is zero or misleading at the steps. A derivative-free search over the two
latent coordinates handles both, and in 2-D it is cheap: a batched compass search
evaluates sixteen points around the current one (eight directions at distances ``h``
and ``h/2``) in one call of
the full fit (:func:`~deepstruc_gui.science.fitting.fit_candidates`, which refines
scale, expansion and Biso of every point), moves to the best when it lowers Rw and
halves ``h`` when none does. It stops when ``h`` is below ``min_step`` or after
``max_rounds`` rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.model.solve import evaluate_points, map_box
from deepstruc_gui.science.parameters import FitConfig
from deepstruc_gui.util.cancel import CancelToken, check

_DIRECTIONS = np.array(
    [(np.cos(a), np.sin(a)) for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)]
)


@dataclass
class SnapResult:
    """``path`` (k, 2): the accepted latent points, start first; ``rw_path`` (k,):
    their Rw during the walk (decreasing; all on the start Biso's Q grid); ``start``,
    ``best``: the candidates at the first and last point fitted with the caller's
    configuration; ``evaluations``: candidates fitted in all."""

    path: np.ndarray
    rw_path: np.ndarray
    start: Candidate
    best: Candidate
    evaluations: int

    @property
    def improvement(self) -> float:
        """How much Rw went down (≥ 0)."""
        return float(self.start.rw - self.best.rw)


def snap(
    data,
    predictor,
    z0,
    config: FitConfig,
    *,
    bond: float | None = None,
    step: float | None = None,
    min_step: float | None = None,
    max_rounds: int = 25,
    cancel: CancelToken | None = None,
    on_step: Callable[[SnapResult], None] | None = None,
) -> SnapResult:
    """Refine the latent point ``z0`` (2,) for ``data`` by a batched compass search.

    ``step``/``min_step``: first and smallest step in map units (default 3 % and
    0.02 % of the map's box diagonal); ``on_step`` receives the result so far after
    each accepted move (the path to draw). Raises ``Cancelled`` when ``cancel`` is set.
    """
    if bond is None:
        bond = predictor.bond_length(data.model_input())
    lo, hi = map_box(predictor.map_mu)
    diagonal = float(np.hypot(*(hi - lo)))
    h = step if step is not None else 0.03 * diagonal
    h_min = min_step if min_step is not None else 2e-4 * diagonal
    z = np.asarray(z0, dtype=float).reshape(2)
    # every point of the walk on the one Q grid of the start Biso, so steps compare
    # like with like; the two ends again with the caller's configuration
    walk = config.replace(polish=0)
    current = evaluate_points(data, predictor, z[None], walk, cancel, bond)[0]
    start = evaluate_points(data, predictor, z[None], config, cancel, bond)[0]
    path, rws, evaluations = [z.copy()], [current.rw], 1
    for _ in range(max_rounds):
        if h < h_min:
            break
        check(cancel)
        # two rings (h and h/2): Rw is flat where the decoded shape does not change,
        # so a single small ring often sees no difference at all
        trial = z[None, :] + np.vstack([h * _DIRECTIONS, 0.5 * h * _DIRECTIONS[::-1]])
        cands = evaluate_points(data, predictor, trial, walk, cancel, bond)
        evaluations += len(cands)
        best = min(cands, key=lambda c: c.rw)
        if best.rw < current.rw - 1e-6:
            z, current = np.asarray(best.latent, float), best
            path.append(z.copy())
            rws.append(current.rw)
            if on_step is not None:
                on_step(SnapResult(np.array(path), np.array(rws), start, current, evaluations))
        else:
            h /= 2
    best = evaluate_points(data, predictor, z[None], config, cancel, bond)[0]
    return SnapResult(np.array(path), np.array(rws), start, best, evaluations + 2)
