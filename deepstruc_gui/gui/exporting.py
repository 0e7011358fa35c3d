"""Writing what the user asks for: structures, fits, tables, plots. All atomic."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from ase import Atoms

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.pdf_io import PDFData
from deepstruc_gui.util.atomic import atomic_write, atomic_write_bytes

STRUCTURE_FORMATS = {".xyz": "xyz", ".extxyz": "extxyz", ".cif": "cif"}


def export_structure(path: str | Path, candidate: Candidate, element: str) -> None:
    path = Path(path)
    fmt = STRUCTURE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: choose .xyz, .extxyz or .cif")
    atoms = Atoms(f"{element}{candidate.n_atoms}", positions=candidate.positions)
    if fmt == "cif":  # a cluster in a box with 10 Å of vacuum
        atoms.center(vacuum=10.0)
        atoms.pbc = False
    buffer = io.StringIO()
    atoms.info.update({"rw": candidate.rw, "nearest_type": candidate.nearest_type})
    atoms.write(buffer, format=fmt)
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue())


def export_fit(path: str | Path, candidate: Candidate, data: PDFData) -> None:
    obs = np.interp(candidate.r, data.r, data.g)
    table = np.column_stack([candidate.r, obs, candidate.gcalc, obs - candidate.gcalc])
    with atomic_write(path) as handle:
        handle.write(
            f"# Rw = {candidate.rw:.5f}, scale {candidate.scale:.6g}, expansion "
            f"{candidate.expansion:.5f}, Biso {candidate.biso:.4f}\n"
        )
        handle.write("r,Gobs,Gcalc,diff\n")
        np.savetxt(handle, table, delimiter=",", fmt="%.6g")


def export_table(path: str | Path, candidates: list[Candidate]) -> None:
    with atomic_write(path) as handle:
        handle.write("rank,Rw,atoms,type,scale,expansion,Biso,qdamp,delta2,z1,z2\n")
        for k, c in enumerate(candidates, 1):
            handle.write(
                f"{k},{c.rw:.6f},{c.n_atoms},{c.nearest_type},{c.scale:.6g},"
                f"{c.expansion:.6f},{c.biso:.5f},{c.qdamp:.5f},{c.delta2:.5f},"
                f"{c.latent[0]:.6f},{c.latent[1]:.6f}\n"
            )


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
