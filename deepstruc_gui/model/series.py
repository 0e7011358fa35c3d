"""Solve a series of PDFs frame by frame, each warm-started from the one before.

At a beamline a series of reduced PDFs (in-situ heating, growth, reaction) arrives one
frame at a time, and consecutive frames are similar. :class:`SeriesSolver` therefore
searches each frame first around the previous frame's best latent point (a small
region, a few dozen candidates, plus the clusters the size extension built for it,
fitted again) and runs the full single-file search — the one
``predict`` runs — only for the first frame and whenever that warm start fits worse
than the last full search did (the structure changed, or the warm start lost it).

Each frame gives a :class:`FrameRecord`: file, time stamp, best Rw, type, atom count,
refined scale/expansion/Biso, latent point, warnings, or a clear error for a file that
cannot be used (the series then goes on). :class:`SeriesWriter` appends each record, as
it is made, to CSV and JSON-lines files.

Method: DeepStruc (Kjær, Anker et al., Digital Discovery 2, 69–80 (2023),
doi:10.1039/d2dd00086e), solved per frame; the warm start is this project's.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from deepstruc_gui.model.candidate import BUILT_SOURCES, Candidate
from deepstruc_gui.model.pipeline import (
    SolveResult,
    SolveSettings,
    result_warnings,
    run_solve,
    warning_dict,
)
from deepstruc_gui.science.pdf_io import PDFData, PDFReadError

#: columns of the series table (CSV and the window's table), in order
COLUMNS = (
    "frame", "file", "time", "status", "rw", "type", "n_atoms", "scale", "expansion",
    "biso", "bond_length", "z1", "z2", "search", "seconds", "warnings", "error",
)  # fmt: skip


@dataclass
class FrameRecord:
    """The outcome of one frame. ``status`` is ``"ok"`` or ``"error"`` (then ``error``
    holds the reader's or the search's message and the numbers are NaN).

    ``time``: the file's modification time (ISO 8601, UTC); ``rw``: PDFgui's unweighted
    Rw of the best candidate over the fit range; ``expansion``: its refined isotropic
    expansion factor; ``bond_length``: the nearest-neighbour distance the model read
    from the data times that factor (Å); ``biso``: refined B (Å²); ``z1``, ``z2``: its
    latent point; ``search``: ``"warm"`` (around the previous frame's best) or the full
    search's description; ``warnings``: ``{"code", "message"}`` dicts.
    ``candidate``: the best :class:`Candidate`, ``result``: the whole
    :class:`~deepstruc_gui.model.pipeline.SolveResult`, ``data``: the frame's G(r)
    (none of these three is written to files).
    """

    frame: int
    file: str
    time: str
    status: str = "ok"
    rw: float = math.nan
    type: str = ""
    n_atoms: int | None = None
    scale: float = math.nan
    expansion: float = math.nan
    biso: float = math.nan
    bond_length: float = math.nan
    z1: float = math.nan
    z2: float = math.nan
    search: str = ""
    seconds: float = 0.0
    warnings: list[dict[str, str]] = field(default_factory=list)
    error: str = ""
    candidate: Candidate | None = field(default=None, repr=False, compare=False)
    result: SolveResult | None = field(default=None, repr=False, compare=False)
    data: PDFData | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when this frame was solved (``status`` == "ok")."""
        return self.status == "ok"

    @property
    def latent(self) -> np.ndarray:
        """(2,) latent point of the best candidate (NaN for an error)."""
        return np.array([self.z1, self.z2], dtype=float)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (NaN as None), in ``COLUMNS`` order."""
        out: dict[str, Any] = {}
        for name in COLUMNS:
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            out[name] = value
        return out

    def to_row(self) -> list[str]:
        """The CSV row: numbers with 6 significant digits, warnings as ``code: message``
        joined by ``" | "``, empty cells for missing values."""
        row = []
        for name, value in self.to_dict().items():
            if value is None:
                row.append("")
            elif name == "warnings":
                row.append(" | ".join(f"{w['code']}: {w['message']}" for w in value))
            elif isinstance(value, float):
                row.append(f"{value:.6g}")
            else:
                row.append(str(value))
        return row

    @classmethod
    def failed(cls, frame: int, path: Path, message: str, stamp_time: str) -> FrameRecord:
        """A record for a frame that could not be solved, with its error message."""
        return cls(frame, str(path), stamp_time, status="error", error=message)


def file_time(path: Path) -> str:
    """The file's modification time as ISO 8601 UTC (empty when it cannot be read)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return ""
    return _dt.datetime.fromtimestamp(mtime, _dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class SeriesSettings:
    """How each frame is searched.

    ``search``: the full single-file search (the settings ``predict`` takes: fit range,
    samples, region, seed, fallback, element); ``warm``: False runs it on every frame.
    ``warm_samples``: latent points of the warm start, drawn around the previous
    frame's best point in a region of ``warm_sigma`` × the previous prior's σ, or of
    radius ``warm_radius`` (latent units) when given, together with the previous
    frame's best ``warm_built`` clusters of the size extension, fitted again. The warm
    start is kept while its best Rw is at most ``ref·(1 + rel_tolerance) +
    abs_tolerance``, ``ref`` the best Rw of the last full search; otherwise the frame
    gets the full search. The search's seed makes a restarted series give the same
    answers.
    """

    search: SolveSettings = field(default_factory=SolveSettings)
    warm: bool = True
    warm_samples: int = 24
    warm_sigma: float = 0.5
    warm_radius: float | None = None
    warm_built: int = 6
    rel_tolerance: float = 0.10
    abs_tolerance: float = 0.01

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.warm_samples <= self.search.samples:
            problems.append(
                f"warm samples must be 1–{self.search.samples} (the full search's), "
                f"not {self.warm_samples}"
            )
        if not (self.warm_sigma > 0 and (self.warm_radius is None or self.warm_radius > 0)):
            problems.append("the warm region must have a positive size")
        if self.warm_built < 0:
            problems.append(f"warm built clusters must be 0 or more, not {self.warm_built}")
        if not (self.rel_tolerance >= 0 and self.abs_tolerance >= 0):
            problems.append("the warm start's tolerances must not be negative")
        if self.search.whole_map or self.search.center is not None:
            problems.append("a series searches around each frame's prior: no whole map, no centre")
        if problems:
            raise ValueError("; ".join(problems))


class SeriesSolver:
    """Solves frames in order, warm-starting each from the last (see module docstring).

    ``predictor``: a loaded :class:`~deepstruc_gui.model.inference.Predictor`. Every
    search goes through :func:`~deepstruc_gui.model.pipeline.run_solve`, so a frame's
    candidates, warnings and fit are those the window and ``predict`` give.
    :meth:`solve_frame` never raises for a bad file: it returns an error record.
    ``cancel``: checked between batches (``Cancelled`` propagates).
    """

    def __init__(self, predictor, settings: SeriesSettings | None = None, cancel=None) -> None:
        self.predictor = predictor
        self.settings = settings or SeriesSettings()
        self.cancel = cancel
        self._last: SolveResult | None = None  # previous frame's result
        self._reference_rw: float | None = None  # best Rw of the last full search
        self.full_searches = 0
        self.frames = 0

    def reset(self) -> None:
        """Forget the previous frame: the next one gets the full search."""
        self._last = None
        self._reference_rw = None

    def solve_frame(
        self, frame: int, path: Path, data: PDFData | None, error: str = ""
    ) -> FrameRecord:
        """Solve one frame read from ``path`` (``data`` None: ``error`` says why)."""
        stamp_time = file_time(path)
        self.frames += 1
        if data is None:
            return FrameRecord.failed(frame, path, error or f"{path}: unreadable", stamp_time)
        t0 = time.perf_counter()
        try:
            result = self.search(data)
        except (PDFReadError, ValueError) as exc:
            message = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
            return FrameRecord.failed(frame, path, message, stamp_time)
        best = result.best
        if best is None:
            return FrameRecord.failed(
                frame, path, f"{path}: the search gave no candidates", stamp_time
            )
        return FrameRecord(
            frame=frame,
            file=str(path),
            time=stamp_time,
            rw=float(best.rw),
            type=best.nearest_type,
            n_atoms=int(best.n_atoms),
            scale=float(best.scale),
            expansion=float(best.expansion),
            biso=float(best.biso),
            bond_length=float(result.bond_length * best.expansion),
            z1=float(best.latent[0]),
            z2=float(best.latent[1]),
            search=result.search,
            seconds=time.perf_counter() - t0,
            warnings=[warning_dict(w) for w in result.warnings],
            candidate=best,
            result=result,
            data=data,
        )

    def search(self, data: PDFData) -> SolveResult:
        """The warm start when it holds, else the full search; ``result.search`` is
        ``"warm"`` or the full search's own description. When the full search's best
        fits worse than the rejected warm start's, the warm candidates join the ranking
        (the best structure found wins; ``search`` says so)."""
        s = self.settings
        last = self._last
        warm = None
        centre = _warm_centre(last)
        if s.warm and centre is not None and self._reference_rw:
            radius = s.warm_radius
            if radius is None:  # never wider than the full search's region
                radius = min(s.warm_sigma, s.search.sigma) * np.asarray(last.prior_sigma)
            # a plain region search: the landscape and the size extension belong to the
            # full search (a warm start that ran them would cost as much as one)
            warm = run_solve(
                data,
                self.predictor,
                replace(
                    s.search,
                    search="region",
                    center=centre,
                    radius=tuple(np.broadcast_to(np.asarray(radius, float), (2,))),
                    samples=s.warm_samples,
                    fallback=False,
                    size_extension=False,
                    sequence_search=False,
                ),
                cancel=self.cancel,
            )
            # the clusters the size extension or the sequence search built for the last
            # frame, fitted again: the region alone reaches neither a particle beyond the
            # training sizes nor a stacking the map does not hold
            built = [c for c in last.candidates if c.source in BUILT_SOURCES]
            refitted = []
            if built and s.warm_built:
                refitted = refit_built(
                    data,
                    built[: s.warm_built],
                    warm.fit_config,
                    self.predictor.device,
                    self.cancel,
                    qdamp_known=warm.parameter_sources.get("qdamp") != "model default",
                )
            if refitted:
                for c in refitted:
                    c.element = warm.element
                warm.candidates = sorted(warm.candidates + refitted, key=lambda c: c.rw)
                warm.warnings = result_warnings(
                    data, warm.candidates, self.predictor.bundle.metadata, warm.fit_config
                )
            limit = self._reference_rw * (1 + s.rel_tolerance) + s.abs_tolerance
            if warm.best is not None and warm.best.rw <= limit:
                warm.search = "warm"
                self._last = warm
                return warm
        full = run_solve(data, self.predictor, s.search, cancel=self.cancel)
        self.full_searches += 1
        # the full search can miss what the warm start found: the best found wins
        if (
            warm is not None
            and warm.best is not None
            and full.best is not None
            and (warm.best.rw < full.best.rw)
        ):
            full.candidates = sorted(full.candidates + warm.candidates, key=lambda c: c.rw)
            full.search += ", and the warm start fitted better"
        self._last = full
        self._reference_rw = float(full.best.rw) if full.best is not None else None
        return full


def refit_built(*args, **kwargs) -> list[Candidate]:
    """:func:`deepstruc_gui.model.built_fit.refit_built`, imported when a series
    first needs it: it loads torch, and the window imports this module at start-up."""
    from deepstruc_gui.model.built_fit import refit_built as refit

    return refit(*args, **kwargs)


def _warm_centre(last: SolveResult | None) -> tuple[float, float] | None:
    """The latent point of the previous frame's best candidate from the model (one
    built by the size extension has none: its cluster is fitted again instead)."""
    if last is None:
        return None
    for candidate in last.candidates:
        z = np.asarray(candidate.latent, float)
        if z.shape == (2,) and np.isfinite(z).all():
            return (float(z[0]), float(z[1]))
    return None


class SeriesWriter:
    """Appends each record to a CSV and/or JSON-lines file as it comes, flushed, so an
    interrupted series keeps every finished frame. Existing files are replaced."""

    def __init__(self, csv_path: str | os.PathLike | None, jsonl_path: str | os.PathLike | None):
        self._csv_fh: IO[str] | None = None
        self._jsonl_fh: IO[str] | None = None
        if csv_path is not None:
            Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
            self._csv_fh = open(csv_path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._csv = csv.writer(self._csv_fh)
            self._csv.writerow(COLUMNS)
            self._csv_fh.flush()
        if jsonl_path is not None:
            Path(jsonl_path).parent.mkdir(parents=True, exist_ok=True)
            self._jsonl_fh = open(jsonl_path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, record: FrameRecord) -> None:
        """Append one record to the CSV and/or JSON-lines file and flush."""
        if self._csv_fh is not None:
            self._csv.writerow(record.to_row())
            self._csv_fh.flush()
        if self._jsonl_fh is not None:
            self._jsonl_fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            self._jsonl_fh.flush()

    def close(self) -> None:
        """Close both output files (safe to call twice)."""
        for fh in (self._csv_fh, self._jsonl_fh):
            if fh is not None:
                fh.close()
        self._csv_fh = self._jsonl_fh = None

    def __enter__(self) -> SeriesWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def records_csv(records: list[FrameRecord]) -> str:
    """The series table as CSV text (header ``COLUMNS``), for the window's export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(r.to_row() for r in records)
    return buffer.getvalue()


def read_records_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    """Rows of a series CSV as dicts of strings (for tests and re-reading exports)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
