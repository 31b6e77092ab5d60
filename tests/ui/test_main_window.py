"""The main window: title, tabs following the plan, and solving with the real solver."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

import pytest
from PySide6.QtCore import QObject, Slot

from data.db import open_database
from data.repository import Repository
from planner import Plan, ResourceType, SolveProgress, SolveSettings
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
    assert "Plan status          FEASIBLE" in text
    assert "P3" in text and "no_bed: No ward bed is free after release." in text
    model = window.patient_model
    assert model.data(model.index(model.row_of("P1"), model.column("plan"))) == "scheduled"
    assert len(window.gantt.bars()) > 0


def test_progress_text_shows_phase_time_objective_and_count():
    """A progress report reads as phase, elapsed seconds, best objective and scheduled."""
    text = progress_text(SolveProgress("cp-sat", 2.345, objective=12345.0, scheduled=7))
    assert text == "cp-sat · 2.3 s · best 12,345 · 7 scheduled"


@pytest.fixture
def store(tmp_path) -> Repository:
    """A real repository on a new SQLite file holding tiny_scenario()."""
    repo = Repository(open_database(f"sqlite:///{tmp_path / 'ui.sqlite'}"))
    repo.save_scenario(tiny_scenario())
    return repo


def test_solve_action_solves_updates_tabs_and_saves(qtbot, store):
    """Solve runs the real solver in the background, shows the plan, saves it as current."""
    window = _window(qtbot, scenario=tiny_scenario(), store=store)
    assert window.plan_combo.itemText(0) == "(no plan)"
    window.time_spin.setValue(1.0)
    with qtbot.waitSignal(window.plan_changed, timeout=TIMEOUT_MS) as blocker:
        window.solve_action.trigger()
        assert window.solving and not window.solve_action.isEnabled()
        assert window.cancel_action.isEnabled()
    plan = blocker.args[0]
    assert window.plan is plan and window.plan_id is not None
    (summary,) = store.plan_summaries("tiny")
    assert summary.plan_id == window.plan_id and summary.current
    assert store.current_plan("tiny") == plan
    assert plan.solver.settings.deterministic_time == 1.0
    status = window.status_label.text()
    assert f"{plan.kpis.scheduled} / {plan.kpis.total} scheduled" in status
    assert f"saved as plan #{window.plan_id}, now the current plan" in status
    assert f"plan from {plan.solver.engine}; CP-SAT " in status and "UNKNOWN" not in status
    assert "Plan status" in window.kpi_text.toPlainText()
    assert window.plan_combo.currentData() == window.plan_id
    assert "current" in window.plan_combo.currentText()
    assert window.solve_action.isEnabled() and not window.cancel_action.isEnabled()
    assert not window.use_action.isEnabled()  # it already is the current plan
    assert not window.solving
    # Saved with the scenario it was solved from, so `atmp-planner reproduce` can rerun it.
    inputs = store.plan_inputs(window.plan_id)
    assert inputs.scenario == tiny_scenario() and inputs.replan is None


def _stopped_solve(qtbot, window: MainWindow) -> Plan:
    """Start a long solve, press Cancel at once; the stopped plan it yields."""
    window.time_spin.setValue(3600.0)
    with qtbot.waitSignal(window.plan_changed, timeout=TIMEOUT_MS) as blocker:
        window.solve_action.trigger()
        window.cancel_action.trigger()
    plan = blocker.args[0]
    assert plan.solver.stopped
    return plan


def test_a_cancelled_solve_is_shown_but_saves_nothing_until_kept(qtbot, store):
    """Cancel shows the best plan so far, unsaved; Discard brings the current plan back."""
    first = replace(sample_plan(tiny_scenario()), scenario_name="tiny")
    first_id = store.save_plan(first, current=True)
    window = _window(qtbot, scenario=tiny_scenario(), plan=first, store=store, plan_id=first_id)
    before = store.plan_summaries("tiny")
    stopped = _stopped_solve(qtbot, window)
    assert window.pending is stopped and window.plan is stopped and window.plan_id is None
    assert window.decision_bar.isVisibleTo(window)
    bar = window.decision_label.text()
    assert "Stopped early" in bar and bar.lower().count("stopped early") == 1
    assert f"{stopped.kpis.scheduled} / {stopped.kpis.total} scheduled" in bar
    assert store.plan_summaries("tiny") == before  # nothing saved, current unchanged
    assert not window.solve_action.isEnabled() and not window.plan_combo.isEnabled()
    assert window.start_solve() is None  # no new solve over an undecided plan
    window.discard_button.click()
    assert window.pending is None and not window.decision_bar.isVisibleTo(window)
    assert window.plan is first and window.plan_id == first_id
    assert store.plan_summaries("tiny") == before
    assert store.current_plan("tiny") == first
    assert window.solve_action.isEnabled()


def test_keeping_a_cancelled_solve_saves_it_as_current(qtbot, store):
    """Keep and use saves the stopped plan and makes it the current one."""
    first_id = store.save_plan(
        replace(sample_plan(tiny_scenario()), scenario_name="tiny"), current=True
    )
    window = _window(qtbot, scenario=tiny_scenario(), store=store, plan_id=None)
    stopped = _stopped_solve(qtbot, window)
    window.keep_button.click()
    assert window.pending is None and window.plan_id not in (None, first_id)
    kept = store.load_plan(window.plan_id)
    assert kept.same_content(stopped) and kept.solver.stopped
    assert [s.current for s in store.plan_summaries("tiny")] == [False, True]
    assert "now the current plan" in window.status_label.text()


def test_plan_picker_switches_plans_and_use_makes_one_current(qtbot, store):
    """Picking a stored plan shows it without changing the current one; Use this plan does."""
    plan = replace(sample_plan(tiny_scenario()), scenario_name="tiny")
    older = store.save_plan(plan, current=True)
    newer = store.save_plan(replace(plan, notes=("second",)), current=True)
    window = _window(
        qtbot, scenario=tiny_scenario(), plan=store.load_plan(newer), store=store, plan_id=newer
    )
    assert window.plan_combo.count() == 2 and window.plan_combo.currentData() == newer
    window.plan_combo.activated.emit(window.plan_combo.findData(older))
    assert window.plan_id == older and window.plan is not None and window.plan.notes == ()
    assert "current plan is still #" in window.status_label.text()
    assert store.current_plan("tiny").notes == ("second",)
    assert window.use_action.isEnabled()
    window.use_action.trigger()
    assert store.current_plan("tiny").notes == ()
    assert "current" in window.plan_combo.currentText()
    assert not window.use_action.isEnabled()


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


class _FullDisk(Repository):
    """A repository whose saves fail as on a full disk."""

    def save_plan(self, plan: Plan, *, current: bool = False, **inputs: object) -> int:
        raise OSError("disk full")


def test_save_failure_is_shown_not_raised(qtbot, store):
    """A failing save leaves the plan shown (as not saved) and reports the error."""
    failing = _FullDisk(store._engine)
    window = _window(qtbot, scenario=tiny_scenario(), store=failing)
    window.time_spin.setValue(1.0)
    with qtbot.waitSignal(window.plan_changed, timeout=TIMEOUT_MS):
        window.start_solve()
    qtbot.waitUntil(lambda: "saving failed: disk full" in window.status_label.text())
    assert window.plan is not None and window.plan_id is None
    assert window.plan_combo.currentText() == "(not saved)"


def test_file_export_writes_the_shown_plan_for_the_dates_chosen(
    qtbot, store, tmp_path, monkeypatch
):
    """File > Export plan… asks for a file and dates, then writes that plan's weekly workbook."""
    from openpyxl import load_workbook

    from ui.export_dialog import ExportDialog

    pooled = replace(sample_plan(tiny_scenario()), scenario_name="tiny")
    need = next(a for a in pooled.assignments if a.resource_type is ResourceType.STAFF_POOL)
    named_row = replace(need, resource_type=ResourceType.STAFF, resource_code="OP2", quantity=1)
    plan = replace(pooled, assignments=(*pooled.assignments, named_row))
    plan_id = store.save_plan(plan, current=True)
    window = _window(qtbot, scenario=tiny_scenario(), plan=plan, store=store, plan_id=plan_id)
    assert window.export_action.isEnabled()
    target = tmp_path / "wall.xlsx"

    def user_fills_in(dialog: ExportDialog) -> int:
        assert dialog.path().suffix == ".xlsx" and dialog.problem_text() == ""
        dialog.set_choice(tmp_path / "wall.txt", date(2027, 1, 4), date(2027, 1, 17))
        assert "must end in .xlsx" in dialog.problem_text()
        dialog.set_choice(target, date(2027, 1, 17), date(2027, 1, 4))
        assert "before the first" in dialog.problem_text()
        dialog.set_choice(target, date(2027, 1, 4), date(2027, 1, 17))
        assert dialog.problem_text() == "" and dialog.calendars_folder() is None
        dialog.calendars_box.setChecked(True)
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", user_fills_in)
    window.export_action.trigger()
    ws = load_workbook(target)["Cleanrooms"]
    assert ws.oddHeader.right.text == f"Plan #{plan_id} · {plan.solver.status}"
    assert len(ws.row_breaks.brk) == 2  # two ISO weeks
    assert str(target) in window.status_label.text()
    folder = tmp_path / "wall-calendars"
    assert [p.name for p in folder.glob("*.ics")] == ["OP2.ics"]
    assert "staff calendars" in window.status_label.text()


