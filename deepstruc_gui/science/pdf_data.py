"""The G(r) a file held, and the error for a file that cannot be used.

``PDFData`` is what :func:`deepstruc_gui.science.pdf_io.read_pdf` returns and what
simulated curves are wrapped in; ``PDFReadError`` is the one error every reader path
raises (``"FILE:LINE: problem"``). Plain numpy; no file access here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase.data import atomic_numbers

from deepstruc_gui.science.grid import to_model_grid

__all__ = ["PDFData", "PDFReadError", "heaviest_element"]

_ELEMENT = re.compile(r"[A-Z][a-z]?")


class PDFReadError(ValueError):
    """A G(r) file that cannot be used; ``str(e)`` is ``"FILE:LINE: problem"``.

    ``path``, ``line`` (1-based, or None when no single line is to blame) and ``problem``
    are kept as attributes so the GUI can show or highlight them separately.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str, line: int | None = None):
        self.path = os.fspath(path)
        self.problem = problem
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # keep it picklable (worker processes) despite the custom __init__
        return (type(self), (self.path, self.problem, self.line))


@dataclass(eq=False)
class PDFData:
    """A measured (or simulated) G(r) with whatever the file header told about it."""

    path: Path | None
    r: np.ndarray
    g: np.ndarray
    dg: np.ndarray | None = None
    metadata: dict[str, float | str] = field(default_factory=dict)
    #: how the reader knew this is G(r) ("column labels 'r(Å) G(Å^-2)'", …); "" when made in code
    recognised_from: str = ""
    #: conversions applied while reading (nm → Å, a PDFgui fit's Gcalc + Gdiff, …)
    conversions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.r = np.asarray(self.r, dtype=np.float64)
        self.g = np.asarray(self.g, dtype=np.float64)
        if self.r.ndim != 1 or self.r.shape != self.g.shape:
            raise ValueError(f"r and G must be 1-D of equal length: {self.r.shape}, {self.g.shape}")
        if self.dg is not None:
            self.dg = np.asarray(self.dg, dtype=np.float64)
            if self.dg.shape != self.r.shape:
                raise ValueError(f"dG has shape {self.dg.shape}, r has {self.r.shape}")
        if self.path is not None:
            self.path = Path(self.path)

    @property
    def name(self) -> str:
        """File name for titles and messages."""
        return self.path.name if self.path is not None else "<unsaved data>"

    @property
    def main_element(self) -> str | None:
        """The metal of the particle: the heaviest element in ``composition``.

        Ligands and solvents are light (``Au144 S60 C180`` -> ``Au``), so the heaviest
        element is the one whose cluster the model should look for.
        """
        composition = self.metadata.get("composition")
        if not isinstance(composition, str):
            return None
        return heaviest_element(composition)

    def model_input(self) -> np.ndarray:
        """(2800,) float32 on ``MODEL_R``, max-normalised: what the network takes."""
        try:
            return to_model_grid(self.r, self.g)
        except ValueError as exc:
            raise PDFReadError(self.path or "<unsaved data>", str(exc)) from None


def heaviest_element(composition: str) -> str | None:
    """Heaviest element symbol in a formula such as ``"Au144 S60 C180"`` or ``"PtNi3"``."""
    symbols = [s for s in _ELEMENT.findall(composition) if s in atomic_numbers]
    if not symbols:
        word = composition.strip().capitalize()  # "pt" or "PT" written by hand
        symbols = [word] if word in atomic_numbers else []
    if not symbols:
        return None
    return max(symbols, key=lambda s: atomic_numbers[s])


def checked_curve(r, g, min_points: int) -> tuple[np.ndarray, np.ndarray]:
    """``r`` (Å) and ``g`` as float64 arrays after the checks every analysis of a G(r)
    curve needs: 1-D, equal length, at least ``min_points``, finite, r strictly
    increasing. Raises ``ValueError`` naming what is wrong."""
    r_arr = np.asarray(r, dtype=np.float64)
    g_arr = np.asarray(g, dtype=np.float64)
    if r_arr.ndim != 1 or r_arr.shape != g_arr.shape or r_arr.size < min_points:
        raise ValueError(f"r and G must be 1-D arrays of equal length (≥ {min_points} points)")
    if not (np.all(np.isfinite(r_arr)) and np.all(np.isfinite(g_arr))):
        raise ValueError("r and G must be finite")
    if np.any(np.diff(r_arr) <= 0):
        raise ValueError("r must be strictly increasing")
    return r_arr, g_arr
