"""The session: everything the user has loaded, asked for and received.

Plain Python objects with events. Views observe them and call the methods below with
the user's intent; nothing here knows about Qt or threads.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.state.events import Event
from deepstruc_gui.state.series import SeriesState
from deepstruc_gui.state.session_parts import parts_to_json, restore_parts
from deepstruc_gui.util.atomic import atomic_write_text

SESSION_FORMAT = "deepstruc-session"
SESSION_VERSION = 2
#: versions this code reads: 1 wrote arrays as JSON lists of numbers
READABLE_VERSIONS = (1, 2)
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
        self._undo: list[Query] = []
        self._redo: list[Query] = []
        self.data_changed = Event()
        self.model_changed = Event()
        self.prior_changed = Event()
        self.query_changed = Event()
        self.candidates_changed = Event()
        self.selection_changed = Event()
        self.preview_changed = Event()
        self.landscape = None  # the Rw landscape of the data (model.landscape.Landscape)
        self.series = SeriesState()  # the watched folder's frames
        self.parts_restored = Event()  # landscape and series read from a session file

    # --- data and model ---------------------------------------------------------
    def set_data(self, data: PDFData) -> None:
        self.data = data
        self.element = data.main_element or self.element
        self.prior_mean = self.prior_sigma = None
        self.clear_candidates()
        self.data_changed.emit()

    def set_model(self, name: str) -> None:
        if name != self.model_name:
            self.model_name = name
            self.prior_mean = self.prior_sigma = None
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
        new = replace(self.query, **changes)
        if new == self.query:
            return
        if undoable:
            self._undo.append(self.query)
            self._redo.clear()
        self.query = new
        self.query_changed.emit()

    def move_center(self, x: float, y: float, undoable: bool = True) -> None:
        self.update_query(undoable=undoable, center=(float(x), float(y)))

    def back_to_prior(self) -> None:
        if self.prior_mean is not None:
            self.move_center(*self.prior_mean)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo(self) -> None:
        if self._undo:
            self._redo.append(self.query)
            self.query = self._undo.pop()
            self.query_changed.emit()

    def redo(self) -> None:
        if self._redo:
            self._undo.append(self.query)
            self.query = self._redo.pop()
            self.query_changed.emit()

    def region_radius(self) -> np.ndarray:
        return self.query.radius(self.prior_sigma)

    # --- results ---------------------------------------------------------------------
    def set_candidates(self, candidates: list[Candidate]) -> None:
        """Ranked candidates (best first); the best is selected when nothing else is."""
        self.candidates = list(candidates)
        if self.candidates and (self.selected is None or self.selected >= len(self.candidates)):
            self.selected = 0
        self.candidates_changed.emit()
        self.selection_changed.emit()

    def clear_candidates(self) -> None:
        self.candidates = []
        self.selected = None
        self.candidates_changed.emit()
        self.selection_changed.emit()

    def select(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.candidates):
            index = None
        if index != self.selected:
            self.selected = index
            self.selection_changed.emit()

    @property
    def selected_candidate(self) -> Candidate | None:
        if self.selected is None or self.selected >= len(self.candidates):
            return None
        return self.candidates[self.selected]

    def set_preview(self, candidate: Candidate | None) -> None:
        """The live decode of the point under the marker (while dragging)."""
        self.preview = candidate
        self.preview_changed.emit()

    # --- persistence -------------------------------------------------------------------
    def to_json(self) -> dict:
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
            **_candidates_to_json(self.candidates),
            **parts_to_json(self.landscape, self.series),
        }

    def save(self, path: str | os.PathLike) -> None:
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
            self.candidates = [
                _candidate_from_json(c, grids) for c in payload.get("candidates", [])
            ]
            self.selected = payload.get("selected")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed session file ({exc})") from exc
        self._undo.clear()
        self._redo.clear()
        for event in (
            self.data_changed,
            self.model_changed,
            self.prior_changed,
            self.query_changed,
            self.candidates_changed,
            self.selection_changed,
        ):
            event.emit()
        self.landscape = restore_parts(payload, self.series)  # after data_changed cleared it
        self.parts_restored.emit()

    @classmethod
    def load_file(cls, path: str | os.PathLike) -> dict:
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read session ({exc})") from exc


def encode_array(a: np.ndarray, dtype: str = "<f4") -> dict:
    """An array as base64 of its little-endian bytes.

    Written as lists of decimal numbers, a whole-map search (3,000 fitted curves of
    ~2,000 points) took seconds to save, on the GUI thread, after every search; as
    bytes it takes milliseconds and a third of the space. float32 keeps positions to
    ~1e-6 Å·(size) and curves to 7 digits.
    """
    arr = np.ascontiguousarray(a, dtype=dtype)
    return {"dtype": dtype, "shape": list(arr.shape), "b64": base64.b64encode(arr).decode()}


def decode_array(d) -> np.ndarray:
    """Inverse of :func:`encode_array`; also reads version-1 lists of numbers."""
    if isinstance(d, dict):
        raw = base64.b64decode(d["b64"], validate=True)
        return np.frombuffer(raw, dtype=np.dtype(d["dtype"])).reshape(d["shape"]).astype(float)
    return np.asarray(d, float)


def _candidates_to_json(candidates: list[Candidate]) -> dict:
    """Candidates, with each distinct fit grid written once (a search shares one)."""
    grids: list[np.ndarray] = []
    out = []
    for c in candidates:
        k = next((i for i, g in enumerate(grids) if g is c.r or np.array_equal(g, c.r)), len(grids))
        if k == len(grids):
            grids.append(c.r)
        out.append(
            {
                "latent": c.latent.tolist(),
                "positions": encode_array(c.positions),
                "n_atoms": c.n_atoms,
                "rw": c.rw,
                "scale": c.scale,
                "expansion": c.expansion,
                "biso": c.biso,
                "qdamp": c.qdamp,
                "delta2": c.delta2,
                "nearest_type": c.nearest_type,
                "source": c.source,
                "shape": c.shape,
                "grid": k,
                "gcalc": encode_array(c.gcalc),
            }
        )
    return {"grids": [encode_array(g, "<f8") for g in grids], "candidates": out}


def _candidate_from_json(d: dict, grids: list[np.ndarray]) -> Candidate:
    return Candidate(
        latent=np.asarray(d["latent"], float),
        positions=decode_array(d["positions"]).reshape(-1, 3),
        n_atoms=int(d["n_atoms"]),
        rw=float(d["rw"]),
        scale=float(d["scale"]),
        expansion=float(d["expansion"]),
        biso=float(d["biso"]),
        qdamp=float(d["qdamp"]),
        delta2=float(d["delta2"]),
        nearest_type=str(d["nearest_type"]),
        source=str(d.get("source", "model")),
        shape=str(d.get("shape", "")),
        r=grids[int(d["grid"])] if "grid" in d else decode_array(d["r"]),
        gcalc=decode_array(d["gcalc"]),
    )
