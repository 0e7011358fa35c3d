"""Writing what the user asks for from the window: structures, fits, tables, plots.

Structures, fits and tables are written by the Qt-free :mod:`deepstruc_gui.model.export`
(the same files ``predict --out`` writes); only plots need Qt. All writes are atomic.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deepstruc_gui.model import export
from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.util.atomic import atomic_write_bytes

STRUCTURE_FORMATS = export.STRUCTURE_FORMATS


def export_structure(
    path: str | Path,
    candidate: Candidate,
    element: str,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """One candidate as .xyz, .extxyz or .cif (see :func:`export.write_structure`)."""
    export.write_structure(path, candidate, element, provenance)


def export_structures(
    path: str | Path,
    candidates: list[Candidate],
    element: str,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Candidates, best first, as one multi-frame .extxyz."""
    export.write_structures(path, candidates, element, provenance)


def export_fit(
    path: str | Path,
    candidate: Candidate,
    data: PDFData,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """A fit as CSV or PDFgui-style .fgr, by suffix (see :func:`export.write_fit`)."""
    export.write_fit(path, candidate, data, provenance)


def export_table(
    path: str | Path,
    candidates: list[Candidate],
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """The ranked table as CSV (see :func:`export.write_table`)."""
    export.write_table(path, candidates, provenance)


def export_plot(path: str | Path, plot_item) -> None:
    """A pyqtgraph plot as PNG or SVG (rendered to memory, then written atomically)."""
    import tempfile

    import pyqtgraph.exporters as exporters

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"{path.name}: choose .png or .svg")
    exporter = (exporters.ImageExporter if suffix == ".png" else exporters.SVGExporter)(plot_item)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / f"plot{suffix}"
        exporter.export(str(scratch))
        atomic_write_bytes(path, scratch.read_bytes())
