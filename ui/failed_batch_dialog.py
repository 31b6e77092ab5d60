"""The dialog recording a patient's failed batch: the day it failed and why."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)


class FailedBatchDialog(QDialog):
    """Day of failure (calendar), reason; OK records it, Cancel changes nothing."""

    def __init__(self, patient_code: str, day: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Failed batch of {patient_code}")
        form = QFormLayout(self)
        note = QLabel(
            f"What was done for {patient_code} becomes void and its published chain is "
            "released: the next Solve plans a new apheresis and batch from the day of the "
            "failure, within an apheresis window as long as the first. Its needed date and "
            "priority stay, so the delay shows as lateness."
        )
        note.setWordWrap(True)
        form.addRow(note)
        self.day_edit = QDateEdit(QDate(day.year, day.month, day.day))
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat("yyyy-MM-dd")
        form.addRow("Batch failed on", self.day_edit)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("e.g. sterility test positive (deviation DEV-123)")
        form.addRow("Reason (audit trail)", self.reason_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @property
    def day(self) -> date:
        """The day chosen."""
        qdate = self.day_edit.date()
        return date(qdate.year(), qdate.month(), qdate.day())

    @property
    def reason(self) -> str:
        """The reason typed (may be empty)."""
        return self.reason_edit.text().strip()
