"""One background thread that owns the model and does all heavy work.

The GUI thread calls :meth:`Worker.submit` with a typed request
(:mod:`deepstruc_gui.gui.requests`). Only the newest request of each lane is kept: a
newer one replaces anything still queued in its lane and cancels a running one (through
its :class:`CancelToken`). Results go back on ``Worker.delivered(request, result)``,
on the GUI thread, and only while the request is still the newest of its lane: the
check is made when the result is produced *and* again when it arrives (a newer
request may have been submitted while it was queued between the threads). The
worker never touches widgets; the GUI thread never runs torch.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from deepstruc_gui.gui.requests import (
    Batch,
    Decode,
    Decoded,
    Done,
    Failed,
    LandscapeUpdate,
    LoadModel,
    ModelLoaded,
    Morph,
    Morphed,
    PrepareLandscape,
    Prior,
    PriorReady,
    Reconstruct,
    Reconstructed,
    Refit,
    Request,
    Solve,
    Solved,
    StageProgress,
)
from deepstruc_gui.util.cancel import Cancelled, CancelToken

R = TypeVar("R", bound=Request)
#: handler(runner, request, token, emit): runs in the worker thread; emit(result) sends one
Handler = Callable[["Runner", Any, CancelToken, Callable[[object], None]], None]
HANDLERS: dict[type[Request], Handler] = {}
#: steps of the progress bar while a stage after the model's search runs
STAGE_STEPS = 1000


def handles(request_type: type[Request]) -> Callable[[Handler], Handler]:
    """Register the function that runs ``request_type`` in the worker thread."""

    def register(fn: Handler) -> Handler:
        HANDLERS[request_type] = fn
        return fn

    return register


class _Lanes:
    """What both threads share, under one lock: queued, running and newest per lane."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, Request] = {}
        self.running: Request | None = None
        self.token: CancelToken | None = None
        self.newest: dict[str, int] = {}
        self.next_id = 0

    def is_current(self, request: Request) -> bool:
        with self.lock:
            return self.newest.get(request.lane) == request.id


class Runner(QObject):
    """Lives in the worker thread; runs queued requests one at a time, by priority."""

    produced = Signal(object, object)  # request, result (emitted in the worker thread)

    def __init__(self, lanes: _Lanes) -> None:
        super().__init__()
        self._lanes = lanes
        self.predictor = None  # set by LoadModel
        #: SolveSettings fields every Solve overrides (tests on the random model set
        #: {"search": "region", "size_extension": False} to keep their searches short)
        self.solve_overrides: dict = {}

    @Slot()
    def drain(self) -> None:
        lanes = self._lanes
        while True:
            with lanes.lock:
                if not lanes.pending:
                    return
                request = min(lanes.pending.values(), key=lambda r: r.priority)
                del lanes.pending[request.lane]
                lanes.running = request
                lanes.token = token = CancelToken()

            def emit(result: object, request: Request = request) -> None:
                if lanes.is_current(request):  # stale already: not even queued to the GUI
                    self.produced.emit(request, result)

            try:
                HANDLERS[type(request)](self, request, token, emit)
                token.raise_if_cancelled()
                emit(Done())
            except Cancelled:
                pass
            except Exception as exc:  # reported to the user, never fatal
                message = f"{type(exc).__name__}: {exc}"
                if not str(exc):
                    message = traceback.format_exc(limit=2)
                emit(Failed(message))
            finally:
                with lanes.lock:
                    lanes.running = None
                    lanes.token = None


