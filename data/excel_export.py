"""Write a plan to an Excel workbook a scheduler can print and a program can read back.

Sheets: Summary, Patients, Cleanrooms, Devices, Staff, Ward, Apheresis (week grids for
printing) and Assignments (one row per assignment, date-times as ISO 8601 text). The
file is byte-for-byte the same for the same inputs: document properties and zip entry
times are derived from the plan's creation time, never from the clock.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from planner import Assignment, PatientSchedule, Plan, ResourceType, Scenario
from planner.kpis import format_created

#: First columns of the Assignments sheet, in this order (a contract with readers).
ASSIGNMENT_COLUMNS = (
    "patient",
    "product",
    "step",
    "resource_type",
    "resource",
    "start",
    "end",
    "quantity",
)
PATIENT_COLUMNS = (
    "patient",
    "product",
    "trial",
    "cohort",
    "priority",
    "apheresis",
    "manufacturing_start",
    "manufacturing_end",
    "release",
    "ld_start",
    "infusion",
    "bed_from",
    "bed_to",
    "vein_to_vein_days",
    "needed_infusion",
    "lateness_days",
)
SHEETS = (
    "Summary",
    "Patients",
    "Cleanrooms",
    "Devices",
    "Staff",
    "Ward",
    "Apheresis",
    "Assignments",
)

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_WEEKEND = PatternFill("solid", start_color="FFD9D9D9", end_color="FFD9D9D9")
_OVER = PatternFill("solid", start_color="FFF4B6B6", end_color="FFF4B6B6")
_WRAP = Alignment(wrap_text=True, vertical="top")
_DAY_WIDTH = 24
_LEFT = Alignment(horizontal="left")
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def iso(moment: datetime) -> str:
    """A local date-time as ISO 8601 text, seconds precision."""
    return moment.isoformat(timespec="seconds")


def _days_touched(a: Assignment) -> tuple[date, date]:
    """First and last date an assignment occupies (its end is exclusive)."""
    return a.start.date(), (a.end - timedelta(microseconds=1)).date()


def _overlaps(a: Assignment, start: date, end: date) -> bool:
    first, last = _days_touched(a)
    return first <= end and last >= start


def plan_span(scenario: Scenario, plan: Plan) -> tuple[date, date]:
    """First and last date a plan covers: its scenario's horizon and every assignment."""
    spans = [_days_touched(a) for a in plan.assignments]
    lo = min([scenario.horizon_start] + [f for f, _ in spans])
    hi = max([scenario.horizon_end] + [last for _, last in spans])
    return lo, hi


def _window(
    plan: Plan, scenario: Scenario, start: date | None, end: date | None
) -> tuple[date, date]:
    """The dates shown: as asked, else the span of the plan (at least the horizon)."""
    lo, hi = plan_span(scenario, plan)
    lo, hi = start or lo, end or hi
    if lo > hi:
        raise ValueError(f"Export window ends ({hi}) before it starts ({lo}).")
    return lo, hi


def _sort_key(a: Assignment) -> tuple[datetime, str, str, str, str]:
    return (a.start, a.patient_code, a.step_code, a.resource_type.value, a.resource_code)


def _put(ws: Worksheet, row: int, column: int, value: object) -> Cell:
    """Write a value; text is always stored as text, never as a formula."""
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _header(ws: Worksheet, row: int, values: Sequence[object]) -> None:
    for column, value in enumerate(values, start=1):
        _put(ws, row, column, value).font = _BOLD