def test_export_is_off_without_a_plan_and_failures_show_in_the_status_bar(qtbot, tmp_path):
    """No plan: nothing to export; an unwritable path is reported, not raised."""
    window = _window(qtbot)
    assert not window.export_action.isEnabled()
    window.set_plan(sample_plan())
    assert window.export_action.isEnabled()
    missing = tmp_path / "no-such-folder" / "plan.xlsx"
    assert window.export_plan(missing, date(2027, 1, 4), date(2027, 1, 10)) is None
    assert "Export failed" in window.status_label.text() and not missing.exists()


def test_earliest_slot_dialog_answers_around_the_plan_shown(qtbot, store):
    """Plan > Earliest slot…: a referral booked around the shown plan, off the GUI thread."""
    from solver import solve

    scenario = tiny_scenario(n_patients=2)
    plan = solve(scenario, SolveSettings(deterministic_time=0.5))
    plan_id = store.save_plan(plan, current=True)
    window = _window(qtbot, scenario=scenario, plan=plan, store=store, plan_id=plan_id)
    dialog = window.slot_dialog()
    qtbot.addWidget(dialog)
    assert dialog.referral().product_code == "CART"
    with qtbot.waitSignal(dialog.answered, timeout=TIMEOUT_MS) as answer:
        dialog.look()
        assert not dialog.find_button.isEnabled()
    offer = answer.args[0]
    assert offer.found and f"plan #{plan_id}" in offer.basis
    text = dialog.answer.toPlainText()
    assert f"apheresis  {offer.apheresis_day:%a %Y-%m-%d}" in text and "moving no one" in text
    assert dialog.find_button.isEnabled()
    assert store.plan_summaries("tiny")[-1].plan_id == plan_id  # nothing saved


