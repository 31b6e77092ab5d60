"""The dialog comparing two plans: who moved and by how much, who was added or dropped."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from planner.plan_diff import PlanDiff, format_diff
from ui.models import SORT_ROLE, DiffTableModel


class DiffDialog(QDialog):
    """A summary line and a table of the changes from plan A to plan B."""

    def __init__(
        self,
        diff: PlanDiff,
        title: str,
        a_id: int | None,
        b_id: int | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(1100, 520)
        self.diff = diff
        self.summary = QLabel(format_diff(diff, a_id, b_id).splitlines()[0])
        self.summary.setWordWrap(True)
        self.model = DiffTableModel(diff, self)
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.model)
        proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(proxy)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column in range(self.model.columnCount() - 1):
            self.table.resizeColumnToContents(column)
        self.table.resizeRowsToContents()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