def _printable(
    ws: Worksheet, title_rows: str | None, freeze: str, title_cols: str | None = None
) -> None:
    """Landscape, fit to page width, frozen header, repeated print titles."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.freeze_panes = freeze
    if title_rows:
        ws.print_title_rows = title_rows
    if title_cols:
        ws.print_title_cols = title_cols


def _table(ws: Worksheet, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    _header(ws, 1, header)
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            _put(ws, r, c, value)
    for c, name in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(c)].width = max(10, len(name) + 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, ws.max_row)}"
    _printable(ws, "1:1", "A2")


# Summary -------------------------------------------------------------------------------------


def _summary(ws: Worksheet, scenario: Scenario, plan: Plan, lo: date, hi: date) -> None:
    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} d"

    kpis, info = plan.kpis, plan.solver
    _put(ws, 1, 1, "ATMP plan").font = _TITLE
    rows: list[tuple[str, object]] = [
        ("Scenario", plan.scenario_name or scenario.name),
        ("Site", f"{scenario.site.code} {scenario.site.name}"),
        ("Plan created", format_created(plan.created)),
        ("Window from", lo.isoformat()),
        ("Window to", hi.isoformat()),
        ("Horizon", f"{scenario.horizon_start.isoformat()} to {scenario.horizon_end.isoformat()}"),
        ("", ""),
        ("KPIs", ""),
        ("Scheduled patients", f"{kpis.scheduled} / {kpis.total}"),
        ("Vein-to-vein median", fmt(kpis.median_vein_to_vein_days)),
        ("Vein-to-vein p90", fmt(kpis.p90_vein_to_vein_days)),
        ("Lateness (total days)", kpis.total_lateness_days),
    ]
    rows += [(f"Utilisation {name}", f"{share * 100:.1f} %") for name, share in kpis.utilisation]
    rows += [
        ("", ""),
        ("Solver", ""),
        ("Plan status", info.status + (" (stopped early)" if info.stopped else "")),
        ("Made by", info.engine),
        ("CP-SAT", f"{info.cp_sat_status}: {info.cp_sat_meaning}"),
        ("Objective", info.objective),
        ("Bound", info.bound),
        ("Gap", f"{info.gap * 100:.2f} %"),
        ("Wall time (s)", round(info.wall_time_s, 2)),
        ("Deterministic", "yes" if info.settings.deterministic else "no"),
        ("Seed", info.settings.seed),
        ("Workers", info.settings.workers),
        ("Versions", info.versions or "-"),
    ]
    rows += [("Note", note) for note in plan.notes]
    row = 3
    for label, value in rows:
        label_cell = _put(ws, row, 1, label)
        if label in ("KPIs", "Solver"):
            label_cell.font = _BOLD
        else:
            cell = _put(ws, row, 2, value)
            cell.alignment = _LEFT
            if isinstance(value, float) and abs(value) >= 1000:
                cell.number_format = "#,##0"
        row += 1
    row += 1
    _put(ws, row, 1, f"Unscheduled patients ({len(plan.unscheduled)})").font = _BOLD
    row += 1
    _header(ws, row, ("patient", "reason", "detail"))
    title_row = row
    for item in sorted(plan.unscheduled, key=lambda u: u.patient_code):
        row += 1
        _put(ws, row, 1, item.patient_code)
        _put(ws, row, 2, item.reason.value)
        _put(ws, row, 3, item.detail).alignment = _WRAP
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 34
    ws.column_dimensions["C"].width = 90
    _printable(ws, f"{title_row}:{title_row}", "A3")
    ws.page_setup.orientation = "portrait"


# Patients ------------------------------------------------------------------------------------


def _patients(ws: Worksheet, scenario: Scenario, plan: Plan, lo: date, hi: date) -> None:
    patients = {p.code: p for p in scenario.patients}

    def row(s: PatientSchedule) -> list[object]:
        p = patients.get(s.patient_code)
        return [
            s.patient_code,
            s.product_code,
            (p.trial_code or "") if p else "",
            (p.cohort_code or "") if p else "",
            p.priority if p else "",
            s.apheresis_day.isoformat(),
            iso(s.manufacturing_start),
            iso(s.manufacturing_end),
            s.release_day.isoformat(),
            s.ld_start_day.isoformat(),
            s.infusion_day.isoformat(),
            s.bed_from.isoformat(),
            s.bed_to.isoformat(),
            s.vein_to_vein_days,
            p.needed_infusion.isoformat() if p and p.needed_infusion else "",
            s.lateness_days,
        ]

    shown = [
        s
        for s in sorted(plan.schedules, key=lambda s: (s.apheresis_day, s.patient_code))
        if s.apheresis_day <= hi and max(s.bed_to, s.infusion_day) >= lo
    ]
    _table(ws, PATIENT_COLUMNS, (row(s) for s in shown))
    for column in "FGHIJKLMO":
        ws.column_dimensions[column].width = 20 if column in "GH" else 12


# Week grids ----------------------------------------------------------------------------------


def _wrapped_lines(value: object, width: int = _DAY_WIDTH) -> int:
    """Lines a value takes in a day column once wrapped."""
    text = "" if value is None else str(value)
    return sum(max(1, -(-len(line) // width)) for line in text.split("\n"))


def _weeks(days: Sequence[date]) -> list[list[date]]:
    """The days cut into Monday-to-Sunday weeks (the first and last may be partial)."""
    weeks: list[list[date]] = []
    for day in days:
        if not weeks or day.weekday() == 0:
            weeks.append([])
        weeks[-1].append(day)
    return weeks


def _grid(
    ws: Worksheet,
    days: Sequence[date],
    rows: Sequence[tuple[str, Sequence[object]]],
    off_days: frozenset[date],
    label: str = "resource",
) -> dict[tuple[str, date], Cell]:
    """One block per week, stacked down the sheet with a page break after each block.

    A block is a date row, a weekday row and one row per label; weekends and holidays are
    shaded. Returns the cell of each (label, date) so callers can mark cells.
    """
    column_of = {day: i for i, day in enumerate(days)}
    cells: dict[tuple[str, date], Cell] = {}
    top = 1
    for week in _weeks(days):
        _put(ws, top, 1, label).font = _BOLD
        for c, day in enumerate(week, start=2):
            _put(ws, top, c, day.isoformat()).font = _BOLD
            _put(ws, top + 1, c, day.strftime("%a")).font = _BOLD
        for r, (name, values) in enumerate(rows, start=top + 2):
            title = _put(ws, r, 1, name)
            title.font, title.alignment = _BOLD, _WRAP
            lines = 1
            for c, day in enumerate(week, start=2):
                value = values[column_of[day]]
                cell = _put(ws, r, c, value)
                cell.alignment = _WRAP
                cells[(name, day)] = cell
                lines = max(lines, _wrapped_lines(value))
            # Spreadsheet programs do not grow rows for wrapped text on their own.
            ws.row_dimensions[r].height = 13 * lines + 2
        bottom = top + 1 + len(rows)
        for c, day in enumerate(week, start=2):
            if day.weekday() >= 5 or day in off_days:
                for r in range(top, bottom + 1):
                    ws.cell(row=r, column=c).fill = _WEEKEND
        ws.row_breaks.append(Break(id=bottom + 1))
        top = bottom + 3
    ws.column_dimensions["A"].width = 24
    for c in range(2, 9):
        ws.column_dimensions[get_column_letter(c)].width = _DAY_WIDTH
    _printable(ws, None, "B1", "A:A")
    return cells


def _busy(
    assignments: Iterable[Assignment], days: Sequence[date]
) -> dict[str, dict[date, list[Assignment]]]:
    """Assignments per resource and per date they occupy."""
    shown = set(days)
    out: dict[str, dict[date, list[Assignment]]] = defaultdict(lambda: defaultdict(list))
    for a in sorted(assignments, key=_sort_key):
        first, last = _days_touched(a)
        day = first
        while day <= last:
            if day in shown:
                out[a.resource_code][day].append(a)
            day += timedelta(days=1)
    return out


def _describe(items: Sequence[Assignment]) -> str:
    """'P004 seed/transduce' per patient, one patient a line."""
    steps: dict[str, list[str]] = {}
    for a in items:
        label = a.step_code if a.quantity == 1 else f"{a.step_code} x{a.quantity}"
        listed = steps.setdefault(a.patient_code, [])
        if label not in listed:
            listed.append(label)
    return "\n".join(f"{patient} {'/'.join(labels)}" for patient, labels in steps.items())


def _resource_grid(
    ws: Worksheet,
    codes: Sequence[str],
    assignments: Sequence[Assignment],
    kinds: tuple[ResourceType, ...],
    days: Sequence[date],
    off_days: frozenset[date],
    prefix: dict[str, dict[date, str]] | None = None,
) -> None:
    busy = _busy((a for a in assignments if a.resource_type in kinds), days)
    names = list(codes) + sorted(code for code in busy if code not in codes)
    rows = []
    for code in names:
        cells: list[object] = []
        for day in days:
            text = _describe(busy.get(code, {}).get(day, []))
            shift = (prefix or {}).get(code, {}).get(day, "")
            cells.append(f"{shift}: {text}" if shift and text else shift or text)
        rows.append((code, cells))
    _grid(ws, days, rows, off_days)


def _ward(
    ws: Worksheet,
    scenario: Scenario,
    assignments: Sequence[Assignment],
    days: Sequence[date],
    off_days: frozenset[date],
) -> None:
    beds = [a for a in assignments if a.resource_type is ResourceType.BED]
    busy = _busy(beds, days)
    used, free, available, who = [], [], [], []
    for day in days:
        items = [a for per_code in busy.values() for a in per_code.get(day, [])]
        patients = sorted({a.patient_code for a in items})
        count = sum(
            max(a.quantity for a in items if a.patient_code == patient) for patient in patients
        )
        beds_on = scenario.ward.beds_on(day)
        used.append(count)
        available.append(beds_on)
        free.append(beds_on - count)
        who.append("\n".join(patients))
    rows: list[tuple[str, Sequence[object]]] = [
        ("beds used", used),
        ("beds available", available),
        ("beds free", free),
        ("patients", who),
    ]
    cells = _grid(ws, days, rows, off_days, label=f"ward {scenario.ward.code}")
    for day, n_used, n_available in zip(days, used, available, strict=True):
        if n_used > n_available:
            cells[("beds used", day)].fill = _OVER


def _apheresis(
    ws: Worksheet,
    scenario: Scenario,
    assignments: Sequence[Assignment],
    days: Sequence[date],
    off_days: frozenset[date],
) -> None:
    taken = [a for a in assignments if a.resource_type is ResourceType.APHERESIS]
    busy = _busy(taken, days)
    booked, slots, who = [], [], []
    for day in days:
        patients = sorted({a.patient_code for code in busy for a in busy[code].get(day, [])})
        booked.append(len(patients))
        slots.append(scenario.apheresis.slots_on(day, scenario.holiday_dates))
        who.append("\n".join(patients))
    rows: list[tuple[str, Sequence[object]]] = [
        ("slots booked", booked),
        ("slots available", slots),
        ("patients", who),
    ]
    _grid(ws, days, rows, off_days, label="apheresis")


# Machine-readable ----------------------------------------------------------------------------


def _assignments(ws: Worksheet, assignments: Sequence[Assignment]) -> None:
    rows = (
        (
            a.patient_code,
            a.product_code,
            a.step_code,
            a.resource_type.value,
            a.resource_code,
            iso(a.start),
            iso(a.end),
            a.quantity,
        )
        for a in sorted(assignments, key=_sort_key)
    )
    _table(ws, ASSIGNMENT_COLUMNS, rows)
    ws.column_dimensions["F"].width = 21
    ws.column_dimensions["G"].width = 21


# Writing -------------------------------------------------------------------------------------


def _reproducible(data: bytes, moment: datetime) -> bytes:
    """Re-pack the zip with fixed entry times and a fixed 'modified' property."""
    stamp = (max(1980, moment.year), moment.month, moment.day, moment.hour, moment.minute, 0)
    modified = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>" + modified + rb"\g<2>", content)
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, content)
    return out.getvalue()


def build_plan_workbook(
    scenario: Scenario, plan: Plan, start: date | None = None, end: date | None = None
) -> Workbook:
    """The plan as an openpyxl workbook, limited to assignments overlapping [start, end]."""
    lo, hi = _window(plan, scenario, start, end)
    days = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    shown = [a for a in plan.assignments if _overlaps(a, lo, hi)]
    off_days = scenario.holiday_dates
    wb = Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    sheets = {name: wb.create_sheet(name) for name in SHEETS}
    _summary(sheets["Summary"], scenario, plan, lo, hi)
    _patients(sheets["Patients"], scenario, plan, lo, hi)
    _resource_grid(
        sheets["Cleanrooms"],
        [r.code for r in scenario.cleanrooms],
        shown,
        (ResourceType.CLEANROOM,),
        days,
        off_days,
    )
    _resource_grid(
        sheets["Devices"],
        [d.code for d in scenario.devices],
        shown,
        (ResourceType.DEVICE,),
        days,
        off_days,
    )
    roster: dict[str, dict[date, str]] = defaultdict(dict)
    for entry in scenario.roster:
        if lo <= entry.day <= hi:
            roster[entry.staff_code][entry.day] = entry.shift_code
    _resource_grid(
        sheets["Staff"],
        [s.code for s in scenario.staff],
        shown,
        (ResourceType.STAFF, ResourceType.STAFF_POOL),
        days,
        off_days,
        prefix=roster,
    )
    _ward(sheets["Ward"], scenario, shown, days, off_days)
    _apheresis(sheets["Apheresis"], scenario, shown, days, off_days)
    _assignments(sheets["Assignments"], shown)
    created = plan.created.replace(microsecond=0, tzinfo=None)
    wb.properties.created = created
    wb.properties.modified = created
    wb.properties.creator = "atmp-planner"
    wb.properties.lastModifiedBy = "atmp-planner"
    wb.properties.title = f"Plan: {plan.scenario_name or scenario.name}"
    return wb


def write_plan_workbook(
    path: str | Path,
    scenario: Scenario,
    plan: Plan,
    start: date | None = None,
    end: date | None = None,
) -> Path:
    """Write the plan's workbook to path (dates inclusive; None means the whole plan).

    The file appears whole or not at all: it is written beside the target and renamed.
    """
    target = Path(path)
    wb = build_plan_workbook(scenario, plan, start, end)
    buffer = io.BytesIO()
    wb.save(buffer)
    created = plan.created.replace(microsecond=0, tzinfo=None)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(_reproducible(buffer.getvalue(), created))
        partial.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return target
