"""The ranked candidates as a sortable table; selecting a row selects everywhere.

The model sorts itself: each row's values are computed once per batch, and a sort is
one Python ``sorted`` over them. (A QSortFilterProxyModel re-sorted every streamed
batch through hundreds of thousands of ``data()`` calls: 0.25 s of GUI thread per
batch of a whole-map search.)
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from deepstruc_gui.model.candidate import Candidate

COLUMNS = ("rank", "Rw", "atoms", "type", "scale", "expansion", "Biso (Å²)", "z₁", "z₂", "source")
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _row_values(rank: int, c: Candidate) -> tuple:
    return (
        rank + 1,
        c.rw,
        c.n_atoms,
        c.nearest_type,
        c.scale,
        c.expansion,
        c.biso,
        float(c.latent[0]),
        float(c.latent[1]),
        c.source if not c.shape else f"{c.source}: {c.shape}",
    )


def _text(column: int, v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if column in (1, 5) else f"{v:.3g}"
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

    def set_candidates(self, candidates: list[Candidate]) -> None:
        self.beginResetModel()
        self.candidates = list(candidates)
        self._values = [_row_values(k, c) for k, c in enumerate(self.candidates)]
        self._texts = [tuple(_text(col, v) for col, v in enumerate(row)) for row in self._values]
        self.order = self._sorted_order()
        self.endResetModel()

    def _sorted_order(self) -> list[int]:
        column, order = self._sort
        return sorted(
            range(len(self._values)),
            key=lambda k: self._values[k][column],
            reverse=order == Qt.SortOrder.DescendingOrder,
        )

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
        """The row that shows the candidate of this rank."""
        return self.order.index(rank)

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.candidates)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        rank = self.order[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[rank][index.column()]
        if role == Qt.ItemDataRole.UserRole:  # the value behind the text
            return self._values[rank][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() not in (3, 9):
            return _RIGHT
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
            if rank is None or rank >= self.source.rowCount():
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
