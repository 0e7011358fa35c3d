"""The ranked candidates as a sortable table; selecting a row selects everywhere."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from deepstruc_gui.model.candidate import Candidate

COLUMNS = ("rank", "Rw", "atoms", "type", "scale", "expansion", "Biso (Å²)", "z₁", "z₂")


class CandidatesModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.candidates: list[Candidate] = []

    def set_candidates(self, candidates: list[Candidate]) -> None:
        self.beginResetModel()
        self.candidates = list(candidates)
        self.endResetModel()

    def rowCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.candidates)

    def columnCount(self, parent=None) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def value(self, row: int, column: int):
        c = self.candidates[row]
        return (
            row + 1,
            c.rw,
            c.n_atoms,
            c.nearest_type,
            c.scale,
            c.expansion,
            c.biso,
            float(c.latent[0]),
            float(c.latent[1]),
        )[column]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        v = self.value(index.row(), index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(v, float):
                return f"{v:.4f}" if index.column() in (1, 5) else f"{v:.3g}"
            return str(v)
        if role == Qt.ItemDataRole.UserRole:  # sort key
            return v
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() != 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class CandidatesTable(QTableView):
    """Emits ``candidate_selected(rank_index)`` (index into the ranked list)."""

    candidate_selected = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.source = CandidatesModel()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.selectionModel().selectionChanged.connect(self._selection_changed)
        self._updating = False

    def set_candidates(self, candidates: list[Candidate], selected: int | None) -> None:
        self._updating = True
        self.source.set_candidates(candidates)
        self._updating = False
        self.select_row(selected)

    def select_row(self, source_row: int | None) -> None:
        self._updating = True
        try:
            if source_row is None or source_row >= self.source.rowCount():
                self.clearSelection()
                return
            index = self.proxy.mapFromSource(self.source.index(source_row, 0))
            self.selectRow(index.row())
            self.scrollTo(index)
        finally:
            self._updating = False

    def _selection_changed(self, *_) -> None:
        if self._updating:
            return
        rows = self.selectionModel().selectedRows()
        if rows:
            self.candidate_selected.emit(self.proxy.mapToSource(rows[0]).row())
