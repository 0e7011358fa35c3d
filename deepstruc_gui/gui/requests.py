"""What the window asks the worker to do, and what comes back: frozen, typed, Qt-free.

Every kind of work is one frozen dataclass with a *lane*. The worker
(:mod:`deepstruc_gui.gui.worker`) keeps only the newest request of each lane: a newer
one replaces a queued one and cancels a running one, and a result whose request is
not the newest of its lane is never delivered ("newest request wins", as silx and
pyFAI do it). Nobody else checks request ids.

Adding a kind of work (a Rw landscape, a series, …): write a ``Request`` subclass
with its ``lane``, ``priority`` and ``supersedes``; a result dataclass; and a handler
registered with :func:`deepstruc_gui.gui.worker.handles`. A presenter submits the
request and reacts to ``Worker.delivered(request, result)`` for its own types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.parameters import FitConfig
from deepstruc_gui.science.pdf_io import PDFData


@dataclass(frozen=True, eq=False)
class Request:
    """Base of all requests. ``id`` is set by ``Worker.submit`` (0 = not submitted).

    Class attributes: ``lane`` (newest of a lane wins), ``priority`` (lower runs first
    when several lanes wait), ``supersedes`` (other lanes whose *running* job a new
    request of this lane cancels: their results would belong to the old state),
    ``background`` (work nobody waits for: a request of any other lane cancels it
    when it is running, and it does not count as busy).
    """

    lane: ClassVar[str] = ""
    priority: ClassVar[int] = 99
    supersedes: ClassVar[tuple[str, ...]] = ()
    background: ClassVar[bool] = False
    id: int = field(default=0, kw_only=True)


@dataclass(frozen=True, eq=False)
class LoadModel(Request):
    """Load a model bundle (a ``.pt`` file or folder) and make it the worker's model."""

    lane: ClassVar[str] = "model"
    priority: ClassVar[int] = 0
    supersedes: ClassVar[tuple[str, ...]] = (
        "prior", "decode", "solve", "landscape", "refine", "compare",
    )  # fmt: skip
    path: Path


@dataclass(frozen=True, eq=False)
class Prior(Request):
    """Place the data on the latent map: the prior's mean and σ (latent units, (2,))."""

    lane: ClassVar[str] = "prior"
    priority: ClassVar[int] = 1
    supersedes: ClassVar[tuple[str, ...]] = ("solve",)
    data: PDFData


@dataclass(frozen=True, eq=False)
class Decode(Request):
    """Decode one latent point ``z`` = (z₁, z₂) and fit it to ``data`` (a preview).

    ``label`` says what the point is (``"live "`` while dragging, a training name).
    """

    lane: ClassVar[str] = "decode"
    priority: ClassVar[int] = 2
    data: PDFData
    z: tuple[float, float]
    fit_config: FitConfig
    label: str = ""


@dataclass(frozen=True, eq=False)
class Solve(Request):
    """Decode, fit and rank many points: ``n_samples`` in the ellipse of ``semi_axes``
    (latent units) around ``center``, or, with ``whole_map``, every distinct training
    point of the map (then ``center``, ``semi_axes`` and ``n_samples`` are unused).
    ``seed`` None draws fresh points; ``batch_size`` points per delivered batch.
    ``search``: ``"default"`` (the pipeline's: Rw landscape and region, then the size
    extension when the data call for it) or ``"region"`` (the paper's region search).
    """

    lane: ClassVar[str] = "solve"
    priority: ClassVar[int] = 3
    data: PDFData
    fit_config: FitConfig
    center: tuple[float, float]
    semi_axes: tuple[float, float]
    n_samples: int
    whole_map: bool = False
    seed: int | None = None
    batch_size: int = 100
    search: str = "default"


@dataclass(frozen=True, eq=False)
class ComputeLandscape(Request):
    """The Rw landscape of ``data`` over the whole latent map
    (:func:`deepstruc_gui.model.landscape.compute_landscape`), streamed as
    :class:`LandscapeUpdate` snapshots."""

    lane: ClassVar[str] = "landscape"
    priority: ClassVar[int] = 4
    data: PDFData
    fit_config: FitConfig


@dataclass(frozen=True, eq=False)
class PrepareLandscape(Request):
    """Decode and histogram every map and grid point of a landscape before any data
    are loaded (:func:`deepstruc_gui.model.landscape.prepare_landscape`): they do not
    depend on the data, so the first landscape and default search then take what
    later ones take. Background work: anything the user asks for cancels it, and what
    it prepared so far is kept."""

    lane: ClassVar[str] = "prepare"
    priority: ClassVar[int] = 90
    background: ClassVar[bool] = True


