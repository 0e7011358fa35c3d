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

import time
from pathlib import Path

import numpy as np

from deepstruc_gui.gui.requests import (
    Batch,
    Decode,
    Decoded,
    Done,
    Failed,
    LoadModel,
    ModelLoaded,
    PrepareLandscape,
    Prior,
    PriorReady,
    Refit,
    Request,
    Solve,
    StageProgress,
)
from deepstruc_gui.gui.search_view import Jobs, SearchView
from deepstruc_gui.model.candidate import POOR_FIT_RW
from deepstruc_gui.model.names import readable_name
from deepstruc_gui.model.pipeline import fit_config_for
from deepstruc_gui.science.parameters import TRAINING_PARAMETERS, FitConfig, PDFParameters
from deepstruc_gui.state.session import Session

WHOLE_MAP_HINT = (
    " — nothing here fits: the prior may have misplaced these data; try Search whole map (Ctrl+M)"
)
#: query fields whose change makes the table's fits belong to other settings: a refit
FIT_FIELDS = frozenset({"rmin", "rmax", "refine_qdamp", "refine_delta2"})
#: query fields whose change makes the table another region's: marked outdated
REGION_FIELDS = frozenset({"sigma_multiple", "free_radius", "n_samples"})


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
        self._live_next: tuple | None = None  # the newest move since: (x, y, label)
        self._started = time.monotonic()  # when the newest search was sent
        self.dragging = False  # the centre marker is held: live previews are shown
        self._label = "region"  # what the running search is, for the history
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
        """Place new data on the map (and search). A restored session already has its
        prior and table: it is shown as saved, without searching again."""
        s = self.session
        if s.data is None or self.bundle is None:
            return
        if s.prior_mean is not None and s.candidates:
            return
        self._send(Prior(data=s.data))

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
        """A setting changed: a new fit range or refinement refits the table's
        candidates (no new search); a new region marks the table outdated (Update)."""
        s = self.session
        before = s.query
        s.update_query(**changes)
        changed = {k for k in changes if getattr(before, k) != getattr(s.query, k)}
        if not changed or not s.candidates:
            return
        if changed & FIT_FIELDS and not self.searching:
            self.refit()
        elif changed & FIT_FIELDS:
            s.set_outdated("the fit range or refinement changed during the search")
        elif changed & REGION_FIELDS:
            s.set_outdated("the region or the number of samples changed")

    def reset_settings(self) -> None:
        """Drop the settings carried from the previous file (fit range, region)."""
        changes = self.session.default_settings()
        self.session.clear_carried()
        if changes:
            self.edit_query(changes)

    def update(self) -> None:
        """The one-click *Update* of an outdated table: search again with the settings."""
        if self.session.outdated:
            self.start_solve()

    def refit(self) -> None:
        """Fit the table's candidates again with the current fit range and flags."""
        s = self.session
        if s.data is None or not s.candidates:
            return
        self._label = "refit"
        self._send(Refit(data=s.data, fit_config=self.fit_config(), candidates=tuple(s.candidates)))
        self.view.show_status(f"refitting {len(s.candidates)} candidates…")

    def keep_shown(self) -> None:
        """Add the shown structure (a map click, a drag preview) to the table."""
        c = self.session.shown_candidate
        if c is None:
            self.view.show_status("nothing shown to keep", 3000)
            return
        rank = self.session.keep(c) + 1
        self.view.show_status(f"kept as #{rank} (Rw {c.rw:.4f}, {c.n_atoms} atoms)", 5000)

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
        self._label = "whole map" if whole_map else "region"
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
        """Stop the running search; what it found so far stays, marked partial. With
        nothing running this changes nothing."""
        if not self.searching:
            return
        self._stop_search()
        self.view.show_status("cancelled: the table is partial", 5000)

    def _stop_search(self) -> None:
        self.jobs.cancel("solve")
        self.latest.pop("solve", None)
        self.view.hide_progress()
        if self.session.candidates:
            self.session.record_search(self._label, partial=True)

    def back_to_prior(self) -> None:
        self.session.back_to_prior()
        self.start_solve()

    def undo(self) -> None:
        """Show the previous search again (its table, selection, region): no search."""
        if self.searching:
            self._stop_search()
        if self.session.undo_search():
            self.view.show_status(f"back to: {self.session.history.current.describe()}", 5000)

    def redo(self) -> None:
        if self.searching:
            self._stop_search()
        if self.session.redo_search():
            self.view.show_status(f"forward to: {self.session.history.current.describe()}", 5000)

    # --- intent: the map -------------------------------------------------------------
    def drag_moved(self, x: float, y: float) -> None:
        """Every raw move of the centre marker: the running search is stale, cancel it so
        the live decodes have the machine to themselves."""
        self.dragging = True
        if self.searching:
            self._stop_search()
        elif "solve" in self.latest and self._solve_done is not self.latest["solve"]:
            self.jobs.cancel("solve")
            self.latest.pop("solve")

    def preview(self, x: float, y: float, label: str = "live ") -> None:
        """A rate-limited move of the marker (or, ``label`` "hover ", of the cursor in
        the teaching mode): decode the point under it.

        One live decode at a time: moves that arrive while one runs collapse into one
        follow-up, sent when it is done. (Cancelling the running decode at every move
        would show nothing at all while dragging whenever a decode takes longer than
        the interval between moves.)
        """
        if self._live is not None and self.jobs.is_current(self._live):
            self._live_next = (x, y, label)
            return
        self._live_next = None
        self._live = self.decode_point((x, y), label)

    def release(self, x: float, y: float) -> None:
        self.dragging = False
        self.session.move_center(x, y)
        self.start_solve()

    def decode_training_point(self, index: int) -> None:
        if self.bundle is not None:
            m = self.bundle.latent_map
            metal = m.metals[index] if index < len(m.metals) else None
            name = readable_name(m.names[index], m.types[index], m.n_atoms[index], metal)
            self.decode_point(m.mu[index], f"{name}: ")

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
            if request.label == "live " and not self.dragging:
                return  # a late preview never replaces the selection's view
            self.preview_label = request.label
            self.session.set_preview(result.candidate)
        elif isinstance(result, Done | Failed) and request is self._live:
            self._live = None
            if self._live_next is not None:
                self.preview(*self._live_next)
        elif isinstance(result, StageProgress) and isinstance(request, Solve):
            self._show_stage(result.stage, result.fraction)
        elif isinstance(result, Batch) and isinstance(request, Solve | Refit):
            self.session.set_candidates(result.ranked)
            if result.stage:
                self._show_stage(result.stage, result.done / max(result.total, 1))
                return
            self.view.show_progress(result.done, result.total)
            stage = "refitting" if isinstance(request, Refit) else "decoding and fitting"
            eta = ""
            if 0 < result.done < result.total:
                spent = time.monotonic() - self._started
                eta = f", ~{spent * (result.total - result.done) / result.done:.0f} s left"
            self.view.show_status(
                f"{stage} {result.done}/{result.total} candidates{eta}, best Rw "
                f"{result.ranked[0].rw:.4f}; {self._bond_note}"
            )
        elif isinstance(result, Done) and isinstance(request, Solve | Refit):
            self._search_done(request)
        elif isinstance(result, Failed) and isinstance(request, LoadModel | Prior | Solve | Refit):
            self.view.hide_progress()
            if isinstance(request, LoadModel):
                self.view.show_device("model failed to load")
                self.view.show_error("Cannot load the model", result.message)
            else:
                self.view.show_error(f"The {request.lane} job failed", result.message)

    def _show_stage(self, stage: str, fraction: float) -> None:
        """Progress of a stage after the model's search (the size extension)."""
        self.view.show_progress(round(1000 * fraction), 1000)
        best = self.session.candidates[0].rw if self.session.candidates else None
        self.view.show_status(
            f"{stage}: {fraction:.0%}"
            + (f", best Rw {best:.4f}" if best is not None else "")
            + f"; {self._bond_note}"
        )

    def _model_loaded(self, result: ModelLoaded) -> None:
        self.bundle = result.bundle
        self.device_name = result.device
        self.view.show_device(f"{self.bundle.name} · {self.device_name}")
        # map_fit needs torch, which the window does not import at start-up (the
        # worker has loaded it by now)
        from deepstruc_gui.model.map_fit import map_axis_titles

        self.view.show_latent_map(self.bundle.latent_map, map_axis_titles(self.bundle.metadata))
        # the map's clusters do not depend on the data: decode them while the user
        # picks a file (anything the user asks for first cancels this)
        self._send(PrepareLandscape())
        self.request_prior()

    def _search_done(self, request: Solve | Refit) -> None:
        self._solve_done = request
        self.view.hide_progress()
        cands = self.session.candidates
        if cands:
            best = cands[0]
            poor = isinstance(request, Solve) and not request.whole_map and best.rw > POOR_FIT_RW
            self.view.suggest_whole_map(poor)
            replaced = self.session.record_search(self._label)
            worse = (
                f" — worse than the {replaced.label} search it replaced (best Rw "
                f"{replaced.best_rw:.4f}): Undo (Ctrl+Z) shows it again"
                if replaced is not None
                else ""
            )
            self.view.show_status(
                f"{len(cands)} candidates, best Rw {best.rw:.4f} "
                f"({best.nearest_type}, {best.n_atoms} atoms); {self._bond_note}"
                + (WHOLE_MAP_HINT if poor else "")
                + worse
            )
            if replaced is not None:
                self.view.warn_worse(replaced.best_rw, best.rw)
        self.view.search_finished()

    def _send(self, request: Request) -> Request:
        if request.lane == "solve":
            self._started = time.monotonic()
        request = self.jobs.submit(request)
        self.latest[request.lane] = request
        return request
