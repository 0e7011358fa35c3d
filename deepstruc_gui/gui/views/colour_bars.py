"""Colour bars beside a pyqtgraph plot, each in its own cell of the plot's layout.

pyqtgraph's ``ColorBarItem.setImageItem(..., insert_in=plot)`` always puts a vertical
bar at row 2, column 5 of the ``PlotItem``'s grid: a second bar there is refused by
Qt ("QGridLayoutEngine::addItem: Cell (2, 5) already taken") and the two are drawn on
top of each other. :func:`add_colour_bar` puts each bar in the next free column to the
right (5, 7, 9, …) with a narrow gap column before it, so the latent map can show the
Rw landscape's bar and the sampled points' bar side by side, each with its own label.
"""

from __future__ import annotations

import pyqtgraph as pg

#: the plot's row of the view box (pyqtgraph's ``PlotItem`` layout)
PLOT_ROW = 2
#: the first column after the right-hand axis (pyqtgraph's own place for a bar)
FIRST_COLUMN = 5
#: the gap before each bar (px)
GAP = 6
#: room above and below the plot for the bars' end values (px)
END_ROOM = 8
#: the style of a bar's label
LABEL_STYLE = {"font-size": "9pt"}


def add_colour_bar(plot: pg.PlotItem, bar: pg.ColorBarItem) -> int:
    """Add the vertical ``bar`` right of ``plot`` (and of the bars already there) in a
    cell of its own; returns the layout column it went to."""
    layout = plot.layout
    column = FIRST_COLUMN
    while column < layout.columnCount() and layout.itemAt(PLOT_ROW, column) is not None:
        column += 2
    layout.setColumnFixedWidth(column - 1, GAP)
    # the end ticks' values reach half a line above and below the bar: room for them
    # inside the plot (else the window's edge, and the figure's, cut "1.00" in half)
    left, top, right, bottom = layout.getContentsMargins()
    layout.setContentsMargins(left, max(top, END_ROOM), right, max(bottom, END_ROOM))
    layout.addItem(bar, PLOT_ROW, column)
    return column


def set_bar_label(bar: pg.ColorBarItem, text: str) -> None:
    """Say what the bar's colours show, once: beside its tick values (the right-hand
    axis). ``ColorBarItem(label=…)`` writes its label on the frame's left axis instead,
    between the plot and the bar; setting the right one as well drew the text twice.
    The tick values are the values themselves (no SI-prefix scaling)."""
    bar.getAxis("left").showLabel(False)
    # Rw is a plain number: no "(x0.001)" and ticks in thousandths for Rw below 1.
    # Switched off once, before the first title: pyqtgraph 0.14 still computes (and
    # then keeps) a prefix when it is switched off while a title shows
    if bar.axis.autoSIPrefix:
        bar.axis.showLabel(False)
        bar.axis.enableAutoSIPrefix(False)
    bar.axis.setLabel(text, **LABEL_STYLE)
