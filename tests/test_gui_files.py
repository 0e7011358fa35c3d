"""File › Export as a user does it: the menu's dialogs (the save dialog answered by the
test), every advertised format written and read back, provenance in the headers, and
a failed write that becomes a dialog rather than nothing."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest
from ase.cluster import Octahedron
from PySide6.QtWidgets import QFileDialog
from test_gui_controls import window  # noqa: F401  (the fixture: real window, fake worker)

from deepstruc_gui.gui.requests import Batch, Done, Solve
from deepstruc_gui.model.candidate import Candidate


def _candidates(data) -> list[Candidate]:
    """Two Pt octahedra (19 and 44 atoms) with made-up fits, best first."""
    out = []
    for k, (length, rw) in enumerate(((3, 0.21), (4, 0.34))):
        pos = Octahedron("Pt", length).positions
        pos = pos - pos.mean(axis=0)
        r = data.r[(data.r >= 2) & (data.r <= 30)]
        out.append(
            Candidate(
                latent=np.array([0.1 * k, -0.2]),
                positions=pos,
                n_atoms=len(pos),
                rw=rw,
                scale=0.9,
                expansion=1.01,
                biso=0.4,
                qdamp=0.03,
                delta2=2.0,
                nearest_type="octahedral",
                r=r,
                gcalc=np.sin(r) * (k + 1),
            )
        )
    return out


@pytest.fixture
def solved(window, monkeypatch):  # noqa: F811
    fake = window.worker
    solve = fake.last(Solve)
    cands = _candidates(window.session.data)
    fake.delivered.emit(solve, Batch(cands, 2, 2))
    fake.delivered.emit(solve, Done())
    assert window.session.selected_candidate is cands[0]
    answers: list[str] = []

    def answer(*args, **kwargs):
        return answers.pop(0), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    window.answers = answers
    return window


def _export(win, menu_text: str, path) -> None:
    win.answers.append(str(path))
    export_menu = next(
        a.menu() for a in win.menuBar().actions()[0].menu().actions() if a.text() == "&Export"
    )
    action = next(a for a in export_menu.actions() if a.text().startswith(menu_text))
    action.trigger()
    assert not win.answers, "the dialog was not asked"


@pytest.mark.parametrize("suffix", [".xyz", ".extxyz", ".cif"])
def test_selected_structure_round_trips(solved, tmp_path, suffix) -> None:
    best = solved.session.selected_candidate
    path = tmp_path / f"best{suffix}"
    _export(solved, "Selected Structure", path)
    assert solved.errors == []
    atoms = ase.io.read(path)
    assert len(atoms) == best.n_atoms and set(atoms.get_chemical_symbols()) == {"Pt"}
    d = atoms.get_all_distances()
    assert np.allclose(np.sort(d, axis=None), np.sort(_distances(best.positions), axis=None))


def _distances(pos: np.ndarray) -> np.ndarray:
    return np.linalg.norm(pos[:, None] - pos[None], axis=-1)


def test_top_candidates_are_one_multi_frame_extxyz(solved, tmp_path) -> None:
    path = tmp_path / "top.extxyz"
    _export(solved, "Top Candidates", path)
    frames = ase.io.read(path, index=":")
    assert [len(f) for f in frames] == [c.n_atoms for c in solved.session.candidates]
    assert frames[0].info["rw"] == pytest.approx(0.21)
    assert "JQ_S1.gr" in str(frames[0].info.get("data_file"))


@pytest.mark.parametrize("suffix", [".csv", ".fgr"])
def test_selected_fit_round_trips_with_its_header(solved, tmp_path, suffix) -> None:
    best = solved.session.selected_candidate
    path = tmp_path / f"fit{suffix}"
    _export(solved, "Selected Fit", path)
    text = path.read_text()
    assert "JQ_S1.gr" in text and "random" in text  # data file and model
    table = np.loadtxt(
        path,
        delimiter="," if suffix == ".csv" else None,
        comments="#",
        skiprows=0 if suffix == ".fgr" else _header_rows(text),
    )
    r, gobs, gcalc, gdiff = table.T
    assert np.allclose(r, best.r) and np.allclose(gcalc, best.gcalc, atol=1e-6)
    assert np.allclose(gdiff, gobs - gcalc, atol=1e-6)


def _header_rows(text: str) -> int:
    lines = text.splitlines()
    return next(i for i, line in enumerate(lines) if line.startswith("r,")) + 1


def test_table_round_trips(solved, tmp_path) -> None:
    path = tmp_path / "table.csv"
    _export(solved, "Candidates Table", path)
    rows = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    assert rows[0].startswith("rank,Rw,atoms")
    assert [float(row.split(",")[1]) for row in rows[1:]] == [0.21, 0.34]


def test_a_failed_export_is_a_dialog(solved, tmp_path) -> None:
    (tmp_path / "a file").write_text("")
    _export(solved, "Selected Structure", tmp_path / "a file" / "c.cif")  # not a folder
    assert solved.errors and solved.errors[-1][0] == "Cannot export the structure"
    _export(solved, "Selected Structure", tmp_path / "c.pdb")  # not an offered format
    assert solved.errors[-1][0] == "Cannot export the structure"
    assert "c.pdb" in solved.errors[-1][1]
