"""The main window: patients, Gantt and KPIs of a plan, and solving in the background."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFontDatabase, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from data.excel_export import write_plan_workbook
from data.ical_export import write_staff_calendars
from data.repository import ConcurrentEditError, RepositoryError
from planner import Plan, PlanSummary, Scenario, SolveProgress, SolveSettings, ValidationError
from planner.kpis import format_plan, format_progress
from planner.plan import MAX_DETERMINISTIC_TIME
from planner.plan_diff import compare_plans
from planner.replan import Pin, Replan, check_pin, fail_batch, planning_date
from planner.roles import Action, Actor, UserRole
from planner.sanity import NeverFeasibleError, refuse_never_feasible
from ui.audit_view import AuditDialog, AuditSource
from ui.diff_dialog import DiffDialog
from ui.export_dialog import ExportDialog, default_window
from ui.failed_batch_dialog import FailedBatchDialog
from ui.gantt import GanttView
from ui.import_dialog import ImportDialog, referrals_reader, roster_reader
from ui.models import SORT_ROLE, AssignmentTableModel, PatientTableModel
from ui.slot_dialog import SlotDialog
from ui.workers import SolveFunction, SolveWorker


class PlanStore(Protocol):
    """Where the window lists, loads and saves a scenario's plans (data.Repository is one)."""

    def plan_summaries(self, scenario_name: str) -> list[PlanSummary]:
        """The scenario's stored plans, the current one marked."""
        ...

    def load_plan(self, plan_id: int, scenario_name: str | None = None) -> Plan:
        """One stored plan."""
        ...

    def save_plan(
        self,
        plan: Plan,
        *,
        current: bool = False,
        scenario: Scenario | None = None,
        replan: Replan | None = None,
    ) -> int:
        """Store a plan, making it current if asked, with the scenario it was solved from
        and what a re-plan kept (so it can be reproduced); its id."""
        ...

    def make_current(self, plan_id: int, scenario_name: str | None = None) -> None:
        """Make a stored plan the current one."""
        ...

    def has_scenario(self, name: str) -> bool:
        """Whether a scenario of this name is stored."""
        ...

    def save_scenario(
        self,
        scenario: Scenario,
        expected_version: int | None = None,
        *,
        replace: bool = True,
        reason: str | None = None,
    ) -> int:
        """Store a scenario (refused if the name is taken and replace is False, or if it is
        no longer at expected_version)."""
        ...

    def scenario_version(self, name: str) -> int:
        """The stored version of a scenario."""
        ...

    def publish(self, plan_id: int, scenario_name: str | None = None) -> int | None:
        """Publish a stored plan; the id of the plan it supersedes."""
        ...

    def approve(self, plan_id: int, scenario_name: str | None = None, *, reason: str) -> None:
        """Approve a stored plan with a reason (refused if it is approved already)."""
        ...

    def published_plan_id(self, scenario_name: str) -> int | None:
        """The scenario's published plan, if any."""
        ...

    def pins(self, scenario_name: str) -> tuple[Pin, ...]:
        """The scenario's pins."""
        ...

    def add_pin(self, scenario_name: str, pin: Pin) -> bool:
        """Store a pin; False if it was there already."""
        ...

    def remove_pins(self, scenario_name: str, patient_code: str, step_code: str | None) -> int:
        """Remove a patient's pins (or its pin on one step); how many."""
        ...


