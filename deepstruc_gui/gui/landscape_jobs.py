"""Worker-thread handlers of the Rw landscape and "Refine here" requests
(:class:`~deepstruc_gui.gui.requests.ComputeLandscape`,
:class:`~deepstruc_gui.gui.requests.Refine`). Registered with
:func:`~deepstruc_gui.gui.worker.handles` when :mod:`deepstruc_gui.gui.worker` is
imported; they run in the worker thread and never touch widgets."""

from __future__ import annotations

import numpy as np

from deepstruc_gui.gui.requests import (
    ComputeLandscape,
    LandscapeUpdate,
    Refine,
    Refined,
    RefineStep,
)
from deepstruc_gui.gui.worker import Runner, _predictor, handles
from deepstruc_gui.util.cancel import CancelToken


@handles(ComputeLandscape)
def _landscape(runner: Runner, request: ComputeLandscape, token: CancelToken, emit) -> None:
    """Streams snapshots (each a consistent picture) as the landscape fills in."""
    from deepstruc_gui.model.landscape import compute_landscape

    def on_update(landscape) -> None:
        token.raise_if_cancelled()
        emit(LandscapeUpdate(landscape))

    compute_landscape(
        request.data, _predictor(runner), request.fit_config, on_update=on_update, cancel=token
    )


@handles(Refine)
def _refine(runner: Runner, request: Refine, token: CancelToken, emit) -> None:
    """The compass search of :func:`deepstruc_gui.model.snap.snap` from ``request.z``."""
    from deepstruc_gui.model.snap import snap

    def on_step(so_far) -> None:
        token.raise_if_cancelled()
        emit(RefineStep(np.asarray(so_far.path, float)))

    result = snap(
        request.data,
        _predictor(runner),
        np.asarray(request.z, float),
        request.fit_config,
        cancel=token,
        on_step=on_step,
    )
    token.raise_if_cancelled()
    emit(Refined(result.path, result.rw_path, result.best, result.start))
