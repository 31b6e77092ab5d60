"""The plan workbook: printable grids, a machine-readable Assignments sheet, reproducible bytes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from data.excel_export import SHEETS, write_plan_workbook
from planner import (
    Assignment,
    Holiday,
    Kpis,
    PatientSchedule,
    PatientStatus,
    Plan,
    ResourceType,
    Scenario,
    SolverInfo,
    SolveSettings,
    Unscheduled,
    UnscheduledReason,
    Window,
)
from tests.factories import tiny_scenario

HEADER = ["patient", "product", "step", "resource_type", "resource", "start", "end"]


def _a(
    patient: str, step: str, kind: ResourceType, resource: str, start: datetime, end: datetime
) -> Assignment:
    return Assignment(patient, "CART", step, kind, resource, start, end)


@pytest.fixture
def scenario() -> Scenario:
    return tiny_scenario(n_patients=3)


@pytest.fixture
def plan() -> Plan:
    assignments = (
        _a(
            "P1",
            "seed",
            ResourceType.CLEANROOM,
            "CR1",
            datetime(2027, 1, 6, 8),
            datetime(2027, 1, 6, 14),
        ),
        _a(
            "P1",
            "seed",
            ResourceType.STAFF,
            "OP1",
            datetime(2027, 1, 6, 8),
            datetime(2027, 1, 6, 14),
        ),
        _a(
            "P1",
            "apheresis",
            ResourceType.APHERESIS,
            "APH",
            datetime(2027, 1, 5, 8),
            datetime(2027, 1, 5, 14),
        ),
        _a("P1", "inpatient", ResourceType.BED, "W1", datetime(2027, 1, 14), datetime(2027, 1, 17)),
        _a("P2", "inpatient", ResourceType.BED, "W1", datetime(2027, 1, 15), datetime(2027, 1, 18)),
        _a(
            "P2",
            "seed",
            ResourceType.CLEANROOM,
            "CR1",
            datetime(2027, 2, 20, 8),
            datetime(2027, 2, 20, 14),
        ),
    )
    schedule = PatientSchedule(
        "P1",
        "CART",
        apheresis_day=date(2027, 1, 5),
        manufacturing_start=datetime(2027, 1, 6, 8),
        manufacturing_end=datetime(2027, 1, 9, 14),
        release_day=date(2027, 1, 11),
        ld_start_day=date(2027, 1, 11),
        infusion_day=date(2027, 1, 14),
        bed_from=date(2027, 1, 14),
        bed_to=date(2027, 1, 16),
        lateness_days=2,
    )
    return Plan(
        scenario_name="tiny",
        created=datetime(2026, 11, 23, 10, 30, 15, tzinfo=UTC),
        assignments=assignments,
        schedules=(schedule,),
        unscheduled=(Unscheduled("P3", UnscheduledReason.NO_BED, "No bed free in the window."),),
        kpis=Kpis(2, 3, 9.0, 9.0, 2, (("cleanrooms", 0.25), ("beds", 0.5))),
        solver=SolverInfo(
            "OPTIMAL",
            "cp-sat",
            100.0,
            100.0,
            1.5,
            SolveSettings(seed=7),
            cp_sat_status="OPTIMAL",
            versions="atmp-planner 0.1.0, ortools 9.15.6755",
        ),
    )


def _rows(ws: Worksheet) -> list[list[object]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _grid_cells(ws: Worksheet) -> dict[tuple[str, str], Cell]:
    """Every cell of a week-block grid sheet, by (row label, ISO date of its column)."""
    cells: dict[tuple[str, str], Cell] = {}
    dates: dict[int, str] = {}
    for row in ws.iter_rows():
        found = {c.column: c.value.date().isoformat() for c in row if isinstance(c.value, datetime)}
        if found:
            dates = found
            continue
        label = row[0].value
        if label and dates and ws.cell(row=row[0].row, column=1).coordinate not in _merged(ws):
            for cell in row[1:]:
                if cell.column in dates:
                    cells[(str(label), dates[cell.column])] = cell
    return cells


def _merged(ws: Worksheet) -> set[str]:
    """Top-left cells of merged ranges (block titles and legend lines)."""
    return {r.coord.split(":")[0] for r in ws.merged_cells.ranges}


def _grid_dates(ws: Worksheet) -> list[str]:
    """All dates of a grid sheet, in order."""
    return sorted({day for _, day in _grid_cells(ws)})


def _by_date(ws: Worksheet, label: str) -> dict[str, object]:
    """A grid row as {ISO date: value}, across the week blocks."""
    found = {day: c.value for (name, day), c in _grid_cells(ws).items() if name == label}
    if not found:
        raise KeyError(label)
    return found


def test_sheet_names(tmp_path: Path, scenario: Scenario, plan: Plan) -> None:
    """The workbook has the agreed sheets in order."""
    path = write_plan_workbook(tmp_path / "plan.xlsx", scenario, plan)
    assert load_workbook(path).sheetnames == list(SHEETS)
    assert {
        "Summary",
        "Cleanrooms",
        "Devices",
        "Staff",
        "Ward",
        "Apheresis",
        "Patients",
        "Assignments",
    } <= set(SHEETS)


def test_assignments_sheet_rows_as_text(tmp_path: Path, scenario: Scenario, plan: Plan) -> None:
    """One sorted row per assignment, exact header, date-times as ISO text cells."""
    path = write_plan_workbook(tmp_path / "plan.xlsx", scenario, plan)
    ws = load_workbook(path)["Assignments"]
    rows = _rows(ws)
    assert rows[0][:7] == HEADER
    assert len(rows) - 1 == len(plan.assignments)
    assert rows[1][:7] == [
        "P1",
        "CART",
        "apheresis",
        "apheresis",
        "APH",
        "2027-01-05T08:00:00",
        "2027-01-05T14:00:00",
    ]
    assert rows[2][:5] == ["P1", "CART", "seed", "cleanroom", "CR1"]
    assert rows[3][:5] == ["P1", "CART", "seed", "staff", "OP1"]
    assert rows[-1][5] == "2027-02-20T08:00:00"
    for row in ws.iter_rows(min_row=2):
        assert row[5].data_type == "s" and row[6].data_type == "s"
    starts = [str(r[5]) for r in rows[1:]]
    assert starts == sorted(starts)


def test_window_drops_assignments_outside(tmp_path: Path, scenario: Scenario, plan: Plan) -> None:
    """Only assignments overlapping the window's dates are written; grids span the window."""
    path = write_plan_workbook(
        tmp_path / "jan.xlsx", scenario, plan, date(2027, 1, 6), date(2027, 1, 31)
    )
    wb = load_workbook(path)
    rows = _rows(wb["Assignments"])[1:]
    assert ("P2", "seed") not in {(r[0], r[2]) for r in rows}
    assert ("P1", "apheresis") not in {(r[0], r[2]) for r in rows}
    assert len(rows) == 4
    dates = _grid_dates(wb["Cleanrooms"])
    assert dates[0] == "2027-01-06" and dates[-1] == "2027-01-31" and len(dates) == 26
    assert _by_date(wb["Cleanrooms"], "CR1")["2027-01-06"] == (
        "P1 CART\nseed 08:00–14:00 · OP1\nchangeover\n14:00–22:00"
    )


