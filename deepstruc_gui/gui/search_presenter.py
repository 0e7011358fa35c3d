"""The search presenter: turns the user's intent into typed requests and the worker's
results into session changes and view updates. Qt-free (Mantid Imaging's view /
presenter split): tests drive it with a fake worker and a fake view.

It owns: the model loaded in the worker, the fit configuration of the loaded data,
the newest request sent per lane (for "is the search complete?"), the progress and
status text of a search, and the decisions after a search (the whole-map hint,
autosave). It does not own: staleness (the worker drops stale results), widgets (the
view), files (:mod:`deepstruc_gui.gui.file_actions`).

A new panel with its own work (a Rw landscape, a series) gets its own presenter of
this shape: it submits its own ``Request`` types to the same worker and connects its
own ``deliver`` to ``Worker.delivered``, ignoring request types that are not its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from deepstruc_gui.gui.requests import (
    Batch,
    Decode,
    Decoded,
    Done,
    Failed,
    LoadModel,
    ModelLoaded,
    Prior,
    PriorReady,
    Request,
    Solve,
)
from deepstruc_gui.model.candidate import POOR_FIT_RW
from deepstruc_gui.model.pipeline import fit_config_for
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS, FitConfig, PDFParameters
from deepstruc_gui.state.session import Session

WHOLE_MAP_HINT = (
    " — nothing here fits: the prior may have misplaced these data; try Search whole map (Ctrl+M)"
)


class Jobs(Protocol):
    """What the presenter needs of the worker (:class:`deepstruc_gui.gui.worker.Worker`)."""

    def submit(self, request: Request) -> Request: ...
    def cancel(self, lane: str | None = None) -> None: ...
    def is_current(self, request: Request) -> bool: ...
    @property
    def busy(self) -> bool: ...


class SearchView(Protocol):
    """What the presenter needs of the window (all calls on the GUI thread)."""

    def show_error(self, title: str, message: str) -> None: ...
    def show_device(self, text: str) -> None: ...
    def show_latent_map(self, latent_map) -> None: ...
    def show_models(self, names: list[str], current: str) -> None: ...
    def show_element(self, element: str) -> None: ...
    def show_status(self, message: str, timeout_ms: int = 0) -> None: ...
    def start_progress(self, total: int) -> None: ...
    def show_progress(self, done: int, total: int) -> None: ...
    def hide_progress(self) -> None: ...
    def suggest_whole_map(self, suggest: bool) -> None: ...
    def search_finished(self) -> None: ...


def batch_size_for(total: int) -> int:
    """Points per delivered batch: ~4 updates a search, 50–250 points each."""
    return max(50, min(250, total // 4))


class SearchPresenter:
    """One per window. ``models`` maps model names to bundle paths."""

    def __init__(
        self, session: Session, jobs: Jobs, view: SearchView, models: dict[str, Path]
    ) -> None:
        self.session = session
        self.jobs = jobs
        self.view = view
        self.models = models
        self.bundle = None  # the ModelBundle the worker has loaded
        self.device_name = "loading model…"
        self.model_requested: str | None = None  # the newest model asked of the worker
        self.latest: dict[str, Request] = {}  # newest request sent per lane
        self.preview_label = ""  # what the shown preview is (set with each preview)
        self._solve_done: Request | None = None  # the newest search whose Done arrived
        self._bond_note = ""
        self._live: Decode | None = None  # the live decode in flight while dragging
        self._live_next: tuple[float, float] | None = None  # the newest move since
        session.data_changed.connect(self.request_prior)

    # --- questions ------------------------------------------------------------------
    @property
    def solve_complete(self) -> bool:
        """True once the newest search has delivered all its candidates."""
        solve = self.latest.get("solve")
        return solve is not None and self._solve_done is solve

    @property
    def searching(self) -> bool:
        """A search was sent, has not finished, was not cancelled, and the worker works."""
        solve = self.latest.get("solve")
        return solve is not None and self._solve_done is not solve and self.jobs.busy

    def fit_config(self) -> FitConfig:
        """The fit of the loaded data with the user's fit range and refinement flags,
        built as ``predict`` builds it (:func:`~deepstruc_gui.model.pipeline.fit_config_for`):
        the model's simulation parameters, overridden by the data file's header."""
        s, q = self.session, self.session.query
        base = (
            PDFParameters.from_dict(self.bundle.metadata["pdf_parameters"])
            if self.bundle
            else TRAINING_PARAMETERS
        )
        config, _sources = fit_config_for(
            s.data,
            base,
            rmin=q.rmin,
            rmax=max(q.rmax, q.rmin + 1.0),
            refine_qdamp=q.refine_qdamp,
            refine_delta2=q.refine_delta2,
        )
        return config

    # --- intent: model and data --------------------------------------------------------
    def start(self) -> None:
        """Load the first installed model (or say there is none)."""
        if self.models:
            name = next(iter(self.models))
            self.session.model_name = name
            self.view.show_models(list(self.models), name)
            self.load_model(name)
        else:
            self.view.show_device("no model installed")

    def load_model(self, name: str) -> None:
        self.model_requested = name
        self.view.show_device(f"loading model {name}…")
        self._live = None  # a running decode is cancelled by the new model
        self._send(LoadModel(path=self.models[name]))

    def choose_model(self, name: str) -> None:
        """The user picked a model (compared with the newest asked for, not the loaded
        one: picking A, then B, then A again before B loads must end with A)."""
        if name in self.models and name != self.model_requested:
            self.session.set_model(name)
            self.load_model(name)

    def use_model(self, name: str | None) -> None:
        """A session was opened with this model: load it if it is installed and new."""
        if name in self.models and name != self.model_requested:
            self.view.show_models(list(self.models), name)
            self.load_model(name)

    def request_prior(self) -> None:
        if self.session.data is not None and self.bundle is not None:
            self._send(Prior(data=self.session.data))

    def set_element(self, text: str) -> None:
        """The element written into exports and drawn in the 3-D view (checked)."""
        from ase.data import atomic_numbers

        text = text.strip().capitalize()
        if text and text not in atomic_numbers:
            self.view.show_error("Unknown element", f"'{text}' is not a chemical element symbol.")
            self.view.show_element(self.session.element)
            return
        self.session.element = text

    # --- intent: searching -----------------------------------------------------------
    def edit_query(self, changes: dict) -> None:
        self.session.update_query(**changes)

    def start_solve(self, whole_map: bool = False) -> None:
        s = self.session
        if s.data is None or self.bundle is None or s.prior_mean is None:
            return
        q = s.query
        total = (
            len(np.unique(np.round(self.bundle.latent_map.mu, 4), axis=0))
            if whole_map
            else q.n_samples
        )
        radius = s.region_radius()
        self._send(
            Solve(
                data=s.data,
                fit_config=self.fit_config(),
                center=(float(q.center[0]), float(q.center[1])),
                semi_axes=(float(radius[0]), float(radius[1])),
                n_samples=q.n_samples,
                whole_map=whole_map,
                batch_size=batch_size_for(total),
            )
        )
        self.view.suggest_whole_map(False)
        s.clear_candidates()
        self.view.start_progress(total)
        self.view.show_status("solving…")

    def search_whole_map(self) -> None:
        """Every training structure's map point, decoded and fitted (ignores the region)."""
        self.start_solve(whole_map=True)

    def cancel(self) -> None:
        self.jobs.cancel("solve")
        self.latest.pop("solve", None)
        self.view.hide_progress()
        self.view.show_status("cancelled", 3000)

    def back_to_prior(self) -> None:
        self.session.back_to_prior()
        self.start_solve()

    def undo(self) -> None:
        self.session.undo()
        self.start_solve()

    def redo(self) -> None:
        self.session.redo()
        self.start_solve()

    # --- intent: the map -------------------------------------------------------------
    def drag_moved(self, x: float, y: float) -> None:
        """Every raw move of the centre marker: the running search is stale, cancel it so
        the live decodes have the machine to themselves."""
        if "solve" in self.latest:
            self.jobs.cancel("solve")
            self.latest.pop("solve")
            self.view.hide_progress()

    def preview(self, x: float, y: float) -> None:
        """A rate-limited move of the marker: decode the point under it.

        One live decode at a time: moves that arrive while one runs collapse into one
        follow-up, sent when it is done. (Cancelling the running decode at every move
        would show nothing at all while dragging whenever a decode takes longer than
        the interval between moves.)
        """
        if self._live is not None and self.jobs.is_current(self._live):
            self._live_next = (x, y)
            return
        self._live_next = None
        self._live = self.decode_point((x, y), "live ")

    def release(self, x: float, y: float) -> None:
        self.session.move_center(x, y)
        self.start_solve()

    def decode_training_point(self, index: int) -> None:
        if self.bundle is not None:
            m = self.bundle.latent_map
            self.decode_point(m.mu[index], f"{m.names[index]} ({m.types[index]}): ")

    def decode_point(self, z, label: str) -> Decode | None:
        if self.bundle is None or self.session.data is None:
            return None
        z = np.asarray(z, float)
        return self._send(
            Decode(
                data=self.session.data,
                z=(float(z[0]), float(z[1])),
                fit_config=self.fit_config(),
                label=label,
            )
        )

    # --- results (only the newest of each lane arrive) -----------------------------------
    def deliver(self, request: Request, result: object) -> None:
        """Slot for ``Worker.delivered``; ignores request types it did not send."""
        if isinstance(result, ModelLoaded):
            self._model_loaded(result)
        elif isinstance(result, PriorReady):
            self.session.set_prior(result.mean, result.sigma)
            self._bond_note = f"bond length read from the PDF {result.bond_length:.3f} Å"
            self.start_solve()
        elif isinstance(result, Decoded) and isinstance(request, Decode):
            self.preview_label = request.label
            self.session.set_preview(result.candidate)
        elif isinstance(result, Done | Failed) and request is self._live:
            self._live = None
            if self._live_next is not None:
                self.preview(*self._live_next)
        elif isinstance(result, Batch) and isinstance(request, Solve):
            self.session.set_candidates(result.ranked)
            self.view.show_progress(result.done, result.total)
            self.view.show_status(
                f"{result.done}/{result.total} candidates, best Rw {result.ranked[0].rw:.4f}; "
                f"{self._bond_note}"
            )
        elif isinstance(result, Done) and isinstance(request, Solve):
            self._search_done(request)
        elif isinstance(result, Failed) and isinstance(request, LoadModel | Prior | Solve):
            self.view.hide_progress()
            if isinstance(request, LoadModel):
                self.view.show_device("model failed to load")
                self.view.show_error("Cannot load the model", result.message)
            else:
                self.view.show_error(f"The {request.lane} job failed", result.message)

    def _model_loaded(self, result: ModelLoaded) -> None:
        self.bundle = result.bundle
        self.device_name = result.device
        self.view.show_device(f"{self.bundle.name} · {self.device_name}")
        self.view.show_latent_map(self.bundle.latent_map)
        self.request_prior()

    def _search_done(self, request: Solve) -> None:
        self._solve_done = request
        self.view.hide_progress()
        cands = self.session.candidates
        if cands:
            best = cands[0]
            poor = not request.whole_map and best.rw > POOR_FIT_RW
            self.view.suggest_whole_map(poor)
            self.view.show_status(
                f"{len(cands)} candidates, best Rw {best.rw:.4f} "
                f"({best.nearest_type}, {best.n_atoms} atoms); {self._bond_note}"
                + (WHOLE_MAP_HINT if poor else "")
            )
        self.view.search_finished()

    def _send(self, request: Request) -> Request:
        request = self.jobs.submit(request)
        self.latest[request.lane] = request
        return request
