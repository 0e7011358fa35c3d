"""The thread that follows a series folder and solves its frames, off the GUI thread.

It runs the same loop as ``deepstruc-gui series --watch``
(:func:`~deepstruc_gui.model.series_watch.iter_ready` and
:class:`~deepstruc_gui.model.series.SeriesSolver`) and hands each finished
:class:`~deepstruc_gui.model.series.FrameRecord` to the GUI thread through a queued
signal. :meth:`SeriesWorker.stop` ends it within a batch of the search in progress.
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from deepstruc_gui.util.cancel import Cancelled, CancelToken


class SeriesWorker(QObject):
    """Lives in its own ``QThread``; built by :func:`start_series_worker`.

    ``predictor``: a loaded Predictor to share, or None to load ``model`` (a shipped
    name or a bundle folder) in the thread. ``settings``: a
    :class:`~deepstruc_gui.model.series.SeriesSettings`.
    """

    record_ready = Signal(object)  # FrameRecord
    status = Signal(str)
    failed = Signal(str)
    finished = Signal()

    def __init__(
        self,
        folder: str | Path,
        pattern: str = "*.gr",
        settings=None,
        model: str | Path | None = None,
        predictor=None,
        watch: bool = True,
        settle: float = 1.0,
        give_up: float = 10.0,
    ) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.pattern = pattern
        self.settings = settings
        self.model = model
        self.predictor = predictor
        self.watch = watch
        self.settle = settle
        self.give_up = give_up
        self._stop = threading.Event()
        self._cancel = CancelToken()

    def stop(self) -> None:
        """Ask the loop to end (any thread): the search in progress is cancelled."""
        self._stop.set()
        self._cancel.cancel()

    @Slot()
    def run(self) -> None:
        from deepstruc_gui.model.series import SeriesSettings, SeriesSolver
        from deepstruc_gui.model.series_watch import iter_ready

        try:
            if self.predictor is None:
                from deepstruc_gui.model.pipeline import load_predictor

                self.status.emit("loading the model…")
                self.predictor = load_predictor(self.model)
            solver = SeriesSolver(self.predictor, self.settings or SeriesSettings(), self._cancel)
            self.status.emit(f"watching {self.folder}" if self.watch else f"solving {self.folder}")
            frames = iter_ready(
                self.folder, self.pattern, self.watch, self._stop, self.settle, self.give_up
            )
            for k, ready in enumerate(frames, 1):
                record = solver.solve_frame(k, ready.path, ready.data, ready.error or "")
                self.record_ready.emit(record)
                if self._stop.is_set():
                    break
        except Cancelled:
            pass
        except Exception as exc:  # shown to the user; the thread ends cleanly
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self.finished.emit()


class SeriesThread:
    """A :class:`SeriesWorker` and the ``QThread`` it runs in."""

    def __init__(self, worker: SeriesWorker) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("deepstruc-series")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # direct: quit() is thread-safe, and a GUI thread blocked in wait() could not
        # run a queued one
        worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        self.thread.start()

    def stop(self, wait_ms: int = 30000) -> bool:
        """Stop the worker and wait for its thread; True when it ended in time."""
        self.worker.stop()
        if not self.thread.isRunning():
            return True
        return self.thread.wait(wait_ms)


def start_series_worker(*args, **kwargs) -> SeriesThread:
    """A started :class:`SeriesThread` for ``SeriesWorker(*args, **kwargs)``."""
    runner = SeriesThread(SeriesWorker(*args, **kwargs))
    runner.start()
    return runner
