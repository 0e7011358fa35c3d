"""The warnings banner shows a real result's diagnostics, hides when there are none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from deepstruc_gui.gui.views.warnings_banner import STYLES, WarningsBanner
from deepstruc_gui.model.bundle import ModelBundle, resolve_model
from deepstruc_gui.model.candidate import SOURCE_SIZE_EXTENSION, Candidate
from deepstruc_gui.model.diagnostics import Diagnostic, diagnose_data
from deepstruc_gui.science.pdf_io import read_pdf

FIELD = Path(__file__).resolve().parents[2] / "shared" / "data" / "field-cases"


@pytest.fixture
def banner(qtbot):
    """The banner in a shown window, as the main window will hold it."""
    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    widget = WarningsBanner(window)
    layout.addWidget(widget)
    layout.addWidget(QLabel("the result"))
    window.show()
    qtbot.waitExposed(window)
    yield widget
    window.close()


def test_hidden_until_there_is_something_to_say(banner, qtbot) -> None:
    assert not banner.isVisible() and banner.warnings() == []
    banner.set_warnings([Diagnostic("poor-fit", "the best Rw 0.62 is above 0.35")])
    qtbot.waitUntil(banner.isVisible)
    assert banner.texts() == ["poor-fit: the best Rw 0.62 is above 0.35"]
    assert banner.severity() == "warning"
    assert STYLES["warning"][0] in banner.styleSheet()
    banner.clear()
    assert not banner.isVisible() and banner.severity() is None


def test_info_only_is_blue_and_text_is_escaped(banner) -> None:
    banner.set_warnings([Diagnostic("q-range", "Qmax <12> & more", severity="info")])
    assert banner.severity() == "info"
    assert STYLES["info"][0] in banner.styleSheet()
    (label,) = banner._labels
    assert "&lt;12&gt; &amp; more" in label.text()  # rich text, but the message is literal


@pytest.mark.skipif(not FIELD.is_dir(), reason="shared field cases not present")
def test_shows_the_size_warning_of_a_large_particle(banner) -> None:
    """Loaded, before a search: the model's candidates will be fragments (lower
    bounds). Solved, with the size extension's built cluster leading: the banner says
    what that cluster's size rests on instead."""
    meta = ModelBundle.load(resolve_model("mmnp")).metadata
    data = read_pdf(FIELD / "pt_oct11.gr")
    banner.set_warnings(diagnose_data(data, meta))
    assert banner.isVisible()
    assert banner.texts()[0].startswith("beyond-training-size: the particle looks larger")
    assert "lower bounds" in banner.texts()[0]
    built = Candidate(
        latent=np.full(2, np.nan), positions=np.zeros((891, 3)), n_atoms=891, rw=0.08,
        scale=1.0, expansion=1.0, biso=0.3, qdamp=0.04, delta2=0.0,
        nearest_type="octahedral", r=np.zeros(0), gcalc=np.zeros(0),
        source=SOURCE_SIZE_EXTENSION, shape="octahedron (length 11)",
    )  # fmt: skip
    banner.set_warnings(diagnose_data(data, meta, candidates=[built]))
    text = banner.texts()[0]
    assert "lower bounds" not in text
    assert "was built by the size extension" in text and "(length 11), 891 atoms" in text


def test_dismiss_hides_and_tells(banner, qtbot) -> None:
    banner.set_warnings([Diagnostic("close-atoms", "candidate #2 has atoms 0.15 Å apart")])
    with qtbot.waitSignal(banner.dismissed, timeout=1000):
        banner._close.click()
    assert not banner.isVisible()
    assert banner.warnings()  # what it showed is kept; a new result replaces it