@runtime_checkable
class AccessSource(Protocol):
    """A store that knows who acts and with which role (data.Repository is one)."""

    def actor(self) -> Actor:
        """The acting user and their role (None: no roles assigned, everything allowed)."""
        ...


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
    """Shows a scenario and its plans; Solve re-plans it off the GUI thread.

    With a store, the plan picker lists the scenario's stored plans and switches between
    them; a finished solve is saved and becomes current. A solve stopped early is shown
    but not saved: the user keeps it (saved, made current) or discards it (the plan shown
    before comes back). Nothing else replaces the current plan.
    """

    plan_changed = Signal(object)

    def __init__(
        self,
        scenario: Scenario,
        plan: Plan | None = None,
        store: PlanStore | None = None,
        *,
        plan_id: int | None = None,
        solve_fn: SolveFunction | None = None,
        today: date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._scenario = scenario
        self._plan: Plan | None = None
        self._plan_id: int | None = None
        self._store = store
        self._solve_fn = solve_fn
        self._worker: SolveWorker | None = None
        #: The scenario and re-plan basis the running or pending solve was given.
        self._inputs: tuple[Scenario, Replan | None] | None = None
        self._summaries: list[PlanSummary] = []
        #: The planning date of re-plans (None: the real today).
        self._today = today
        self._pending: Plan | None = None
        self._before_pending: tuple[Plan | None, int | None] = (None, None)
        self._actor, refused = _acting(store)
        self.setWindowTitle(self._title())
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

        self.decision_bar = self._build_decision_bar()

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
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.decision_bar)
        central_layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self._build_actions()
        self._build_status_bar()
        self.gantt.pin_requested.connect(self.set_pin)
        self.gantt.failed_batch_requested.connect(self.ask_failed_batch)
        self.gantt.refusal = self.refusal
        self._load_pins()
        self.set_plan(plan, plan_id)
        self.refresh_plans()
        if plan_id is not None:
            self._show_info(
                f"{len(scenario.patients)} patients; showing plan #{plan_id}. "
                + self._current_hint()
            )
        if refused:
            self._show_error(f"{refused}; you can only look.")

    def may(self, action: Action) -> bool:
        """Whether the user's role allows the action (the store enforces it too)."""
        return self._actor is None or self._actor.may(action)

    def refusal(self, action: Action) -> str | None:
        """Why the user's role does not allow the action (None: it does)."""
        if self._actor is None or self._actor.may(action):
            return None
        return self._actor.refusal(action)

    def _refused(self, action: Action) -> bool:
        """Show why the action is refused, if it is; whether it is."""
        reason = self.refusal(action)
        if reason is not None:
            self._show_error(f"{reason}; nothing was changed.")
        return reason is not None

    def _title(self) -> str:
        actor = self._actor
        who = "" if actor is None or actor.role is None else f" ({actor.name}, {actor.role})"
        return f"ATMP planner: {self._scenario.name}{who}"

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
    def plan_id(self) -> int | None:
        """The stored id of the plan shown; None if it is not stored."""
        return self._plan_id

    @property
    def pending(self) -> Plan | None:
        """A plan from a solve stopped early, shown and waiting for Keep or Discard."""
        return self._pending

    @property
    def solving(self) -> bool:
        """Whether a solve is under way."""
        return self._worker is not None

    def settings(self) -> SolveSettings:
        """Solve settings from the tool bar."""
        return replace(SolveSettings(), deterministic_time=self.time_spin.value())

    def set_plan(self, plan: Plan | None, plan_id: int | None = None) -> None:
        """Show a plan in every tab (plan_id: its stored id, if it is stored)."""
        self._plan = plan
        self._plan_id = plan_id
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
            + '  <span style="color:#c62828">●</span> pinned (right-click a bar)'
            + "  <i>(Ctrl+wheel zooms)</i>"
        )
        self.kpi_text.setPlainText(plan_summary(plan))
        self._fit_columns(self.patient_view)
        self._fit_columns(self.assignment_view)
        self._update_plan_actions()
        self.plan_changed.emit(plan)

    def refresh_plans(self) -> None:
        """Re-read the stored plans into the picker and select the one shown."""
        self._summaries = (
            [] if self._store is None else self._store.plan_summaries(self._scenario.name)
        )
        combo = self.plan_combo
        combo.blockSignals(True)
        combo.clear()
        for summary in self._summaries:
            combo.addItem(summary.label, summary.plan_id)
        if self._plan_id is None:
            combo.addItem("(not saved)" if self._plan is not None else "(no plan)", None)
        index = combo.findData(self._plan_id)
        combo.setCurrentIndex(index if index >= 0 else combo.count() - 1)
        combo.blockSignals(False)
        combo.setEnabled(self._worker is None and self._pending is None and bool(self._summaries))
        self._update_plan_actions()

    def show_stored_plan(self, plan_id: int) -> None:
        """Show one of the scenario's stored plans (it does not become current)."""
        if self._store is None or plan_id == self._plan_id:
            return
        try:
            plan = self._store.load_plan(plan_id, self._scenario.name)
        except Exception as error:  # show any storage failure
            self._show_error(f"Could not load plan #{plan_id}: {error}")
            self.refresh_plans()
            return
        self.set_plan(plan, plan_id)
        self.refresh_plans()
        self._show_info(f"Showing plan #{plan_id}. {self._current_hint()}")

    def use_shown_plan(self) -> None:
        """Make the plan shown the scenario's current plan (the one export uses)."""
        if self._store is None or self._plan_id is None or self._refused(Action.SOLVE):
            return
        try:
            self._store.make_current(self._plan_id, self._scenario.name)
        except Exception as error:  # show any storage failure
            self._show_error(f"Could not make plan #{self._plan_id} current: {error}")
            return
        self.refresh_plans()
        self._show_info(f"Plan #{self._plan_id} is now the current plan.")

    def keep_pending(self) -> None:
        """Keep the plan of a stopped solve: save it and make it current."""
        plan = self._pending
        if plan is None:
            return
        plan_id = None
        if self._store is not None:
            try:
                plan_id = self._store.save_plan(plan, current=True, **self._solved_inputs())
            except Exception as error:  # show any storage failure; the plan stays pending
                self._show_error(f"Saving the stopped plan failed: {error}")
                return
        self._pending = None
        self.decision_bar.setVisible(False)
        self._set_running(False)
        self.set_plan(plan, plan_id)
        self.refresh_plans()
        saved = "" if plan_id is None else f" as plan #{plan_id}, now the current plan"
        self._show_info(f"Kept the plan of the stopped solve{saved}.")

    def discard_pending(self) -> None:
        """Drop the plan of a stopped solve and show the plan shown before it again."""
        if self._pending is None:
            return
        self._pending = None
        self.decision_bar.setVisible(False)
        self._set_running(False)
        self.set_plan(*self._before_pending)
        self.refresh_plans()
        self._show_info("Discarded the plan of the stopped solve; nothing was saved.")

    def replan(self) -> Replan | None:
        """What Solve re-plans against, from today (not before the horizon): the published
        plan with its frozen window and pins; with none published but pins set, the
        current plan with the pins; else None."""
        if self._store is None:
            return None
        name = self._scenario.name
        today = planning_date(self._scenario, self._today)
        pins = self._store.pins(name)
        published = self._store.published_plan_id(name)
        if published is not None:
            plan = self._store.load_plan(published, name)
            return Replan(plan, today, self._scenario.frozen_days, pins, published)
        current = next((s.plan_id for s in self._summaries if s.current), None)
        if not pins or current is None:
            return None
        plan = self._store.load_plan(current, name)
        return Replan(plan, today, 0, pins, current, basis="current")

    def _solved_inputs(self) -> dict[str, Any]:
        """The scenario and re-plan basis of the last solve started, as save_plan keywords."""
        if self._inputs is None:
            return {}
        scenario, replan = self._inputs
        return {"scenario": scenario, "replan": replan}

    def approve_shown_plan(self, reason: str | None = None) -> None:
        """Approve the stored plan shown; without a reason given, ask for one (required)."""
        if self._store is None or self._plan_id is None or self._refused(Action.APPROVE):
            return
        if reason is None:
            reason, ok = QInputDialog.getText(
                self, "Approve plan", f"Why is plan #{self._plan_id} approved? (required)"
            )
            if not ok:
                return
        if not reason.strip():
            self._show_error("Not approved: an approval needs a reason.")
            return
        try:
            self._store.approve(self._plan_id, self._scenario.name, reason=reason)
        except Exception as error:  # show any refusal or storage failure
            self._show_error(f"Could not approve plan #{self._plan_id}: {error}")
            return
        self.refresh_plans()
        self._show_info(f"Plan #{self._plan_id} is approved; it can no longer change.")

    def publish_shown_plan(self) -> None:
        """Publish the stored plan shown (it must be approved): the one re-plans keep and
        move least."""
        if self._store is None or self._plan_id is None or self._refused(Action.PUBLISH):
            return
        shown = next((s for s in self._summaries if s.plan_id == self._plan_id), None)
        if shown is None or shown.approved_by is None:
            # As on the command line: the centre works to approved plans only.
            self._show_error(
                f"Plan #{self._plan_id} is a draft: approve it first (Plan > Approve this "
                "plan…), then publish it."
            )
            return
        try:
            before = self._store.publish(self._plan_id, self._scenario.name)
        except Exception as error:  # show any storage failure
            self._show_error(f"Could not publish plan #{self._plan_id}: {error}")
            return
        self.refresh_plans()
        was = "" if before is None else f"; plan #{before} is superseded"
        self._show_info(f"Plan #{self._plan_id} is now the published plan{was}.")

    def set_pin(self, pin: Pin, on: bool) -> None:
        """Pin (on) or unpin a patient's chain or its chain up to a step; stored at once."""
        if self._store is None or self._refused(Action.PIN):
            return
        name = self._scenario.name
        try:
            if on:
                check_pin(self._scenario, pin)
                self._store.add_pin(name, pin)
            else:
                self._store.remove_pins(name, pin.patient_code, pin.step_code)
        except Exception as error:  # a refused pin, or any storage failure
            self._show_error(f"Could not {'pin' if on else 'unpin'} {pin.label}: {error}")
            return
        self._load_pins()
        self._show_info(
            f"Pinned {pin.label}: kept as published in the next re-plan."
            if on
            else f"Unpinned {pin.patient_code}."
        )

    def failed_batch_dialog(self, patient_code: str) -> FailedBatchDialog:
        """The dialog asking the day a patient's batch failed (default: planning date)."""
        return FailedBatchDialog(
            patient_code, planning_date(self._scenario, self._today), parent=self
        )

    def ask_failed_batch(self, patient_code: str) -> Scenario | None:
        """Ask the day and reason, then record the failed batch."""
        if self._store is None or self.solving or self._pending is not None:
            return None
        if self._refused(Action.EDIT_PATIENTS):
            return None
        dialog = self.failed_batch_dialog(patient_code)
        if dialog.exec() != FailedBatchDialog.DialogCode.Accepted:
            return None
        return self.record_failed_batch(patient_code, dialog.day, dialog.reason or None)

    def record_failed_batch(
        self, patient_code: str, day: date, reason: str | None = None
    ) -> Scenario | None:
        """Store the scenario with the patient's batch failed on `day` (refused, changing
        nothing, if the day is impossible or someone saved the scenario meanwhile)."""
        if self._store is None:
            return None
        loaded = self._store.scenario_version(self._scenario.name)
        try:
            changed = fail_batch(self._scenario, patient_code, day)
            self._store.save_scenario(
                changed, loaded, reason=reason or f"batch of {patient_code} failed on {day}"
            )
        except (ValidationError, RepositoryError) as error:
            self._show_error(f"Could not record the failed batch of {patient_code}: {error}")
            return None
        self.set_scenario(changed)
        again = next(p for p in changed.patients if p.code == patient_code)
        self._show_info(
            f"Recorded the failed batch of {patient_code}: a new apheresis from "
            f"{again.earliest_apheresis} to {again.latest_apheresis}. Press Solve to re-plan."
        )
        return changed

    def _load_pins(self) -> None:
        pins = () if self._store is None else self._store.pins(self._scenario.name)
        self.gantt.set_pins(pins)

    def compare_dialog(self) -> DiffDialog | None:
        """The comparison of the published plan with the plan shown (None: nothing to
        compare)."""
        if self._store is None or self._plan is None:
            self._show_error("Nothing to compare: no plan is shown.")
            return None
        published = self._store.published_plan_id(self._scenario.name)
        if published is None:
            self._show_error("No plan is published yet: Plan > Publish this plan first.")
            return None
        base = self._store.load_plan(published, self._scenario.name)
        diff = compare_plans(base, self._plan)
        shown = "the unsaved plan" if self._plan_id is None else f"plan #{self._plan_id}"
        return DiffDialog(
            diff,
            f"Published plan #{published} compared with {shown}",
            published,
            self._plan_id,
            self,
        )

    def ask_compare(self) -> None:
        """Open the comparison with the published plan."""
        dialog = self.compare_dialog()
        if dialog is not None:
            dialog.exec()

    def start_solve(self) -> SolveWorker | None:
        """Start solving in the background; None if a solve runs or a decision is pending.

        With a published plan the solve re-plans against it (its pins and frozen window).
        """
        if self._worker is not None or self._pending is not None or self._refused(Action.SOLVE):
            return None
        try:
            refuse_never_feasible(self._scenario)
        except NeverFeasibleError as error:
            if not self._plan_anyway(list(error.problems)):
                self._show_error(f"Not solved: {error.summary}. " + " ".join(error.problems))
                return None
        kwargs = {} if self._solve_fn is None else {"solve_fn": self._solve_fn}
        try:
            replan = self.replan()
        except Exception as error:  # a stored plan that cannot be read
            self._show_error(f"Could not read the published plan: {error}")
            return None
        worker = SolveWorker(self._scenario, self.settings(), replan=replan, **kwargs)
        self._inputs = (self._scenario, replan)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._worker = worker
        self._set_running(True)
        self.status_label.setStyleSheet("")
        self.status_label.setText(
            "Solving…"
            if replan is None
            else f"Re-planning against {replan.name} (frozen until "
            f"{replan.frozen_until:%Y-%m-%d}, {len(replan.pins)} pins)…"
        )
        worker.start()
        return worker

    def _plan_anyway(self, problems: list[str]) -> bool:
        """Ask whether to plan although some inputs can never be planned (default: no)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Some inputs can never be planned",
            "No plan can satisfy these inputs. Fix them first, or plan the patients they "
            "do not hold back (those are left out, with why).",
            parent=self,
        )
        box.setInformativeText("\n\n".join(f"• {p}" for p in problems))
        anyway = box.addButton("Plan what can be planned", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        box.exec()
        return box.clickedButton() is anyway

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
        self.use_action = QAction("Use this plan", self)
        self.use_action.setToolTip(
            "Make the plan shown the scenario's current plan (the one export uses)"
        )
        self.use_action.triggered.connect(self.use_shown_plan)
        self.publish_action = QAction("Publish this plan", self)
        self.publish_action.setToolTip(
            "Make the plan shown the one the centre works to: re-plans keep its started, "
            "frozen and pinned steps and move as few of its patients as they can"
        )
        self.publish_action.triggered.connect(self.publish_shown_plan)
        self.approve_action = QAction("Approve this plan…", self)
        self.approve_action.setToolTip(
            "Approve the plan shown, with a reason: who, when and why are recorded, and the "
            "plan can no longer change"
        )
        self.approve_action.triggered.connect(lambda: self.approve_shown_plan())
        self.compare_action = QAction("Compare with published…", self)
        self.compare_action.setShortcut(QKeySequence("Ctrl+D"))
        self.compare_action.setToolTip(
            "Who moved, was added or dropped between the published plan and the plan shown"
        )
        self.compare_action.triggered.connect(self.ask_compare)
        self.plan_combo = QComboBox()
        self.plan_combo.setMinimumContentsLength(40)
        self.plan_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.plan_combo.setToolTip("The scenario's stored plans; pick one to look at it")
        self.plan_combo.activated.connect(self._on_plan_picked)
        fit_action = QAction("Fit Gantt", self)
        fit_action.setToolTip("Fit the whole horizon into the Gantt's width")
        fit_action.triggered.connect(self.gantt.fit_width)
        self.slot_action = QAction("Earliest slot…", self)
        self.slot_action.setShortcut(QKeySequence("Ctrl+L"))
        self.slot_action.setToolTip(
            "When could a new referral start? Books around the plan shown, moving no one"
        )
        self.slot_action.triggered.connect(self.ask_slot)
        self.import_action = QAction("Import scenario…", self)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.setToolTip(
            "Bring a centre in from a filled template (.xlsx) or a scenario file (.json)"
        )
        self.import_action.triggered.connect(self.ask_import)
        self.roster_action = QAction("Import roster…", self)
        self.roster_action.setToolTip(
            "Merge a staffing office's roster workbook into this scenario (long or matrix layout)"
        )
        self.roster_action.triggered.connect(lambda: self.ask_merge("roster"))
        self.referrals_action = QAction("Import referrals…", self)
        self.referrals_action.setToolTip("Add the patients of a referral list to this scenario")
        self.referrals_action.triggered.connect(lambda: self.ask_merge("referrals"))
        self.export_action = QAction("Export plan…", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setToolTip("Write the weekly plan workbook to print (Ctrl+E)")
        self.export_action.triggered.connect(self.ask_export)
        self.audit_action = QAction("Audit trail…", self)
        self.audit_action.setStatusTip("Who changed what, when and why; check the chain")
        self.audit_action.triggered.connect(self.show_audit)
        self.audit_action.setEnabled(isinstance(self._store, AuditSource))
        for action, needs in (
            (self.solve_action, Action.SOLVE),
            (self.import_action, Action.EDIT_RESOURCES),
            (self.roster_action, Action.IMPORT_ROSTER),
            (self.referrals_action, Action.EDIT_PATIENTS),
        ):
            self._gate(action, needs)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        self.time_spin = QDoubleSpinBox()
        self.time_spin.setRange(0.5, MAX_DETERMINISTIC_TIME)
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
        toolbar.addWidget(QLabel(" Plan "))
        toolbar.addWidget(self.plan_combo)
        toolbar.addAction(self.use_action)
        toolbar.addSeparator()
        toolbar.addAction(fit_action)
        self.addToolBar(toolbar)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.roster_action)
        file_menu.addAction(self.referrals_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        plan_menu = menu.addMenu("&Plan")
        plan_menu.addAction(self.solve_action)
        plan_menu.addAction(self.cancel_action)
        plan_menu.addSeparator()
        plan_menu.addAction(self.use_action)
        plan_menu.addAction(self.approve_action)
        plan_menu.addAction(self.publish_action)
        plan_menu.addAction(self.compare_action)
        plan_menu.addAction(self.slot_action)
        view_menu = menu.addMenu("&View")
        view_menu.addAction(fit_action)
        tools_menu = menu.addMenu("&Tools")
        tools_menu.addAction(self.audit_action)

    def export_dialog(self) -> ExportDialog:
        """The export dialog, filled with a file name and the coming four weeks."""
        scenario = self._scenario
        horizon = (scenario.horizon_start, scenario.horizon_end)
        number = "unsaved" if self._plan_id is None else str(self._plan_id)
        safe = "".join(c if c.isalnum() else "-" for c in scenario.name).strip("-")
        suggested = Path.home() / f"{safe or 'plan'}-plan-{number}.xlsx"
        window = default_window(*horizon, date.today())
        return ExportDialog(suggested, window, horizon, self)

    def ask_import(self) -> Scenario | None:
        """Check a scenario file, import it if valid and wanted, and show it."""
        if self._store is None or self.solving or self._pending is not None:
            return None
        if self._refused(Action.EDIT_RESOURCES):
            return None
        dialog = ImportDialog(self)
        if dialog.exec() != ImportDialog.DialogCode.Accepted or dialog.scenario is None:
            return None
        return self.import_scenario(dialog.scenario)

    def merge_dialog(self, kind: str) -> ImportDialog:
        """The dialog that checks a roster or referral workbook against this scenario."""
        reader = roster_reader if kind == "roster" else referrals_reader
        what = "a roster" if kind == "roster" else "referrals"
        return ImportDialog(
            self,
            reader=reader(self._scenario),
            title=f"Import {what} into '{self._scenario.name}'",
            hint=f"A workbook (.xlsx) of {what}",
            file_filter="Workbooks (*.xlsx)",
        )

    def ask_merge(self, kind: str) -> Scenario | None:
        """Check a roster or referral workbook, then merge it into this scenario if wanted."""
        if self._store is None or self.solving or self._pending is not None:
            return None
        if self._refused(_MERGES[kind]):
            return None
        loaded = self._store.scenario_version(self._scenario.name)
        dialog = self.merge_dialog(kind)
        if dialog.exec() != ImportDialog.DialogCode.Accepted or dialog.scenario is None:
            return None
        return self.store_merged(dialog.scenario, loaded, dialog.change_text)

    def store_merged(self, scenario: Scenario, loaded: int, what: str) -> Scenario | None:
        """Save a scenario with a roster or referrals merged in, unless someone saved it
        since it was loaded at version `loaded`; show it."""
        if self._store is None:
            return None
        try:
            self._store.save_scenario(scenario, loaded)
        except ConcurrentEditError as error:
            self._show_error(f"{error} To merge the file, import it again.")
            return None
        self.set_scenario(scenario)
        self._show_info(f"Imported. {what} Press Solve to re-plan.")
        return scenario

    def import_scenario(self, scenario: Scenario) -> Scenario | None:
        """Store a checked scenario under a free name and switch the window to it."""
        if self._store is None:
            return None
        if self._store.has_scenario(scenario.name):
            self._show_error(
                f"A scenario named '{scenario.name}' is stored already; nothing was imported. "
                "Rename it in the file, or use `atmp-planner import --replace`."
            )
            return None
        try:
            self._store.save_scenario(scenario, replace=False)
        except RepositoryError as error:  # e.g. someone stored the name a moment ago
            self._show_error(f"{error}; nothing was imported.")
            return None
        self.set_scenario(scenario)
        self._show_info(f"Imported '{scenario.name}'; press Solve to plan it.")
        return scenario

    def set_scenario(self, scenario: Scenario) -> None:
        """Show another scenario (with its current plan, if it has one)."""
        self._scenario = scenario
        self.setWindowTitle(self._title())
        summaries = [] if self._store is None else self._store.plan_summaries(scenario.name)
        current = next((s.plan_id for s in summaries if s.current), None)
        plan = None if current is None or self._store is None else self._store.load_plan(current)
        self._load_pins()
        self.set_plan(plan, current)
        self.refresh_plans()

    def audit_dialog(self) -> AuditDialog | None:
        """The audit trail viewer on the store, loading its records; None without a store
        that keeps one."""
        if not isinstance(self._store, AuditSource):
            return None
        dialog = AuditDialog(self._store, self)
        dialog.reload()
        return dialog

    def show_audit(self) -> None:
        """Tools > Audit trail…"""
        dialog = self.audit_dialog()
        if dialog is not None:
            dialog.exec()

    def slot_dialog(self) -> SlotDialog:
        """The earliest-slot dialog, booking around the plan shown."""
        if self._plan is None:
            basis = "no plan yet: only the referral is booked"
        elif self._plan_id is None:
            basis = "the unsaved plan shown, every patient kept as planned"
        else:
            basis = f"plan #{self._plan_id}, every patient kept as planned"
        return SlotDialog(self._scenario, self._plan, basis, date.today(), self)

    def ask_slot(self) -> None:
        """Open the earliest-slot dialog."""
        self.slot_dialog().exec()

    def ask_export(self) -> Path | None:
        """Ask for a file and dates, then write the workbook of the plan shown."""
        if self._plan is None:
            return None
        dialog = self.export_dialog()
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return None
        return self.export_plan(dialog.path(), *dialog.dates(), calendars=dialog.calendars_folder())

    def export_plan(
        self, path: Path, start: date, end: date, calendars: Path | None = None
    ) -> Path | None:
        """Write the weekly plan workbook of the plan shown (and staff calendars if given)."""
        if self._plan is None:
            return None
        try:
            written = write_plan_workbook(
                path, self._scenario, self._plan, start, end, self._plan_id
            )
            files = (
                []
                if calendars is None
                else write_staff_calendars(
                    calendars, self._scenario, self._plan, self._plan_id, start, end
                )
            )
        except (OSError, ValueError) as error:
            self._show_error(f"Export failed: {error}")
            return None
        extra = f" and {len(files)} staff calendars to {calendars}" if calendars else ""
        self._show_info(f"Wrote the weekly plan {start} to {end}: {written}{extra}")
        return written

    def _build_decision_bar(self) -> QFrame:
        """The bar asking whether to keep the plan of a solve stopped early."""
        bar = QFrame()
        bar.setObjectName("decision-bar")
        bar.setStyleSheet(
            "#decision-bar { background: #fff4d6; border-bottom: 1px solid #e0b84c; }"
        )
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(8, 4, 8, 4)
        self.decision_label = QLabel()
        self.decision_label.setWordWrap(True)
        self.keep_button = QPushButton("Keep and use")
        self.keep_button.setToolTip("Save this plan and make it the current plan")
        self.keep_button.clicked.connect(self.keep_pending)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Drop this plan and show the previous one again")
        self.discard_button.clicked.connect(self.discard_pending)
        layout.addWidget(self.decision_label, 1)
        layout.addWidget(self.keep_button)
        layout.addWidget(self.discard_button)
        bar.setVisible(False)
        return bar

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
        idle = not running and self._pending is None
        self.solve_action.setEnabled(idle and self.may(Action.SOLVE))
        self.cancel_action.setEnabled(running)
        self.time_spin.setEnabled(idle)
        self.plan_combo.setEnabled(idle and bool(self._summaries))
        self.progress_bar.setVisible(running)
        self.progress_bar.setRange(0, 0)
        self._update_plan_actions()

    def _gate(self, action: QAction, needs: Action) -> bool:
        """Grey out an action the user's role does not allow, saying why; whether allowed."""
        if self.may(needs):
            return True
        action.setEnabled(False)
        if self._actor is not None:
            action.setToolTip(self._actor.refusal(needs))
            action.setStatusTip(self._actor.refusal(needs))
        return False

    def _update_plan_actions(self) -> None:
        self.export_action.setEnabled(self._plan is not None)
        published = next((s.plan_id for s in self._summaries if s.published), None)
        self.publish_action.setEnabled(
            self._store is not None
            and self._worker is None
            and self._pending is None
            and self._plan_id is not None
            and self._plan_id != published
        )
        self.compare_action.setEnabled(published is not None and self._plan is not None)
        shown = next((s for s in self._summaries if s.plan_id == self._plan_id), None)
        self.approve_action.setEnabled(
            self._store is not None
            and self._worker is None
            and self._pending is None
            and shown is not None
            and shown.approved_by is None
        )
        current = next((s.plan_id for s in self._summaries if s.current), None)
        self.use_action.setEnabled(
            self._store is not None
            and self._worker is None
            and self._pending is None
            and self._plan_id is not None
            and self._plan_id != current
        )
        for action, needs in (
            (self.publish_action, Action.PUBLISH),
            (self.approve_action, Action.APPROVE),
            (self.use_action, Action.SOLVE),
        ):
            self._gate(action, needs)

    def _current_hint(self) -> str:
        current = next((s for s in self._summaries if s.current), None)
        if current is None:
            return "The scenario has no current plan."
        if current.plan_id == self._plan_id:
            return "It is the current plan."
        return f"The current plan is still #{current.plan_id}: Use this plan to change it."

    def _on_plan_picked(self, index: int) -> None:
        plan_id = self.plan_combo.itemData(index)
        if isinstance(plan_id, int):
            self.show_stored_plan(plan_id)

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
        kpis = plan.kpis
        done = (
            f"{kpis.scheduled} / {kpis.total} scheduled in {plan.solver.wall_time_s:.1f} s; "
            f"{plan.solver.describe()}"
        )
        if cancelled or plan.solver.stopped:
            self._before_pending = (self._plan, self._plan_id)
            self._pending = plan
            self._end_worker()
            self.set_plan(plan)
            self.refresh_plans()
            so_far = (
                f"{kpis.scheduled} / {kpis.total} scheduled after "
                f"{plan.solver.wall_time_s:.1f} s, {plan.solver.status} plan from "
                f"{plan.solver.engine}"
            )
            self.decision_label.setText(
                f"<b>Stopped early.</b> Showing the best plan found so far ({so_far}). "
                "It is not saved and your current plan is unchanged: keep it, or discard it."
            )
            self.decision_bar.setVisible(True)
            self._show_info(f"Stopped early: {so_far}; not saved.")
            return
        self._end_worker()
        plan_id = None
        if self._store is not None:
            try:
                plan_id = self._store.save_plan(plan, current=True, **self._solved_inputs())
            except Exception as error:  # show any storage failure
                self.set_plan(plan)
                self.refresh_plans()
                self._show_error(f"Solved: {done}; saving failed: {error}")
                return
        self.set_plan(plan, plan_id)
        self.refresh_plans()
        saved = "" if plan_id is None else f"; saved as plan #{plan_id}, now the current plan"
        self._show_info(f"Solved: {done}{saved}")

    def _on_failed(self, message: str) -> None:
        self._end_worker()
        self._show_error(f"Solve failed: {message}")

    def _show_info(self, message: str) -> None:
        self.status_label.setStyleSheet("")
        self.status_label.setText(message)
        self.status_label.setToolTip(message)

    def _show_error(self, message: str) -> None:
        self.status_label.setStyleSheet("color: #b91c1c;")
        self.status_label.setText(message)
        self.status_label.setToolTip(message)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop a running solve before closing so no thread outlives the window.

        A plan waiting for Keep or Discard is dropped: it was never saved.
        """
        if self._worker is not None:
            self._worker.cancel()
            self._worker.wait(30000)
        super().closeEvent(event)


#: What merging each kind of workbook needs.
_MERGES = {"roster": Action.IMPORT_ROSTER, "referrals": Action.EDIT_PATIENTS}


def _acting(store: object) -> tuple[Actor | None, str]:
    """Who acts on the store (None: no store that knows, everything allowed), and why
    they may only look if the store refused to say (e.g. a name that is not the login)."""
    if not isinstance(store, AccessSource):
        return None, ""
    try:
        return store.actor(), ""
    except Exception as error:  # any refusal or storage failure: look, change nothing
        return Actor("unknown", UserRole.VIEWER), str(error)