def test_summary_lists_unscheduled_and_kpis(tmp_path: Path, scenario: Scenario, plan: Plan) -> None:
    """The Summary names the unscheduled patient with reason and detail, KPIs and solver info."""
    path = write_plan_workbook(tmp_path / "plan.xlsx", scenario, plan)
    rows = _rows(load_workbook(path)["Summary"])
    assert ["P3", "no_bed", "No bed free in the window."] in [r[:3] for r in rows]
    pairs = {r[0]: r[1] for r in rows if r[0]}
    assert pairs["Scheduled patients"] == "2 / 3"
    assert pairs["Plan status"] == "OPTIMAL" and pairs["Seed"] == 7
    assert pairs["Made by"] == "cp-sat"
    assert pairs["CP-SAT"] == "OPTIMAL: proved its plan optimal"
    assert pairs["Versions"] == "atmp-planner 0.1.0, ortools 9.15.6755"
    assert pairs["Utilisation beds"] == "50.0 %"


def test_ward_counts_beds_per_day(tmp_path: Path, scenario: Scenario, plan: Plan) -> None:
    """Beds used per day count overlapping stays; the stay's end date is exclusive."""
    path = write_plan_workbook(tmp_path / "plan.xlsx", scenario, plan)
    ws = load_workbook(path)["Ward"]
    used = _by_date(ws, "beds used")
    assert [used[f"2027-01-{d}"] for d in range(13, 19)] == [0, 1, 2, 2, 1, 0]
    assert _by_date(ws, "beds available")["2027-01-15"] == 2
    assert _by_date(ws, "patients")["2027-01-15"] == "P1 CART\nP2 CART in"


