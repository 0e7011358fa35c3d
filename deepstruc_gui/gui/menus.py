"""The window's menus: File, Edit, View, Help. Each action calls the presenter, the file
actions or the window; the shortcuts here are the ones Help › Keyboard Shortcuts lists."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMessageBox

from deepstruc_gui.gui.help import GUIDE, shortcuts_html

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "examples"
EXAMPLE_TITLES = {
    "JQ_S1.gr": "3.4 nm Pt nanoparticles, about 1,400 atoms (Quinson et al., ACS Omega 2018)",
    "Au144PET_100K-00000.gr": "Au144(PET)60 clusters, 100 K (Jensen et al., Nat. Commun. 2016)",
}
EXAMPLE_CREDIT = "Measured PDFs published with the DeepStruc paper (Kjær, Anker et al. 2023)"


def action(window, menu, text, slot, shortcut=None, tip: str = "") -> QAction:
    """A menu entry calling ``slot()``; ``shortcut`` a QKeySequence or its text."""
    act = QAction(text, window)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut) if isinstance(shortcut, str) else shortcut)
    if tip:
        act.setStatusTip(tip)
        act.setToolTip(tip)
    act.triggered.connect(lambda *_: slot())
    menu.addAction(act)
    return act


def build_menus(w) -> None:
    """Menus of the main window ``w``; sets ``w.shown_actions`` (need a shown structure),
    ``w.undo_action``, ``w.redo_action`` and ``w.view_menu``."""
    p, f = w.presenter, w.files
    file_menu = w.menuBar().addMenu("&File")
    action(w, file_menu, "&Open PDF…", f.open_dialog, QKeySequence.StandardKey.Open)
    f.attach_recent_menu(file_menu.addMenu("Open &Recent"))
    file_menu.addSeparator()
    action(w, file_menu, "Open &Session…", f.open_session_dialog)
    action(w, file_menu, "&Save Session…", f.save_session_dialog, QKeySequence.StandardKey.Save)
    export = file_menu.addMenu("&Export")
    w.shown_actions = [
        action(
            w,
            export,
            "Shown Structure (xyz, extxyz, cif)…",
            f.export_structure_dialog,
            "Ctrl+E",
            "The structure in the 3-D view: a table row, a map click or a drag preview",
        ),
        action(w, export, "Shown Fit (CSV, PDFgui fgr)…", f.export_fit_dialog, "Ctrl+Shift+E"),
    ]
    action(w, export, "Top Candidates (multi-frame extxyz)…", f.export_top_dialog)
    action(w, export, "Candidates Table (CSV)…", f.export_table_dialog, "Ctrl+Shift+T")
    im = w.images
    action(w, export, "Latent Map (PNG, SVG)…", lambda: im.export_plot_dialog(w.map_view, "map"))
    action(w, export, "PDF Plot (PNG, SVG)…", lambda: im.export_plot_dialog(w.pdf_panel, "pdf"))
    w.shown_actions += [
        action(
            w,
            export,
            "3-D View (PNG)…",
            lambda: im.export_view3d_dialog(w.structure_view),
            tip="The 3-D view as drawn, with its axes and scale bar, at a chosen size",
        ),
        action(
            w,
            export,
            "Figure: Map, Structure and Fit (PNG, SVG)…",
            lambda: im.export_figure_dialog(w.map_view, w.structure_view, w.pdf_panel),
            "Ctrl+Shift+F",
            "One image for slides and papers: the map, the 3-D structure and its fit",
        ),
    ]
    w.panels.add_file_menu(file_menu, export)  # watch folder, landscape and series exports
    file_menu.addSeparator()
    action(w, file_menu, "&Quit", w.close, QKeySequence.StandardKey.Quit)

    edit = w.menuBar().addMenu("&Edit")
    w.undo_action = action(w, edit, "&Undo Search", p.undo, QKeySequence.StandardKey.Undo)
    w.redo_action = action(w, edit, "&Redo Search", p.redo, QKeySequence.StandardKey.Redo)
    w.shown_actions.append(
        action(
            w,
            edit,
            "&Keep Shown Structure",
            p.keep_shown,
            "K",
            "Add the structure on screen (a map click, a drag preview) to the candidates",
        )
    )
    edit.addSeparator()
    action(w, edit, "&Solve", p.start_solve, "Ctrl+R")
    action(w, edit, "&Update Outdated Results", p.update, "F5")
    action(w, edit, "Back to &Prior", p.back_to_prior, "Ctrl+B")
    action(w, edit, "Search &Whole Map", p.search_whole_map, "Ctrl+M")
    action(w, edit, "&Cancel Job", p.cancel, "Esc")
    w.panels.add_edit_menu(edit)  # Refine here, the Rw landscape

    w.view_menu = w.menuBar().addMenu("&View")
    for dock in w.findChildren(QDockWidget):  # closed docks come back from here
        w.view_menu.addAction(dock.toggleViewAction())

    w.view_menu.addSeparator()
    t = w.teaching
    hover = action(w, w.view_menu, "&Decode Under Cursor", lambda: None, "Ctrl+H")
    hover.setCheckable(True)
    hover.toggled.connect(t.set_hover)
    present = action(w, w.view_menu, "&Presentation Mode", lambda: None, "F11")
    present.setCheckable(True)
    present.toggled.connect(t.set_presentation)
    teach = w.menuBar().addMenu("&Teaching")
    teach.addAction(hover)
    action(w, teach, "Set Morph &Start (shown point)", t.set_start, "Ctrl+1")
    action(w, teach, "&Morph to Shown Point", t.morph_to_shown, "Ctrl+2")
    action(w, teach, "&Play Morph Again", t.play, "Ctrl+3")
    action(w, teach, "&Export Morph (GIF, PNG frames)…", t.export_dialog)
    teach.addSeparator()
    action(
        w,
        teach,
        "Side by Side: &Training vs Reconstruction",
        w.side_by_side.show,
        "Ctrl+4",
        "A training structure (click it on the map) next to what the decoder gives at its "
        "point, with both PDFs and the matched error",
    )

    help_menu = w.menuBar().addMenu("&Help")
    action(w, help_menu, "&Guide", lambda: QMessageBox.information(w, "Guide", GUIDE), "F1")
    action(
        w,
        help_menu,
        "&Keyboard Shortcuts",
        lambda: QMessageBox.information(w, "Keyboard shortcuts", shortcuts_html(w.menuBar())),
    )
    examples = help_menu.addMenu("&Examples")
    for path in sorted(EXAMPLES_DIR.glob("*.gr")):
        title = EXAMPLE_TITLES.get(path.name, path.name)
        action(w, examples, title, lambda p=path: f.open_file(p), tip=EXAMPLE_CREDIT)
    action(w, help_menu, "&About", w.show_about)
