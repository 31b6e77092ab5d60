"""Table models over a scenario's patients and a plan's assignments (no widgets needed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor

from planner import Assignment, Patient, PatientSchedule, Plan, Scenario, Unscheduled
from planner.plan_diff import ADDED, DROPPED, MOVED, PatientChange, PlanDiff

#: Role returning a value that sorts naturally (dates, numbers) rather than display text.
SORT_ROLE = Qt.ItemDataRole.UserRole + 1

#: Background of rows of patients the plan could not place.
UNSCHEDULED_BACKGROUND = QColor("#f8d7da")

_Index = QModelIndex | QPersistentModelIndex
Row = TypeVar("Row")


@dataclass(frozen=True)
class Column(Generic[Row]):
    """A named column: a key for code, a title for people, and how to read a row."""

    key: str
    title: str
    value: Callable[[Row], object]
    numeric: bool = False
    tip: str = ""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _sort_key(value: object) -> object:
    # Mixed None/values must still compare; QSortFilterProxyModel compares these.
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


class _ColumnModel(QAbstractTableModel, Generic[Row]):
    """A read-only table of rows with named columns."""

    columns: tuple[Column[Row], ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []

    # Named access ---------------------------------------------------------------------

    def column(self, key: str) -> int:
        """Index of the column with this key."""
        for i, col in enumerate(self.columns):
            if col.key == key:
                return i
        raise KeyError(key)

    def column_keys(self) -> list[str]:
        """Keys of all columns in order."""
        return [c.key for c in self.columns]

    def row_object(self, row: int) -> Row:
        """The domain object behind a row."""
        return self._rows[row]

    # Qt interface ---------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Rows (none under a valid parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Columns (none under a valid parent)."""
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """Column titles (and their long forms as tooltips); row numbers vertically."""
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None
        if not 0 <= section < len(self.columns):
            return None
        col = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tip or col.title
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        """Selectable and enabled, never editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Display text, tooltip, background, alignment and sort value of a cell."""
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        if not (0 <= index.column() < len(self.columns)):
            return None
        row = self._rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(col.value(row))
        if role == SORT_ROLE:
            return _sort_key(col.value(row))
        if role == Qt.ItemDataRole.TextAlignmentRole and col.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(row)
        return None

    def _tooltip(self, row: Row) -> str | None:
        return None

    def _background(self, row: Row) -> QColor | None:
        return None

    def _reset(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()


@dataclass(frozen=True)
class PatientRow:
    """One patient of the scenario with what the plan says about them."""

    patient: Patient
    trial: str
    schedule: PatientSchedule | None
    unscheduled: Unscheduled | None

    @property
    def plan_text(self) -> str:
        """'scheduled', 'unscheduled: <detail>', or why the patient is not in the plan."""
        if self.unscheduled is not None:
            return f"unscheduled: {self.unscheduled.detail}"
        if self.schedule is not None:
            return "scheduled"
        return ""


def _lateness(r: PatientRow) -> int | None:
    return None if r.schedule is None else r.schedule.lateness_days


def _v2v(r: PatientRow) -> int | None:
    return None if r.schedule is None else r.schedule.vein_to_vein_days


class PatientTableModel(_ColumnModel[PatientRow]):
    """The scenario's patients joined with a plan: requested dates against planned ones."""

    columns = (
        Column[PatientRow]("code", "Patient", lambda r: r.patient.code),
        Column[PatientRow]("product", "Product", lambda r: r.patient.product_code),
        Column[PatientRow]("trial", "Trial/cohort", lambda r: r.trial),
        Column[PatientRow](
            "priority", "Prio", lambda r: r.patient.priority, True, "Priority (1 most urgent)"
        ),
        Column[PatientRow]("status", "Status", lambda r: r.patient.status.value),
        Column[PatientRow](
            "earliest",
            "Earliest aph.",
            lambda r: r.patient.earliest_apheresis,
            tip="Earliest apheresis date",
        ),
        Column[PatientRow](
            "latest",
            "Latest aph.",
            lambda r: r.patient.latest_apheresis,
            tip="Latest apheresis date",
        ),
        Column[PatientRow](
            "needed",
            "Needed inf.",
            lambda r: r.patient.needed_infusion,
            tip="Clinically needed infusion date",
        ),
        Column[PatientRow](
            "apheresis",
            "Planned aph.",
            lambda r: r.schedule and r.schedule.apheresis_day,
            tip="Planned apheresis date",
        ),
        Column[PatientRow](
            "infusion", "Infusion", lambda r: r.schedule and r.schedule.infusion_day
        ),
        Column[PatientRow]("v2v", "V2V (d)", _v2v, True, "Vein-to-vein days"),
        Column[PatientRow]("lateness", "Late (d)", _lateness, True, "Days after needed infusion"),
        Column[PatientRow]("plan", "Plan", lambda r: r.plan_text),
    )

    def __init__(
        self, scenario: Scenario, plan: Plan | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._scenario = scenario
        self._plan = plan
        self._reset(self._build())

    def set_plan(self, plan: Plan | None, scenario: Scenario | None = None) -> None:
        """Show another plan (and optionally another scenario)."""
        if scenario is not None:
            self._scenario = scenario
        self._plan = plan
        self._reset(self._build())

    def row_of(self, patient_code: str) -> int:
        """Row of a patient, -1 if absent."""
        for i, row in enumerate(self._rows):
            if row.patient.code == patient_code:
                return i
        return -1

    def _build(self) -> list[PatientRow]:
        plan = self._plan
        schedules = {s.patient_code: s for s in plan.schedules} if plan else {}
        unscheduled = {u.patient_code: u for u in plan.unscheduled} if plan else {}
        rows = []
        for p in self._scenario.patients:
            trial = "" if p.trial_code is None else f"{p.trial_code} / {p.cohort_code}"
            rows.append(PatientRow(p, trial, schedules.get(p.code), unscheduled.get(p.code)))
        return rows

    def _tooltip(self, row: PatientRow) -> str | None:
        p = row.patient
        if row.unscheduled is not None:
            u = row.unscheduled
            return f"{p.code} is not scheduled ({u.reason.value}): {u.detail}"
        s = row.schedule
        if s is None:
            return f"{p.code}: {p.status.value}, not in this plan"
        return (
            f"{p.code} ({s.product_code}): apheresis {_text(s.apheresis_day)}, manufacturing "
            f"{_text(s.manufacturing_start)} to {_text(s.manufacturing_end)}, release "
            f"{_text(s.release_day)}, lymphodepletion from {_text(s.ld_start_day)}, infusion "
            f"{_text(s.infusion_day)}, bed {_text(s.bed_from)} to {_text(s.bed_to)}"
            + (f", {s.lateness_days} d late" if s.lateness_days else "")
        )

    def _background(self, row: PatientRow) -> QColor | None:
        return UNSCHEDULED_BACKGROUND if row.unscheduled is not None else None


def _hours(a: Assignment) -> float:
    return round((a.end - a.start).total_seconds() / 3600.0, 1)


class AssignmentTableModel(_ColumnModel[Assignment]):
    """A plan's assignments, one row each, in the plan's order."""

    columns = (
        Column[Assignment]("patient", "Patient", lambda a: a.patient_code),
        Column[Assignment]("product", "Product", lambda a: a.product_code),
        Column[Assignment]("step", "Step", lambda a: a.step_code),
        Column[Assignment]("resource_type", "Resource type", lambda a: a.resource_type.value),
        Column[Assignment]("resource", "Resource", lambda a: a.resource_code),
        Column[Assignment]("start", "Start", lambda a: a.start),
        Column[Assignment]("end", "End", lambda a: a.end),
        Column[Assignment]("hours", "Hours", _hours, numeric=True),
        Column[Assignment]("quantity", "Qty", lambda a: a.quantity, numeric=True),
    )

    def __init__(self, plan: Plan | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.set_plan(plan)

    def set_plan(self, plan: Plan | None) -> None:
        """Show another plan's assignments."""
        self._reset(plan.assignments if plan is not None else ())

    def _tooltip(self, row: Assignment) -> str | None:
        where = f"{row.resource_type.value} {row.resource_code}".strip()
        return (
            f"{row.patient_code} {row.step_code} on {where}: {_text(row.start)} to "
            f"{_text(row.end)} ({_hours(row)} h"
            + (f", x{row.quantity}" if row.quantity != 1 else "")
            + ")"
        )


def _signed(change: PatientChange, days: int) -> str:
    if change.kind != MOVED:
        return ""
    return f"{days:+d}" if days else "0"


class DiffTableModel(_ColumnModel[PatientChange]):
    """Patients moved, added or dropped between two plans, with days and reasons."""

    columns = (
        Column[PatientChange]("patient", "Patient", lambda c: c.patient_code),
        Column[PatientChange]("change", "Change", lambda c: c.kind),
        Column[PatientChange]("aph_before", "Aph. before", lambda c: c.apheresis_before),
        Column[PatientChange]("aph_after", "Aph. after", lambda c: c.apheresis_after),
        Column[PatientChange](
            "aph_days",
            "Aph. Δd",
            lambda c: _signed(c, c.apheresis_days),
            True,
            "Days the apheresis moved (later is +)",
        ),
        Column[PatientChange]("inf_before", "Inf. before", lambda c: c.infusion_before),
        Column[PatientChange]("inf_after", "Inf. after", lambda c: c.infusion_after),
        Column[PatientChange](
            "inf_days",
            "Inf. Δd",
            lambda c: _signed(c, c.infusion_days),
            True,
            "Days the infusion moved (later is +)",
        ),
        Column[PatientChange]("reason", "Why", lambda c: c.reason),
    )

    def __init__(self, diff: PlanDiff | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.set_diff(diff)

    def set_diff(self, diff: PlanDiff | None) -> None:
        """Show the changes of a comparison (None: none)."""
        self._reset([] if diff is None else list(diff.changes))

    def _tooltip(self, row: PatientChange) -> str | None:
        return row.reason or None

    def _background(self, row: PatientChange) -> QColor | None:
        return {DROPPED: UNSCHEDULED_BACKGROUND, ADDED: QColor("#d4edda")}.get(row.kind)