class Worker(QObject):
    """The GUI thread's handle on the runner: submit, cancel, busy, ``delivered``."""

    delivered = Signal(object, object)  # request, result: only the newest of its lane
    _wake = Signal()

    def __init__(self, thread: QThread) -> None:
        super().__init__()
        self._lanes = _Lanes()
        self.runner = Runner(self._lanes)
        self.runner.moveToThread(thread)
        self._wake.connect(self.runner.drain)
        self.runner.produced.connect(self._deliver)
        self.dropped = 0  # stale results that arrived and were not delivered

    def submit(self, request: R) -> R:
        """Queue ``request``; returns it with its id. Replaces and cancels older ones."""
        lanes = self._lanes
        with lanes.lock:
            lanes.next_id += 1
            request = replace(request, id=lanes.next_id)
            lanes.pending[request.lane] = request
            lanes.newest[request.lane] = request.id
            running = lanes.running
            if (
                running is not None
                and lanes.token is not None
                and (running.lane in (request.lane, *request.supersedes) or running.background)
            ):
                lanes.token.cancel()
                if lanes.newest.get(running.lane) == running.id:  # its results: old state
                    lanes.newest[running.lane] = -1
        self._wake.emit()
        return request

    def cancel(self, lane: str | None = None) -> None:
        """Cancel the running job (of ``lane``, or any) and drop queued ones; results
        of the cancelled requests are never delivered."""
        lanes = self._lanes
        with lanes.lock:
            for k in list(lanes.pending):
                if lane is None or k == lane:
                    del lanes.pending[k]
            for k in list(lanes.newest):
                if lane is None or k == lane:
                    lanes.newest[k] = -1
            if lanes.token is not None and (
                lane is None or (lanes.running is not None and lanes.running.lane == lane)
            ):
                lanes.token.cancel()

    def is_current(self, request: Request) -> bool:
        """True while ``request`` is the newest of its lane (and not cancelled)."""
        return self._lanes.is_current(request)

    @property
    def busy(self) -> bool:
        """True while work the user asked for runs or waits (background work does not
        count)."""
        with self._lanes.lock:
            running = self._lanes.running
            return (running is not None and not running.background) or any(
                not r.background for r in self._lanes.pending.values()
            )

    @Slot(object, object)
    def _deliver(self, request: Request, result: object) -> None:
        if self.is_current(request):
            self.delivered.emit(request, result)
        else:
            self.dropped += 1


class WorkerThread:
    """Owns the QThread and the Worker; ``stop()`` cancels and joins (no thread left)."""

    def __init__(self) -> None:
        self.thread = QThread()
        self.thread.setObjectName("deepstruc-worker")
        self.worker = Worker(self.thread)
        self.thread.start()

    def stop(self, timeout_ms: int = 30000) -> bool:
        self.worker.cancel()
        self.thread.quit()
        return self.thread.wait(timeout_ms)


# --- what each request does (worker thread) --------------------------------------------
def _predictor(runner: Runner):
    if runner.predictor is None:
        raise RuntimeError("no model is loaded")
    return runner.predictor


@handles(LoadModel)
def _load_model(runner: Runner, request: LoadModel, token: CancelToken, emit) -> None:
    from deepstruc_gui.model.bundle import ModelBundle
    from deepstruc_gui.model.inference import Predictor

    bundle = ModelBundle.load(request.path)
    runner.predictor = Predictor(bundle)
    emit(ModelLoaded(bundle, runner.predictor.device_name))


@handles(PrepareLandscape)
def _prepare_landscape(runner: Runner, request: PrepareLandscape, token: CancelToken, emit) -> None:
    from deepstruc_gui.model.landscape import prepare_landscape

    prepare_landscape(_predictor(runner), cancel=token)


@handles(Prior)
def _prior(runner: Runner, request: Prior, token: CancelToken, emit) -> None:
    predictor = _predictor(runner)
    g = request.data.model_input()
    mean, sigma = predictor.prior(g)
    emit(PriorReady(mean, sigma, predictor.bond_length(g)))


@handles(Decode)
def _decode(runner: Runner, request: Decode, token: CancelToken, emit) -> None:
    from deepstruc_gui.model.solve import evaluate_points

    z = np.asarray(request.z, float)[None]
    candidate = evaluate_points(request.data, _predictor(runner), z, request.fit_config, token)[0]
    token.raise_if_cancelled()
    emit(Decoded(candidate))


