"""The session: everything the user has loaded, asked for and received.

Plain Python objects with events. Views observe them and call the methods below with
the user's intent; nothing here knows about Qt or threads.
"""

from __future__ import annotations

import bisect
import copy
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.state.events import Event
from deepstruc_gui.state.history import SearchHistory, SearchRecord
from deepstruc_gui.state.series import SeriesState
from deepstruc_gui.state.session_file import (
    candidate_from_json,
    candidates_to_json,
    decode_array,
    encode_array,
)
from deepstruc_gui.state.session_parts import parts_to_json, restore_parts
from deepstruc_gui.util.atomic import atomic_write_text

SESSION_FORMAT = "deepstruc-session"
SESSION_VERSION = 3
#: versions this code reads: 1 wrote arrays as JSON lists of numbers; 3 added each
#: candidate's source (model, kept) and element, and the search's label/partial flag
READABLE_VERSIONS = (1, 2, 3)
SIGMA_PRESETS = (3.0, 5.0, 7.0)


@dataclass(frozen=True)
class Query:
    """Where and how to search the latent space, and how to fit."""

    center: tuple[float, float] = (0.0, 0.0)
    sigma_multiple: float | None = 3.0  # region = k·σ ellipse; None = free radius
    free_radius: float = 0.5
    n_samples: int = 500
    rmin: float = 2.0
    rmax: float = 30.0
    refine_qdamp: bool = False
    refine_delta2: bool = False

    def radius(self, sigma: np.ndarray | None) -> np.ndarray:
        """Semi-axes (2,) of the sampling region."""
        if self.sigma_multiple is not None and sigma is not None:
            return self.sigma_multiple * np.asarray(sigma, dtype=float)
        return np.array([self.free_radius, self.free_radius])


