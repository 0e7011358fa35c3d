"""One background thread that owns the model and does all heavy work.

Requests from the GUI thread carry an id. Only the newest request of each kind is
kept: a request that arrives while another runs cancels it (through its
:class:`CancelToken`) and replaces anything still waiting. Results go back through
Qt signals (queued to the GUI thread) with their id; the window drops stale ids.
The worker never touches widgets; the GUI thread never runs torch.
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from deepstruc_gui.util.cancel import Cancelled, CancelToken


@dataclass
class Request:
    id: int
    kind: str  # "load_model" | "prior" | "decode" | "solve"
    payload: dict


class Worker(QObject):
    """Lives in the worker thread; call :meth:`submit` from the GUI thread."""

    model_loaded = Signal(int, object)  # id, dict(bundle, device_name)
    prior_ready = Signal(int, object)  # id, (mean, sigma, bond length in Å)
    decoded = Signal(int, object)  # id, Candidate
    batch_ready = Signal(int, object, int, int)  # id, ranked candidates, done, total
    finished = Signal(int, str)  # id, kind
    failed = Signal(int, str, str)  # id, kind, message
    _wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pending: dict[str, Request] = {}
        self._running: Request | None = None
        self._token: CancelToken | None = None
        self._next_id = 0
        self.predictor = None
        self._wake.connect(self._drain)

    # --- called from the GUI thread ---------------------------------------------------
    def submit(self, kind: str, **payload: Any) -> int:
        """Queue a request; a newer one of the same kind replaces and cancels older ones."""
        with self._lock:
            self._next_id += 1
            request = Request(self._next_id, kind, payload)
            self._pending[kind] = request
            supersedes = {
                "solve": ("solve",),
                "decode": ("decode",),
                "load_model": ("load_model", "solve", "decode", "prior"),
                "prior": ("prior", "solve"),
            }[kind]
            if self._running is not None and self._running.kind in supersedes and self._token:
                self._token.cancel()
        self._wake.emit()
        return request.id

    def cancel(self, kind: str | None = None) -> None:
        """Cancel the running job (of ``kind``, or any) and drop queued ones."""
        with self._lock:
            for k in list(self._pending):
                if kind is None or k == kind:
                    del self._pending[k]
            if self._token is not None and (
                kind is None or (self._running is not None and self._running.kind == kind)
            ):
                self._token.cancel()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running is not None or bool(self._pending)

    # --- runs in the worker thread ------------------------------------------------------
    @Slot()
    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return
                # model first, then the prior, then live decodes, then solves
                for kind in ("load_model", "prior", "decode", "solve"):
                    if kind in self._pending:
                        request = self._pending.pop(kind)
                        break
                self._running = request
                self._token = CancelToken()
                token = self._token
            try:
                self._run(request, token)
                self.finished.emit(request.id, request.kind)
            except Cancelled:
                pass
            except Exception as exc:  # reported to the user, never fatal
                message = f"{type(exc).__name__}: {exc}"
                if not str(exc):
                    message = traceback.format_exc(limit=2)
                self.failed.emit(request.id, request.kind, message)
            finally:
                with self._lock:
                    self._running = None
                    self._token = None

    def _run(self, request: Request, token: CancelToken) -> None:
        p = request.payload
        if request.kind == "load_model":
            from deepstruc_gui.model.bundle import ModelBundle
            from deepstruc_gui.model.inference import Predictor

            bundle = ModelBundle.load(p["path"])
            self.predictor = Predictor(bundle)
            self.model_loaded.emit(
                request.id, {"bundle": bundle, "device": self.predictor.device_name}
            )
            return
        if self.predictor is None:
            raise RuntimeError("no model is loaded")
        if request.kind == "prior":
            g = p["data"].model_input()
            mean, sigma = self.predictor.prior(g)
            self.prior_ready.emit(request.id, (mean, sigma, self.predictor.bond_length(g)))
        elif request.kind == "decode":
            from deepstruc_gui.model.solve import evaluate_points

            candidate = evaluate_points(p["data"], self.predictor, p["z"], p["fit_config"], token)[
                0
            ]
            token.raise_if_cancelled()
            self.decoded.emit(request.id, candidate)
        elif request.kind == "solve":
            from deepstruc_gui.model.solve import solve, solve_points, whole_map_points

            whole_map = bool(p.get("whole_map"))
            points = whole_map_points(self.predictor) if whole_map else None
            total = len(points) if whole_map else int(p["n_samples"])
            done = [0]

            def on_batch(ranked):
                token.raise_if_cancelled()
                done[0] = len(ranked)
                self.batch_ready.emit(request.id, list(ranked), done[0], total)

            if whole_map:
                solve_points(
                    p["data"],
                    self.predictor,
                    points,
                    p["fit_config"],
                    cancel=token,
                    on_batch=on_batch,
                    batch_size=p.get("batch_size", 100),
                )
                return
            solve(
                p["data"],
                self.predictor,
                p["center"],
                p["radius"],
                total,
                p["fit_config"],
                seed=p.get("seed"),
                cancel=token,
                on_batch=on_batch,
                batch_size=p.get("batch_size", 100),
            )


class WorkerThread:
    """Owns the QThread and the Worker; ``stop()`` cancels and joins (no thread left)."""

    def __init__(self) -> None:
        self.thread = QThread()
        self.thread.setObjectName("deepstruc-worker")
        self.worker = Worker()
        self.worker.moveToThread(self.thread)
        self.thread.start()

    def stop(self, timeout_ms: int = 30000) -> bool:
        self.worker.cancel()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
