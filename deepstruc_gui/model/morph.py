"""Morph along a path on the latent map: the decoded structure, and its fit, at evenly
spaced points between two or more chosen points (teaching: how the structure changes
across the map). Qt-free; the window animates the frames and writes them with
:func:`write_gif` / :func:`write_frames` (imageio)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.parameters import FitConfig
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.util.cancel import CancelToken


def path_points(points: Sequence[Sequence[float]], n_frames: int) -> np.ndarray:
    """``n_frames`` (≥ 2) latent points (n_frames, 2) evenly spaced by arc length along
    the polyline through ``points`` ((k ≥ 2, 2), latent units); the first and last are
    the first and last of ``points``. Raises ValueError for fewer than 2 points/frames."""
    p = np.asarray(points, float).reshape(-1, 2)
    if len(p) < 2 or n_frames < 2:
        raise ValueError("a morph needs at least two points and two frames")
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] == 0:
        return np.repeat(p[:1], n_frames, axis=0)
    t = np.linspace(0.0, s[-1], n_frames)
    return np.column_stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])])


def morph_candidates(
    data: PDFData,
    predictor,
    points: Sequence[Sequence[float]],
    n_frames: int,
    fit_config: FitConfig,
    cancel: CancelToken | None = None,
) -> list[Candidate]:
    """Decode and fit each point of :func:`path_points` (in path order): one candidate a
    frame, at the bond length the model reads from ``data``."""
    from deepstruc_gui.model.solve import evaluate_points

    z = path_points(points, n_frames)
    return evaluate_points(data, predictor, z, fit_config, cancel)


def write_gif(path: str | os.PathLike, frames: Sequence[np.ndarray], fps: float = 6.0) -> None:
    """Frames ((h, w, 3 or 4) uint8, equal sizes) as a looping GIF, written atomically."""
    import imageio.v3 as iio

    path = Path(path)
    frames = [np.ascontiguousarray(f[..., :3], dtype=np.uint8) for f in frames]
    if not frames:
        raise ValueError("no frames to write")
    fd, scratch = tempfile.mkstemp(suffix=".gif", dir=path.parent)
    os.close(fd)
    try:
        iio.imwrite(scratch, frames, extension=".gif", duration=1000.0 / fps, loop=0)
        os.replace(scratch, path)
    finally:
        if os.path.exists(scratch):
            os.remove(scratch)


def write_frames(
    stem: str | os.PathLike, frames: Sequence[np.ndarray], dpi: int | None = None
) -> list[Path]:
    """Frames ((h, w, 3 or 4) uint8) as ``<stem>_000.png``, ``<stem>_001.png``, …, with
    ``dpi`` (dots per inch) in each PNG's pHYs chunk when given; returns the paths."""
    import imageio.v3 as iio

    stem = Path(stem)
    paths = []
    for k, frame in enumerate(frames):
        out = stem.with_name(f"{stem.name}_{k:03d}.png")
        options = {"dpi": (float(dpi), float(dpi))} if dpi else {}
        iio.imwrite(out, np.ascontiguousarray(frame[..., :3], dtype=np.uint8), **options)
        paths.append(out)
    return paths
