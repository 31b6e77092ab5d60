"""The window's re-planning: publish, pins on the Gantt, re-plan on Solve, compare."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMenu

from data.db import open_database
from data.repository import Repository
from planner import SolveSettings
from planner.replan import Pin
from solver import solve
from tests.factories import START, patient, tiny_scenario, with_patients
from ui.gantt import GanttBar
from ui.main_window import MainWindow

TIMEOUT_MS = 60_000


@pytest.fixture
def store(tmp_path) -> Repository:
    """A real SQLite repository holding tiny_scenario() and one current plan (#1)."""
    repo = Repository(open_database(f"sqlite:///{tmp_path / 'ui.sqlite'}"))
    scenario = tiny_scenario()
    repo.save_scenario(scenario)
    repo.save_plan(solve(scenario, SolveSettings(deterministic_time=1.0)), current=True)
    return repo


def _window(qtbot, store: Repository) -> MainWindow:
    plan_id = store.plan_summaries("tiny")[-1].plan_id
    window = MainWindow(
        tiny_scenario(), store.load_plan(plan_id), store, plan_id=plan_id, today=START
    )
    qtbot.addWidget(window)
    return window


def _bar(window: MainWindow, patient_code: str, step: str) -> GanttBar:
    return next(
        b
        for b in window.gantt.bars()
        if b.assignment.patient_code == patient_code and b.assignment.step_code == step
    )


def test_publish_then_pin_from_the_gantt_marks_and_stores_the_pin(qtbot, store, tmp_path):
    """Publish this plan (refused while a draft, done once approved); a bar's menu pins the
    patient (stored, drawn with a marker) and unpins it again."""
    window = _window(qtbot, store)
    assert window.publish_action.isEnabled() and not window.compare_action.isEnabled()
    window.publish_action.trigger()  # a draft: refused, nothing published
    assert store.published_plan_id("tiny") is None
    assert "approve it first" in window.status_label.text()
    window.approve_shown_plan("weekly planning board")
    window.publish_action.trigger()
    assert store.published_plan_id("tiny") == 1
    assert "published" in window.plan_combo.currentText()
    assert not window.publish_action.isEnabled() and window.compare_action.isEnabled()
    menu = QMenu(window)
    actions = window.gantt.pin_actions(_bar(window, "P1", "seed"), menu)
    assert [a.text() for a in actions] == ["Pin P1 (whole chain)", "Pin P1 up to seed"]
    actions[1].trigger()
    assert store.pins("tiny") == (Pin("P1", "seed"),)
    assert _bar(window, "P1", "seed").pinned and _bar(window, "P1", "apheresis").pinned
    assert not _bar(window, "P2", "seed").pinned
    window.gantt.pin_actions(_bar(window, "P1", "harvest"), menu)[0].trigger()
    assert all(
        b.pinned
        for b in window.gantt.bars()
        if b.assignment.patient_code == "P1" and b.assignment.step_code != "changeover"
    )
    (unpin,) = [
        a for a in window.gantt.pin_actions(_bar(window, "P1", "seed"), menu) if "Unpin" in a.text()
    ]
    unpin.trigger()
    assert store.pins("tiny") == ()
    assert not any(b.pinned for b in window.gantt.bars())
    window.gantt.pin_actions(_bar(window, "P2", "seed"), menu)[0].trigger()
    window.tabs.setCurrentIndex(1)
    window.gantt.fit_width()
    shot = tmp_path / "replan-pins.png"
    assert window.grab().save(str(shot)) and shot.stat().st_size > 10_000


def test_solve_replans_against_the_published_plan_and_compare_lists_the_changes(
    qtbot, store, tmp_path
):
    """With a plan published and a new referral, Solve re-plans (notes say so) and
    Compare with published lists the referral as added."""
    store.publish(1)
    scenario = with_patients(tiny_scenario(), *tiny_scenario().patients, patient("P3", 3))
    store.save_scenario(scenario)
    window = _window(qtbot, store)
    window.set_scenario(scenario)
    window.time_spin.setValue(1.0)
    with qtbot.waitSignal(window.plan_changed, timeout=TIMEOUT_MS) as blocker:
        window.solve_action.trigger()
        assert window.status_label.text().startswith("Re-planning against published plan #1")
    plan = blocker.args[0]
    assert any(n.startswith("Re-planned against published plan #1") for n in plan.notes)
    dialog = window.compare_dialog()
    assert dialog is not None
    model = dialog.model
    rows = {
        model.row_object(r).patient_code: model.row_object(r).kind for r in range(model.rowCount())
    }
    assert rows.get("P3") == "added"
    assert "Plan #1 -> plan #2" in dialog.summary.text()
    qtbot.addWidget(dialog)
    dialog.show()
    shot = tmp_path / "replan-compare.png"
    assert dialog.grab().save(str(shot)) and shot.stat().st_size > 5_000


def test_compare_without_a_published_plan_says_what_to_do(qtbot, store):
    """No published plan: the action is off and asking anyway names the step to take."""
    window = _window(qtbot, store)
    assert not window.compare_action.isEnabled()
    assert window.compare_dialog() is None
    assert "Publish this plan first" in window.status_label.text()


def test_approve_this_plan_records_the_reason_and_is_offered_once(qtbot, store):
    """Plan > Approve this plan…: approved by the repository's user with the reason; the
    picker says approved; the action is then disabled and an empty reason approves nothing."""
    window = _window(qtbot, store)
    assert window.approve_action.isEnabled()
    window.approve_shown_plan("  ")
    assert "needs a reason" in window.status_label.text()
    assert store.plan_summaries("tiny")[0].approved_by is None
    window.approve_shown_plan("Monday board")
    (summary,) = store.plan_summaries("tiny")
    assert (summary.state, summary.approved_by) == ("approved", store.user)
    assert store.audit_entries()[-1].reason == "Monday board"
    assert "approved" in window.plan_combo.currentText()
    assert not window.approve_action.isEnabled()
    window.approve_shown_plan("again")
    assert "cannot be approved again" in window.status_label.text()


def test_a_failed_batch_from_the_gantt_is_recorded_and_re_planned(qtbot, store):
    """A bar's menu records P1's failed batch (the day from a dialog, the reason into the
    audit trail); the next Solve collects P1 again after that day. An impossible day is
    refused in the status line with the scenario unchanged."""
    from datetime import timedelta

    from PySide6.QtCore import QDate, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.failed_batch_dialog import FailedBatchDialog

    window = _window(qtbot, store)
    window.approve_shown_plan("weekly planning board")
    window.publish_action.trigger()
    was = window.plan.schedule_of("P1")
    failed_on = was.apheresis_day + timedelta(days=2)
    version = store.scenario_version("tiny")
    assert window.record_failed_batch("P1", was.apheresis_day - timedelta(days=30)) is None
    assert "Could not record the failed batch of P1" in window.status_label.text()
    assert store.scenario_version("tiny") == version

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, FailedBatchDialog):
            QTimer.singleShot(20, answer)
            return
        dialog.day_edit.setDate(QDate(failed_on.year, failed_on.month, failed_on.day))
        dialog.reason_edit.setText("sterility test positive")
        dialog.accept()

    menu = QMenu(window)
    (action,) = [
        a
        for a in window.gantt.bar_actions(_bar(window, "P1", "seed"), menu)
        if "failed" in a.text()
    ]
    QTimer.singleShot(0, answer)
    action.trigger()
    stored = next(p for p in store.load_scenario("tiny").patients if p.code == "P1")
    assert stored.earliest_apheresis == failed_on
    assert "Press Solve to re-plan" in window.status_label.text()
    assert any(r.reason == "sterility test positive" for r in store.audit_entries())
    window.time_spin.setValue(1.0)
    with qtbot.waitSignal(window.plan_changed, timeout=TIMEOUT_MS) as blocker:
        window.solve_action.trigger()
    again = blocker.args[0].schedule_of("P1")
    assert again is not None and again.apheresis_day >= failed_on
