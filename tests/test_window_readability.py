"""What the main window shows after a result can be read whole: the warnings banner's
long sentences, a built cluster's (absent) map point in the table, the σ labels apart
from the type names, and type names legible over the points. On the random tiny
model, with results set on the session (no search). Run under
``xvfb-run -a -s "-screen 0 1600x1000x24"``."""

from __future__ import annotations

from deepstruc_gui.gui.views.warnings_banner import MAX_HEIGHT
from deepstruc_gui.model.diagnostics import Diagnostic

#: the size extension's sentence on JQ_S1 (whole-map search), as the banner showed it
LONG = (
    "the particle looks larger than the model's training clusters (≤ 200 atoms): the "
    "envelope of G(r) reaches 33 Å. The leading candidate was built by the size "
    "extension, beyond the model's range: octahedron (length 11, cutoff 0), 891 atoms; "
    "its size rests on how well built clusters fit: within 2 % of its Rw, clusters of "
    "860–920 atoms do, so an unknown Qdamp trades with the size; read the atom count "
    "as 860–920 and check it against another size measure (TEM, SAXS) before you "
    "report it"
)


def _main_view(make_window, qtbot):
    window = make_window()
    window.central.setCurrentIndex(1)  # the map and the result, as with data loaded
    qtbot.wait(50)
    return window


def _all_readable(banner) -> None:
    """Each row shows all its wrapped lines, and the rows either fit the banner or
    scroll to their end (nothing hidden without a scroll bar)."""
    for label in banner._labels:
        assert label.height() >= label.heightForWidth(label.width()), (
            label.height(), label.heightForWidth(label.width()), label.width()
        )  # fmt: skip
    hidden = banner.rows_widget.height() - banner.scroll.viewport().height()
    if hidden > 0:
        bar = banner.scroll.verticalScrollBar()
        assert bar.isVisible() and bar.maximum() >= hidden, (hidden, bar.maximum())
        assert banner.height() == MAX_HEIGHT


def test_banner_shows_every_word_of_a_long_warning_at_any_width(make_window, qtbot) -> None:
    window = _main_view(make_window, qtbot)
    banner = window.panels.banner
    window.resize(1600, 900)
    qtbot.wait(50)
    window.panels.show_warnings([Diagnostic("beyond-training-size", LONG)])
    qtbot.waitUntil(banner.isVisible)
    qtbot.wait(50)
    _all_readable(banner)
    wide = banner._labels[0].width(), banner.height()
    splitter = window.map_view.parentWidget()
    for map_share in (0.8, 0.9):  # the result's column narrow, then narrower
        total = sum(splitter.sizes())
        splitter.setSizes([int(map_share * total), total - int(map_share * total)])
        qtbot.wait(50)
        _all_readable(banner)
        assert banner._labels[0].width() < wide[0]
    assert banner.height() > wide[1]  # grew with the wrapped lines
    # many warnings: capped, and the rest scrolls into view
    codes = ("beyond-training-size", "q-range", "poor-fit", "region-disagrees")
    window.panels.show_warnings([Diagnostic(code, LONG) for code in codes])
    qtbot.wait(50)
    assert banner.height() == MAX_HEIGHT
    _all_readable(banner)
    assert banner.scroll.verticalScrollBar().isVisible()
    # back to one short line: the banner shrinks to it
    window.panels.show_warnings([Diagnostic("poor-fit", "the best Rw 0.62 is above 0.35")])
    qtbot.wait(50)
    _all_readable(banner)
    assert banner.height() < 60
