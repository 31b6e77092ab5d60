"""Table models over patients and assignments, tested without widgets."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtTest import QAbstractItemModelTester

from tests.ui.sample import sample_plan, sample_scenario
from ui.models import SORT_ROLE, UNSCHEDULED_BACKGROUND, AssignmentTableModel, PatientTableModel

DISPLAY = Qt.ItemDataRole.DisplayRole
Mode = QAbstractItemModelTester.FailureReportingMode


def _cell(model: PatientTableModel | AssignmentTableModel, row: int, key: str, role: int = DISPLAY):
    return model.data(model.index(row, model.column(key)), role)


def test_patient_model_passes_item_model_tester(qtbot):
    """The patient model satisfies Qt's model contract before and after a plan is set."""
    scenario = sample_scenario()
    model = PatientTableModel(scenario)
    tester = QAbstractItemModelTester(model, Mode.Fatal)
    model.set_plan(sample_plan(scenario))
    model.set_plan(None)
    assert tester is not None
    assert model.rowCount() == 3


def test_assignment_model_passes_item_model_tester(qtbot):
    """The assignment model satisfies Qt's model contract across resets."""
    model = AssignmentTableModel()
    tester = QAbstractItemModelTester(model, Mode.Fatal)
    model.set_plan(sample_plan())
    assert tester is not None
    assert model.rowCount() == len(sample_plan().assignments)


def test_patient_rows_join_scenario_and_plan():
    """One row per scenario patient, showing requested and planned dates side by side."""
    scenario = sample_scenario()
    model = PatientTableModel(scenario, sample_plan(scenario))
    assert model.rowCount() == len(scenario.patients)
    row = model.row_of("P2")
    assert _cell(model, row, "code") == "P2"
    assert _cell(model, row, "earliest") == "2027-01-04"
    assert _cell(model, row, "apheresis") == "2027-01-11"
    assert _cell(model, row, "infusion") == "2027-01-21"
    assert _cell(model, row, "v2v") == "10"
    assert _cell(model, row, "lateness") == "2"
    assert _cell(model, row, "plan") == "scheduled"


def test_unscheduled_row_is_coloured_and_explained():
    """An unscheduled patient shows the reason detail, a tooltip with the code, and a colour."""
    scenario = sample_scenario()
    model = PatientTableModel(scenario, sample_plan(scenario))
    p3, p1 = model.row_of("P3"), model.row_of("P1")
    assert _cell(model, p3, "plan") == "unscheduled: No ward bed is free after release."
    assert _cell(model, p3, "apheresis") == ""
    assert _cell(model, p3, "code", Qt.ItemDataRole.BackgroundRole) == UNSCHEDULED_BACKGROUND
    assert "no_bed" in _cell(model, p3, "infusion", Qt.ItemDataRole.ToolTipRole)
    assert _cell(model, p1, "code", Qt.ItemDataRole.BackgroundRole) is None
    assert "infusion 2027-01-14" in _cell(model, p1, "code", Qt.ItemDataRole.ToolTipRole)


def test_patient_model_without_plan_leaves_plan_columns_empty():
    """Before any plan, planned columns are blank and no row is marked unscheduled."""
    model = PatientTableModel(sample_scenario())
    for row in range(model.rowCount()):
        assert _cell(model, row, "apheresis") == ""
        assert _cell(model, row, "plan") == ""
        assert _cell(model, row, "code", Qt.ItemDataRole.BackgroundRole) is None


def test_numeric_columns_sort_as_numbers_through_a_proxy():
    """The sort role orders lateness numerically, blanks first."""
    scenario = sample_scenario()
    model = PatientTableModel(scenario, sample_plan(scenario))
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.sort(model.column("lateness"), Qt.SortOrder.DescendingOrder)
    codes = [proxy.index(r, model.column("code")).data() for r in range(proxy.rowCount())]
    assert codes[0] == "P2"


def test_assignment_cells_and_header():
    """Assignment rows show resource, times and hours; headers carry the titles."""
    plan = sample_plan()
    model = AssignmentTableModel(plan)
    first = plan.assignments[0]
    assert _cell(model, 0, "patient") == first.patient_code
    assert _cell(model, 0, "resource_type") == "apheresis"
    assert _cell(model, 0, "start") == "2027-01-04 08:00"
    assert _cell(model, 0, "hours") == "6.0"
    assert model.headerData(model.column("start"), Qt.Orientation.Horizontal) == "Start"
    tip = _cell(model, 0, "end", Qt.ItemDataRole.ToolTipRole)
    assert "P1 apheresis" in tip and "6.0 h" in tip