@dataclass(frozen=True, eq=False)
class Refine(Request):
    """The "Refine here" job: a local optimisation of the latent point ``z`` with scale,
    expansion and ADP (:func:`deepstruc_gui.model.snap.snap`); streams
    :class:`RefineStep`, ends with :class:`Refined`."""

    lane: ClassVar[str] = "refine"
    priority: ClassVar[int] = 2
    data: PDFData
    z: tuple[float, float]
    fit_config: FitConfig


@dataclass(frozen=True, eq=False)
class Refit(Request):
    """Fit ``candidates`` again with a new ``fit_config`` (fit range, refinement
    flags), without decoding: in the solve lane, as it replaces the table."""

    lane: ClassVar[str] = "solve"
    priority: ClassVar[int] = 3
    data: PDFData
    fit_config: FitConfig
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True, eq=False)
class Morph(Request):
    """Decode and fit ``n_frames`` points along the path through ``points`` (latent
    units) for an animation (:func:`deepstruc_gui.model.morph.morph_candidates`)."""

    lane: ClassVar[str] = "morph"
    priority: ClassVar[int] = 2
    data: PDFData
    fit_config: FitConfig
    points: tuple[tuple[float, float], ...]
    n_frames: int = 24


@dataclass(frozen=True, eq=False)
class Reconstruct(Request):
    """Rebuild training structure ``index`` of the map and decode its map point
    (:func:`deepstruc_gui.model.reconstruction.reconstruct`): the side-by-side view."""

    lane: ClassVar[str] = "compare"
    priority: ClassVar[int] = 2
    index: int


# --- results -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ModelLoaded:
    bundle: Any  # deepstruc_gui.model.bundle.ModelBundle
    device: str  # e.g. "cpu", "cuda:0 (NVIDIA …)"


@dataclass(frozen=True, eq=False)
class PriorReady:
    mean: np.ndarray  # (2,) latent units
    sigma: np.ndarray  # (2,) latent units
    bond_length: float  # Å, the first-peak bond length the model reads from the PDF


@dataclass(frozen=True, eq=False)
class Decoded:
    candidate: Candidate


@dataclass(frozen=True, eq=False)
class Batch:
    """All candidates so far, best Rw first, after ``done`` of ``total`` points;
    ``stage``: what runs after the model's search (the size extension, a sentence),
    with ``done``/``total`` then its share done; "" during the model's search."""

    ranked: list[Candidate]
    done: int
    total: int
    stage: str = ""


@dataclass(frozen=True, eq=False)
class StageProgress:
    """A stage after the model's search (the size extension) is running: ``stage`` says
    what it does, ``fraction`` how much of it is done (0–1)."""

    stage: str
    fraction: float


@dataclass(frozen=True, eq=False)
class Solved:
    """What a finished search rests on (sent before its ``Done``): ``warnings``
    (``Diagnostic``/``Finding`` objects with ``.code`` and ``.message``: data, result
    and the search's findings), ``notes`` (sentences), ``search`` (which search ran)."""

    warnings: list
    notes: list[str]
    search: str


@dataclass(frozen=True, eq=False)
class LandscapeUpdate:
    """A snapshot of the Rw landscape being computed (``landscape.complete`` at the end)."""

    landscape: Any  # deepstruc_gui.model.landscape.Landscape


@dataclass(frozen=True, eq=False)
class RefineStep:
    """The path so far of a "Refine here": (k, 2) latent points, start first."""

    path: np.ndarray


@dataclass(frozen=True, eq=False)
class Refined:
    """A finished "Refine here": its path (k, 2), the Rw along it (k,), the refined
    candidate and the one it started from."""

    path: np.ndarray
    rw_path: np.ndarray
    best: Candidate
    start: Candidate


@dataclass(frozen=True, eq=False)
class Done:
    """The request ran to its end (sent after its last result)."""


@dataclass(frozen=True, eq=False)
class Failed:
    message: str  # "ExceptionType: text", for a dialog


@dataclass(frozen=True, eq=False)
class Morphed:
    """One candidate a frame, in path order."""

    frames: list[Candidate]


@dataclass(frozen=True, eq=False)
class Reconstructed:
    """A training structure and its reconstruction, with their matched error."""

    reconstruction: Any  # deepstruc_gui.model.reconstruction.Reconstruction
