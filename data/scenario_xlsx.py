"""Scenarios as workbooks: a fill-in template, export, and a careful import.

One sheet per kind of thing a scenario holds, one row per thing, one column per field,
with a note on each header and drop-downs for codes and fixed values. Reading turns the
workbook into the dictionary of the JSON format (data/scenario_json.py) and checks it
the same way, naming each problem by sheet, row and column. Files are checked before
openpyxl parses them (zip directory sizes, row and column counts), so a hostile file is
refused quickly; the limits are documented in docs/scenario-format.md.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from data.excel_export import reproducible_zip
from data.scenario_json import (
    FORMAT_VERSION,
    MAX_PROBLEMS,
    Path_,
    Problem,
    ScenarioFileError,
    scenario_from_dict,
    scenario_to_dict,
)
from planner import Grade, PatientStatus, Role, Scenario, Storage
from planner.scenario import (
    DEFAULT_FROZEN_DAYS,
    DEFAULT_LATENESS_WEIGHT,
    DEFAULT_PRIORITY_WEIGHTS,
)

# Limits on files read (documented in docs/scenario-format.md) ---------------------------------

#: Largest workbook file read, in bytes.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Most entries in the workbook's zip archive.
MAX_ZIP_ENTRIES = 500
#: Largest uncompressed size of any one entry, and of all entries together, in bytes.
MAX_ENTRY_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
#: Highest compression ratio accepted for an entry larger than 1 MiB (zip bombs exceed it).
MAX_RATIO = 100
#: Most rows (header included) and columns read on one sheet.
MAX_ROWS = 100_001
MAX_COLUMNS = 60
#: Most cells read in the whole workbook (blank cells inside rows count too).
MAX_CELLS = 1_000_000

_YES = {"yes", "y", "true", "1", "ja", "x"}
_NO = {"no", "n", "false", "0", "nej"}
_HEADER_FONT = Font(bold=True, color="FFFFFFFF")
_HEADER_FILL = PatternFill("solid", start_color="FF1F4E79", end_color="FF1F4E79")
_WRAP = Alignment(wrap_text=True, vertical="top")


# Sheet layout -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header (= the JSON key), kind of value and note."""

    key: str
    kind: str  # code, text, int, float, bool, date, datetime, enum, enums, codes
    note: str
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: str | None = None  # sheet whose first column lists the codes allowed here
    width: int = 14


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook: a table of one kind of thing."""

    name: str
    purpose: str
    columns: tuple[Column, ...]
    single: bool = False  # exactly one row

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _code(note: str, ref: str | None = None, required: bool = True) -> Column:
    return Column("code", "code", note, required, ref=ref)


_GRADES = tuple(g.value for g in Grade)
_ROLES = tuple(r.value for r in Role)
_STORAGE = tuple(s.value for s in Storage)
_STATUS = tuple(s.value for s in PatientStatus)
_CODE_RULE = "1-40 letters, digits, '-', '_' or '.', starting with a letter or digit"

SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "Scenario",
        "The scenario's name and planning horizon (one row).",
        (
            Column("name", "text", "Name the scenario is stored under.", True, width=36),
            Column("horizon_start", "date", "First day planned (a date).", True),
            Column("horizon_end", "date", "Last day planned (a date, after the first).", True),
            Column(
                "format_version", "int", f"Template format; leave it at {FORMAT_VERSION}.", True
            ),
            Column(
                "frozen_days",
                "int",
                "Days from the planning date in which a re-plan keeps the published plan's "
                "steps where they are, 0-366 (blank: 14).",
            ),
        ),
        single=True,
    ),
    Sheet(
        "Site",
        "The hospital site and its working day (one row).",
        (
            _code(f"Site code: {_CODE_RULE}."),
            Column("name", "text", "Site name.", True, width=36),
            Column(
                "country",
                "text",
                "Country code, e.g. SE (blank: SE). With the Holidays sheet empty, "
                "`atmp-planner import --public-holidays` adds this country's public holidays.",
            ),
            Column("timezone", "text", "Time zone (blank: Europe/Stockholm).", width=20),
            Column(
                "day_start_hour",
                "int",
                "Hour the working day starts, 0-23 (blank: 8). Staffed steps run in it.",
            ),
            Column("day_end_hour", "int", "Hour the working day ends, 1-24 (blank: 16)."),
        ),
        single=True,
    ),
    Sheet(
        "Holidays",
        "Public holidays: no apheresis, only rostered staff work.",
        (
            Column("day", "date", "The date.", True),
            Column("name", "text", "Name of the holiday.", True, width=30),
        ),
    ),
    Sheet(
        "Priority weights",
        "How much scheduling one patient of each priority (1 most urgent) is worth; "
        "one row per priority 1-9.",
        (
            Column("priority", "int", "Priority 1-9 (1 most urgent); each exactly once.", True),
            Column("weight", "int", "Objective weight of one scheduled patient, 0 or more.", True),
            Column(
                "lateness_weight",
                "int",
                "Objective weight of one day of lateness of a patient of this priority, 0-1000 "
                "(blank: 10). It counts after patients scheduled and stability, before waiting.",
            ),
        ),
    ),
    Sheet(
        "Cleanrooms",
        "GMP cleanrooms: one patient's material at a time.",
        (
            _code(f"Cleanroom code: {_CODE_RULE}."),
            Column("name", "text", "Cleanroom name.", True, width=28),
            Column("grade", "enum", "EU GMP Annex 1 grade: A, B, C or D.", True, _GRADES),
            Column(
                "products",
                "codes",
                "Product codes made here, separated by commas (codes from sheet Products).",
                width=22,
            ),
            Column("changeover_hours", "int", "Cleaning between batches, hours (blank: 8)."),
        ),
    ),
    Sheet(
        "Devices",
        "Closed processing devices: one batch at a time.",
        (
            _code(f"Device code: {_CODE_RULE}."),
            Column("name", "text", "Device name.", True, width=28),
            Column(
                "room_codes",
                "codes",
                "Cleanroom codes it stands in, separated by commas (at least one).",
                True,
                width=18,
            ),
            Column(
                "products",
                "codes",
                "Product codes it can make, separated by commas (codes from sheet Products).",
                width=22,
            ),
            Column("changeover_hours", "int", "Cleaning between batches, hours (blank: 4)."),
        ),
    ),
    Sheet(
        "Downtime",
        "Planned downtime of cleanrooms and devices (maintenance, requalification).",
        (
            Column(
                "resource_type",
                "enum",
                "cleanroom or device.",
                True,
                ("cleanroom", "device"),
            ),
            Column("resource_code", "code", "Code of the cleanroom or device.", True),
            Column("start", "datetime", "Start: date and time (down from then).", True, width=18),
            Column("end", "datetime", "End: date and time (up again from then).", True, width=18),
            Column("reason", "text", "Why (optional).", width=36),
        ),
    ),
    Sheet(
        "Staff",
        "Staff, by pseudonymous code, with roles and product training.",
        (
            _code(f"Staff code (pseudonymous, no names): {_CODE_RULE}."),
            Column(
                "roles",
                "enums",
                "Roles, separated by commas: " + ", ".join(_ROLES) + ".",
                True,
                _ROLES,
                width=24,
            ),
            Column(
                "trained_products",
                "codes",
                "Product codes the person is trained on, separated by commas.",
                width=22,
            ),
            Column(
                "contracted_hours_per_week", "float", "Contracted hours a week, 1-60 (blank: 40)."
            ),
        ),
    ),
    Sheet(
        "Shift codes",
        "Roster codes: day, late, night, weekend, leave.",
        (
            _code(f"Shift code as used on sheet Roster: {_CODE_RULE}."),
            Column("name", "text", "Shift name.", True, width=20),
            Column("start_hour", "int", "Hour the shift starts, 0-23.", True),
            Column("hours", "int", "Length of the shift in hours, 0-24.", True),
            Column(
                "covers_day_work",
                "bool",
                "yes if the person can do day work (staffed steps) on this shift (blank: yes).",
            ),
            Column("is_leave", "bool", "yes for leave or absence (blank: no)."),
        ),
    ),
    Sheet(
        "Roster",
        "Who works which shift on which day: one row per person per day.",
        (
            Column("staff_code", "code", "Staff code from sheet Staff.", True, ref="Staff"),
            Column("day", "date", "The date.", True),
            Column(
                "shift_code", "code", "Shift code from sheet Shift codes.", True, ref="Shift codes"
            ),
        ),
    ),
    Sheet(
        "Ward",
        "The ward with beds for the in-patient stay (one row).",
        (
            _code(f"Ward code: {_CODE_RULE}."),
            Column("name", "text", "Ward name.", True, width=28),
            Column("beds", "int", "Beds usually available, 0 or more.", True),
        ),
        single=True,
    ),
    Sheet(
        "Bed changes",
        "Periods with a different number of beds (the last row covering a day wins).",
        (
            Column("start", "date", "First day of the change.", True),
            Column("end", "date", "Last day of the change (inclusive).", True),
            Column("beds", "int", "Beds available in the period, 0 or more.", True),
            Column("reason", "text", "Why (optional).", width=30),
        ),
    ),
    Sheet(
        "Apheresis",
        "Apheresis slots on each weekday (one row).",
        tuple(
            Column(day, "int", f"Apheresis slots on a {day.capitalize()}, 0 or more.", True)
            for day in (
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            )
        ),
        single=True,
    ),
    Sheet(
        "Apheresis exceptions",
        "Dates with a different number of apheresis slots (these win over holidays).",
        (
            Column("day", "date", "The date.", True),
            Column("slots", "int", "Slots on that date, 0 or more.", True),
        ),
    ),
    Sheet(
        "Products",
        "Autologous products: storage, QC, lymphodepletion and in-patient stay.",
        (
            _code(f"Product code: {_CODE_RULE}."),
            Column("name", "text", "Product name.", True, width=28),
            Column("storage", "enum", "fresh or cryo (blank: cryo).", False, _STORAGE),
            Column("qc_release_days", "int", "Days of QC release testing (blank: 7)."),
            Column("fresh_shelf_days", "int", "Shelf life of a fresh product, days (blank: 3)."),
            Column(
                "ld_days_before_infusion",
                "int",
                "Lymphodepletion starts this many days before infusion (blank: 5).",
            ),
            Column("inpatient_days", "int", "In-patient days from infusion (blank: 7)."),
            Column(
                "failure_probability",
                "float",
                "Share of batches failing, 0 to below 1, e.g. 0.05 (blank: 0.05).",
            ),
            Column("apheresis_hours", "int", "Length of the apheresis, 1-24 hours (blank: 6)."),
            Column(
                "shelf_life_from_step",
                "text",
                "Fresh products: the step whose end starts the shelf life, e.g. harvest "
                "(blank: the last step).",
            ),
            Column(
                "ld_before_release",
                "bool",
                "yes if lymphodepletion may start before QC release (fresh products only; "
                "blank: no).",
            ),
            Column(
                "infusion_any_day",
                "bool",
                "yes if lymphodepletion and infusion may fall on weekends and public "
                "holidays (blank: no, clinical days only).",
            ),
        ),
    ),
    Sheet(
        "Steps",
        "Manufacturing steps of each product, in order (rows of one product top to bottom).",
        (
            Column(
                "product_code", "code", "Product code from sheet Products.", True, ref="Products"
            ),
            _code(f"Step code, unique within the product: {_CODE_RULE}."),
            Column("name", "text", "Step name.", True, width=20),
            Column("duration_hours", "int", "Length in hours, 1 or more.", True),
            Column("needs_cleanroom", "bool", "yes if it occupies a cleanroom (blank: yes)."),
            Column("needs_device", "bool", "yes if it occupies a device (blank: no)."),
            Column(
                "working_hours_only",
                "bool",
                "yes if it must run inside the working day; staffed steps must (blank: no).",
            ),
            Column(
                "min_lag_hours",
                "int",
                "Least hours after the previous step ends (the first step: after apheresis) "
                "(blank: 0).",
            ),
            Column("max_lag_hours", "int", "Most hours after the previous step (blank: no limit)."),
        ),
    ),
    Sheet(
        "Staff needs",
        "People each step needs: so many of a role for so many hours.",
        (
            Column(
                "product_code", "code", "Product code from sheet Products.", True, ref="Products"
            ),
            Column("step_code", "code", "Step code of that product (sheet Steps).", True),
            Column("role", "enum", "Role: " + ", ".join(_ROLES) + ".", True, _ROLES, width=18),
            Column("count", "int", "Number of people, 1 or more.", True),
            Column("hours", "int", "Hours each, 1 or more.", True),
            Column(
                "product_trained",
                "bool",
                "yes if they must be trained on the product (blank: yes).",
            ),
        ),
    ),
    Sheet(
        "Trials",
        "Clinical trials of one product each.",
        (
            _code(f"Trial code: {_CODE_RULE}."),
            Column("name", "text", "Trial name.", True, width=28),
            Column(
                "product_code", "code", "Product code from sheet Products.", True, ref="Products"
            ),
            Column("enrolment_start", "date", "First day of enrolment.", True),
            Column("enrolment_end", "date", "Last day of enrolment.", True),
            Column("priority", "int", "Priority class 1-9, 1 most urgent (blank: 3)."),
            Column(
                "apheresis_within_days",
                "int",
                "Apheresis within this many days of enrolment (blank: no limit).",
            ),
        ),
    ),
    Sheet(
        "Cohorts",
        "Cohorts (e.g. dose levels) of each trial, with caps and stagger.",
        (
            Column("trial_code", "code", "Trial code from sheet Trials.", True, ref="Trials"),
            _code(f"Cohort code, unique within the trial: {_CODE_RULE}."),
            Column("cap", "int", "Most patients in the cohort, 1 or more.", True),
            Column(
                "min_days_between_infusions",
                "int",
                "Least days between two infusions in the cohort (blank: 0).",
            ),
            Column(
                "escalation_gate_days",
                "int",
                "Dose escalation: first infusion at least this many days after the previous "
                "cohort's last (blank: no gate; leave the first cohort blank).",
            ),
        ),
    ),
    Sheet(
        "Patients",
        "Referred patients, by pseudonymous code (no names: GDPR).",
        (
            _code(f"Patient code (pseudonymous): {_CODE_RULE}."),
            Column(
                "product_code", "code", "Product code from sheet Products.", True, ref="Products"
            ),
            Column("referral_date", "date", "Date of referral.", True),
            Column("earliest_apheresis", "date", "Earliest apheresis date.", True),
            Column("latest_apheresis", "date", "Latest apheresis date.", True),
            Column("needed_infusion", "date", "Infusion needed by this date (blank: none)."),
            Column("priority", "int", "Priority 1-9, 1 most urgent (blank: 3)."),
            Column("trial_code", "code", "Trial code, for trial patients.", ref="Trials"),
            Column("cohort_code", "code", "Cohort code of that trial, for trial patients."),
            Column(
                "status",
                "enum",
                "referred, in_process, infused or withdrawn (blank: referred).",
                False,
                _STATUS,
            ),
            Column(
                "enrolled_on",
                "date",
                "Trial enrolment date; trial windows count from it (blank: referral date).",
            ),
            Column(
                "infused_on",
                "date",
                "Infused patients: the infusion date (keeps their bed days and cohort stagger).",
            ),
        ),
    ),
    Sheet(
        "Done steps",
        "Steps already done (or under way) that re-planning must keep.",
        (
            Column(
                "patient_code", "code", "Patient code from sheet Patients.", True, ref="Patients"
            ),
            Column("step_code", "code", "Step code of the patient's product, or apheresis.", True),
            Column("start", "datetime", "Start: date and time.", True, width=18),
            Column("end", "datetime", "End: date and time.", True, width=18),
            Column("resource_code", "code", "Room, device or unit it used (optional)."),
        ),
    ),
)
SHEET = {s.name: s for s in SHEETS}
_WEEKDAYS = tuple(c.key for c in SHEET["Apheresis"].columns)


# Writing ------------------------------------------------------------------------------------


def _put(ws: Worksheet, row: int, column: int, value: object) -> Cell:
    """Write a value; text is always stored as text, never as a formula."""
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _cell_value(column: Column, value: Any) -> object:
    """A dictionary value as it is shown in a cell."""
    if value is None or value == "":
        return None
    if column.kind in ("codes", "enums"):
        return ", ".join(value) or None
    if column.kind == "bool":
        return "yes" if value else "no"
    if column.kind == "date":
        return date.fromisoformat(value)
    if column.kind == "float" and float(f"{value:.15g}") != value:
        # Excel keeps 15 significant digits: a longer float stays exact as text.
        return repr(value)
    if column.kind == "datetime":
        moment = datetime.fromisoformat(value)
        # Excel keeps milliseconds at best: finer moments stay exact as ISO text.
        return value if moment.microsecond else moment
    return value


def _rows(d: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The scenario dictionary cut into the rows of each sheet."""
    rows: dict[str, list[dict[str, Any]]] = {
        "Scenario": [
            {
                "name": d["name"],
                "horizon_start": d["horizon_start"],
                "horizon_end": d["horizon_end"],
                "format_version": d["format_version"],
                "frozen_days": d["frozen_days"],
            }
        ],
        "Site": [d["site"]],
        "Holidays": d["holidays"],
        "Priority weights": d["priority_weights"],
        "Cleanrooms": d["cleanrooms"],
        "Devices": d["devices"],
        "Downtime": [
            {"resource_type": kind, "resource_code": owner["code"], **w}
            for kind, key in (("cleanroom", "cleanrooms"), ("device", "devices"))
            for owner in d[key]
            for w in owner["downtime"]
        ],
        "Staff": d["staff"],
        "Shift codes": d["shift_codes"],
        "Roster": d["roster"],
        "Ward": [d["ward"]],
        "Bed changes": d["ward"]["changes"],
        "Apheresis": [dict(zip(_WEEKDAYS, d["apheresis"]["slots_per_weekday"], strict=True))],
        "Apheresis exceptions": d["apheresis"]["exceptions"],
        "Products": d["products"],
        "Steps": [{"product_code": p["code"], **s} for p in d["products"] for s in p["steps"]],
        "Staff needs": [
            {"product_code": p["code"], "step_code": s["code"], **n}
            for p in d["products"]
            for s in p["steps"]
            for n in s["staff"]
        ],
        "Trials": d["trials"],
        "Cohorts": [{"trial_code": t["code"], **c} for t in d["trials"] for c in t["cohorts"]],
        "Patients": d["patients"],
        "Done steps": [
            {"patient_code": p["code"], **s} for p in d["patients"] for s in p["done_steps"]
        ],
    }
    return rows