def test_earliest_slot_dialog_also_answers_with_moves(qtbot, store):
    """Ticking 'Also if planned patients may move' adds the with-moves answer (earlier here:
    one room, wide windows) and who moves; nothing is saved."""
    from solver import solve
    from tests.factories import patient

    wide = tuple(patient(f"P{i}", window_days=40) for i in (1, 2, 3))
    scenario = tiny_scenario(days=70, frozen_days=0, patients=wide)
    plan = solve(scenario, SolveSettings(deterministic_time=0.5))
    plan_id = store.save_plan(replace(plan, scenario_name="tiny"), current=True)
    window = _window(qtbot, scenario=scenario, plan=plan, store=store, plan_id=plan_id)
    dialog = window.slot_dialog()
    qtbot.addWidget(dialog)
    assert dialog.moves_check.isEnabled()
    dialog.moves_check.setChecked(True)
    with qtbot.waitSignal(dialog.answered, timeout=TIMEOUT_MS):
        dialog.look()
    text = dialog.answer.toPlainText()
    assert "moving no one" in text and "With planned patients allowed to move" in text
    assert "moves      1 patient(s):" in text
    assert store.plan_summaries("tiny")[-1].plan_id == plan_id


def test_file_import_checks_shows_problems_by_place_then_imports(qtbot, store, tmp_path):
    """File > Import scenario…: a bad file lists its problems by sheet, row and column and
    cannot be imported; a good one is stored and shown, ready to solve."""
    from openpyxl import load_workbook

    from data.scenario_files import write_scenario
    from ui.import_dialog import ImportDialog

    window = _window(qtbot, scenario=tiny_scenario(), store=store)
    good = write_scenario(tmp_path / "ours.xlsx", replace(tiny_scenario(), name="Our centre"))
    bad = tmp_path / "typo.xlsx"
    workbook = load_workbook(good)
    staff = workbook["Staff"]
    staff["B2"] = "operatr"  # a typo in a role
    workbook.save(bad)

    dialog = ImportDialog(window)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.checked, timeout=TIMEOUT_MS):
        dialog.check(bad)
    assert not dialog.import_button.isEnabled() and dialog.scenario is None
    rows = [
        [dialog.problems.item(r, c).text() for c in range(4)]
        for r in range(dialog.problems.rowCount())
    ]
    assert rows and rows[0][:3] == ["Staff", "2", "B (roles)"], rows
    assert "operatr" in rows[0][3]
    with qtbot.waitSignal(dialog.checked, timeout=TIMEOUT_MS):
        dialog.check(good)
    assert dialog.import_button.isEnabled() and "Our centre" in dialog.summary.text()
    assert not store.has_scenario("Our centre")  # checking stores nothing

    imported = window.import_scenario(dialog.scenario)
    assert imported is not None and store.has_scenario("Our centre")
    assert window.scenario.name == "Our centre" and window.plan is None
    assert "Our centre" in window.windowTitle()
    assert window.import_scenario(dialog.scenario) is None  # the name is taken now
    assert "stored already" in window.status_label.text()


