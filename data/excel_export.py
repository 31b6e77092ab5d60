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
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from planner import (
    Assignment,
    PatientSchedule,
    Plan,
    ResourceType,
    Scenario,
    ShiftCode,
    Window,
)
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
    "Staff pools",
    "Ward",
    "Apheresis",
    "Assignments",
)

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_WEEKEND = PatternFill("solid", start_color="FFD9D9D9", end_color="FFD9D9D9")
_OVER = PatternFill("solid", start_color="FFF4B6B6", end_color="FFF4B6B6")
_WRAP = Alignment(wrap_text=True, vertical="top")
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


def _shown_width(value: object) -> int:
    """Characters a value needs in a column to show unclipped."""
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    return max((len(line) for line in str(value).split("\n")), default=0)


def _table(ws: Worksheet, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A header and rows; columns as wide as their longest value (no clipped text)."""
    _header(ws, 1, header)
    widths = [len(name) for name in header]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            cell = _put(ws, r, c, value)
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            widths[c - 1] = max(widths[c - 1], _shown_width(value))
    for c, width in enumerate(widths, start=1):
        # Filter buttons cover the right of the header cell.
        ws.column_dimensions[get_column_letter(c)].width = min(60, max(8, width + 4))
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
            if label == "Note" and isinstance(value, str):
                # A note spans columns B and C; spreadsheets do not grow rows themselves.
                ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
                cell.alignment = _WRAP
                ws.row_dimensions[row].height = 13.5 * _wrapped_lines(value, 110) + 2
        row += 1
    row += 1
    _put(ws, row, 1, f"Unscheduled patients ({len(plan.unscheduled)})").font = _BOLD
    row += 1
    _header(ws, row, ("patient", "reason", "detail"))
    title_row = row
    for item in sorted(plan.unscheduled, key=lambda u: u.patient_code):
        row += 1
        _put(ws, row, 1, item.patient_code).alignment = _WRAP
        _put(ws, row, 2, item.reason.value).alignment = _WRAP
        _put(ws, row, 3, item.detail).alignment = _WRAP
        ws.row_dimensions[row].height = 13.5 * _wrapped_lines(item.detail, 80) + 2
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
            s.apheresis_day,
            s.manufacturing_start,
            s.manufacturing_end,
            s.release_day,
            s.ld_start_day,
            s.infusion_day,
            s.bed_from,
            s.bed_to,
            s.vein_to_vein_days,
            p.needed_infusion if p and p.needed_infusion else "",
            s.lateness_days,
        ]

    shown = [
        s
        for s in sorted(plan.schedules, key=lambda s: (s.apheresis_day, s.patient_code))
        if s.apheresis_day <= hi and max(s.bed_to, s.infusion_day) >= lo
    ]
    _table(ws, PATIENT_COLUMNS, (row(s) for s in shown))


# Week grids ----------------------------------------------------------------------------------

_DAY_WIDTH = 22
_LINE_PT = 13.5
_HOLIDAY = PatternFill("solid", start_color="FFD6E4F5", end_color="FFD6E4F5")
_DOWN = PatternFill("solid", start_color="FFF8CBAD", end_color="FFF8CBAD")
_CENTER = Alignment(horizontal="center", vertical="top")
_DAY_HEAD = Alignment(horizontal="center", vertical="bottom")
_SMALL = Font(size=9)
_BLOCK_TITLE = Font(bold=True, size=13)
_ITALIC = Font(italic=True, size=9)


@dataclass(frozen=True)
class PrintInfo:
    """What the printed header and footer say about the plan."""

    centre: str
    scenario: str
    plan_label: str
    created: str
    versions: str


@dataclass
class _Row:
    """One labelled row of a week grid: a value per date, optional fills per date."""

    label: str
    values: dict[date, object]
    fills: dict[date, PatternFill] = field(default_factory=dict)
    numeric: bool = False


def _wrapped_lines(value: object, width: int = _DAY_WIDTH - 1) -> int:
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


def _header_text(text: str) -> str:
    return text.replace("&", "&&")


def _page_furniture(ws: Worksheet, view: str, info: PrintInfo) -> None:
    """Header (centre, view, plan) and footer (print date, plan origin, page x of n)."""
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.75, bottom=0.75)
    ws.oddHeader.left.text = _header_text(info.centre)
    ws.oddHeader.center.text = f"&B{_header_text(view)}&B"
    ws.oddHeader.right.text = _header_text(info.plan_label)
    ws.oddFooter.left.text = "Printed &D &T"
    ws.oddFooter.center.text = _header_text(
        f"{info.scenario} · plan made {info.created} · {info.versions}"
    )
    ws.oddFooter.right.text = "Page &P of &N"
    for part in (ws.oddHeader.left, ws.oddHeader.center, ws.oddHeader.right):
        part.size = 10
    for part in (ws.oddFooter.left, ws.oddFooter.center, ws.oddFooter.right):
        part.size = 8


def _grid(
    ws: Worksheet,
    view: str,
    days: Sequence[date],
    rows: Sequence[_Row],
    holidays: dict[date, str],
    legend: Sequence[str],
    info: PrintInfo,
    label: str = "resource",
) -> dict[tuple[str, date], Cell]:
    """One block per ISO week, one printed page each, stacked down the sheet.

    A block is a title row (view, ISO week, dates), a row of real dates (Monday always in
    column B), holiday names, one row per label and the legend. Weekends and holidays are
    shaded. Returns the cell of each (label, date) so callers and tests can find them.
    """
    last_column = 8
    cells: dict[tuple[str, date], Cell] = {}
    label_width = max([14, len(label) + 2] + [len(r.label) + 2 for r in rows])
    label_width = min(label_width, 28)
    total_chars = label_width + 7 * _DAY_WIDTH
    top = 1
    for week in _weeks(days):
        first, last = week[0], week[-1]
        year, number, _ = first.isocalendar()
        title = _put(
            ws,
            top,
            1,
            f"{view} · week {number}, {year} · {first:%a %d %b} – {last:%a %d %b %Y}",
        )
        title.font = _BLOCK_TITLE
        ws.merge_cells(start_row=top, start_column=1, end_row=top, end_column=last_column)
        ws.row_dimensions[top].height = 22
        head = top + 1
        _put(ws, head, 1, label).font = _BOLD
        names = top + 2
        for day in week:
            c = 2 + day.weekday()
            cell = ws.cell(row=head, column=c, value=day)
            cell.number_format = "ddd d mmm"
            cell.font = Font(bold=True, size=11)
            cell.alignment = _DAY_HEAD
            name = holidays.get(day, "")
            if name:
                note = _put(ws, names, c, name)
                note.font, note.alignment = _ITALIC, Alignment(horizontal="center", wrap_text=True)
        holiday_lines = max([1] + [_wrapped_lines(holidays.get(d, "")) for d in week])
        ws.row_dimensions[head].height = 18
        ws.row_dimensions[names].height = 11 * holiday_lines + 2
        r = names
        for row in rows:
            r += 1
            title_cell = _put(ws, r, 1, row.label)
            title_cell.font, title_cell.alignment = _BOLD, _WRAP
            lines = _wrapped_lines(row.label, label_width)
            for day in week:
                value = row.values.get(day)
                cell = _put(ws, r, 2 + day.weekday(), value)
                cell.alignment = _CENTER if row.numeric else _WRAP
                if day in row.fills:
                    cell.fill = row.fills[day]
                cells[(row.label, day)] = cell
                lines = max(lines, _wrapped_lines(value))
            # Spreadsheet programs do not grow rows for wrapped text on their own.
            ws.row_dimensions[r].height = _LINE_PT * lines + 3
        bottom = r
        for day in week:
            shade = _HOLIDAY if day in holidays else _WEEKEND if day.weekday() >= 5 else None
            if shade is None:
                continue
            for rr in range(head, bottom + 1):
                cell = ws.cell(row=rr, column=2 + day.weekday())
                if cell.fill.fill_type is None:
                    cell.fill = shade
        r = bottom + 1
        for text in legend:
            r += 1
            cell = _put(ws, r, 1, text)
            cell.font, cell.alignment = _SMALL, _WRAP
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last_column)
            ws.row_dimensions[r].height = 11.5 * _wrapped_lines(text, total_chars) + 2
        ws.row_breaks.append(Break(id=r))
        top = r + 2
    ws.column_dimensions["A"].width = label_width
    for c in range(2, 2 + 7):
        ws.column_dimensions[get_column_letter(c)].width = _DAY_WIDTH
    # Fit to the page width only: fitting the height too makes LibreOffice ignore the
    # breaks that keep each week on a page of its own.
    _printable(ws, None, "B1", "A:A")
    _page_furniture(ws, view, info)
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


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _when(start: datetime, end: datetime, day: date) -> str:
    """The part of [start, end) on a day: '08:00–12:00', 'from 20:00', 'until 06:00', 'all day'."""
    starts = start.date() == day
    ends = (end - timedelta(microseconds=1)).date() == day
    until = "24:00" if end.time() == time(0) else _clock(end)
    if starts and ends:
        return f"{_clock(start)}–{until}"
    if starts:
        return f"from {_clock(start)}"
    if ends:
        return f"until {until}"
    return "all day"


def _staffing(assignments: Iterable[Assignment]) -> dict[tuple[str, str], str]:
    """Who staffs each (patient, step): the people named, then any need left unnamed.

    'OP03, OP07'; '2 operator' when nobody is named; 'OP03, 1 operator unnamed' when short.
    """
    named: dict[tuple[str, str], list[str]] = defaultdict(list)
    pooled: dict[tuple[str, str], list[Assignment]] = defaultdict(list)
    for a in sorted(assignments, key=_sort_key):
        key = (a.patient_code, a.step_code)
        if a.resource_type is ResourceType.STAFF and a.resource_code not in named[key]:
            named[key].append(a.resource_code)
        elif a.resource_type is ResourceType.STAFF_POOL:
            pooled[key].append(a)
    out: dict[tuple[str, str], str] = {}
    for key in sorted(set(named) | set(pooled)):
        labels = list(named.get(key, []))
        missing = sum(a.quantity for a in pooled.get(key, [])) - len(labels)
        if missing > 0:
            roles = sorted({a.resource_code.split(":")[0].replace("_", " ") for a in pooled[key]})
            unnamed = " unnamed" if labels else ""
            labels.append(f"{missing} {'/'.join(roles)}{unnamed}")
        out[key] = ", ".join(labels)
    return out


def _describe(
    items: Sequence[Assignment], day: date, staffing: dict[tuple[str, str], str] | None = None
) -> str:
    """Per patient a line 'P004 CART', then a line per step: 'seed 08:00–14:00 · 2 operator'.

    A step that merely goes on through the day (an incubation 'until 08:00' or 'from
    13:00') is left out when the patient has another step that day, to keep cells short.
    """
    by_patient: dict[tuple[str, str], list[Assignment]] = {}
    for a in items:
        by_patient.setdefault((a.patient_code, a.product_code), []).append(a)
    lines: list[str] = []
    for (patient, product), steps in by_patient.items():
        starting = {a.step_code for a in steps if a.start.date() == day}
        lines.append(f"{patient} {product}")
        for a in steps:
            if a.start.date() != day and starting - {a.step_code}:
                continue
            text = f"{a.step_code} {_when(a.start, a.end, day)}"
            if a.quantity > 1:
                text += f" ×{a.quantity}"
            if staffing and a.start.date() == day:
                who = staffing.get((a.patient_code, a.step_code))
                if who:
                    text += f" · {who}"
            lines.append(text)
    return "\n".join(lines)


def _occupancy(
    assignments: Sequence[Assignment], kind: ResourceType
) -> dict[str, list[tuple[str, datetime]]]:
    """Per room or device, each batch's patient and when its last step there ends."""
    ends: dict[tuple[str, str], datetime] = {}
    for a in assignments:
        if a.resource_type is kind:
            key = (a.resource_code, a.patient_code)
            ends[key] = max(ends.get(key, a.end), a.end)
    out: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for (code, patient), end in sorted(ends.items(), key=lambda item: item[1]):
        out[code].append((patient, end))
    return out


def _equipment_rows(
    codes: Sequence[tuple[str, int, Sequence[Window]]],
    assignments: Sequence[Assignment],
    kind: ResourceType,
    days: Sequence[date],
) -> list[_Row]:
    """Rows for rooms or devices: steps with times and staff, changeovers and downtime."""
    busy = _busy((a for a in assignments if a.resource_type is kind), days)
    staffing = _staffing(assignments)
    batches = _occupancy(assignments, kind)
    known = {code for code, _, _ in codes}
    extra = [(code, 0, ()) for code in sorted(busy) if code not in known]
    rows: list[_Row] = []
    for code, changeover_hours, downtime in [*codes, *extra]:
        row = _Row(code, {})
        for day in days:
            parts = [_describe(busy.get(code, {}).get(day, []), day, staffing)]
            for _, end in batches.get(code, []):
                cleaned = end + timedelta(hours=changeover_hours)
                if changeover_hours and _touches(end, cleaned, day):
                    parts.append(f"changeover\n{_when(end, cleaned, day)}")
            for window in downtime:
                if _touches(window.start, window.end, day):
                    reason = f" ({window.reason})" if window.reason else ""
                    parts.append(f"DOWN{reason}\n{_when(window.start, window.end, day)}")
                    row.fills[day] = _DOWN
            row.values[day] = "\n".join(p for p in parts if p)
        rows.append(row)
    return rows


def _touches(start: datetime, end: datetime, day: date) -> bool:
    return start.date() <= day <= (end - timedelta(microseconds=1)).date()


def _shift_text(shift: ShiftCode | None, code: str) -> str:
    if shift is None:
        return code
    if shift.is_leave or shift.hours == 0:
        return f"{code} {shift.name}"
    start = datetime.combine(date(2000, 1, 1), time(shift.start_hour))
    end = start + timedelta(hours=shift.hours)
    return f"{code} {_clock(start)}–{'24:00' if end.time() == time(0) else _clock(end)}"


def _staff_rows(
    scenario: Scenario, assignments: Sequence[Assignment], days: Sequence[date]
) -> list[_Row]:
    """A row per person: the shift code rostered (times in the legend), then one line per
    step assigned to them by name ('P004 seed 08–14'), so a week of a whole staff list
    fits one printed page."""
    shown = set(days)
    roster: dict[str, dict[date, str]] = defaultdict(dict)
    for entry in scenario.roster:
        if entry.day in shown:
            roster[entry.staff_code][entry.day] = entry.shift_code
    busy = _busy((a for a in assignments if a.resource_type is ResourceType.STAFF), days)
    rows: list[_Row] = []
    for person in scenario.staff:
        row = _Row(person.code, {})
        for day in days:
            steps = [
                f"{a.patient_code} {a.step_code} {_short(_when(a.start, a.end, day))}"
                for a in busy.get(person.code, {}).get(day, [])
            ]
            parts = [roster.get(person.code, {}).get(day, ""), *steps]
            row.values[day] = "\n".join(p for p in parts if p)
        rows.append(row)
    return rows


def _short(times: str) -> str:
    """'08:00–14:00' as '08–14' where the minutes are round."""
    return times.replace(":00", "")


def _pool_rows(assignments: Sequence[Assignment], days: Sequence[date]) -> list[_Row]:
    """A row per staff pool (role and product): the steps needing it, people per step."""
    busy = _busy((a for a in assignments if a.resource_type is ResourceType.STAFF_POOL), days)
    return [
        _Row(code.replace(":", " "), {day: _describe(busy[code].get(day, []), day) for day in days})
        for code in sorted(busy)
    ]


def _infused_stays(scenario: Scenario) -> list[Assignment]:
    """Bed rows of patients infused before the plan, still on the ward (not in any plan)."""
    stays = []
    for p, infused_on, days in scenario.infused_stays():
        if days > 0:
            start = datetime.combine(infused_on, time())
            stays.append(
                Assignment(
                    p.code,
                    p.product_code,
                    "inpatient",
                    ResourceType.BED,
                    scenario.ward.code,
                    start,
                    start + timedelta(days=days),
                )
            )
    return stays


def _ward_rows(
    scenario: Scenario, assignments: Sequence[Assignment], days: Sequence[date]
) -> list[_Row]:
    beds = [a for a in assignments if a.resource_type is ResourceType.BED]
    beds += _infused_stays(scenario)
    busy = _busy(beds, days)
    used = _Row("beds used", {}, numeric=True)
    available = _Row("beds available", {}, numeric=True)
    free = _Row("beds free", {}, numeric=True)
    who = _Row("patients", {})
    for day in days:
        items = [a for per_code in busy.values() for a in per_code.get(day, [])]
        patients = sorted({a.patient_code for a in items})
        count = sum(
            max(a.quantity for a in items if a.patient_code == patient) for patient in patients
        )
        beds_on = scenario.ward.beds_on(day)
        used.values[day], available.values[day] = count, beds_on
        free.values[day] = beds_on - count
        if count > beds_on:
            used.fills[day] = _OVER
        who.values[day] = "\n".join(
            f"{p} {a.product_code}" if a.start.date() != day else f"{p} {a.product_code} in"
            for p in patients
            for a in [next(x for x in items if x.patient_code == p)]
        )
    return [used, available, free, who]


def _apheresis_rows(
    scenario: Scenario, assignments: Sequence[Assignment], days: Sequence[date]
) -> list[_Row]:
    taken = [a for a in assignments if a.resource_type is ResourceType.APHERESIS]
    busy = _busy(taken, days)
    booked = _Row("slots booked", {}, numeric=True)
    slots = _Row("slots available", {}, numeric=True)
    who = _Row("patients", {})
    for day in days:
        items = sorted({a for code in busy for a in busy[code].get(day, [])}, key=_sort_key)
        n_booked = len({a.patient_code for a in items})
        n_slots = scenario.apheresis.slots_on(day, scenario.holiday_dates)
        booked.values[day], slots.values[day] = n_booked, n_slots
        if n_booked > n_slots:
            booked.fills[day] = _OVER
        who.values[day] = "\n".join(
            f"{a.patient_code} {a.product_code} {_when(a.start, a.end, day)}" for a in items
        )
    return [booked, slots, who]


def _legend_common(scenario: Scenario) -> str:
    return (
        "Grey: weekend. Blue: public holiday (named under the date). Times are local "
        f"({scenario.site.timezone}); 'from' and 'until' mark steps running over midnight, "
        "'all day' a step that goes on through the day."
    )


def _legend_products(scenario: Scenario) -> str:
    return "Products: " + "; ".join(f"{p.code} = {p.name}" for p in scenario.products) + "."


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


# Writing -------------------------------------------------------------------------------------


def reproducible_zip(data: bytes, moment: datetime) -> bytes:
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
    scenario: Scenario,
    plan: Plan,
    start: date | None = None,
    end: date | None = None,
    plan_id: int | None = None,
) -> Workbook:
    """The plan as an openpyxl workbook, limited to assignments overlapping [start, end]."""
    lo, hi = _window(plan, scenario, start, end)
    days = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    shown = [a for a in plan.assignments if _overlaps(a, lo, hi)]
    holidays = {h.day: h.name for h in scenario.holidays}
    status = plan.solver.status + (", stopped early" if plan.solver.stopped else "")
    info = PrintInfo(
        centre=scenario.site.name,
        scenario=plan.scenario_name or scenario.name,
        plan_label=f"Plan #{plan_id} · {status}" if plan_id else f"Unsaved plan · {status}",
        created=format_created(plan.created),
        versions=plan.solver.versions or "atmp-planner",
    )
    wb = Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    sheets = {name: wb.create_sheet(name) for name in SHEETS}
    _summary(sheets["Summary"], scenario, plan, lo, hi)
    _patients(sheets["Patients"], scenario, plan, lo, hi)
    common, products = _legend_common(scenario), _legend_products(scenario)
    changeover = "Changeover: cleaning after a batch ({}). Red: out of service, with the reason."
    rooms = ", ".join(sorted({f"{r.changeover_hours} h" for r in scenario.cleanrooms}))
    devices = ", ".join(sorted({f"{d.changeover_hours} h" for d in scenario.devices}))
    _grid(
        sheets["Cleanrooms"],
        "Cleanrooms",
        days,
        _equipment_rows(
            [(r.code, r.changeover_hours, r.downtime) for r in scenario.cleanrooms],
            shown,
            ResourceType.CLEANROOM,
            days,
        ),
        holidays,
        [
            products,
            changeover.format(rooms or "none") + " Staff needed per step after '·'.",
            common,
        ],
        info,
        label="cleanroom",
    )
    _grid(
        sheets["Devices"],
        "Devices",
        days,
        _equipment_rows(
            [(d.code, d.changeover_hours, d.downtime) for d in scenario.devices],
            shown,
            ResourceType.DEVICE,
            days,
        ),
        holidays,
        [products, changeover.format(devices or "none"), common],
        info,
        label="device",
    )
    shift_legend = "Shifts: " + "; ".join(
        f"{s.code} = {s.name}"
        + ("" if s.is_leave or s.hours == 0 else f" ({_shift_text(s, s.code)[2:]})")
        for s in scenario.shift_codes
    )
    _grid(
        sheets["Staff"],
        "Staff",
        days,
        _staff_rows(scenario, shown, days),
        holidays,
        [shift_legend + ".", common],
        info,
        label="staff",
    )
    _grid(
        sheets["Staff pools"],
        "Staff pools",
        days,
        _pool_rows(shown, days),
        holidays,
        [
            "Each row is a pool of people by role and product training; a cell lists the "
            "steps that need that pool, ×2 meaning two people.",
            products,
            common,
        ],
        info,
        label="pool",
    )
    _grid(
        sheets["Ward"],
        "Ward",
        days,
        _ward_rows(scenario, shown, days),
        holidays,
        [
            f"Ward {scenario.ward.code} {scenario.ward.name}. 'in': admitted that day. "
            "Red: more beds used than available.",
            common,
        ],
        info,
        label=f"ward {scenario.ward.code}",
    )
    _grid(
        sheets["Apheresis"],
        "Apheresis",
        days,
        _apheresis_rows(scenario, shown, days),
        holidays,
        [products, common],
        info,
        label="apheresis",
    )
    _assignments(sheets["Assignments"], shown)
    created = plan.created.replace(microsecond=0, tzinfo=None)
    wb.properties.created = created
    wb.properties.modified = created
    wb.properties.creator = "atmp-planner"
    wb.properties.lastModifiedBy = "atmp-planner"
    wb.properties.title = f"Plan: {plan.scenario_name or scenario.name}"
    return wb


def plan_workbook_bytes(
    scenario: Scenario,
    plan: Plan,
    start: date | None = None,
    end: date | None = None,
    plan_id: int | None = None,
) -> bytes:
    """The plan's workbook file as bytes: the same plan, window, plan id and creation time
    give the same bytes (zip entries dated by the plan's creation)."""
    wb = build_plan_workbook(scenario, plan, start, end, plan_id)
    buffer = io.BytesIO()
    wb.save(buffer)
    created = plan.created.replace(microsecond=0, tzinfo=None)
    return reproducible_zip(buffer.getvalue(), created)


def write_plan_workbook(
    path: str | Path,
    scenario: Scenario,
    plan: Plan,
    start: date | None = None,
    end: date | None = None,
    plan_id: int | None = None,
) -> Path:
    """Write the plan's workbook to path (dates inclusive; None means the whole plan).

    The file appears whole or not at all: it is written beside the target and renamed.
    """
    target = Path(path)
    content = plan_workbook_bytes(scenario, plan, start, end, plan_id)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(content)
        partial.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return target
