"""Files as a user meets them in the window: a file that cannot be solved is refused
before anything is cleared, settings carried from the previous file say so and
reset, and what needs data is disabled without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from window_helpers import action, loaded, same

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"


def test_without_data_the_buttons_that_need_it_are_disabled(make_window) -> None:
    window = make_window()
    c = window.controls
    assert not (c.solve.isEnabled() or c.back.isEnabled() or c.whole_map.isEnabled())
    assert not action(window, "Shown Structure").isEnabled()
    assert not action(window, "Keep Shown").isEnabled()
    assert all(w.toolTip() for w in (c.samples, c.radius, c.rmin, c.rmax, c.refine_qdamp))


def test_an_unsolvable_file_is_refused_before_the_work_is_cleared(
    make_window, qtbot, tmp_path
) -> None:
    window = loaded(make_window, qtbot)
    shown, data = list(window.session.candidates), window.session.data
    assert window.controls.solve.isEnabled() and action(window, "Shown Structure").isEnabled()
    short = tmp_path / "short.gr"
    r = np.arange(0.0, 3.0, 0.01)
    short.write_text("\n".join(f"{x:.3f} {np.sin(5 * x):.5f}" for x in r))
    assert not window.open_file(short)
    title, message = window.errors[-1]
    assert title == "Cannot solve this PDF" and "short.gr" in message and "G(r)" in message
    assert window.session.data is data and same(window.session.candidates, shown)


def test_settings_carried_from_the_previous_file_are_shown_and_reset(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    c = window.controls
    assert not c.carried.isVisibleTo(window)  # the first file carries nothing
    c.rmax.setValue(20.0)
    assert window.open_file(EXAMPLES / "Au144PET_100K-00000.gr")
    assert window.session.query.rmax == 20.0
    assert c.carried.isVisibleTo(window) and "JQ_S1.gr" in c.carried.text()
    c.reset.click()
    assert window.session.query.rmax == 30.0 and window.session.query.n_samples == 500
    assert not c.carried.isVisibleTo(window)


def test_relaunch_offers_the_autosave_and_the_recent_files(make_window, qtbot) -> None:
    first = loaded(make_window, qtbot)
    first.wait_for_autosave()
    relaunched = make_window()
    page = relaunched.welcome
    assert relaunched.central.currentIndex() == 0
    assert "Restore the last session" in page.text()
    page.linkActivated.emit("restore:")
    assert relaunched.central.currentIndex() == 1
    assert relaunched.table.model().represented() == len(first.session.candidates)
    assert relaunched.session.selected == first.session.selected
    # the recent files are links on the welcome page
    recent = first.files.recent()
    assert recent and recent[0].endswith("JQ_S1.gr")
    page.set_recent(recent)
    assert "JQ_S1.gr" in page.text() and f'href="open:{recent[0]}"' in page.text()