def test_ward_shows_patients_infused_before_the_plan(
    tmp_path: Path, scenario: Scenario, plan: Plan
) -> None:
    """A patient infused on 15 Jan (3-day stay, not in the plan) fills a bed that week."""
    infused = replace(
        scenario.patients[0],
        code="P0",
        status=PatientStatus.INFUSED,
        infused_on=date(2027, 1, 15),
    )
    with_infused = replace(scenario, patients=(infused, *scenario.patients))
    path = write_plan_workbook(tmp_path / "plan.xlsx", with_infused, plan)
    ws = load_workbook(path)["Ward"]
    used = _by_date(ws, "beds used")
    assert [used[f"2027-01-{d}"] for d in range(13, 19)] == [0, 1, 3, 3, 2, 0]
    assert _by_date(ws, "patients")["2027-01-15"] == "P0 CART in\nP1 CART\nP2 CART in"


def test_patients_sheet_milestones(tmp_path: Path, scenario: Scenario, plan: Plan) -> None:
    """Each scheduled patient has a row of milestones with vein-to-vein and lateness."""
    path = write_plan_workbook(tmp_path / "plan.xlsx", scenario, plan)
    rows = _rows(load_workbook(path)["Patients"])
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["patient"] == "P1" and record["infusion"] == datetime(2027, 1, 14)
    assert record["manufacturing_start"] == datetime(2027, 1, 6, 8)
    assert record["vein_to_vein_days"] == 9 and record["lateness_days"] == 2


