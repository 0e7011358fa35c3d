"""The ranked candidates as a sortable table; selecting a row selects everywhere.

The model sorts itself: each row's values are computed once per batch, and a sort is
one Python ``sorted`` over them. (A QSortFilterProxyModel re-sorted every streamed
batch through hundreds of thousands of ``data()`` calls: 0.25 s of GUI thread per
batch of a whole-map search.)

A built cluster (size extension, sequence search) has no map point: its z₁ and z₂
read "—", as ``deepstruc-gui predict`` prints them, and sort after every number in
either direction; the value behind the text (``UserRole``) stays NaN.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from deepstruc_gui.model.candidate import POOR_FIT_RW, Candidate, is_built

COLUMNS = (
    "rank", "Rw", "atoms", "type", "size (Å)", "scale", "expansion", "Biso (Å²)",
    "z₁", "z₂", "source", "warnings", "similar",
)  # fmt: skip
#: candidates with the same atom count and type whose Rw differ by at most this are
#: near-identical: one row, with their number in "similar"
SIMILAR_RW = 0.002
#: what each column is, its unit and typical values (header tooltips)
COLUMN_TIPS = (
    "Rank by Rw (1 = best fit)",
    "Rw: PDFgui's residual of the fit over the fit range (0 = perfect; < 0.3 good for "
    "nanoparticles, > 0.5 nothing like the data)",
    "Number of atoms in the decoded cluster (the model decodes up to 200)",
    "Type of the nearest training structure on the map (fcc, icosahedron, …)",
    "Size: twice the largest distance of an atom from the centre, in Å (≈ diameter)",
    "Scale factor of the fitted G(r) (dimensionless; depends on the data's normalisation)",
    "Isotropic expansion refined on the decoded coordinates (1 = as decoded; 0.95–1.05 typical)",
    "Biso: isotropic atomic displacement in Å² (0.2–1.5 typical for metals)",
    "z₁: first latent coordinate of the candidate's map point (latent units)",
    "z₂: second latent coordinate (latent units)",
    "model: decoded by a search; size-extension: a larger cluster built when the data "
    "show a particle beyond the training sizes (its shape named); sequence-search: a "
    "stacked cluster built by a stacking model's sequence search (sequence and patch "
    "named); kept: added by you (Keep)",
    "Why not to trust this fit blindly: poor Rw, expansion or Biso far from typical",
    f"Near-identical candidates (same atoms and type, Rw within {SIMILAR_RW}) shown as "
    "this one row: ×N counts them",
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
#: the latent columns, and what a number that is not there reads as
Z_COLUMNS = (8, 9)
MISSING = "—"
NO_MAP_POINT = "no map point: this cluster was built ({source}), not decoded from the map"


def warnings_of(c: Candidate) -> str:
    """Short reasons not to trust a fit ("" when none)."""
    notes = []
    if c.rw > POOR_FIT_RW:
        notes.append("poor fit")
    if abs(c.expansion - 1.0) > 0.1:
        notes.append(f"expansion {c.expansion:.2f}")
    if c.biso > 3.0:
        notes.append("large Biso")
    return ", ".join(notes)


def _row_values(rank: int, c: Candidate) -> tuple:
    pos = np.asarray(c.positions, float)
    size = 2.0 * float(np.linalg.norm(pos - pos.mean(0), axis=1).max()) if len(pos) else 0.0
    return (
        rank + 1,
        c.rw,
        c.n_atoms,
        c.nearest_type,
        size,
        c.scale,
        c.expansion,
        c.biso,
        float(c.latent[0]),
        float(c.latent[1]),
        c.source if not getattr(c, "shape", None) else f"{c.source}: {c.shape}",
        warnings_of(c),
    )


#: decimals per float column: Rw and expansion 4, size 1, scale 3, Biso and z 3
_FORMATS = {
    1: "{:.4f}",
    4: "{:.1f}",
    5: "{:.3f}",
    6: "{:.4f}",
    7: "{:.3f}",
    8: "{:.3f}",
    9: "{:.3f}",
}


def _text(column: int, v) -> str:
    if column == 12:
        return f"×{v}" if v > 1 else ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return MISSING
        return _FORMATS.get(column, "{:.3g}").format(v)
    return str(v)


class CandidatesModel(QAbstractTableModel):
    """Rows are the ranked candidates in the current sort order.

    ``order[row]`` is the rank (index into the ranked list) shown in ``row``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.candidates: list[Candidate] = []
        self._values: list[tuple] = []
        self._texts: list[tuple[str, ...]] = []
        self.order: list[int] = []
        self._sort = (1, Qt.SortOrder.AscendingOrder)
        self.collapse = True
        self.group: list[int] = []
        self.counts: list[int] = []

    def set_candidates(self, candidates: list[Candidate]) -> None:
        self.beginResetModel()
        self.candidates = list(candidates)
        self._group()
        self._values = [(*_row_values(k, c), self.counts[k]) for k, c in enumerate(self.candidates)]
        self._texts = [tuple(_text(col, v) for col, v in enumerate(row)) for row in self._values]
        self.order = self._sorted_order()
        self.endResetModel()

    def _group(self) -> None:
        """``group[k]``: the rank of the row showing candidate ``k`` (the best of its
        near-identical ones); ``counts[k]``: how many a row shows. Kept candidates
        always have a row of their own."""
        n = len(self.candidates)
        self.group, self.counts = list(range(n)), [1] * n
        latest: dict[tuple, int] = {}
        for k, c in enumerate(self.candidates):
            if getattr(c, "source", "model") != "model":
                continue
            key = (c.n_atoms, c.nearest_type)
            rep = latest.get(key)
            if self.collapse and rep is not None and c.rw - self.candidates[rep].rw <= SIMILAR_RW:
                self.group[k] = rep
                self.counts[rep] += 1
                self.counts[k] = 0
            else:
                latest[key] = k

    def _sorted_order(self) -> list[int]:
        """Rows by the sort column; numbers that are not there (NaN) last either way."""
        column, order = self._sort
        shown = [k for k in range(len(self._values)) if self.group[k] == k]

        def missing(k: int) -> bool:
            v = self._values[k][column]
            return isinstance(v, float) and not math.isfinite(v)

        there = sorted(
            (k for k in shown if not missing(k)),
            key=lambda k: self._values[k][column],
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        return there + [k for k in shown if missing(k)]

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Reorder rows; the selection (persistent indexes) follows its candidates."""
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        ranks = [(self.order[i.row()], i.column()) for i in before]
        self._sort = (column, order)
        self.order = self._sorted_order()
        row = {rank: r for r, rank in enumerate(self.order)}
        self.changePersistentIndexList(before, [self.index(row[k], c) for k, c in ranks])
        self.layoutChanged.emit()

    def row_of(self, rank: int) -> int:
        """The row that shows the candidate of this rank (or its near-identical best)."""
        return self.order.index(self.group[rank])

    def represented(self) -> int:
        """How many candidates the rows stand for (each row counts its near-identical)."""
        return sum(self.counts[k] for k in self.order)

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.order)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        rank = self.order[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[rank][index.column()]
        if role == Qt.ItemDataRole.UserRole:  # the value behind the text
            return self._values[rank][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() not in (3, 10, 11):
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in Z_COLUMNS:
            c = self.candidates[rank]
            if is_built(c):
                return NO_MAP_POINT.format(source=c.source)
        return None


class CandidatesTable(QTableView):
    """Emits ``candidate_selected(rank_index)`` (index into the ranked list)."""

    candidate_selected = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.source = CandidatesModel()
        self.setModel(self.source)
        self.setSortingEnabled(True)
        self.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setTabKeyNavigation(False)  # Tab leaves the table (arrows move in it)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # column widths from the visible rows only: measuring every row of a 3,000-row
        # whole-map search at each streamed batch took most of the GUI thread's time
        header.setResizeContentsPrecision(0)
        self.selectionModel().selectionChanged.connect(self._selection_changed)
        self._updating = False

    def set_candidates(self, candidates: list[Candidate], selected: int | None) -> None:
        self._updating = True
        self.source.set_candidates(candidates)
        self._updating = False
        self.select_row(selected)

    def select_row(self, rank: int | None) -> None:
        self._updating = True
        try:
            if rank is None or rank >= len(self.source.candidates):
                self.clearSelection()
                return
            row = self.source.row_of(rank)
            self.selectRow(row)
            self.scrollTo(self.source.index(row, 0))
        finally:
            self._updating = False

    def _selection_changed(self, *_) -> None:
        if self._updating:
            return
        rows = self.selectionModel().selectedRows()
        if rows:
            self.candidate_selected.emit(self.source.order[rows[0].row()])