def _instructions(ws: Worksheet) -> None:
    lines: list[tuple[str, bool]] = [
        ("atmp-planner scenario workbook", True),
        ("", False),
        ("Bring your own centre: fill in the sheets, then run", False),
        ("    atmp-planner import THIS-FILE.xlsx", False),
        ("    atmp-planner solve --scenario NAME", False),
        ("    atmp-planner export --scenario NAME --out plan.xlsx --from DATE --to DATE", False),
        ("", False),
        ("How to fill it in", True),
        ("One row per thing; the first row of each sheet is the header: keep it as it is.", False),
        (
            "Hover over a header to read what the column holds; blank optional cells take the "
            "default the note names.",
            False,
        ),
        (
            "Codes: 1-40 letters, digits, '-', '_' or '.'; use pseudonymous codes for staff and "
            "patients, never names.",
            False,
        ),
        (
            "Dates as dates (2027-01-04); date and time as 2027-01-04 08:00. Yes/no columns: yes "
            "or no.",
            False,
        ),
        ("Lists (roles, products, rooms) in one cell, separated by commas: CART19, TIL", False),
        ("Type values, not formulas: the import refuses formulas.", False),
        ("Drop-downs offer the allowed values and the codes of the other sheets.", False),
        (
            "Keep every sheet, even empty; other sheets you add are ignored. Hidden sheets must "
            "be empty.",
            False,
        ),
        (
            "The import checks everything and lists every problem by sheet, row and column; "
            "nothing is stored until the whole file is valid.",
            False,
        ),
        ("", False),
        ("Sheets", True),
    ]
    lines += [(f"{s.name}: {s.purpose}", False) for s in SHEETS]
    width = 72
    for row, (text, bold) in enumerate(lines, start=1):
        cell = _put(ws, row, 1, text)
        cell.alignment = _WRAP
        if bold:
            cell.font = Font(bold=True, size=14 if row == 1 else 11)
        # Spreadsheet programs do not grow rows for wrapped text on their own.
        ws.row_dimensions[row].height = 15 * max(1, -(-len(text) // width)) + 3
    ws.column_dimensions["A"].width = width
    _printable(ws, landscape=False)


def _validation(ws: Worksheet, column: Column, letter: str) -> None:
    """A drop-down for fixed values or for the codes listed on another sheet."""
    if column.kind == "bool":
        formula = '"yes,no"'
    elif column.kind == "enum":
        formula = '"' + ",".join(column.choices) + '"'
    elif column.ref is not None:
        # As long as the codes listed so far, so that the drop-down shows no blank rows.
        codes = quote_sheetname(column.ref) + "!$A"
        formula = f"OFFSET({codes}$2,0,0,MAX(1,COUNTA({codes}:$A)-1),1)"
    else:
        return
    check = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=not column.required,
        errorStyle="warning",
        showErrorMessage=True,
        errorTitle=column.key,
        error=column.note[:225],
        promptTitle=column.key,
        prompt=column.note[:250],
        showInputMessage=False,
    )
    check.add(f"{letter}2:{letter}{MAX_ROWS}")
    ws.add_data_validation(check)


def _table(ws: Worksheet, sheet: Sheet, rows: Iterable[dict[str, Any]]) -> None:
    for c, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(c)
        head = _put(ws, 1, c, column.key)
        head.font, head.fill = _HEADER_FONT, _HEADER_FILL
        note = column.note + ("" if column.required else " Optional.")
        head.comment = Comment(note, "atmp-planner", width=260, height=110)
        ws.column_dimensions[letter].width = max(column.width, len(column.key) + 3)
        _validation(ws, column, letter)
        if column.kind == "date":
            ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
        elif column.kind == "datetime":
            ws.column_dimensions[letter].number_format = "yyyy-mm-dd hh:mm"
    for r, values in enumerate(rows, start=2):
        for c, column in enumerate(sheet.columns, start=1):
            value = _cell_value(column, values.get(column.key))
            cell = _put(ws, r, c, value)
            if column.kind == "date":
                cell.number_format = "yyyy-mm-dd"
            elif column.kind == "datetime":
                cell.number_format = "yyyy-mm-dd hh:mm"
    ws.freeze_panes = "A2"
    _printable(ws, landscape=True)
    ws.print_title_rows = "1:1"


def _printable(ws: Worksheet, landscape: bool) -> None:
    """A4, as wide as the page, as many pages down as it takes."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def build_workbook(scenario: Scenario | None = None) -> Workbook:
    """The template (no scenario), or a scenario written into the template's sheets."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    first.title = "Instructions"
    _instructions(first)
    if scenario is not None:
        rows = _rows(scenario_to_dict(scenario))
    else:
        rows = {s.name: [] for s in SHEETS}
        rows["Scenario"] = [{"format_version": FORMAT_VERSION, "frozen_days": DEFAULT_FROZEN_DAYS}]
        rows["Priority weights"] = [
            {"priority": p, "weight": w, "lateness_weight": DEFAULT_LATENESS_WEIGHT}
            for p, w in DEFAULT_PRIORITY_WEIGHTS
        ]
    for sheet in SHEETS:
        _table(wb.create_sheet(sheet.name), sheet, rows[sheet.name])
    wb.properties.creator = "atmp-planner"
    wb.properties.title = "Scenario" if scenario is None else f"Scenario: {scenario.name}"
    return wb


#: Creation time stamped on every written workbook, so the same scenario gives the same bytes.
_STAMP = datetime(2026, 1, 1)


def _save(wb: Workbook, path: str | Path) -> Path:
    target = Path(path)
    wb.properties.created = wb.properties.modified = _STAMP
    buffer = io.BytesIO()
    wb.save(buffer)
    target.write_bytes(reproducible_zip(buffer.getvalue(), _STAMP))
    return target


def write_template(path: str | Path) -> Path:
    """Write an empty scenario template to path."""
    return _save(build_workbook(), path)


def write_scenario_xlsx(path: str | Path, scenario: Scenario) -> Path:
    """Write a scenario as a filled template to path (the same scenario, the same bytes)."""
    return _save(build_workbook(scenario), path)


# Reading ------------------------------------------------------------------------------------


class _Refused(Exception):
    """The file is refused as a whole with one message."""


@dataclass
class _Place:
    """Where a value came from: its sheet, row and (if one) column."""

    sheet: str
    row: int | None = None
    column: int | None = None
    header: str = ""

    def text(self) -> str:
        out = f"sheet '{self.sheet}'"
        if self.row is not None:
            out += f", row {self.row}"
        if self.column is not None:
            out += f", column {get_column_letter(self.column)} ({self.header})"
        return out

    def order(self) -> tuple[int, int, int]:
        return (_SHEET_ORDER.get(self.sheet, -1), self.row or 0, self.column or 0)


_SHEET_ORDER = {s.name: i for i, s in enumerate(SHEETS)}


@dataclass
class _Row:
    """One data row of a sheet: its values by key and where each came from."""

    sheet: str
    number: int
    values: dict[str, Any]
    cells: dict[str, _Place]

    def place(self, key: str | None = None) -> _Place:
        if key is not None and key in self.cells:
            return self.cells[key]
        return _Place(self.sheet, self.number)


@dataclass
class _Reader:
    """Reads the sheets into rows, recording each problem at its place."""

    problems: list[tuple[_Place, str]] = field(default_factory=list)
    places: dict[Path_, _Place] = field(default_factory=dict)
    #: A sheet or column is missing: checking references across sheets would only mislead.
    broken: bool = False
    cells: int = 0

    def fail(self, place: _Place, message: str) -> None:
        self.problems.append((place, message))


def _show(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:59] + "…"


_EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "bool": "yes or no",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time (YYYY-MM-DD HH:MM)",
    "code": f"a code ({_CODE_RULE})",
    "codes": "codes separated by commas",
    "text": "text",
}


