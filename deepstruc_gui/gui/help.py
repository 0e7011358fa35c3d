"""Help › Guide and Help › Keyboard Shortcuts: short, and built from the menus, so the
shortcut list is always the one the window has."""

from __future__ import annotations

import html

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar

GUIDE = """<h3>DeepStruc GUI in five steps</h3>
<ol>
<li><b>Open</b> a G(r) file (File › Open, or drop it). It lands on the latent map at the
point marked <i>your data</i>; the dashed ellipses are the prior's 3σ, 5σ, 7σ.</li>
<li>A <b>search</b> decodes points inside the red region into clusters, fits each one's
PDF to your data and ranks them by <b>Rw</b> (lower is better; above 0.5 nothing fits:
try <i>Search whole map</i>). Sampled points are coloured by Rw (colour bar).</li>
<li><b>Drag</b> the red centre to steer the search; <b>click</b> the map or a training point
to see that structure and its fit. <b>Keep</b> (K) adds what is shown to the table;
<b>Export › Shown Structure</b> writes it.</li>
<li>Every search is kept: <b>Undo</b>/<b>Redo</b> (Ctrl+Z, Ctrl+Shift+Z) show earlier ones
again. Changing the fit range refits the table; changing the region marks it
<i>outdated</i> with <b>Update</b> (F5).</li>
<li>Hover a column header or a control for its meaning, unit and typical values.</li>
</ol>
<p><b>3-D view</b>: drag to turn, wheel to zoom; the triad (x red, y green, z blue) shows
the axes of the written files, the bar a length in Å at the centre. <b>Export</b> the
map, plots, the 3-D view or a one-click figure at a width and DPI you choose.</p>
<p><b>Teaching</b>: decode under the cursor (Ctrl+H); morph between two points; <i>Side by
Side</i> (Ctrl+4) shows a training structure you click next to what the decoder gives at
its point, their PDFs and the matched error (Å, atoms paired one to one).</p>
<p>Units: r and positions in Å, G(r) in Å⁻², Biso in Å², Qdamp in Å⁻¹, delta2 in Å²;
z₁, z₂ are latent (dimensionless) coordinates.</p>"""


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str]]:
    """(action text, shortcut) of every menu action that has a shortcut."""
    rows = []

    def walk(actions: list[QAction]) -> None:
        for action in actions:
            if action.menu() is not None:
                walk(action.menu().actions())
            elif not action.shortcut().isEmpty():
                text = action.text().replace("&", "").rstrip("…")
                key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                rows.append((text, key))

    walk(menu_bar.actions())
    return rows


def shortcuts_html(menu_bar: QMenuBar) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(t)}</td><td><b>{html.escape(k)}</b></td></tr>"
        for t, k in shortcut_rows(menu_bar)
    )
    extra = (
        "<tr><td>Move the centre marker (map focused)</td><td><b>arrow keys</b></td></tr>"
        "<tr><td>… in bigger steps</td><td><b>Shift + arrow keys</b></td></tr>"
    )
    return f"<h3>Keyboard shortcuts</h3><table cellpadding='3'>{rows}{extra}</table>"