@handles(Solve)
def _solve(runner: Runner, request: Solve, token: CancelToken, emit) -> None:
    """The pipeline's search (:func:`deepstruc_gui.model.pipeline.run_solve`, as
    ``predict`` runs it: the default search, then the size extension when the data
    call for it), streamed as :class:`Batch` results, then :class:`Solved`."""
    from deepstruc_gui.model.pipeline import SolveSettings, run_solve
    from deepstruc_gui.model.solve import whole_map_points

    predictor = _predictor(runner)
    config = request.fit_config
    total = len(whole_map_points(predictor)) if request.whole_map else int(request.n_samples)
    shown = [0, total]
    stage = [""]

    def progress(done: int, planned: int) -> None:
        shown[0], shown[1] = done, max(planned, 1)

    def on_stage(name: str, fraction: float) -> None:
        # the size extension after the model's search: its own stage and share done
        token.raise_if_cancelled()
        stage[0] = name
        shown[0], shown[1] = round(STAGE_STEPS * min(max(fraction, 0.0), 1.0)), STAGE_STEPS
        emit(StageProgress(name, fraction))

    def on_batch(ranked) -> None:
        token.raise_if_cancelled()
        if stage[0]:
            emit(Batch(list(ranked), shown[0], shown[1], stage[0]))
            return
        done = min(max(shown[0], len(ranked)), shown[1]) if shown[1] else len(ranked)
        emit(Batch(list(ranked), done, shown[1]))

    def on_landscape(landscape) -> None:
        token.raise_if_cancelled()
        emit(LandscapeUpdate(landscape))

    settings = SolveSettings(
        rmin=config.rmin,
        rmax=config.rmax,
        samples=int(request.n_samples),
        center=request.center,
        radius=request.semi_axes,
        seed=request.seed,
        whole_map=request.whole_map,
        fallback=False,  # the window offers the whole map itself (the hint)
        search=request.search,
        refine_qdamp=config.refine_qdamp,
        refine_delta2=config.refine_delta2,
        batch_size=request.batch_size,
    )
    if runner.solve_overrides:
        settings = replace(settings, **runner.solve_overrides)
    result = run_solve(
        request.data,
        predictor,
        settings,
        cancel=token,
        on_batch=on_batch,
        progress=progress,
        on_landscape=on_landscape,
        on_stage=on_stage,
    )
    token.raise_if_cancelled()
    if result.candidates:  # the size extension's candidates join after the last batch
        emit(Batch(list(result.candidates), shown[1], shown[1]))
    emit(Solved(list(result.warnings), list(result.notes), result.search))


@handles(Refit)
def _refit(runner: Runner, request: Refit, token: CancelToken, emit) -> None:
    from deepstruc_gui.model.solve import refit

    device = runner.predictor.device if runner.predictor is not None else None
    ranked = refit(list(request.candidates), request.data, request.fit_config, device, token)
    token.raise_if_cancelled()
    emit(Batch(ranked, len(ranked), len(ranked)))


@handles(Morph)
def _morph(runner: Runner, request: Morph, token: CancelToken, emit) -> None:
    from deepstruc_gui.model.morph import morph_candidates

    frames = morph_candidates(
        request.data,
        _predictor(runner),
        request.points,
        request.n_frames,
        request.fit_config,
        token,
    )
    token.raise_if_cancelled()
    emit(Morphed(frames))


@handles(Reconstruct)
def _reconstruct(runner: Runner, request: Reconstruct, token: CancelToken, emit) -> None:
    from deepstruc_gui.model.reconstruction import reconstruct

    result = reconstruct(_predictor(runner), request.index)
    token.raise_if_cancelled()
    emit(Reconstructed(result))


# the landscape and "Refine here" jobs register their handlers on import
from deepstruc_gui.gui import landscape_jobs as _landscape_jobs  # noqa: E402, F401