def _convert(column: Column, value: object) -> object:
    """A cell's value as the dictionary holds it; ValueError if it is not of the column's kind."""
    kind = column.kind
    if isinstance(value, str):
        value = value.strip()
    if kind in ("text", "code"):
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime | date):
            raise ValueError
        return str(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            return int(value)
        if isinstance(value, str):
            return int(value)
        if isinstance(value, int):
            return value
        raise ValueError
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            number = float(value.replace(",", "."))
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError
            return number
        raise ValueError
    if kind == "bool":
        if isinstance(value, bool):
            return value
        word = str(value).strip().casefold()
        if word in _YES:
            return True
        if word in _NO:
            return False
        raise ValueError
    if kind == "date":
        if isinstance(value, datetime):
            if value.time() != datetime.min.time():
                raise ValueError
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            return date.fromisoformat(value).isoformat()
        raise ValueError
    if kind == "datetime":
        if isinstance(value, datetime):
            # Serial numbers carry float noise: the nearest second is what was typed.
            second = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
            return second.isoformat(timespec="seconds")
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day).isoformat(timespec="seconds")
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                raise ValueError
            return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
        raise ValueError
    if kind in ("enum", "enums"):
        words = [w.strip() for w in str(value).replace(";", ",").split(",") if w.strip()]
        if kind == "enum" and len(words) != 1:
            raise ValueError
        folded = {c.casefold(): c for c in column.choices}
        out = [folded[w.casefold()] for w in words if w.casefold() in folded]
        if len(out) != len(words):
            raise ValueError
        return out[0] if kind == "enum" else out
    if kind == "codes":
        if isinstance(value, bool | datetime | date):
            raise ValueError
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return [w.strip() for w in str(value).replace(";", ",").split(",") if w.strip()]
    raise AssertionError(kind)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_sheet(reader: _Reader, ws: Any, sheet: Sheet) -> list[_Row]:
    """The data rows of one sheet, converted; problems recorded, bad cells left out."""
    ws.reset_dimensions()  # the declared size may lie; read what is there, within limits
    rows = ws.iter_rows()
    header_cells: Sequence[Any] = next(rows, ())
    if len(header_cells) > MAX_COLUMNS:
        raise _Refused(f"sheet '{sheet.name}' is too wide: more than {MAX_COLUMNS} columns")
    by_key: dict[str, int] = {}
    for index, cell in enumerate(header_cells, start=1):
        value = cell.value
        if _blank(value):
            continue
        key = str(value).strip().casefold().replace(" ", "_")
        if key in by_key:
            reader.fail(
                _Place(sheet.name, 1, index, str(value)),
                f"the header {key!r} appears twice (also column {get_column_letter(by_key[key])})",
            )
            continue
        by_key[key] = index
    missing = [c.key for c in sheet.columns if c.key not in by_key]
    if missing:
        reader.broken = True
        reader.fail(
            _Place(sheet.name, 1),
            f"missing column(s) {', '.join(missing)}; expected the headers "
            f"{', '.join(c.key for c in sheet.columns)}",
        )
        return []
    out: list[_Row] = []
    for number, cells in enumerate(rows, start=2):
        if number > MAX_ROWS:
            raise _Refused(
                f"sheet '{sheet.name}' is too long: more than {MAX_ROWS - 1:,} rows of data"
            )
        if len(cells) > MAX_COLUMNS:
            raise _Refused(f"sheet '{sheet.name}' is too wide: more than {MAX_COLUMNS} columns")
        reader.cells += len(cells)
        if reader.cells > MAX_CELLS:
            raise _Refused(
                f"too many cells: more than {MAX_CELLS:,} in all (sheet '{sheet.name}', row "
                f"{number})"
            )
        if all(_blank(getattr(c, "value", None)) for c in cells):
            continue  # empty rows (trailing or between blocks) are skipped
        values: dict[str, Any] = {}
        places: dict[str, _Place] = {}
        for column in sheet.columns:
            index = by_key[column.key]
            place = _Place(sheet.name, number, index, column.key)
            places[column.key] = place
            cell = cells[index - 1] if index <= len(cells) else None
            raw = getattr(cell, "value", None)
            kind = getattr(cell, "data_type", "n")
            if kind == "f" or (isinstance(raw, str) and raw.startswith("=") and kind != "s"):
                reader.fail(place, f"found a formula {_show(raw)}; type the value itself")
                continue
            if kind == "e":
                reader.fail(place, f"found the error value {raw}; expected {_expected(column)}")
                continue
            if _blank(raw):
                if column.required:
                    reader.fail(place, f"empty; expected {_expected(column)}")
                elif column.kind in ("codes", "enums"):
                    values[column.key] = []
                continue
            try:
                values[column.key] = _convert(column, raw)
            except (ValueError, OverflowError):
                reader.fail(place, f"expected {_expected(column)}, found {_show(raw)}")
        out.append(_Row(sheet.name, number, values, places))
    if sheet.single and len(out) != 1:
        if not out:
            reader.fail(_Place(sheet.name, 2), "empty; expected one row")
        else:
            reader.fail(out[1].place(), f"expected exactly one row, found {len(out)}")
    return out


