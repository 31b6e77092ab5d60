"""File > Import scenario…, roster… and referrals…: pick a file, see it checked and what it
would change, then import it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from data.referral_import import read_referrals
from data.roster_import import read_roster
from data.scenario_files import read_scenario
from data.scenario_json import ScenarioFileError
from planner import Scenario
from planner.imports import add_referrals, merge_roster, roster_summary
from ui.workers import TaskWorker

_WHERE = re.compile(r"sheet '(?P<sheet>[^']*)'(?:, row (?P<row>\d+))?(?:, column (?P<col>.+))?")


def problem_cells(where: str) -> tuple[str, str, str]:
    """Sheet, row and column of a problem's place (JSON paths go in the first cell)."""
    found = _WHERE.fullmatch(where)
    if found is None:
        return where, "", ""
    return found["sheet"], found["row"] or "", found["col"] or ""


def describe(scenario: Scenario) -> str:
    """What an import would bring in, in one paragraph."""
    return (
        f"Scenario '{scenario.name}' of {scenario.site.name}, "
        f"{scenario.horizon_start} to {scenario.horizon_end}: {len(scenario.patients)} "
        f"patients, {len(scenario.products)} products, {len(scenario.cleanrooms)} cleanrooms, "
        f"{len(scenario.devices)} devices, {len(scenario.staff)} staff, "
        f"{len(scenario.roster)} roster entries."
    )


#: Reads a file into the scenario it would give and a paragraph saying what changes;
#: raises ScenarioFileError listing every problem.
Reader = Callable[[Path], tuple[Scenario, str]]


def scenario_reader(path: Path) -> tuple[Scenario, str]:
    """A whole scenario from a template workbook or a JSON file."""
    scenario = read_scenario(path)
    return scenario, describe(scenario)


def roster_reader(into: Scenario) -> Reader:
    """A roster workbook merged into a scenario for the people and dates it covers."""

    def read(path: Path) -> tuple[Scenario, str]:
        change = read_roster(path, into)
        merged, report = merge_roster(into, change)
        codes = report.new_shift_codes
        new = f" New shift codes from the legend: {', '.join(codes)}." if codes else ""
        if report.times_read:
            new += f" Times read as shift codes: {'; '.join(report.times_read)}."
        return merged, (f"Merging into '{into.name}' {roster_summary(change, report)}.{new}")

    return read


def referrals_reader(into: Scenario) -> Reader:
    """A referral list whose patients are added to a scenario."""

    def read(path: Path) -> tuple[Scenario, str]:
        change = read_referrals(path, into)
        codes = ", ".join(p.code for p in change.patients) or "none"
        return add_referrals(into, change), (
            f"Adding {len(change.patients)} referred patients from sheet '{change.sheet}' to "
            f"'{into.name}': {codes}."
        )

    return read


def _read(reader: Reader, path: Path) -> tuple[Scenario, str] | ScenarioFileError:
    """What the file gives, or the error listing every problem with it."""
    try:
        return reader(path)
    except ScenarioFileError as error:
        return error


class ImportDialog(QDialog):
    """Check a scenario file off the GUI thread; Import is enabled only when it is valid."""

    checked = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        reader: Reader = scenario_reader,
        title: str = "Import a scenario",
        hint: str = "A filled template (.xlsx) or a scenario (.json)",
        file_filter: str = "Scenarios (*.xlsx *.json)",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.scenario: Scenario | None = None
        #: What importing the checked file would change, in a sentence or two.
        self.change_text = ""
        self._reader, self._filter = reader, file_filter
        self._worker: TaskWorker | None = None
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(hint)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(lambda: self.check(self.path()))
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        row.addWidget(self.check_button)
        self.summary = QLabel("Pick a file to check it.")
        self.summary.setWordWrap(True)
        self.problems = QTableWidget(0, 4)
        self.problems.setHorizontalHeaderLabels(["Sheet or place", "Row", "Column", "Problem"])
        self.problems.horizontalHeader().setStretchLastSection(True)
        self.problems.verticalHeader().setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.buttons)
        self.resize(820, 480)

    def path(self) -> Path:
        """The file chosen."""
        return Path(self.path_edit.text().strip()).expanduser()

    def check(self, path: Path) -> TaskWorker:
        """Read and check the file off the GUI thread; `checked` when done."""
        self.path_edit.setText(str(path))
        self.scenario = None
        self.import_button.setEnabled(False)
        self.check_button.setEnabled(False)
        self.problems.setRowCount(0)
        self.summary.setText(f"Checking {path.name}…")
        worker = TaskWorker(lambda: _read(self._reader, path))
        worker.finished.connect(self._read)
        worker.failed.connect(self._crashed)
        self._worker = worker
        worker.start()
        return worker

    def _finish_worker(self) -> None:
        if self._worker is not None:
            self._worker.wait()
            self._worker = None
        self.check_button.setEnabled(True)

    def _read(self, outcome: tuple[Scenario, str] | ScenarioFileError) -> None:
        self._finish_worker()
        if isinstance(outcome, ScenarioFileError):
            self._show_problems(outcome)
        else:
            self.scenario, text = outcome
            self.change_text = text
            self.summary.setText(f"{text} Nothing is stored until you press Import.")
            self.import_button.setEnabled(True)
        self.checked.emit()

    def _crashed(self, message: str) -> None:
        self._finish_worker()
        self.summary.setText(f"Cannot read {self.path().name}: {message}")
        self.checked.emit()

    def _show_problems(self, error: ScenarioFileError) -> None:
        problems = list(error)
        self.summary.setText(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in "
            f"{Path(error.file).name}; nothing can be imported until they are fixed."
        )
        self.problems.setRowCount(len(problems))
        for r, problem in enumerate(problems):
            for c, text in enumerate((*problem_cells(problem.where), problem.message)):
                self.problems.setItem(r, c, QTableWidgetItem(text))
        self.problems.resizeColumnsToContents()

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, self.windowTitle(), str(self.path()), self._filter
        )
        if chosen:
            self.check(Path(chosen))

    def done(self, result: int) -> None:
        """Close, first letting a running check end."""
        self._finish_worker()
        super().done(result)
