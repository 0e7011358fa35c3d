"""The Rw landscape, "Refine here" and the warnings banner: the window's view of how
well the data fit everywhere, and when not to trust the answer. Qt-free (like
:mod:`deepstruc_gui.gui.search_presenter`): tests drive it with a fake worker and view.

- The landscape arrives as :class:`~deepstruc_gui.gui.requests.LandscapeUpdate`
  snapshots, from the default search (it computes one) or from an explicit
  :class:`~deepstruc_gui.gui.requests.ComputeLandscape`; each snapshot replaces the
  last in the view and in ``session.landscape`` (saved with the session).
- "Refine here" (:class:`~deepstruc_gui.gui.requests.Refine`) starts from the selected
  candidate's map point, or the marker's point when the selection has none (a
  size-extension candidate) or nothing is selected; its path is drawn as it goes;
  the refined candidate joins the table and is selected. :meth:`undo_refine` puts the
  candidates and the selection back as they were before it.
- Warnings: the data-level ones (:func:`~deepstruc_gui.model.diagnostics.diagnose_data`)
  as soon as data are loaded; after a search, everything the search rests on
  (:class:`~deepstruc_gui.gui.requests.Solved`: data, result and the search's findings).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from deepstruc_gui.gui.requests import (
    ComputeLandscape,
    Failed,
    LandscapeUpdate,
    ModelLoaded,
    Refine,
    Refined,
    RefineStep,
    Request,
    Solved,
)
from deepstruc_gui.gui.search_presenter import Jobs
from deepstruc_gui.state.session import Session


class LandscapeView(Protocol):
    """What the presenter needs of the window (all calls on the GUI thread)."""

    def show_landscape(self, landscape) -> None: ...
    def show_refine_path(self, path: np.ndarray | None) -> None: ...
    def show_warnings(self, warnings: list) -> None: ...
    def show_status(self, message: str, timeout_ms: int = 0) -> None: ...
    def show_error(self, title: str, message: str) -> None: ...


class LandscapePresenter:
    """One per window. ``fit_config()`` is the fit of the loaded data (the search
    presenter's); ``bundle()`` the loaded model bundle or None."""

    def __init__(self, session: Session, jobs: Jobs, view: LandscapeView, fit_config, bundle):
        self.session = session
        self.jobs = jobs
        self.view = view
        self.fit_config = fit_config
        self.bundle = bundle
        self.refine_request: Refine | None = None
        self.path: np.ndarray | None = None
        #: (candidates, selected, path) before each accepted "Refine here", newest last
        self._undo: list[tuple[list, int | None, np.ndarray | None]] = []
        session.data_changed.connect(self._data_changed)
        session.parts_restored.connect(self.parts_restored)

    # --- intent ----------------------------------------------------------------------
    def compute(self) -> ComputeLandscape | None:
        """Compute the Rw landscape of the loaded data (replaces the one shown)."""
        s = self.session
        if s.data is None or self.bundle() is None:
            return None
        return self.jobs.submit(ComputeLandscape(data=s.data, fit_config=self.fit_config()))

    def refine_point(self) -> tuple[float, float] | None:
        """Where "Refine here" starts: the selected candidate's map point, else the marker."""
        c = self.session.selected_candidate
        if c is not None and np.all(np.isfinite(c.latent)):
            return float(c.latent[0]), float(c.latent[1])
        if self.session.prior_mean is None:
            return None
        center = self.session.query.center
        return float(center[0]), float(center[1])

    def refine_here(self) -> Refine | None:
        s = self.session
        z = self.refine_point()
        if s.data is None or self.bundle() is None or z is None:
            self.view.show_status("Refine here: load data and pick a candidate first", 4000)
            return None
        self.view.show_status(f"refining from ({z[0]:.3f}, {z[1]:.3f})…")
        self.refine_request = self.jobs.submit(
            Refine(data=s.data, z=z, fit_config=self.fit_config())
        )
        return self.refine_request

    @property
    def can_undo_refine(self) -> bool:
        return bool(self._undo)

    def undo_refine(self) -> None:
        """The candidates, selection and path as they were before the last refinement."""
        if not self._undo:
            return
        candidates, selected, path = self._undo.pop()
        self.session.set_candidates(candidates)
        self.session.select(selected)
        self.path = path
        self.view.show_refine_path(path)
        self.view.show_status("refinement undone", 3000)

    # --- results ---------------------------------------------------------------------
    def deliver(self, request: Request, result: object) -> None:
        """Slot for ``Worker.delivered``; ignores what is not its own."""
        if isinstance(result, LandscapeUpdate):
            self.session.landscape = result.landscape
            self.view.show_landscape(result.landscape)
        elif isinstance(result, Solved):
            self.view.show_warnings(list(result.warnings))
        elif isinstance(result, ModelLoaded):  # a new model: a new map, new size limits
            self._data_changed(result.bundle.metadata)
        elif isinstance(result, RefineStep):
            self.view.show_refine_path(result.path)
        elif isinstance(result, Refined):
            self._refined(result)
        elif isinstance(result, Failed) and isinstance(request, Refine | ComputeLandscape):
            what = "refinement" if isinstance(request, Refine) else "Rw landscape"
            self.view.show_error(f"The {what} failed", result.message)

    def _refined(self, result: Refined) -> None:
        s = self.session
        self._undo.append((list(s.candidates), s.selected, self.path))
        best = result.best
        ranked = sorted([*s.candidates, best], key=lambda c: c.rw)
        s.set_candidates(ranked)
        s.select(next(k for k, c in enumerate(ranked) if c is best))
        self.path = np.asarray(result.path, float)
        self.view.show_refine_path(self.path)
        self.view.show_status(
            f"refined: Rw {result.start.rw:.4f} → {best.rw:.4f} "
            f"({best.nearest_type}, {best.n_atoms} atoms) in {len(result.path) - 1} steps",
            8000,
        )

    def parts_restored(self) -> None:
        """A session file was opened: draw its landscape."""
        self.view.show_landscape(self.session.landscape)

    def _data_changed(self, meta: dict | None = None) -> None:
        """New data: no landscape, no path; the data's own warnings at once."""
        from deepstruc_gui.model.diagnostics import diagnose_data

        s = self.session
        s.landscape = None
        self.path = None
        self._undo.clear()
        self.view.show_landscape(None)
        self.view.show_refine_path(None)
        if meta is None:
            bundle = self.bundle()
            meta = bundle.metadata if bundle is not None else None
        self.view.show_warnings([] if s.data is None else diagnose_data(s.data, meta))