def _expected(column: Column) -> str:
    if column.kind in ("enum", "enums"):
        return ("one of " if column.kind == "enum" else "some of ") + ", ".join(column.choices)
    return _EXPECTED[column.kind]


class _Index:
    """Rows of a parent sheet by code (case-insensitive if unambiguous), for child sheets."""

    def __init__(self, rows: Sequence[_Row], items: Sequence[dict[str, Any]]) -> None:
        self.exact: dict[str, int] = {}
        folded: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            code = row.values.get("code")
            if isinstance(code, str):
                self.exact.setdefault(code, i)
                folded.setdefault(code.casefold(), []).append(i)
        self.folded = {k: v[0] for k, v in folded.items() if len(v) == 1}
        self.items = items

    def find(self, code: object) -> int | None:
        if not isinstance(code, str):
            return None
        if code in self.exact:
            return self.exact[code]
        return self.folded.get(code.casefold())


def _assemble(reader: _Reader, sheets: dict[str, list[_Row]]) -> dict[str, Any]:
    """The scenario dictionary from the rows, noting where each value came from."""
    places = reader.places

    def record(path: Path_, row: _Row) -> dict[str, Any]:
        places[path] = row.place()
        for key, place in row.cells.items():
            places[(*path, key)] = place
            value = row.values.get(key)
            if isinstance(value, list):
                for i in range(len(value)):
                    places[(*path, key, i)] = place
        return row.values

    def items(sheet: str, path: Path_, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        out = []
        for i, row in enumerate(sheets[sheet]):
            values = record((*path, i), row)
            out.append({k: v for k, v in values.items() if k not in drop})
        return out

    def single(sheet: str, path: Path_) -> dict[str, Any] | None:
        rows = sheets[sheet]
        if not rows:
            places[path] = _Place(sheet, 2)  # where the missing row belongs
            return None
        return dict(record(path, rows[0]))

    d: dict[str, Any] = {}
    head = single("Scenario", ())
    if head is not None:
        d.update(head)
    site = single("Site", ("site",))
    if site is not None:
        d["site"] = site
    d["holidays"] = items("Holidays", ("holidays",))
    d["priority_weights"] = items("Priority weights", ("priority_weights",))
    d["cleanrooms"] = items("Cleanrooms", ("cleanrooms",))
    d["devices"] = items("Devices", ("devices",))
    for owner_key in ("cleanrooms", "devices"):
        for item in d[owner_key]:
            item["downtime"] = []
    owners = {
        "cleanroom": _Index(sheets["Cleanrooms"], d["cleanrooms"]),
        "device": _Index(sheets["Devices"], d["devices"]),
    }
    for row in sheets["Downtime"]:
        kind, code = row.values.get("resource_type"), row.values.get("resource_code")
        if not isinstance(kind, str) or code is None:
            continue
        parent_sheet = "Cleanrooms" if kind == "cleanroom" else "Devices"
        owner = owners[kind].find(code)
        if owner is None:
            reader.fail(
                row.place("resource_code"),
                f"expected a {kind} code from sheet {parent_sheet}, found {_show(code)}",
            )
            continue
        key = "cleanrooms" if kind == "cleanroom" else "devices"
        windows = owners[kind].items[owner]["downtime"]
        record((key, owner, "downtime", len(windows)), row)
        windows.append({k: v for k, v in row.values.items() if k in ("start", "end", "reason")})
    d["staff"] = items("Staff", ("staff",))
    d["shift_codes"] = items("Shift codes", ("shift_codes",))
    d["roster"] = items("Roster", ("roster",))
    ward = single("Ward", ("ward",))
    if ward is not None:
        d["ward"] = ward
        ward["changes"] = items("Bed changes", ("ward", "changes"))
    aph = sheets["Apheresis"]
    places[("apheresis",)] = _Place("Apheresis", 2)
    if aph:
        row = aph[0]
        places[("apheresis",)] = row.place()
        for i, day in enumerate(_WEEKDAYS):
            places[("apheresis", "slots_per_weekday", i)] = row.place(day)
        slots = [row.values.get(day) for day in _WEEKDAYS]
        d["apheresis"] = {
            "slots_per_weekday": slots,
            "exceptions": items("Apheresis exceptions", ("apheresis", "exceptions")),
        }
    d["products"] = items("Products", ("products",))
    products = _Index(sheets["Products"], d["products"])
    for p in d["products"]:
        p["steps"] = []
    step_index: dict[int, _Index] = {}
    step_sheet_rows: dict[int, list[_Row]] = {}
    for row in sheets["Steps"]:
        parent = _child_of(reader, row, "product_code", products, "Products")
        if parent is None:
            continue
        steps = d["products"][parent]["steps"]
        record(("products", parent, "steps", len(steps)), row)
        steps.append({k: v for k, v in row.values.items() if k != "product_code"})
        steps[-1]["staff"] = []
        step_sheet_rows.setdefault(parent, []).append(row)
    for parent, rows in step_sheet_rows.items():
        step_index[parent] = _Index(rows, d["products"][parent]["steps"])
    for row in sheets["Staff needs"]:
        parent = _child_of(reader, row, "product_code", products, "Products")
        if parent is None or "step_code" not in row.values:
            continue
        index = step_index.get(parent)
        step = index.find(row.values["step_code"]) if index else None
        if step is None:
            reader.fail(
                row.place("step_code"),
                f"expected a step code of product {d['products'][parent].get('code')} "
                f"(sheet Steps), found {_show(row.values['step_code'])}",
            )
            continue
        needs = d["products"][parent]["steps"][step]["staff"]
        record(("products", parent, "steps", step, "staff", len(needs)), row)
        needs.append(
            {k: v for k, v in row.values.items() if k not in ("product_code", "step_code")}
        )
    d["trials"] = items("Trials", ("trials",))
    trials = _Index(sheets["Trials"], d["trials"])
    for t in d["trials"]:
        t["cohorts"] = []
    for row in sheets["Cohorts"]:
        parent = _child_of(reader, row, "trial_code", trials, "Trials")
        if parent is None:
            continue
        cohorts = d["trials"][parent]["cohorts"]
        record(("trials", parent, "cohorts", len(cohorts)), row)
        cohorts.append({k: v for k, v in row.values.items() if k != "trial_code"})
    d["patients"] = items("Patients", ("patients",))
    patients = _Index(sheets["Patients"], d["patients"])
    for p in d["patients"]:
        p["done_steps"] = []
    for row in sheets["Done steps"]:
        parent = _child_of(reader, row, "patient_code", patients, "Patients")
        if parent is None:
            continue
        done = d["patients"][parent]["done_steps"]
        record(("patients", parent, "done_steps", len(done)), row)
        done.append({k: v for k, v in row.values.items() if k != "patient_code"})
    return d


def _child_of(reader: _Reader, row: _Row, key: str, parents: _Index, sheet: str) -> int | None:
    """The index of the parent a child row names, or None (with a problem) if unknown."""
    if key not in row.values:
        return None
    found = parents.find(row.values[key])
    if found is None:
        reader.fail(
            row.place(key),
            f"expected a code from sheet {sheet}, found {_show(row.values[key])}",
        )
    return found


def _check_archive(source: Path) -> None:
    """Refuse what is not a workbook, or would cost too much to open, before parsing it."""
    size = source.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _Refused(f"too large ({size:,} bytes; at most {MAX_FILE_BYTES:,} are read)")
    with source.open("rb") as handle:
        magic = handle.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Refused("an old .xls (or password-protected) workbook; save it as an .xlsx workbook")
    if not zipfile.is_zipfile(source):
        raise _Refused("not an xlsx workbook (not a zip archive, or a truncated one)")
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise _Refused(f"not a readable xlsx workbook (damaged zip archive: {error})") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise _Refused(f"not a plain workbook: {len(entries):,} parts (at most {MAX_ZIP_ENTRIES})")
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise _Refused("not an xlsx workbook (a zip archive without a workbook inside)")
    total = 0
    for entry in entries:
        total += entry.file_size
        if entry.file_size > MAX_ENTRY_BYTES or total > MAX_TOTAL_BYTES:
            raise _Refused(
                f"too large once unpacked ({entry.filename} {entry.file_size:,} bytes; at most "
                f"{MAX_ENTRY_BYTES:,} per part and {MAX_TOTAL_BYTES:,} in all): a zip bomb?"
            )
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_RATIO * max(
            1, entry.compress_size
        ):
            raise _Refused(
                f"{entry.filename} unpacks to {entry.file_size:,} bytes from "
                f"{entry.compress_size:,}: more than {MAX_RATIO} times, a zip bomb?"
            )


def read_scenario_xlsx(path: str | Path) -> Scenario:
    """Read a filled template; ScenarioFileError lists every problem by sheet, row and column."""
    source = Path(path)
    file = str(path)
    with warnings.catch_warnings():
        # openpyxl warns about what it drops or cannot read (unsupported extensions, dates
        # out of range); problems that matter are reported, and stderr stays one line.
        warnings.simplefilter("ignore")
        return _read_file(source, file)


def _read_file(source: Path, file: str) -> Scenario:
    try:
        _check_archive(source)
        try:
            wb = load_workbook(source, read_only=True, data_only=False, keep_links=False)
        except Exception as error:
            # Whatever openpyxl raises on a damaged or hostile package is the file's fault:
            # the user gets one line, not a traceback.
            raise _Refused(
                f"not a readable xlsx workbook ({type(error).__name__}: {error})"
            ) from None
        try:
            return _read_workbook(wb, file)
        except (zipfile.BadZipFile, EOFError, SyntaxError) as error:
            raise _Refused(
                f"not a readable xlsx workbook ({type(error).__name__}: {error})"
            ) from None
        finally:
            wb.close()
    except _Refused as refused:
        raise ScenarioFileError(file, [Problem("", str(refused))]) from None


def _read_workbook(wb: Any, file: str) -> Scenario:
    reader = _Reader()
    present = {ws.title: ws for ws in wb.worksheets}
    folded = {title.strip().casefold(): ws for title, ws in present.items()}
    sheets: dict[str, list[_Row]] = {}
    for sheet in SHEETS:
        ws = present.get(sheet.name) or folded.get(sheet.name.casefold())
        if ws is None:
            reader.broken = True
            reader.fail(
                _Place(sheet.name),
                "missing; keep every sheet of the template (empty if you have nothing for it)",
            )
            sheets[sheet.name] = []
            continue
        try:
            rows = _read_sheet(reader, ws, sheet)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
            # openpyxl parsing a damaged part (a number that is not one, a shared string
            # that does not exist); _read_sheet's own conversions catch their errors.
            raise _Refused(
                f"sheet '{ws.title}' is damaged ({type(error).__name__}: {error})"
            ) from None
        if ws.sheet_state != "visible" and rows:
            reader.fail(
                _Place(sheet.name),
                f"hidden, with {len(rows)} row(s) of data; unhide it to check them, or delete them",
            )
        sheets[sheet.name] = rows
        if len(reader.problems) >= MAX_PROBLEMS:
            break
    if len(reader.problems) < MAX_PROBLEMS and not reader.broken:
        data = _assemble(reader, sheets)
    else:
        data = None
    problems = sorted(reader.problems, key=lambda item: item[0].order())
    seen = {place.text() for place, _ in problems}
    if data is not None:
        order: dict[str, tuple[int, int, int]] = {}

        def locate(path: Path_) -> str:
            for end in range(len(path), -1, -1):
                place = reader.places.get(path[:end])
                if place is not None:
                    order[place.text()] = place.order()
                    return place.text()
            return "sheet 'Scenario'"

        try:
            scenario = scenario_from_dict(data, locate, file)
            if not problems:
                return scenario
        except ScenarioFileError as error:
            later = [
                (order.get(p.where, (99, 0, 0)), p) for p in error.problems if p.where not in seen
            ]
            merged = [(place.order(), Problem(place.text(), m)) for place, m in problems]
            merged += later
            merged.sort(key=lambda item: item[0])
            raise ScenarioFileError(file, [p for _, p in merged]) from None
    raise ScenarioFileError(file, [Problem(place.text(), m) for place, m in problems])


def open_checked_workbook(path: str | Path, *, read_only: bool = True) -> Any:
    """A workbook that passed the file checks above (ScenarioFileError if it did not).

    The caller closes it. Other readers of staff-office workbooks use this so that one
    set of limits guards every workbook opened.
    """
    source = Path(path)
    file = str(path)
    if not source.is_file():
        raise ScenarioFileError(file, [Problem("", "no such file")])
    try:
        _check_archive(source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return load_workbook(source, read_only=read_only, data_only=False, keep_links=False)
        except Exception as error:
            raise _Refused(
                f"not a readable xlsx workbook ({type(error).__name__}: {error})"
            ) from None
    except _Refused as refused:
        raise ScenarioFileError(file, [Problem("", str(refused))]) from None