class Session:
    """State of one window. Events carry no payload: observers read what they need."""

    def __init__(self) -> None:
        self.data: PDFData | None = None
        self.model_name: str = "mmnp"
        self.element: str = ""
        self.prior_mean: np.ndarray | None = None
        self.prior_sigma: np.ndarray | None = None
        self.query = Query()
        self.candidates: list[Candidate] = []
        self.selected: int | None = None
        self.preview: Candidate | None = None
        #: the views show the preview (a map click, a drag) rather than the selection
        self.showing_preview = False
        self.history = SearchHistory()
        #: the table is the history's current search (selections are remembered there)
        self._recorded = False
        #: why the table no longer matches the settings ("" when it does)
        self.outdated = ""
        self.partial = False  # the table is a cancelled search's
        self.carried = ""  # the file the settings were carried from ("" = none)
        self._undo: list[Query] = []
        self._redo: list[Query] = []
        self.data_changed = Event()
        self.model_changed = Event()
        self.prior_changed = Event()
        self.query_changed = Event()
        self.candidates_changed = Event()
        self.selection_changed = Event()
        self.preview_changed = Event()
        self.outdated_changed = Event()
        self.carried_changed = Event()
        self.landscape = None  # the Rw landscape of the data (model.landscape.Landscape)
        self.series = SeriesState()  # the watched folder's frames
        self.parts_restored = Event()  # landscape and series read from a session file

    # --- data and model ---------------------------------------------------------
    def set_data(self, data: PDFData) -> None:
        """New data: results cleared; the fit range and region the user set are kept
        (``carried`` names the file they came from; :meth:`default_settings`);
        a carried fit range with too few of the new data's points goes back to the default)."""
        previous = self.data
        self.carried = ""
        if previous is not None and self.query != Query(center=self.query.center):
            self.carried = previous.name
        r = np.asarray(data.r)
        if ((r >= self.query.rmin) & (r <= self.query.rmax)).sum() < 10:  # carried range
            self.query = replace(self.query, rmin=Query.rmin, rmax=Query.rmax)
            self.query_changed.emit()
        self.data = data
        self.element = data.main_element or self.element
        self.prior_mean = self.prior_sigma = None
        self.history.clear()
        self.set_outdated("")
        self.clear_candidates()
        self.data_changed.emit()
        self.carried_changed.emit()

    def default_settings(self) -> dict:
        """The query fields that differ from the defaults (not the centre): what a
        reset of carried settings changes."""
        default = Query(center=self.query.center)
        return {k: v for k, v in asdict(default).items() if getattr(self.query, k) != v}

    def clear_carried(self) -> None:
        """Forget the note on what was carried over; emits ``carried_changed``."""
        self.carried = ""
        self.carried_changed.emit()

    def set_model(self, name: str) -> None:
        """Switch to model ``name``: forgets the prior, the search history and candidates;
        emits ``model_changed`` (nothing happens for the current name)."""
        if name != self.model_name:
            self.model_name = name
            self.prior_mean = self.prior_sigma = None
            self.history.clear()
            self.clear_candidates()
            self.model_changed.emit()

    def set_prior(self, mean: np.ndarray, sigma: np.ndarray) -> None:
        """A new prior places the sampling centre at its mean (not undoable: a reset)."""
        self.prior_mean = np.asarray(mean, float)
        self.prior_sigma = np.asarray(sigma, float)
        self.query = replace(self.query, center=(float(mean[0]), float(mean[1])))
        self._undo.clear()
        self._redo.clear()
        self.prior_changed.emit()
        self.query_changed.emit()

    # --- the query, with undo ------------------------------------------------------
    def update_query(self, undoable: bool = True, **changes) -> None:
        """Change query fields (:class:`Query` field names); pushes the old query on the undo
        stack when ``undoable``; emits ``query_changed`` when anything changed."""
        new = replace(self.query, **changes)
        if new == self.query:
            return
        if undoable:
            self._undo.append(self.query)
            self._redo.clear()
        self.query = new
        self.query_changed.emit()

    def move_center(self, x: float, y: float, undoable: bool = True) -> None:
        """Move the search centre to (x, y) in latent units (see :meth:`update_query`)."""
        self.update_query(undoable=undoable, center=(float(x), float(y)))

    def back_to_prior(self) -> None:
        """Move the search centre back to the prior mean, when there is one."""
        if self.prior_mean is not None:
            self.move_center(*self.prior_mean)

    @property
    def can_undo(self) -> bool:
        """True when a query change can be undone."""
        return bool(self._undo)

    def undo(self) -> None:
        """Restore the previous query (redo-able); emits ``query_changed``."""
        if self._undo:
            self._redo.append(self.query)
            self.query = self._undo.pop()
            self.query_changed.emit()

    def redo(self) -> None:
        """Re-apply the last undone query; emits ``query_changed``."""
        if self._redo:
            self._undo.append(self.query)
            self.query = self._redo.pop()
            self.query_changed.emit()

    def region_radius(self) -> np.ndarray:
        """Semi-axes (2,) of the sampling region in latent units: σ multiple × prior σ, or the
        free radius (see :meth:`Query.radius`)."""
        return self.query.radius(self.prior_sigma)

    # --- results ---------------------------------------------------------------------
    def set_candidates(self, candidates: list[Candidate]) -> None:
        """Ranked candidates (best first); the best is selected when nothing else is."""
        self.candidates = list(candidates)
        self._recorded = False
        self.showing_preview = False
        if self.candidates and (self.selected is None or self.selected >= len(self.candidates)):
            self.selected = 0
        self.candidates_changed.emit()
        self.selection_changed.emit()

    def clear_candidates(self) -> None:
        """Drop candidates and selection; emits ``candidates_changed``, ``selection_changed``."""
        self.candidates = []
        self.selected = None
        self._recorded = False
        self.partial = False
        self.showing_preview = False
        self.candidates_changed.emit()
        self.selection_changed.emit()

    # --- the search history ------------------------------------------------------------
    def record_search(self, label: str, partial: bool = False) -> SearchRecord | None:
        """The shown table is a finished (or, ``partial``, cancelled) search: add it to
        the history. Returns the search it replaced when that one was better."""
        self.partial = partial
        record = SearchRecord(label, self.query, tuple(self.candidates), self.selected, partial)
        worse = self.history.push(record)
        self._recorded = True
        self.set_outdated("")
        return worse

    def show_record(self, record: SearchRecord) -> None:
        """Show a search of the history as it was: query, table, selection (no search)."""
        self.query = record.query
        self.candidates = list(record.candidates)
        self.selected = record.selected
        self.partial = record.partial
        self._recorded = True
        self.showing_preview = False
        self.set_outdated("")
        self.query_changed.emit()
        self.candidates_changed.emit()
        self.selection_changed.emit()

    def undo_search(self) -> bool:
        """Show the previous search of the history; False when there is none."""
        record = self.history.back()
        if record is not None:
            self.show_record(record)
        return record is not None

    def redo_search(self) -> bool:
        """Show the next search of the history; False when there is none."""
        record = self.history.forward()
        if record is not None:
            self.show_record(record)
        return record is not None

    def set_outdated(self, reason: str) -> None:
        """Say (``reason``) that the table belongs to other settings, or ("") that not."""
        if reason != self.outdated:
            self.outdated = reason
            self.outdated_changed.emit()

    def keep(self, candidate: Candidate) -> int:
        """Add a shown structure (a map click, a drag preview) to the table, in Rw
        order, marked ``source = "kept"``; it becomes the selection. Returns its index."""
        index = next((k for k, c in enumerate(self.candidates) if c is candidate), None)
        if index is None:
            kept = copy.copy(candidate)
            kept.source = "kept"
            index = bisect.bisect_right([c.rw for c in self.candidates], kept.rw)
            self.candidates.insert(index, kept)
        self.selected = index
        self.showing_preview = False
        if self._recorded:
            self.history.update_current(candidates=tuple(self.candidates), selected=index)
        self.candidates_changed.emit()
        self.selection_changed.emit()
        return index

    def select(self, index: int | None) -> None:
        """Select candidate ``index`` of the ranked list (None or out of range: nothing);
        emits ``selection_changed`` on a change."""
        if index is not None and not 0 <= index < len(self.candidates):
            index = None
        if index != self.selected or self.showing_preview:
            self.selected = index
            self.showing_preview = False
            if self._recorded:
                self.history.update_current(selected=index)
            self.selection_changed.emit()

    @property
    def selected_candidate(self) -> Candidate | None:
        """The selected candidate, or None."""
        if self.selected is None or self.selected >= len(self.candidates):
            return None
        return self.candidates[self.selected]

    def set_preview(self, candidate: Candidate | None) -> None:
        """A decoded point shown instead of the selection (a map click, a drag)."""
        self.preview = candidate
        self.showing_preview = candidate is not None
        self.preview_changed.emit()

    @property
    def shown_candidate(self) -> Candidate | None:
        """What the 3-D view and the fit show: the preview or the selected candidate."""
        return self.preview if self.showing_preview else self.selected_candidate

    # --- persistence -------------------------------------------------------------------
    def to_json(self) -> dict:
        """The session as a JSON-ready dict: format, version, model, element, data (r in Å, G
        as encoded float64 arrays), prior (latent units), query, selection, candidates,
        landscape and series."""
        d = self.data
        return {
            "format": SESSION_FORMAT,
            "version": SESSION_VERSION,
            "model": self.model_name,
            "element": self.element,
            "data": None
            if d is None
            else {
                "path": str(d.path) if d.path else None,
                "r": encode_array(d.r, "<f8"),
                "g": encode_array(d.g, "<f8"),
                "metadata": {
                    k: v for k, v in d.metadata.items() if isinstance(v, str | int | float)
                },
            },
            "prior": None
            if self.prior_mean is None
            else {"mean": self.prior_mean.tolist(), "sigma": self.prior_sigma.tolist()},
            "query": asdict(self.query),
            "selected": self.selected,
            "search": {
                "label": self.history.current.label if self.history.current else "search",
                "partial": self.partial,
            },
            "outdated": self.outdated,
            **candidates_to_json(self.candidates),
            **parts_to_json(self.landscape, self.series),
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_json` to ``path`` atomically (an existing file is replaced whole)."""
        atomic_write_text(path, json.dumps(self.to_json()))

    def restore(self, payload: dict) -> None:
        """Restore a saved session (raises ValueError with a clear message if invalid)."""
        if payload.get("format") != SESSION_FORMAT:
            raise ValueError("not a DeepStruc GUI session file")
        if int(payload.get("version", -1)) not in READABLE_VERSIONS:
            raise ValueError(f"session version {payload.get('version')} is not supported")
        try:
            data = payload.get("data")
            if data:
                meta = dict(data.get("metadata") or {})
                self.data = PDFData(
                    path=Path(data["path"]) if data.get("path") else None,
                    r=decode_array(data["r"]),
                    g=decode_array(data["g"]),
                    metadata=meta,
                )
            self.model_name = str(payload.get("model", self.model_name))
            self.element = str(payload.get("element", ""))
            prior = payload.get("prior")
            if prior:
                self.prior_mean = np.asarray(prior["mean"], float)
                self.prior_sigma = np.asarray(prior["sigma"], float)
            q = payload.get("query") or {}
            q["center"] = tuple(q.get("center", (0.0, 0.0)))
            self.query = Query(**q)
            grids = [decode_array(g) for g in payload.get("grids", [])]
            self.candidates = [candidate_from_json(c, grids) for c in payload.get("candidates", [])]
            self.selected = payload.get("selected")
            if self.selected is not None and not 0 <= int(self.selected) < len(self.candidates):
                self.selected = None
            search = payload.get("search") or {}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed session file ({exc})") from exc
        self._undo.clear()
        self._redo.clear()
        self.preview = None
        self.showing_preview = False
        self.history.clear()
        if self.candidates:
            self.record_search(str(search.get("label", "saved")), bool(search.get("partial")))
        self.outdated = str(payload.get("outdated", ""))
        for event in (
            self.data_changed,
            self.model_changed,
            self.prior_changed,
            self.query_changed,
            self.candidates_changed,
            self.selection_changed,
            self.outdated_changed,
        ):
            event.emit()
        self.landscape = restore_parts(payload, self.series)  # after data_changed cleared it
        self.parts_restored.emit()

    @classmethod
    def load_file(cls, path: str | os.PathLike) -> dict:
        """The JSON dict of a session file. Raises ``ValueError`` naming the file when it
        cannot be read or is not JSON."""
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read session ({exc})") from exc