def test_grids_are_printable(tmp_path: Path, scenario: Scenario, plan: Plan) -> None:
    """Grids: landscape, fit to width, one week per printed page, names frozen, weekends shaded."""
    path = write_plan_workbook(tmp_path / "plan.xlsx", scenario, plan)
    ws = load_workbook(path)["Staff"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.freeze_panes == "B1"
    weeks = {date.fromisoformat(d).isocalendar()[1] for d in _grid_dates(ws)}
    assert len(ws.row_breaks.brk) == len(weeks) > 1
    assert max(c.column for c in _grid_cells(ws).values()) <= 8
    cells = _grid_cells(ws)
    assert cells[("OP1", "2027-01-09")].fill.fgColor.rgb == "FFD9D9D9"
    assert cells[("OP1", "2027-01-11")].fill.fill_type is None
    assert _by_date(ws, "OP1")["2027-01-06"] == "D\nP1 seed 08–14"


def test_two_writes_are_byte_identical(tmp_path: Path, scenario: Scenario, plan: Plan) -> None:
    """The same inputs give the same bytes, and the created date comes from the plan."""
    first = write_plan_workbook(tmp_path / "a.xlsx", scenario, plan).read_bytes()
    second = write_plan_workbook(tmp_path / "b.xlsx", scenario, plan).read_bytes()
    assert first == second
    props = load_workbook(tmp_path / "a.xlsx").properties
    assert props.created == datetime(2026, 11, 23, 10, 30, 15)
    assert props.modified == datetime(2026, 11, 23, 10, 30, 15)


def _pool(patient: str, step: str, pool: str, start: datetime, end: datetime, n: int) -> Assignment:
    return Assignment(patient, "CART", step, ResourceType.STAFF_POOL, pool, start, end, n)


def test_each_printed_week_has_title_header_footer_and_legend(
    tmp_path: Path, scenario: Scenario, plan: Plan
) -> None:
    """Per week a titled block with its ISO week, a legend, a page break; plan in the header."""
    path = write_plan_workbook(
        tmp_path / "p.xlsx", scenario, plan, date(2027, 1, 4), date(2027, 1, 24), plan_id=7
    )
    ws = load_workbook(path)["Cleanrooms"]
    titles = [
        ws.cell(row=r.min_row, column=1).value
        for r in sorted(ws.merged_cells.ranges, key=lambda r: r.min_row)
        if str(ws.cell(row=r.min_row, column=1).value).startswith("Cleanrooms · week")
    ]
    assert titles == [
        "Cleanrooms · week 1, 2027 · Mon 04 Jan – Sun 10 Jan 2027",
        "Cleanrooms · week 2, 2027 · Mon 11 Jan – Sun 17 Jan 2027",
        "Cleanrooms · week 3, 2027 · Mon 18 Jan – Sun 24 Jan 2027",
    ]
    assert len(ws.row_breaks.brk) == 3
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.oddHeader.left.text == scenario.site.name
    assert "Cleanrooms" in (ws.oddHeader.center.text or "")
    assert ws.oddHeader.right.text == "Plan #7 · OPTIMAL"
    assert ws.oddFooter.right.text == "Page &P of &N"
    assert "&D" in (ws.oddFooter.left.text or "")
    legend = [c.value for c in ws["A"] if isinstance(c.value, str) and c.value.startswith("Prod")]
    assert len(legend) == 3 and all(f"CART = {scenario.products[0].name}" in t for t in legend)


def test_counts_sit_centred_under_their_own_day(
    tmp_path: Path, scenario: Scenario, plan: Plan
) -> None:
    """Numbers are centred in the column whose header is their date, Monday in column B."""
    path = write_plan_workbook(tmp_path / "p.xlsx", scenario, plan, date(2027, 1, 13))
    for name, label in (("Ward", "beds used"), ("Apheresis", "slots available")):
        cells = {(k, d): c for (k, d), c in _grid_cells(load_workbook(path)[name]).items()}
        row = {d: c for (k, d), c in cells.items() if k == label}
        assert row and all(isinstance(c.value, int) for c in row.values())
        for day, cell in row.items():
            assert cell.column == 2 + date.fromisoformat(day).weekday()
            assert cell.alignment.horizontal == "center"


def test_holidays_downtime_and_pools_are_shown(tmp_path: Path, plan: Plan) -> None:
    """A holiday is named under its date and shaded; downtime is marked with its reason."""
    base = tiny_scenario(n_patients=3)
    room = replace(
        base.cleanrooms[0],
        downtime=(Window(datetime(2027, 1, 7, 6), datetime(2027, 1, 8, 12), "HVAC service"),),
    )
    scenario = replace(base, cleanrooms=(room,), holidays=(Holiday(date(2027, 1, 6), "Epiphany"),))
    pooled = replace(
        plan,
        assignments=(
            *plan.assignments,
            _pool(
                "P1", "seed", "operator:CART", datetime(2027, 1, 6, 8), datetime(2027, 1, 6, 14), 2
            ),
        ),
    )
    path = write_plan_workbook(tmp_path / "h.xlsx", scenario, pooled, date(2027, 1, 4))
    wb = load_workbook(path)
    ws = wb["Cleanrooms"]
    cells = _grid_cells(ws)
    holiday = cells[("CR1", "2027-01-06")]
    assert holiday.fill.fgColor.rgb == "FFD6E4F5"
    assert "Epiphany" in [c.value for c in ws[holiday.column_letter]]
    assert "OP1, 1 operator unnamed" in str(holiday.value)
    down = cells[("CR1", "2027-01-07")]
    assert down.value == "DOWN (HVAC service)\nfrom 06:00" and down.fill.fgColor.rgb == "FFF8CBAD"
    assert cells[("CR1", "2027-01-08")].value == "DOWN (HVAC service)\nuntil 12:00"
    assert cells[("CR1", "2027-01-05")].fill.fill_type is None
    pools = _grid_cells(wb["Staff pools"])
    assert pools[("operator CART", "2027-01-06")].value == "P1 CART\nseed 08:00–14:00 ×2"


def test_no_text_is_clipped(tmp_path: Path, scenario: Scenario, plan: Plan) -> None:
    """Table columns are as wide as their longest text; grid rows are tall enough to wrap."""
    path = write_plan_workbook(tmp_path / "p.xlsx", scenario, plan)
    wb = load_workbook(path)
    for name in ("Patients", "Assignments"):
        ws = wb[name]
        for column in ws.iter_cols():
            longest = max(len(str(c.value)) for c in column if c.value is not None)
            moment = column[1].value
            if isinstance(moment, datetime):
                longest = 10 if moment.time() == datetime.min.time() else 16
            assert ws.column_dimensions[column[0].column_letter].width >= longest
    for name in ("Cleanrooms", "Staff", "Ward"):
        ws = wb[name]
        for cell in _grid_cells(ws).values():
            if isinstance(cell.value, str):
                assert cell.alignment.wrap_text
                lines = cell.value.count("\n") + 1
                assert ws.row_dimensions[cell.row].height >= 13 * lines
