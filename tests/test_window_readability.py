"""What the main window shows after a result can be read whole: the warnings banner's
long sentences, a built cluster's (absent) map point in the table, the σ labels apart
from the type names, and type names legible over the points. On the random tiny
model, with results set on the session (no search). Run under
``xvfb-run -a -s "-screen 0 1600x1000x24"``."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from deepstruc_gui.gui.exporting import export_table
from deepstruc_gui.gui.views.ellipse_labels import MARGIN
from deepstruc_gui.gui.views.map_key import NAME_CLEARANCE
from deepstruc_gui.gui.views.warnings_banner import MAX_HEIGHT
from deepstruc_gui.model.candidate import (
    SOURCE_SEQUENCE_SEARCH,
    SOURCE_SIZE_EXTENSION,
    Candidate,
)
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


def _candidate(z, source: str = "model", shape: str = "", n: int = 13, rw: float = 0.3):
    rng = np.random.default_rng(n)
    return Candidate(
        latent=np.asarray(z, float), positions=rng.normal(size=(n, 3)) * 3, n_atoms=n,
        rw=rw, scale=1.0, expansion=1.0, biso=0.5, qdamp=0.03, delta2=0.0,
        nearest_type="fcc", r=np.linspace(2, 30, 50), gcalc=np.zeros(50),
        source=source, shape=shape,
    )  # fmt: skip


def test_built_clusters_read_a_dash_for_their_map_point(make_window, qtbot, tmp_path) -> None:
    window = _main_view(make_window, qtbot)
    built = _candidate(
        (np.nan, np.nan), SOURCE_SIZE_EXTENSION, "octahedron (length 11, cutoff 0)", 891, 0.08
    )
    stacked = _candidate((np.nan, np.nan), SOURCE_SEQUENCE_SEARCH, "ABCABC", 147, 0.12)
    decoded = [_candidate((0.4, -0.2), n=55, rw=0.2), _candidate((-1.1, 0.7), n=79, rw=0.25)]
    window.session.set_candidates([built, stacked, *decoded])
    model = window.table.model()
    header = [model.headerData(k, Qt.Orientation.Horizontal) for k in range(model.columnCount())]
    z1, z2, atoms = header.index("z₁"), header.index("z₂"), header.index("atoms")

    def rows(column: int) -> list[tuple[str, str, str]]:
        return [
            tuple(model.index(row, k).data() for k in (atoms, column, z2))
            for row in range(model.rowCount())
        ]

    by_rw = {r[0]: r[1:] for r in rows(z1)}
    assert by_rw["891"] == ("—", "—") and by_rw["147"] == ("—", "—")
    assert by_rw["55"] == ("0.400", "-0.200") and by_rw["79"] == ("-1.100", "0.700")
    assert not any("nan" in text.lower() for r in rows(z1) for text in r)
    row = [r[0] for r in rows(z1)].index("891")
    assert "no map point" in model.index(row, z1).data(Qt.ItemDataRole.ToolTipRole)
    assert np.isnan(model.index(row, z1).data(Qt.ItemDataRole.UserRole))  # the value stays
    # sorted by z₁ either way: the numbers in order, the built clusters after them
    for order, numbers in (
        (Qt.SortOrder.AscendingOrder, ["79", "55"]),
        (Qt.SortOrder.DescendingOrder, ["55", "79"]),
    ):
        window.table.sortByColumn(z1, order)
        assert [r[0] for r in rows(z1)][:2] == numbers
        assert {r[0] for r in rows(z1)[2:]} == {"891", "147"}
    # the status bar says why a built cluster cannot start a morph (no "nan")
    window.session.select(0)
    window.teaching.set_start()
    message = window.statusBar().currentMessage()
    assert "no map point" in message and "nan" not in message.lower()
    assert window.teaching.start is None
    # the exported table keeps numbers machine-readable: NaN, never "—"
    path = tmp_path / "table.csv"
    export_table(path, window.session.candidates)
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    names = lines[0].split(",")
    table = [dict(zip(names, ln.split(","), strict=True)) for ln in lines[1:]]
    assert "—" not in path.read_text(encoding="utf-8")
    for entry in table:
        z = float(entry["z1"]), float(entry["z2"])
        assert np.isnan(z).all() == (entry["source"] != "model"), entry


def _touching(a, b) -> bool:
    return a.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN).intersects(b)


def test_sigma_labels_keep_clear_of_type_names_at_any_zoom(make_window, qtbot) -> None:
    """A type name where the 3σ label would go, another on the 5σ label's place: the σ
    labels go elsewhere on their rings (or hide), never touching a name or each
    other, zoomed out to the whole map and in on the prior."""
    window = _main_view(make_window, qtbot)
    view = window.map_view
    vb = view.getPlotItem().vb
    names = view.type_labels
    assert len(names) >= 2
    mu = np.asarray(window.bundle.latent_map.mu, float)
    sigma = 0.02 * (mu.max(0) - mu.min(0))
    mean = mu.mean(0)
    view.set_prior(mean, sigma)
    view.set_region(mean, 3 * sigma)
    checked, gap = 0, NAME_CLEARANCE - 0.5  # a visible gap to every name
    for half in (None, 40, 20, 12, 9):  # None: the whole map; else half-widths in σ
        if half is None:
            vb.autoRange()
        else:
            w = half * sigma.max()
            vb.setRange(xRange=(mean[0] - w, mean[0] + w), yRange=(mean[1] - w, mean[1] + w),
                        padding=0)  # fmt: skip
        qtbot.wait(30)
        # where the σ labels go with no name in the way ...
        for item in names:
            item.setVisible(False)
        view.place_prior_labels()
        spots = [lab.sceneBoundingRect().center() for lab in view.prior_labels if lab.isVisible()]
        # ... is where two names now sit
        for item, spot in zip(names, spots, strict=False):
            item.setPos(vb.mapSceneToView(spot))
        for item in names:
            item.setVisible(True)
        view.place_prior_labels()
        qtbot.wait(30)  # painted: the names' boxes follow the zoom
        shown = [lab.sceneBoundingRect() for lab in view.prior_labels if lab.isVisible()]
        for box in shown:
            for item in names:
                name = item.sceneBoundingRect().adjusted(-gap, -gap, gap, gap)
                assert not _touching(box, name), (half, item.toPlainText())
        for k, box in enumerate(shown):
            assert not any(_touching(box, other) for other in shown[k + 1 :]), half
        checked += len(shown)
    assert checked >= 5  # most zooms still find room for the labels


def test_type_names_have_a_readable_box(make_window, qtbot) -> None:
    window = _main_view(make_window, qtbot)
    names = window.map_view.type_labels
    assert {item.toPlainText() for item in names} == set(window.bundle.latent_map.types)
    for item in names:
        fill = item.fill
        assert fill.style() == Qt.BrushStyle.SolidPattern
        assert fill.color().lightness() > 230 and 150 <= fill.color().alpha() < 255
        assert item.zValue() > window.map_view.sample_points.zValue()
        # the text keeps its type's (darkened) colour over the light box
        assert item.color.lightness() < fill.color().lightness() - 60


def test_the_map_axes_say_what_a_designed_map_carries(make_window, qtbot, tmp_path) -> None:
    """The shipped stacking map is designed (x the cubic fraction, y ln N): its axis
    titles give the formulas; a map its encoder drew keeps z₁, z₂."""
    from pathlib import Path

    from PySide6.QtCore import QSettings

    from deepstruc_gui.gui.main_window import MainWindow
    from deepstruc_gui.model.bundle import ModelBundle
    from deepstruc_gui.model.map_fit import map_axis_titles

    plain = _main_view(make_window, qtbot)
    item = plain.map_view.getPlotItem()
    assert item.getAxis("bottom").labelText == "z₁" and item.getAxis("left").labelText == "z₂"

    stacking = Path(__file__).resolve().parents[1] / "resources" / "models" / "stacking"
    x, y = map_axis_titles(ModelBundle.load(stacking).metadata)
    assert "fcc fraction" in x and "hcp ← → fcc" in x and "ln N" in y
    settings = QSettings(str(tmp_path / "stacking.ini"), QSettings.Format.IniFormat)
    window = MainWindow(models={"stacking": stacking}, settings=settings)
    qtbot.addWidget(window)
    window.show_error = lambda title, message: None
    try:
        qtbot.waitUntil(lambda: window.bundle is not None, timeout=20000)
        axes = window.map_view.getPlotItem()
        assert axes.getAxis("bottom").labelText == x
        assert axes.getAxis("left").labelText == y
    finally:
        window.close()
        assert window.worker_thread.thread.wait(30000)