def _sheet(path, title, rows):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = title
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def _checked(qtbot, dialog, path):
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.checked, timeout=TIMEOUT_MS):
        dialog.check(path)
    return [
        [dialog.problems.item(r, c).text() for c in range(4)]
        for r in range(dialog.problems.rowCount())
    ]


def test_file_import_roster_shows_problems_then_merges_and_refuses_a_stale_save(
    qtbot, store, tmp_path
):
    """File > Import roster…: a code the scenario does not know is located and blocks the
    import; a good matrix is previewed, then merged and stored; a save by someone else in
    between is refused and changes nothing."""
    window = _window(qtbot, scenario=tiny_scenario(), store=store)
    header = ["Name", date(2027, 1, 4), date(2027, 1, 5)]
    bad = _sheet(tmp_path / "bad.xlsx", "Schema", [header, ["OP1", "L", "Q"]])
    rows = _checked(qtbot, window.merge_dialog("roster"), bad)
    assert rows and rows[0][:2] == ["Schema", "2"] and "Q" in rows[0][3], rows

    good = _sheet(tmp_path / "good.xlsx", "Schema", [header, ["OP1", "L", "L"]])
    dialog = window.merge_dialog("roster")
    assert _checked(qtbot, dialog, good) == [] and dialog.import_button.isEnabled()
    assert "2 changed" in dialog.summary.text()
    loaded = store.scenario_version("tiny")
    before = store.load_scenario("tiny")
    store.save_scenario(replace(before, name="tiny"))  # a colleague saves meanwhile
    assert window.store_merged(dialog.scenario, loaded, dialog.change_text) is None
    # The repository names who saved meanwhile (the audit trail knows: here "tester").
    assert "was changed by tester at " in window.status_label.text()
    assert "Nothing of yours was saved" in window.status_label.text()
    assert store.load_scenario("tiny").roster == before.roster

    merged = window.store_merged(dialog.scenario, store.scenario_version("tiny"), "")
    assert merged is not None
    shifts = {(e.staff_code, e.day): e.shift_code for e in store.load_scenario("tiny").roster}
    assert shifts[("OP1", date(2027, 1, 4))] == shifts[("OP1", date(2027, 1, 5))] == "L"
    assert window.scenario.roster == merged.roster


def test_file_import_referrals_adds_the_patients(qtbot, store, tmp_path):
    """File > Import referrals…: the list's patients are previewed, then added and stored."""
    window = _window(qtbot, scenario=tiny_scenario(), store=store)
    path = _sheet(
        tmp_path / "ref.xlsx",
        "Referrals",
        [
            ["Code", "Product", "Referral date", "Earliest apheresis", "Latest apheresis"],
            ["N1", "CART", date(2027, 1, 6), date(2027, 1, 8), date(2027, 1, 20)],
        ],
    )
    dialog = window.merge_dialog("referrals")
    assert _checked(qtbot, dialog, path) == []
    assert "Adding 1 referred patients" in dialog.summary.text() and "N1" in dialog.summary.text()
    assert window.store_merged(dialog.scenario, store.scenario_version("tiny"), "") is not None
    assert [p.code for p in store.load_scenario("tiny").patients][-1] == "N1"


def _answer_plan_anyway(qtbot, click: str) -> list[str]:
    """Press a button of the coming 'never planned' question; returns its text."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen: list[str] = []

    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        seen.append(box.informativeText())
        (button,) = [b for b in box.buttons() if b.text().replace("&", "") == click]
        button.click()

    QTimer.singleShot(0, press)
    return seen


def test_solve_asks_before_planning_inputs_that_can_never_be_planned(qtbot, store):
    """Without a roster nothing can be staffed: Solve asks first; Cancel solves nothing
    and says why in the status line; 'Plan what can be planned' solves."""
    bare = replace(tiny_scenario(), roster=())
    window = _window(qtbot, scenario=bare, store=store)
    window.time_spin.setValue(0.2)
    seen = _answer_plan_anyway(qtbot, "Cancel")
    assert window.start_solve() is None
    assert "No operator trained on CART is on the roster" in seen[0]
    assert not window.solving and window.status_label.text().startswith("Not solved: ")
    seen = _answer_plan_anyway(qtbot, "Plan what can be planned")
    with qtbot.waitSignal(window.plan_changed, timeout=TIMEOUT_MS) as blocker:
        assert window.start_solve() is not None
    assert seen and blocker.args[0].kpis.scheduled == 0
