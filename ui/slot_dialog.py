"""The dialog answering 'when could a new patient start?' around the plan shown."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from planner import Plan, Scenario
from planner.slot import Referral, SlotMoves, SlotOffer
from solver import earliest_slot, earliest_slot_with_moves
from ui.workers import TaskWorker

#: The cohort choice meaning 'not in a trial'.
NO_TRIAL = "no trial"


class SlotDialog(QDialog):
    """Product or trial cohort, a first date and a priority; Find books around the plan."""

    answered = Signal(object)

    def __init__(
        self,
        scenario: Scenario,
        plan: Plan | None,
        basis: str,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Earliest slot for a new referral")
        self._scenario, self._plan, self._basis = scenario, plan, basis
        self._worker: TaskWorker | None = None
        self.product_combo = QComboBox()
        for product in scenario.products:
            self.product_combo.addItem(f"{product.code}  {product.name}", product.code)
        self.cohort_combo = QComboBox()
        self.cohort_combo.addItem(NO_TRIAL, None)
        for trial in scenario.trials:
            for cohort in trial.cohorts:
                label = f"{trial.code} / {cohort.code} ({trial.product_code})"
                self.cohort_combo.addItem(label, (trial.code, cohort.code, trial.product_code))
        self.cohort_combo.currentIndexChanged.connect(self._cohort_picked)
        first = min(max(today, scenario.horizon_start), scenario.horizon_end)
        self._today = first
        self.from_edit = QDateEdit(QDate(first.year, first.month, first.day))
        self.from_edit.setCalendarPopup(True)
        self.from_edit.setDisplayFormat("yyyy-MM-dd")
        start, end = scenario.horizon_start, scenario.horizon_end
        self.from_edit.setDateRange(
            QDate(start.year, start.month, start.day), QDate(end.year, end.month, end.day)
        )
        self.priority_spin = QSpinBox()
        self.priority_spin.setRange(1, 9)
        self.priority_spin.setValue(3)
        self.moves_check = QCheckBox("Also if planned patients may move (slower: seconds)")
        self.moves_check.setEnabled(plan is not None)
        self.moves_check.setToolTip(
            "The earliest slot if planned patients may move (none dropped; started and "
            "frozen steps stay), and who would move"
        )
        self.find_button = QPushButton("Find")
        self.find_button.setDefault(True)
        self.find_button.clicked.connect(self.look)
        self.answer = QPlainTextEdit()
        self.answer.setReadOnly(True)
        self.answer.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.answer.setPlaceholderText(f"Books around {basis}; nothing is saved.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Product", self.product_combo)
        form.addRow("Trial cohort", self.cohort_combo)
        form.addRow("From", self.from_edit)
        form.addRow("Priority (1 most urgent)", self.priority_spin)
        form.addRow(self.moves_check)
        form.addRow(self.find_button)
        form.addRow(QLabel("Answer"), self.answer)
        form.addRow(buttons)
        self.resize(620, 540)

    def referral(self) -> Referral:
        """The referral as the fields describe it."""
        chosen = self.cohort_combo.currentData()
        qdate = self.from_edit.date()
        day = date(qdate.year(), qdate.month(), qdate.day())
        trial, cohort = (chosen[0], chosen[1]) if chosen else (None, None)
        return Referral(
            self.product_combo.currentData(), day, trial, cohort, self.priority_spin.value()
        )

    def look(self) -> TaskWorker:
        """Look for the slot off the GUI thread; `answered(SlotOffer)` when done."""
        referral = self.referral()
        scenario, plan, basis, today = self._scenario, self._plan, self._basis, self._today
        moves = self.moves_check.isChecked() and plan is not None
        self.find_button.setEnabled(False)
        self.answer.setPlainText("Looking…")

        def search() -> tuple[SlotOffer, SlotMoves | None]:
            offer = earliest_slot(scenario, plan, referral, basis)
            if not moves or plan is None:
                return offer, None
            return offer, earliest_slot_with_moves(scenario, plan, referral, today)

        worker = TaskWorker(search)
        worker.finished.connect(self._show)
        worker.failed.connect(self._failed)
        self._worker = worker
        worker.start()
        return worker

    def _finish_worker(self) -> None:
        # The thread quits as it emits; wait for it so no running QThread is ever destroyed.
        if self._worker is not None:
            self._worker.wait()
            self._worker = None

    def _show(self, found: tuple[SlotOffer, SlotMoves | None]) -> None:
        self._finish_worker()
        offer, moves = found
        self.find_button.setEnabled(True)
        text = offer.describe()
        if moves is not None:
            text += "\n\n" + moves.describe()
        self.answer.setPlainText(text)
        self.answered.emit(offer)

    def _failed(self, message: str) -> None:
        self._finish_worker()
        self.find_button.setEnabled(True)
        self.answer.setPlainText(f"Could not look for a slot: {message}")

    def _cohort_picked(self) -> None:
        chosen = self.cohort_combo.currentData()
        if chosen:
            self.product_combo.setCurrentIndex(self.product_combo.findData(chosen[2]))
        self.product_combo.setEnabled(not chosen)

    def done(self, result: int) -> None:
        """Close, first letting a running search end (well under a second without moves)."""
        self._finish_worker()
        super().done(result)
