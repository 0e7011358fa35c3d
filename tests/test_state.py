"""The session state without Qt: events, undo, regions, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.science.pdf_io import read_pdf
from deepstruc_gui.state.events import Event
from deepstruc_gui.state.session import Query, Session

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def test_event_connect_block_disconnect() -> None:
    seen = []
    event = Event()
    event.connect(seen.append)
    event.emit(1)
    with event.blocked():
        event.emit(2)
    event.disconnect(seen.append)
    event.emit(3)
    assert seen == [1]


def test_prior_places_centre_and_moves_are_undoable() -> None:
    s = Session()
    fired = []
    s.query_changed.connect(lambda: fired.append(s.query.center))
    s.set_data(read_pdf(EXAMPLES / "JQ_S1.gr"))
    assert s.element == "Pt"
    s.set_prior(np.array([0.5, -1.0]), np.array([0.1, 0.2]))
    assert s.query.center == (0.5, -1.0) and not s.can_undo
    s.move_center(1.0, 1.0)
    s.move_center(2.0, 2.0)
    s.undo()
    assert s.query.center == (1.0, 1.0)
    s.undo()
    assert s.query.center == (0.5, -1.0)
    s.redo()
    assert s.query.center == (1.0, 1.0)
    s.back_to_prior()
    assert s.query.center == (0.5, -1.0)
    assert fired[0] == (0.5, -1.0)


def test_region_from_sigma_or_free_radius() -> None:
    q = Query(sigma_multiple=5.0)
    assert np.allclose(q.radius(np.array([0.1, 0.2])), [0.5, 1.0])
    q = Query(sigma_multiple=None, free_radius=0.3)
    assert np.allclose(q.radius(np.array([0.1, 0.2])), [0.3, 0.3])


def test_session_file_round_trip(tmp_path) -> None:
    from deepstruc_gui.model.candidate import Candidate

    s = Session()
    s.set_data(read_pdf(EXAMPLES / "Au144PET_100K-00000.gr"))
    s.set_prior(np.array([0.1, 0.2]), np.array([0.3, 0.4]))
    r = np.linspace(2, 30, 50)

    def candidate(rw: float, grid: np.ndarray) -> Candidate:
        return Candidate(
            np.array([0.1, 0.2]),
            np.random.rand(13, 3),
            13,
            rw,
            1.0,
            1.01,
            0.4,
            0.04,
            2.0,
            "icosahedral",
            grid,
            np.sin(grid),
        )

    other = np.linspace(1.5, 20, 30)
    s.set_candidates([candidate(0.2, r), candidate(0.3, r.copy()), candidate(0.4, other)])
    path = tmp_path / "s.dsession.json"
    s.save(path)
    assert len(json.loads(path.read_text())["grids"]) == 2  # a shared fit grid is written once
    restored = Session()
    restored.restore(Session.load_file(path))
    assert restored.data is not None and np.allclose(restored.data.g, s.data.g)
    assert restored.candidates[0].nearest_type == "icosahedral"
    assert restored.selected == 0 and restored.query == s.query
    c0, r0 = s.candidates[0], restored.candidates[0]
    assert np.allclose(r0.positions, c0.positions, atol=1e-6) and r0.positions.shape == (13, 3)
    assert np.allclose(r0.gcalc, c0.gcalc, atol=1e-6) and np.array_equal(r0.r, r)
    assert np.array_equal(restored.data.r, s.data.r)  # the data keep float64
    # a version-1 file (arrays as lists of numbers) still opens
    old = json.loads(path.read_text())
    old["version"] = 1
    old["data"]["g"] = s.data.g.tolist()
    old["candidates"][0]["gcalc"] = c0.gcalc.tolist()
    for c in old["candidates"]:
        c["r"] = old["grids"][c.pop("grid")]  # version 1 kept the grid with each candidate
    del old["grids"]
    older = Session()
    older.restore(old)
    assert np.array_equal(older.data.g, s.data.g)
    assert np.allclose(older.candidates[0].gcalc, c0.gcalc)
    assert np.array_equal(older.candidates[2].r, other)
    broken = json.loads(path.read_text())
    broken["candidates"][0]["gcalc"]["b64"] = "not base64!"
    with pytest.raises(ValueError, match="malformed session"):
        Session().restore(broken)
    with pytest.raises(ValueError, match="not a DeepStruc"):
        restored.restore({"format": "other"})
    (tmp_path / "bad.json").write_text("{ not json")
    with pytest.raises(ValueError, match=r"bad\.json"):
        Session.load_file(tmp_path / "bad.json")


def test_window_modules_do_not_import_torch_at_start_up() -> None:
    """The window must appear fast: torch loads in the worker, not at import."""
    import subprocess
    import sys

    code = (
        "import sys, deepstruc_gui.gui.main_window, deepstruc_gui.state.session; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
