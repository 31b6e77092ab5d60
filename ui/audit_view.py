"""Tools > Audit trail…: the audit records in a table with filters, and a chain check.

Records are read off the GUI thread (a TaskWorker) whenever a filter changes; the text
filter narrows the rows already read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QDate, QObject, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from planner.audit import AuditCheck, AuditEntry, AuditFilter, shown
from ui.models import SORT_ROLE, Column, _ColumnModel
from ui.workers import TaskWorker

#: The entity choice meaning 'every entity'.
ANY = "(all)"
#: Entities offered in the filter (the trail may hold others; they show under ANY).
ENTITIES = (
    "scenario",
    "plan",
    "patient",
    "roster_entry",
    "staff_member",
    "shift_code",
    "cleanroom",
    "device",
    "product",
    "process_step",
    "trial",
    "cohort",
    "holiday",
)


#: Widest a column is made (pixels); long values show whole in the tooltip.
_WIDEST = {"entity": 120, "key": 140, "field": 190, "old": 200, "new": 240}


@runtime_checkable
class AuditSource(Protocol):
    """Where the viewer reads records and checks the chain (data.Repository is one)."""

    def audit_entries(self, which: AuditFilter | None = None) -> list[AuditEntry]:
        """Records the filter selects, oldest first."""
        ...

    def verify_audit(self) -> AuditCheck:
        """The chain checked whole."""
        ...


class AuditTableModel(_ColumnModel[AuditEntry]):
    """One audit record per row, oldest first."""

    columns = (
        Column("seq", "#", lambda e: e.seq, numeric=True, tip="Record number"),
        Column("at", "Time (UTC)", lambda e: f"{e.at:%Y-%m-%d %H:%M:%S}"),
        Column("user", "User", lambda e: e.user),
        Column("action", "Action", lambda e: e.action),
        Column("entity", "Entity", lambda e: e.entity),
        Column("key", "Key", lambda e: e.key),
        Column("field", "Field", lambda e: e.field),
        Column("old", "Old value", lambda e: shown(e.old)),
        Column("new", "New value", lambda e: shown(e.new)),
        Column("reason", "Reason", lambda e: e.reason),
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    def set_entries(self, entries: Sequence[AuditEntry]) -> None:
        """Show these records."""
        self._reset(entries)

    def _tooltip(self, row: AuditEntry) -> str | None:
        scenario = f" of scenario '{row.scenario}'" if row.scenario else ""
        version = f" (version {row.scenario_version})" if row.scenario_version else ""
        return f"{row.action} {row.entity} {row.key}{scenario}{version}: {row.describe()}"


class AuditDialog(QDialog):
    """The audit trail with filters (entity, user, since, text) and a Verify button."""

    def __init__(self, source: AuditSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit trail")
        self._source = source
        self._worker: TaskWorker | None = None
        self._reload_wanted = False
        self.model = AuditTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)

        self.entity_combo = QComboBox()
        self.entity_combo.addItems([ANY, *ENTITIES])
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText("any user")
        self.since_check = QCheckBox("Since")
        self.since_edit = QDateEdit(QDate.currentDate().addDays(-7))
        self.since_edit.setCalendarPopup(True)
        self.since_edit.setDisplayFormat("yyyy-MM-dd")
        self.since_edit.setEnabled(False)
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("text in any column…")
        self.verify_button = QPushButton("Verify chain")
        self.status = QLabel("Loading…")
        self.status.setWordWrap(True)

        self.entity_combo.currentIndexChanged.connect(self.reload)
        self.user_edit.editingFinished.connect(self.reload)
        self.since_check.toggled.connect(self.since_edit.setEnabled)
        self.since_check.toggled.connect(self.reload)
        self.since_edit.dateChanged.connect(self.reload)
        self.text_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.text_edit.textChanged.connect(self._count)
        self.verify_button.clicked.connect(self.verify)

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Entity"))
        filters.addWidget(self.entity_combo)
        filters.addWidget(QLabel("User"))
        filters.addWidget(self.user_edit)
        filters.addWidget(self.since_check)
        filters.addWidget(self.since_edit)
        filters.addWidget(self.text_edit, 1)
        filters.addWidget(self.verify_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(1480, 600)

    def current_filter(self) -> AuditFilter:
        """The filter the widgets describe."""
        entity = self.entity_combo.currentText()
        user = self.user_edit.text().strip() or None
        since = None
        if self.since_check.isChecked():
            day = self.since_edit.date()
            since = datetime(day.year(), day.month(), day.day(), tzinfo=UTC)
        return AuditFilter(entity=None if entity == ANY else entity, user=user, since=since)

    def reload(self) -> TaskWorker | None:
        """Read the records the filters select, off the GUI thread."""
        if self._worker is not None:
            self._reload_wanted = True  # read again once the running read ends
            return None
        which = self.current_filter()
        source = self._source
        self.status.setText("Loading…")
        return self._run(lambda: source.audit_entries(which), self._show)

    def verify(self) -> TaskWorker | None:
        """Check the whole chain off the GUI thread and say the outcome."""
        if self._worker is not None:
            return None
        self.verify_button.setEnabled(False)
        self.status.setText("Verifying…")
        return self._run(self._source.verify_audit, self._verified)

    def _run(self, task: Callable[[], object], done: Callable[[Any], None]) -> TaskWorker:
        worker = TaskWorker(task)
        worker.finished.connect(done)
        worker.failed.connect(self._failed)
        self._worker = worker
        worker.start()
        return worker

    def _finish_worker(self) -> None:
        # The thread quits as it emits; wait for it so no running QThread is destroyed.
        if self._worker is not None:
            self._worker.wait()
            self._worker = None

    def _show(self, entries: list[AuditEntry]) -> None:
        self._finish_worker()
        self.model.set_entries(entries)
        self.view.resizeColumnsToContents()
        for column, widest in _WIDEST.items():
            index = self.model.column(column)
            self.view.setColumnWidth(index, min(self.view.columnWidth(index), widest))
        self._count()
        if self._reload_wanted:
            self._reload_wanted = False
            self.reload()

    def _count(self) -> None:
        visible, read = self.proxy.rowCount(), self.model.rowCount()
        self.status.setText(
            f"{visible} of {read} records" if visible != read else f"{read} records"
        )

    def _verified(self, check: AuditCheck) -> None:
        self._finish_worker()
        self.verify_button.setEnabled(True)
        if check.intact:
            self.status.setText(
                f"Chain intact: {check.records} records, every hash and link checked."
            )
        else:
            self.status.setText(
                f"TAMPERED: {len(check.problems)} problem(s). " + " ".join(check.problems[:3])
            )

    def _failed(self, message: str) -> None:
        self._finish_worker()
        self.verify_button.setEnabled(True)
        self.status.setText(f"Could not read the audit trail: {message}")

    def done(self, result: int) -> None:
        """Close, first letting a running read end."""
        self._finish_worker()
        super().done(result)
