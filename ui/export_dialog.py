"""The dialog asking where to write the weekly plan workbook and for which dates."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)


def default_window(horizon_start: date, horizon_end: date, today: date) -> tuple[date, date]:
    """Four weeks from this week's Monday, kept inside the horizon."""
    monday = today - timedelta(days=today.weekday())
    start = min(max(monday, horizon_start), horizon_end)
    return start, min(start + timedelta(weeks=4, days=-1), horizon_end)


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


class ExportDialog(QDialog):
    """File and date range for `Export plan…`; OK only for an .xlsx path and a valid range."""

    def __init__(
        self,
        suggested: Path,
        window: tuple[date, date],
        horizon: tuple[date, date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export the weekly plan")
        self.path_edit = QLineEdit(str(suggested))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.from_edit = QDateEdit(_qdate(window[0]))
        self.to_edit = QDateEdit(_qdate(window[1]))
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDateRange(_qdate(horizon[0] - timedelta(days=366)), _qdate(horizon[1]))
        self.calendars_box = QCheckBox(
            "Also one calendar file (.ics) per person named, in a folder beside it"
        )
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b91c1c;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Workbook", path_row)
        form.addRow("From", self.from_edit)
        form.addRow("To", self.to_edit)
        form.addRow(self.calendars_box)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        for signal in (self.path_edit.textChanged, self.from_edit.dateChanged):
            signal.connect(self._check)
        self.to_edit.dateChanged.connect(self._check)
        self._check()

    def path(self) -> Path:
        """The workbook file chosen."""
        return Path(self.path_edit.text().strip()).expanduser()

    def calendars_folder(self) -> Path | None:
        """Where the staff calendars go ('<workbook>-calendars'), if asked for."""
        if not self.calendars_box.isChecked():
            return None
        return self.path().with_name(self.path().stem + "-calendars")

    def dates(self) -> tuple[date, date]:
        """First and last date to print."""
        return _pydate(self.from_edit.date()), _pydate(self.to_edit.date())

    def set_choice(self, path: Path, start: date, end: date) -> None:
        """Fill the fields (as a user would type them)."""
        self.path_edit.setText(str(path))
        self.from_edit.setDate(_qdate(start))
        self.to_edit.setDate(_qdate(end))

    def problem_text(self) -> str:
        """Why OK is disabled, or empty."""
        start, end = self.dates()
        if self.path().suffix.lower() != ".xlsx":
            return "The file name must end in .xlsx."
        if not self.path().parent.is_dir():
            return f"There is no folder {self.path().parent}."
        if end < start:
            return "The last date is before the first."
        return ""

    def _check(self) -> None:
        problem = self.problem_text()
        self.problem.setText(problem)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problem)

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export the weekly plan", self.path_edit.text(), "Excel workbook (*.xlsx)"
        )
        if chosen:
            self.path_edit.setText(chosen if chosen.endswith(".xlsx") else chosen + ".xlsx")
