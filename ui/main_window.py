"""The main window: patients, Gantt and KPIs of a plan, and solving in the background."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFontDatabase, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from planner import Plan, Scenario, SolveProgress, SolveSettings
from planner.kpis import format_plan, format_progress
from ui.gantt import GanttView
from ui.models import SORT_ROLE, AssignmentTableModel, PatientTableModel
from ui.workers import SolveFunction, SolveWorker

#: Called with each finished plan; a return value (e.g. a saved id) is ignored.
SavePlan = Callable[[Plan], object]


def plan_summary(plan: Plan | None) -> str:
    """The KPI tab's text: KPIs, what the solver reported, and the unscheduled with reasons."""
    if plan is None:
        return "No plan yet: press Solve."
    return format_plan(plan)


class _WrappingTable(QTableView):
    """A table whose row heights follow wrapped text as its width changes."""

    def __init__(self) -> None:
        super().__init__()
        # A child timer coalesces bursts of resizes and dies with the table.
        self._rows_timer = QTimer(self)
        self._rows_timer.setSingleShot(True)
        self._rows_timer.setInterval(0)
        self._rows_timer.timeout.connect(self.resizeRowsToContents)
        self.horizontalHeader().sectionResized.connect(self._schedule_rows)

    def _schedule_rows(self, *_: object) -> None:
        self._rows_timer.start()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-fit row heights to the new column widths."""
        super().resizeEvent(event)
        self._rows_timer.start()


class MainWindow(QMainWindow):
    """Shows a scenario and its plan; Solve re-plans it off the GUI thread."""

    plan_changed = Signal(object)

    def __init__(
        self,
        scenario: Scenario,
        plan: Plan | None = None,
        save_plan: SavePlan | None = None,
        *,
        solve_fn: SolveFunction | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._scenario = scenario
        self._plan: Plan | None = None
        self._save_plan = save_plan
        self._solve_fn = solve_fn
        self._worker: SolveWorker | None = None
        self.setWindowTitle(f"ATMP planner: {scenario.name}")
        self.resize(1280, 800)

        self.patient_model = PatientTableModel(scenario, None, self)
        self.assignment_model = AssignmentTableModel(None, self)
        self.patient_view = self._table(self.patient_model, stretch_last=True)
        self.assignment_view = self._table(self.assignment_model, stretch_last=False)
        self.gantt = GanttView()
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.kpi_text = QPlainTextEdit()
        self.kpi_text.setReadOnly(True)
        self.kpi_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

        gantt_page = QWidget()
        layout = QVBoxLayout(gantt_page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.legend)
        layout.addWidget(self.gantt, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.patient_view, "Patients")
        self.tabs.addTab(gantt_page, "Gantt")
        self.tabs.addTab(self.assignment_view, "Assignments")
        self.tabs.addTab(self.kpi_text, "KPIs")
        self.setCentralWidget(self.tabs)

        self._build_actions()
        self._build_status_bar()
        self.set_plan(plan)

    # Public API -----------------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        """The scenario shown."""
        return self._scenario

    @property
    def plan(self) -> Plan | None:
        """The plan shown, if any."""
        return self._plan

    @property
    def solving(self) -> bool:
        """Whether a solve is under way."""
        return self._worker is not None

    def settings(self) -> SolveSettings:
        """Solve settings from the tool bar."""
        return replace(SolveSettings(), deterministic_time=self.time_spin.value())

    def set_plan(self, plan: Plan | None) -> None:
        """Show a plan in every tab."""
        self._plan = plan
        self.patient_model.set_plan(plan, self._scenario)
        self.assignment_model.set_plan(plan)
        self.gantt.set_plan(self._scenario, plan)
        self.legend.setText(
            "  ".join(
                f'<span style="color:{colour.name()}">■</span> {code}'
                for code, colour in self.gantt.legend()
            )
            + '  <span style="color:#9e9e9e">▨</span> changeover'
            + '  │  chain: <span style="color:#c9ced6">■</span> QC release'
            + '  <span style="color:#f4b183">■</span> lymphodepletion'
            + "  light = in-patient"
            + "  <i>(Ctrl+wheel zooms)</i>"
        )
        self.kpi_text.setPlainText(plan_summary(plan))
        self._fit_columns(self.patient_view)
        self._fit_columns(self.assignment_view)
        self.plan_changed.emit(plan)

    def start_solve(self) -> SolveWorker | None:
        """Start solving in the background; None if a solve is already running."""
        if self._worker is not None:
            return None
        kwargs = {} if self._solve_fn is None else {"solve_fn": self._solve_fn}
        worker = SolveWorker(self._scenario, self.settings(), **kwargs)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._worker = worker
        self._set_running(True)
        self.status_label.setStyleSheet("")
        self.status_label.setText("Solving…")
        worker.start()
        return worker

    def cancel_solve(self) -> None:
        """Ask a running solve to stop; its best plan so far still arrives."""
        if self._worker is not None:
            self._worker.cancel()
            self.cancel_action.setEnabled(False)
            self.status_label.setText("Cancelling…")

    # Building -------------------------------------------------------------------------

    def _table(
        self, model: PatientTableModel | AssignmentTableModel, stretch_last: bool
    ) -> QTableView:
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(model)
        proxy.setSortRole(SORT_ROLE)
        view = _WrappingTable() if stretch_last else QTableView()
        view.setModel(proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        view.setAlternatingRowColors(True)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setDefaultSectionSize(24)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        if stretch_last:
            # The last column holds long reasons: it takes the remaining width and wraps.
            view.setWordWrap(True)
            header.setStretchLastSection(True)
        else:
            view.setWordWrap(False)
        return view

    @staticmethod
    def _fit_columns(view: QTableView) -> None:
        """Columns as wide as their contents; a stretching last column keeps the rest."""
        header = view.horizontalHeader()
        count = header.count()
        stretch = header.stretchLastSection()
        for column in range(count - 1 if stretch else count):
            view.resizeColumnToContents(column)
        view.resizeRowsToContents()

    def _build_actions(self) -> None:
        self.solve_action = QAction("Solve", self)
        self.solve_action.setShortcut(QKeySequence("F5"))
        self.solve_action.setToolTip("Plan every patient of the scenario (F5)")
        self.solve_action.triggered.connect(self.start_solve)
        self.cancel_action = QAction("Cancel", self)
        self.cancel_action.setShortcut(QKeySequence("Esc"))
        self.cancel_action.setToolTip("Stop solving and keep the best plan so far (Esc)")
        self.cancel_action.setEnabled(False)
        self.cancel_action.triggered.connect(self.cancel_solve)
        fit_action = QAction("Fit Gantt", self)
        fit_action.setToolTip("Fit the whole horizon into the Gantt's width")
        fit_action.triggered.connect(self.gantt.fit_width)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        self.time_spin = QDoubleSpinBox()
        self.time_spin.setRange(0.5, 3600.0)
        self.time_spin.setDecimals(1)
        self.time_spin.setSingleStep(5.0)
        self.time_spin.setValue(SolveSettings().deterministic_time)
        self.time_spin.setToolTip(
            "Deterministic time: a machine-independent work budget; the same value gives "
            "the same plan"
        )

        toolbar = QToolBar("Solve")
        toolbar.setObjectName("solve-toolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.solve_action)
        toolbar.addAction(self.cancel_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Deterministic time "))
        toolbar.addWidget(self.time_spin)
        toolbar.addSeparator()
        toolbar.addAction(fit_action)
        self.addToolBar(toolbar)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(quit_action)
        plan_menu = menu.addMenu("&Plan")
        plan_menu.addAction(self.solve_action)
        plan_menu.addAction(self.cancel_action)
        view_menu = menu.addMenu("&View")
        view_menu.addAction(fit_action)

    def _build_status_bar(self) -> None:
        self.status_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setVisible(False)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress_bar)
        self.status_label.setText(f"{len(self._scenario.patients)} patients")

    # Solve events ---------------------------------------------------------------------

    def _set_running(self, running: bool) -> None:
        self.solve_action.setEnabled(not running)
        self.cancel_action.setEnabled(running)
        self.time_spin.setEnabled(not running)
        self.progress_bar.setVisible(running)
        self.progress_bar.setRange(0, 0)

    def _on_progress(self, report: SolveProgress) -> None:
        self.status_label.setText(format_progress(report))
        if report.fraction is None:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(round(max(0.0, min(1.0, report.fraction)) * 1000))

    def _end_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.wait(5000)
        self._set_running(False)

    def _on_finished(self, plan: Plan) -> None:
        cancelled = self._worker is not None and self._worker.cancelled
        self._end_worker()
        self.set_plan(plan)
        kpis = plan.kpis
        text = (
            f"{'Cancelled, best plan so far' if cancelled else 'Solved'}: {plan.solver.status}, "
            f"{kpis.scheduled} / {kpis.total} scheduled in {plan.solver.wall_time_s:.1f} s"
        )
        if self._save_plan is not None:
            try:
                self._save_plan(plan)
            except Exception as error:  # show any storage failure
                self._show_error(f"{text}; saving failed: {error}")
                return
            text += "; saved"
        self.status_label.setText(text)

    def _on_failed(self, message: str) -> None:
        self._end_worker()
        self._show_error(f"Solve failed: {message}")

    def _show_error(self, message: str) -> None:
        self.status_label.setStyleSheet("color: #b91c1c;")
        self.status_label.setText(message)
        self.status_label.setToolTip(message)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop a running solve before closing so no thread outlives the window."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker.wait(30000)
        super().closeEvent(event)
