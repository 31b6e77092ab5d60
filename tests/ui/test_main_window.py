"""The main window: title, tabs following the plan, and solving with the real solver."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Slot

from planner import Plan, SolveProgress
from planner.kpis import format_progress as progress_text
from tests.factories import tiny_scenario
from tests.ui.sample import sample_plan, sample_scenario
from ui.main_window import MainWindow

TIMEOUT_MS = 60_000


def _window(qtbot, **kwargs) -> MainWindow:
    scenario = kwargs.pop("scenario", None) or sample_scenario()
    window = MainWindow(scenario, **kwargs)
    qtbot.addWidget(window)
    return window


def test_title_names_the_scenario_and_size_is_sensible(qtbot):
    """The window title carries the scenario name; the window starts at 1280x800."""
    window = _window(qtbot)
    assert "tiny" in window.windowTitle()
    assert (window.width(), window.height()) == (1280, 800)
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles[:2] == ["Patients", "Gantt"] and "KPIs" in titles


def test_new_plan_updates_kpis_patients_and_gantt(qtbot):
    """set_plan refreshes the KPI text, the patient table and the Gantt bars."""
    window = _window(qtbot)
    assert "No plan yet" in window.kpi_text.toPlainText()
    assert window.gantt.bars() == []
    with qtbot.waitSignal(window.plan_changed):
        window.set_plan(sample_plan())
    text = window.kpi_text.toPlainText()
    assert "Scheduled patients   2 / 3" in text
    assert "Solver status        FEASIBLE" in text
    assert "P3" in text and "no_bed: No ward bed is free after release." in text
    model = window.patient_model
    assert model.data(model.index(model.row_of("P1"), model.column("plan"))) == "scheduled"
    assert len(window.gantt.bars()) > 0


def test_progress_text_shows_phase_time_objective_and_count():
    """A progress report reads as phase, elapsed seconds, best objective and scheduled."""
    text = progress_text(SolveProgress("cp-sat", 2.345, objective=12345.0, scheduled=7))
    assert text == "cp-sat · 2.3 s · best 12,345 · 7 scheduled"


def test_solve_action_solves_updates_tabs_and_saves(qtbot):
    """Solve runs the real solver in the background, shows the plan and calls save_plan."""
    saved: list[Plan] = []
    window = _window(qtbot, scenario=tiny_scenario(), save_plan=saved.append)
    window.time_spin.setValue(1.0)
    with qtbot.waitSignal(window.plan_changed, timeout=TIMEOUT_MS) as blocker:
        window.solve_action.trigger()
        assert window.solving and not window.solve_action.isEnabled()
        assert window.cancel_action.isEnabled()
    plan = blocker.args[0]
    assert saved == [plan] and window.plan is plan
    assert plan.solver.settings.deterministic_time == 1.0
    assert f"{plan.kpis.scheduled} / {plan.kpis.total} scheduled" in window.status_label.text()
    assert "saved" in window.status_label.text()
    assert "Solver status" in window.kpi_text.toPlainText()
    assert window.solve_action.isEnabled() and not window.cancel_action.isEnabled()
    assert not window.solving


class _LabelSpy(QObject):
    """Reads the status label on the GUI thread after the window handled each report."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window = window
        self.shown: list[str] = []
        self.threads: set[int] = set()

    @Slot(object)
    def record(self, report: SolveProgress) -> None:
        self.shown.append(self.window.status_label.text())
        self.threads.add(threading.get_ident())


def test_status_bar_shows_live_progress_on_the_gui_thread(qtbot):
    """While solving, each progress report is written to the status label by the GUI thread."""
    window = _window(qtbot, scenario=tiny_scenario())
    window.time_spin.setValue(1.0)
    spy = _LabelSpy(window)
    with qtbot.waitSignal(window.plan_changed, timeout=TIMEOUT_MS):
        worker = window.start_solve()
        assert worker is not None
        assert window.start_solve() is None
        worker.progress.connect(spy.record)
    assert spy.shown, "no progress report reached the window"
    assert all(" s · " in text or text.endswith(" s") for text in spy.shown), spy.shown
    assert spy.threads == {threading.get_ident()}


def test_save_failure_is_shown_not_raised(qtbot):
    """A failing save_plan leaves the plan shown and reports the error in the status bar."""

    def failing_save(plan: Plan) -> None:
        raise OSError("disk full")

    window = _window(qtbot, scenario=tiny_scenario(), save_plan=failing_save)
    window.time_spin.setValue(1.0)
    with qtbot.waitSignal(window.plan_changed, timeout=TIMEOUT_MS):
        window.start_solve()
    qtbot.waitUntil(lambda: "saving failed: disk full" in window.status_label.text())
    assert window.plan is not None
