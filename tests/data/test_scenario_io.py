"""Scenario files: template, JSON and workbook round trips, located problems, hostile files."""

from __future__ import annotations

import io
import json
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.demo import build_demo_scenario
from data.excel_export import write_plan_workbook
from data.scenario_files import read_scenario, write_scenario
from data.scenario_json import (
    ScenarioFileError,
    read_scenario_json,
    scenario_from_dict,
    scenario_to_dict,
    schema,
    write_scenario_json,
)
from data.scenario_xlsx import (
    MAX_COLUMNS,
    MAX_ROWS,
    SHEETS,
    read_scenario_xlsx,
    write_scenario_xlsx,
    write_template,
)
from planner import (
    ApheresisCapacity,
    Cleanroom,
    Grade,
    Holiday,
    Patient,
    ProcessStep,
    Product,
    Role,
    RosterEntry,
    Scenario,
    ShiftCode,
    Site,
    StaffMember,
    StaffNeed,
    Storage,
    ValidationError,
    Ward,
    Window,
)
from tests.data.test_repository import sample_plan
from tests.factories import rich_scenario, tiny_scenario
from tests.reliability.files import CELLS, mutated, plausible

SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "demo": build_demo_scenario,
    "tiny": tiny_scenario,
    "rich": rich_scenario,
}


def problems_of(error: pytest.ExceptionInfo[ScenarioFileError]) -> list[str]:
    """The problem lines of a refused file."""
    return error.value.lines()


def no_formula_cells(path: Path) -> list[tuple[str, str]]:
    """Cells stored as formulas, as (sheet, coordinate); empty when the guard works."""
    wb = openpyxl.load_workbook(path)
    return [
        (ws.title, cell.coordinate)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


# Round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".json"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_export_then_import_gives_an_equal_scenario(tmp_path: Path, name: str, suffix: str) -> None:
    """Writing a scenario and reading it back gives an equal dataclass, in both formats."""
    scenario = SCENARIOS[name]()
    path = write_scenario(tmp_path / f"{name}{suffix}", scenario)
    assert read_scenario(path) == scenario


def test_the_same_scenario_gives_the_same_bytes(tmp_path: Path) -> None:
    """Workbooks carry no clock time: writing twice gives identical files, in both formats."""

    def write_all(folder: Path) -> list[bytes]:
        folder.mkdir()
        files = [
            write_scenario(folder / f"s{suffix}", rich_scenario()) for suffix in (".xlsx", ".json")
        ]
        return [p.read_bytes() for p in (*files, write_template(folder / "t.xlsx"))]

    first = write_all(tmp_path / "a")
    time.sleep(1.1)  # a clock time written anywhere would differ now
    assert write_all(tmp_path / "b") == first


def test_json_is_valid_against_the_shipped_schema_and_versioned(tmp_path: Path) -> None:
    """The exported JSON carries format_version 1 and names the 2020-12 draft."""
    path = write_scenario_json(tmp_path / "rich.json", rich_scenario())
    data = json.loads(path.read_text("utf-8"))
    assert data["format_version"] == 1
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    assert list(Draft202012Validator(schema()).iter_errors(data)) == []


def test_json_optional_keys_take_the_dataclass_defaults() -> None:
    """Leaving out optional keys gives the domain's defaults, not zeros."""
    data = scenario_to_dict(tiny_scenario())
    for room in data["cleanrooms"]:
        del room["changeover_hours"], room["downtime"]
    for p in data["products"]:
        del p["storage"], p["apheresis_hours"]
    for key in ("holidays", "priority_weights", "trials", "patients"):
        del data[key]
    scenario = scenario_from_dict(data)
    assert (
        scenario.cleanrooms[0].changeover_hours == Cleanroom("X", "x", Grade.B, ()).changeover_hours
    )
    assert scenario.products[0].storage is Storage.CRYO
    assert scenario.patients == () and scenario.priority_weights == tiny_scenario().priority_weights


# Formula injection ----------------------------------------------------------------------------

HOSTILE = ('=HYPERLINK("http://x","y")', "+1+2", "-3-4", "@SUM(A1)", "=cmd|' /C calc'!A0")


def hostile_scenario() -> Scenario:
    """rich_scenario with texts that a spreadsheet would take for formulas."""
    s = rich_scenario()
    return replace(
        s,
        name=HOSTILE[0],
        site=replace(s.site, name=HOSTILE[1]),
        cleanrooms=(
            replace(
                s.cleanrooms[0],
                name=HOSTILE[2],
                downtime=(Window(datetime(2027, 1, 10), datetime(2027, 1, 11), HOSTILE[3]),),
            ),
            *s.cleanrooms[1:],
        ),
        holidays=(Holiday(date(2027, 1, 6), HOSTILE[4]),),
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".json"])
def test_texts_like_formulas_are_stored_as_text_and_come_back(tmp_path: Path, suffix: str) -> None:
    """Names starting with =, +, - or @ are written as text, never formulas, and round-trip."""
    scenario = hostile_scenario()
    path = write_scenario(tmp_path / f"hostile{suffix}", scenario)
    if suffix == ".xlsx":
        assert no_formula_cells(path) == []
        texts = {
            c.value
            for ws in openpyxl.load_workbook(path).worksheets
            for row in ws.iter_rows()
            for c in row
        }
        assert set(HOSTILE) <= texts
    assert read_scenario(path) == scenario


def test_template_has_no_formula_cells(tmp_path: Path) -> None:
    """The template itself holds no formulas (drop-downs are validations, not cells)."""
    assert no_formula_cells(write_template(tmp_path / "t.xlsx")) == []


def test_weekly_plan_export_stores_formula_like_text_as_text(tmp_path: Path) -> None:
    """The existing plan workbook also keeps formula-like notes, details and names as text."""
    scenario = hostile_scenario()
    plan = replace(
        sample_plan(scenario_name=HOSTILE[0]),
        notes=HOSTILE,
        unscheduled=tuple(replace(u, detail=HOSTILE[1]) for u in sample_plan().unscheduled),
    )
    path = write_plan_workbook(tmp_path / "plan.xlsx", scenario, plan)
    assert no_formula_cells(path) == []
    summary = openpyxl.load_workbook(path)["Summary"]
    texts = [c.value for row in summary.iter_rows() for c in row]
    assert all(text in texts for text in HOSTILE)


# The template ---------------------------------------------------------------------------------


def test_template_has_every_sheet_with_notes_and_drop_downs(tmp_path: Path) -> None:
    """Instructions first, then one sheet per part, each header with a note; codes drop down."""
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx"))
    assert wb.sheetnames == ["Instructions", *(s.name for s in SHEETS)]
    for sheet in SHEETS:
        ws = wb[sheet.name]
        headers = [c.value for c in ws[1]]
        assert headers == [c.key for c in sheet.columns]
        assert all(c.comment is not None and c.comment.text.strip() for c in ws[1])
    lists = {
        (ws.title, str(dv.sqref).split(":")[0][:1]): dv.formula1
        for ws in wb.worksheets
        for dv in ws.data_validations.dataValidation
    }
    assert lists[("Cleanrooms", "C")] == '"A,B,C,D"'
    assert lists[("Patients", "B")] == (
        "OFFSET('Products'!$A$2,0,0,MAX(1,COUNTA('Products'!$A:$A)-1),1)"
    )
    assert lists[("Roster", "C")] == (
        "OFFSET('Shift codes'!$A$2,0,0,MAX(1,COUNTA('Shift codes'!$A:$A)-1),1)"
    )
    assert lists[("Shift codes", "E")] == '"yes,no"'
    assert lists[("Patients", "J")] == '"referred,in_process,infused,withdrawn"'
    text = "\n".join(str(c.value) for c in wb["Instructions"]["A"] if c.value)
    assert "atmp-planner import" in text and "Roster" in text


def test_empty_template_is_refused_with_what_is_missing(tmp_path: Path) -> None:
    """Importing the untouched template lists the few things a scenario cannot do without."""
    path = write_template(tmp_path / "t.xlsx")
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_xlsx(path)
    assert problems_of(error) == [
        f"{path}: sheet 'Scenario', row 2, column A (name): empty; expected text",
        f"{path}: sheet 'Scenario', row 2, column B (horizon_start): empty; expected a date "
        "(YYYY-MM-DD)",
        f"{path}: sheet 'Scenario', row 2, column C (horizon_end): empty; expected a date "
        "(YYYY-MM-DD)",
        f"{path}: sheet 'Site', row 2: empty; expected one row",
        f"{path}: sheet 'Ward', row 2: empty; expected one row",
        f"{path}: sheet 'Apheresis', row 2: empty; expected one row",
    ]


def fill(path: Path, rows: dict[str, list[list[Any]]], save_as: Path | None = None) -> Path:
    """Append rows to sheets of a workbook, the way a user types them in."""
    wb = openpyxl.load_workbook(path)
    for sheet, values in rows.items():
        ws = wb[sheet]
        first = 2
        # The template's Scenario row holds format_version already: type into that row.
        while sheet != "Scenario" and any(c.value is not None for c in ws[first]):
            first += 1
        for r, row in enumerate(values, start=first):
            for c, value in enumerate(row, start=1):
                ws.cell(row=r, column=c, value=value)
    target = save_as or path
    wb.save(target)
    return target


def hand_filled(tmp_path: Path) -> Path:
    """The template filled in by hand: odd case, stray spaces, text dates, yes/no words."""
    path = write_template(tmp_path / "centre.xlsx")
    return fill(
        path,
        {
            "Scenario": [[" My centre ", datetime(2027, 3, 1), "2027-04-30"]],
            "Site": [["UH", "University hospital", None, None, 7, 15]],
            "Cleanrooms": [["CR1", "Suite 1", " b ", "cart, til", 6]],
            "Staff": [
                ["OP1", "Operator", "CART", 37.5],
                ["OP2", "operator; QC_Analyst", "CART,TIL"],
            ],
            "Shift codes": [["D", "Day", 7, 8, "Yes", "no"], ["L", "Leave", 0, 0, "NO", "yes"]],
            "Roster": [
                ["op1", datetime(2027, 3, 1), "d"],
                ["OP2", "2027-03-01", "D "],
                ["OP2", date(2027, 3, 2), "L"],
                [None, "   ", None],  # a row of spaces: ignored
            ],
            "Ward": [["HEM", "Haematology", 4]],
            "Apheresis": [[1, 1, 1, 1, 1, 0, 0]],
            "Products": [["CART", "CAR-T", "Cryo", 7], ["TIL", "TIL", "fresh", 2, 3]],
            "Steps": [
                ["CART", "seed", "Seeding", 6, "yes", "no", "yes", 0, 48],
                ["cart", "grow", "Expansion", 168],
                ["TIL", "grow", "Growth", 240, "no"],
            ],
            "Staff needs": [["CART", "SEED", "Operator", 1, 6]],
            "Patients": [
                ["P1", "CART", date(2027, 3, 1), date(2027, 3, 1), date(2027, 3, 20)],
                ["P2", "til", "2027-03-02", "2027-03-03", "2027-03-25", None, 2],
            ],
        },
    )


def test_a_template_filled_in_by_hand_imports(tmp_path: Path) -> None:
    """Cells as a person types them (case, spaces, text or real dates, yes/no) import."""
    scenario = read_scenario_xlsx(hand_filled(tmp_path))
    seed = ProcessStep(
        "seed",
        "Seeding",
        6,
        needs_device=False,
        staff=(StaffNeed(Role.OPERATOR, 1, 6),),
        working_hours_only=True,
        max_lag_hours=48,
    )
    expected = Scenario(
        name="My centre",
        site=Site("UH", "University hospital", day_start_hour=7, day_end_hour=15),
        horizon_start=date(2027, 3, 1),
        horizon_end=date(2027, 4, 30),
        cleanrooms=(Cleanroom("CR1", "Suite 1", Grade.B, ("CART", "TIL"), 6),),
        devices=(),
        staff=(
            StaffMember("OP1", (Role.OPERATOR,), ("CART",), 37.5),
            StaffMember("OP2", (Role.OPERATOR, Role.QC_ANALYST), ("CART", "TIL")),
        ),
        shift_codes=(
            ShiftCode("D", "Day", 7, 8, True, False),
            ShiftCode("L", "Leave", 0, 0, False, True),
        ),
        roster=(
            RosterEntry("OP1", date(2027, 3, 1), "D"),
            RosterEntry("OP2", date(2027, 3, 1), "D"),
            RosterEntry("OP2", date(2027, 3, 2), "L"),
        ),
        ward=Ward("HEM", "Haematology", 4),
        apheresis=ApheresisCapacity((1, 1, 1, 1, 1, 0, 0)),
        products=(
            Product(
                "CART",
                "CAR-T",
                (seed, ProcessStep("grow", "Expansion", 168)),
                Storage.CRYO,
                qc_release_days=7,
            ),
            Product(
                "TIL",
                "TIL",
                (ProcessStep("grow", "Growth", 240, needs_cleanroom=False),),
                Storage.FRESH,
                qc_release_days=2,
                fresh_shelf_days=3,
            ),
        ),
        patients=(
            Patient("P1", "CART", date(2027, 3, 1), date(2027, 3, 1), date(2027, 3, 20)),
            Patient("P2", "TIL", date(2027, 3, 2), date(2027, 3, 3), date(2027, 3, 25), priority=2),
        ),
    )
    assert scenario == expected


# Located problems -----------------------------------------------------------------------------


def test_workbook_problems_name_sheet_row_column_value_and_expectation(tmp_path: Path) -> None:
    """Each bad cell is reported with sheet, row, column letter and header, found and expected;
    all problems come at once, in sheet order."""
    path = write_scenario_xlsx(tmp_path / "rich.xlsx", rich_scenario())
    wb = openpyxl.load_workbook(path)
    wb["Steps"]["D3"] = "abc"  # duration_hours of the second step
    wb["Cleanrooms"]["C2"] = "E"  # grade
    wb["Roster"]["B5"] = "=TODAY()"  # a formula where a date belongs
    wb["Shift codes"]["E2"] = "perhaps"
    wb.save(path)
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_xlsx(path)
    assert problems_of(error) == [
        f"{path}: sheet 'Cleanrooms', row 2, column C (grade): expected one of A, B, C, D, "
        'found "E"',
        f"{path}: sheet 'Shift codes', row 2, column E (covers_day_work): expected yes or no, "
        'found "perhaps"',
        f"{path}: sheet 'Roster', row 5, column B (day): found a formula \"=TODAY()\"; type the "
        "value itself",
        f"{path}: sheet 'Steps', row 3, column D (duration_hours): expected a whole number, "
        'found "abc"',
    ]
    assert error.value.summary() == f"{path}: 4 problems; nothing was imported"


def test_domain_problems_follow_once_the_cells_are_right(tmp_path: Path) -> None:
    """Codes that clash or point nowhere are reported at their cells, all together."""
    path = write_scenario_xlsx(tmp_path / "rich.xlsx", rich_scenario())
    wb = openpyxl.load_workbook(path)
    wb["Patients"]["B2"] = "NOPE"
    wb["Patients"]["A3"] = " P1"  # the code of row 2 again (stray space and all)
    wb["Roster"]["C4"] = "X"
    wb["Trials"]["E2"] = date(2026, 1, 1)  # enrolment ends before it starts
    wb.save(path)
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_xlsx(path)
    assert problems_of(error) == [
        f"{path}: sheet 'Roster', row 4, column C (shift_code): expected a shift code from the "
        'shift codes (D, L, N), found "X"',
        f"{path}: sheet 'Trials', row 2: Trial 'TR-1': enrolment window ends (2026-01-01) before "
        "it starts (2027-01-04).",
        f"{path}: sheet 'Patients', row 2, column B (product_code): expected a product code from "
        'the products (CART, TIL), found "NOPE"',
        f"{path}: sheet 'Patients', row 3, column A (code): duplicate patient code \"P1\" (also "
        "at sheet 'Patients', row 2)",
    ]


def test_child_rows_naming_an_unknown_parent_are_located(tmp_path: Path) -> None:
    """A step of an unknown product, a need of an unknown step: reported at the code's cell."""
    path = write_scenario_xlsx(tmp_path / "tiny.xlsx", tiny_scenario())
    path = fill(
        path, {"Steps": [["TILX", "wash", "Wash", 2]], "Staff needs": [["CART", "zzz", "qp", 1, 1]]}
    )
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_xlsx(path)
    assert problems_of(error) == [
        f"{path}: sheet 'Steps', row 5, column A (product_code): expected a code from sheet "
        'Products, found "TILX"',
        f"{path}: sheet 'Staff needs', row 4, column B (step_code): expected a step code of "
        'product CART (sheet Steps), found "zzz"',
    ]


def test_missing_sheet_missing_column_and_hidden_data_are_reported(tmp_path: Path) -> None:
    """A deleted sheet, a renamed header and data on a hidden sheet are each named."""
    path = write_scenario_xlsx(tmp_path / "rich.xlsx", rich_scenario())
    wb = openpyxl.load_workbook(path)
    del wb["Holidays"]
    wb["Devices"]["E1"] = "changeover"
    wb["Bed changes"].sheet_state = "hidden"
    wb.create_sheet("My notes")["A1"] = "=1+1"  # sheets of one's own are ignored
    wb.save(path)
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_xlsx(path)
    assert problems_of(error) == [
        f"{path}: sheet 'Holidays': missing; keep every sheet of the template (empty if you "
        "have nothing for it)",
        f"{path}: sheet 'Devices', row 1: missing column(s) changeover_hours; expected the "
        "headers code, name, room_codes, products, changeover_hours",
        f"{path}: sheet 'Bed changes': hidden, with 2 row(s) of data; unhide it to check them, "
        "or delete them",
    ]


def test_a_date_cell_out_of_range_is_a_problem_not_a_warning(tmp_path: Path) -> None:
    """A date-formatted number beyond any date is reported at its cell, and nothing warns."""
    path = write_scenario_xlsx(tmp_path / "tiny.xlsx", tiny_scenario())
    wb = openpyxl.load_workbook(path)
    wb["Holidays"]["A2"] = 6.9e16
    wb["Holidays"]["A2"].number_format = "yyyy-mm-dd"
    wb["Holidays"]["B2"] = "Far future"
    wb.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ScenarioFileError) as error:
            read_scenario_xlsx(path)
    assert problems_of(error) == [
        f"{path}: sheet 'Holidays', row 2, column A (day): found the error value #VALUE!; "
        "expected a date (YYYY-MM-DD)"
    ]


def test_hidden_empty_sheets_and_trailing_blank_rows_are_fine(tmp_path: Path) -> None:
    """An empty hidden sheet and formatted blank rows at the end change nothing."""
    scenario = rich_scenario()
    path = write_scenario_xlsx(tmp_path / "rich.xlsx", replace(scenario, holidays=()))
    wb = openpyxl.load_workbook(path)
    wb["Holidays"].sheet_state = "hidden"
    for r in range(200, 260):
        wb["Roster"].cell(row=r, column=1, value="  ")
        wb["Roster"].cell(row=r, column=3).number_format = "0.00"
    wb.save(path)
    assert read_scenario_xlsx(path) == replace(scenario, holidays=())


def test_json_problems_are_located_by_path(tmp_path: Path) -> None:
    """JSON problems name the JSON path, what was found and what was expected, all at once."""
    data = scenario_to_dict(rich_scenario())
    data["products"][1]["steps"][0]["duration_hours"] = "abc"
    data["patients"][2]["earliest_apheresis"] = "2027-02-30"
    data["staff"][0]["roles"] = ["operator", "pilot"]
    del data["ward"]["beds"]
    data["colour"] = "blue"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_json(path)
    assert problems_of(error) == [
        f"{path}: $.staff[0].roles[1]: expected one of operator, qc_analyst, qp, "
        'apheresis_nurse, found "pilot"',
        f"{path}: $.ward.beds: missing",
        f'{path}: $.products[1].steps[0].duration_hours: expected a whole number, found "abc"',
        f"{path}: $.colour: unknown key (expected one of: format_version, name, horizon_start, "
        "horizon_end, site, holidays, priority_weights, frozen_days, cleanrooms, devices, staff, "
        "shift_codes, "
        "roster, ward, apheresis, products, trials, patients)",
    ]
    data = scenario_to_dict(rich_scenario())
    data["patients"][2]["earliest_apheresis"] = "2027-02-30"
    data["format_version"] = 2
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_json(path)
    assert problems_of(error) == [f"{path}: $.format_version: expected 1, found 2"]
    data["format_version"] = 1
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_json(path)
    assert problems_of(error) == [
        f"{path}: $.patients[2].earliest_apheresis: expected a real date YYYY-MM-DD, "
        'found "2027-02-30"'
    ]


def test_reference_problems_come_with_the_schema_problems() -> None:
    """A malformed value elsewhere does not hide repeated codes or unknown references."""
    data = scenario_to_dict(rich_scenario())
    data["ward"]["beds"] = "four"
    data["patients"][0]["product_code"] = "NOPE"
    data["patients"][1]["product_code"] = "N O"  # malformed: reported once, by the schema
    data["devices"][1]["code"] = "PRODIGY-2"
    data["roster"][1]["shift_code"] = "X"
    with pytest.raises(ScenarioFileError) as error:
        scenario_from_dict(data)
    assert [str(p) for p in error.value.problems] == [
        '$.devices[1].code: duplicate device code "PRODIGY-2" (also at $.devices[0])',
        '$.roster[1].shift_code: expected a shift code from the shift codes (D, L, N), found "X"',
        '$.ward.beds: expected a whole number, found "four"',
        "$.patients[0].product_code: expected a product code from the products (CART, TIL), "
        'found "NOPE"',
        "$.patients[1].product_code: expected a code: 1-40 letters, digits, '-', '_' or '.', "
        'starting with a letter or digit, found "N O"',
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": ', "not valid JSON: Expecting value at line 1 column 10"),
        ('{"a": NaN}', "not valid JSON: NaN is not a number JSON allows"),
        ("[" * 100_000, "not a scenario: nested too deeply"),
        ("[]", "$: expected an object, found []"),
    ],
)
def test_json_that_is_no_scenario_gets_one_line(tmp_path: Path, text: str, message: str) -> None:
    """Broken JSON, NaN, deep nesting or the wrong shape: one line, no traceback."""
    path = tmp_path / "x.json"
    path.write_text(text, "utf-8")
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_json(path)
    assert problems_of(error) == [f"{path}: {message}"]


def test_json_past_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON file over the size limit is refused from its size (a lower limit here)."""
    import data.scenario_json as module

    monkeypatch.setattr(module, "MAX_JSON_BYTES", 1000)
    path = write_scenario_json(tmp_path / "rich.json", rich_scenario())
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_json(path)
    size = path.stat().st_size
    assert problems_of(error) == [f"{path}: too large ({size:,} bytes; at most 1,000 are read)"]


def test_json_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    """A UTF-8 byte order mark (as some Windows editors write) is accepted."""
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(scenario_to_dict(tiny_scenario())).encode())
    assert read_scenario_json(path) == tiny_scenario()


def test_json_bytes_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    """Latin-1 bytes are refused with one line."""
    path = tmp_path / "x.json"
    path.write_bytes('{"name": "Sjukhus på ö"}'.encode("latin-1"))
    with pytest.raises(ScenarioFileError, match="not UTF-8 text"):
        read_scenario_json(path)


# Hostile workbooks ----------------------------------------------------------------------------


def refused(path: Path, seconds: float = 10.0) -> str:
    """The one line a hostile file is refused with, checked to come quickly."""
    start = time.monotonic()
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_xlsx(path)
    assert time.monotonic() - start < seconds
    lines = problems_of(error)
    assert len(lines) == 1, lines
    assert isinstance(error.value, ValidationError)
    return lines[0]


def rezip(source: Path, target: Path, change: Callable[[zipfile.ZipFile], None]) -> Path:
    """A copy of a workbook's zip archive, with change(zip) writing extra or altered parts."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        change(new)
        for entry in old.infolist():
            if entry.filename not in new.namelist():
                new.writestr(entry, old.read(entry.filename))
    return target


def test_a_text_file_is_not_a_workbook(tmp_path: Path) -> None:
    """A CSV saved as .xlsx is refused in one line."""
    path = tmp_path / "x.xlsx"
    path.write_text("code,name\nCR1,Room\n")
    assert refused(path) == f"{path}: not an xlsx workbook (not a zip archive, or a truncated one)"


def test_an_old_xls_is_named(tmp_path: Path) -> None:
    """An OLE2 (.xls or encrypted) file is told apart."""
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert "old .xls" in refused(path)


def test_a_truncated_workbook_is_refused(tmp_path: Path) -> None:
    """Half a workbook (a cut download) is refused in one line."""
    whole = write_scenario_xlsx(tmp_path / "whole.xlsx", rich_scenario()).read_bytes()
    path = tmp_path / "half.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    assert refused(path) == f"{path}: not an xlsx workbook (not a zip archive, or a truncated one)"


def test_a_damaged_part_is_refused(tmp_path: Path) -> None:
    """A sheet whose XML is cut off is refused in one line, not a traceback."""
    source = write_scenario_xlsx(tmp_path / "rich.xlsx", rich_scenario())

    def cut(z: zipfile.ZipFile) -> None:
        with zipfile.ZipFile(source) as old:
            z.writestr("xl/worksheets/sheet3.xml", old.read("xl/worksheets/sheet3.xml")[:300])

    assert "not a readable xlsx workbook" in refused(rezip(source, tmp_path / "cut.xlsx", cut))


@pytest.mark.parametrize(
    ("cell", "error"),
    [
        ('<c r="D2" t="n"><v>abc</v></c>', "ValueError"),  # a number that is none
        ('<c r="D2" t="d"><v>garbage</v></c>', "ValueError"),  # an ISO date that is none
        ('<c r="D2" t="s"><v>99999</v></c>', "IndexError"),  # a shared string not there
    ],
)
def test_damaged_cells_are_refused_in_one_line(tmp_path: Path, cell: str, error: str) -> None:
    """Cell XML that openpyxl cannot parse names the sheet instead of a traceback."""
    source = write_scenario_xlsx(tmp_path / "tiny.xlsx", tiny_scenario())

    def damage(z: zipfile.ZipFile) -> None:
        with zipfile.ZipFile(source) as old:
            xml = old.read("xl/worksheets/sheet2.xml").decode()
            assert '<c r="D2" t="n"><v>1</v></c>' in xml
            z.writestr(
                "xl/worksheets/sheet2.xml", xml.replace('<c r="D2" t="n"><v>1</v></c>', cell)
            )

    path = rezip(source, tmp_path / "damaged.xlsx", damage)
    assert refused(path).startswith(f"{path}: sheet 'Scenario' is damaged ({error}: ")


def test_a_zip_without_a_workbook_is_refused(tmp_path: Path) -> None:
    """A zip archive of something else is not taken for a workbook."""
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    assert (
        refused(path) == f"{path}: not an xlsx workbook (a zip archive without a workbook inside)"
    )


def test_a_zip_bomb_is_refused_from_the_directory(tmp_path: Path) -> None:
    """A part that unpacks far beyond the limits is refused before anything is unpacked."""
    source = write_template(tmp_path / "t.xlsx")

    def bomb(z: zipfile.ZipFile) -> None:
        with z.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as part:
            chunk = bytes(1024 * 1024)
            for _ in range(200):
                part.write(chunk)

    path = rezip(source, tmp_path / "bomb.xlsx", bomb)
    assert path.stat().st_size < 2_000_000
    assert "a zip bomb?" in refused(path, seconds=2)


def test_a_highly_compressed_part_is_refused(tmp_path: Path) -> None:
    """A part within the size limits but compressed more than 100 times is refused too."""
    source = write_template(tmp_path / "t.xlsx")

    def dense(z: zipfile.ZipFile) -> None:
        z.writestr("xl/worksheets/sheet2.xml", b" " * (8 * 1024 * 1024))

    line = refused(rezip(source, tmp_path / "dense.xlsx", dense), seconds=2)
    assert "more than 100 times, a zip bomb?" in line


def test_an_enormous_sheet_is_refused_by_its_rows(tmp_path: Path) -> None:
    """A sheet with a cell far below the row limit is refused, quickly and in one line."""
    path = write_scenario_xlsx(tmp_path / "rich.xlsx", rich_scenario())
    wb = openpyxl.load_workbook(path)
    wb["Roster"].cell(row=MAX_ROWS + 5, column=1, value="OP1")
    wb.save(path)
    assert refused(path) == (
        f"{path}: sheet 'Roster' is too long: more than {MAX_ROWS - 1:,} rows of data"
    )


def test_a_too_wide_sheet_is_refused(tmp_path: Path) -> None:
    """A sheet with a value far to the right is refused in one line."""
    path = write_scenario_xlsx(tmp_path / "rich.xlsx", rich_scenario())
    wb = openpyxl.load_workbook(path)
    wb["Staff"].cell(row=3, column=MAX_COLUMNS + 40, value="x")
    wb.save(path)
    assert refused(path) == (f"{path}: sheet 'Staff' is too wide: more than {MAX_COLUMNS} columns")


def test_too_many_cells_in_all_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workbook-wide cell budget stops reading where it runs out (a lower one here)."""
    import data.scenario_xlsx as module

    monkeypatch.setattr(module, "MAX_CELLS", 300)
    path = write_scenario_xlsx(tmp_path / "rich.xlsx", rich_scenario())
    assert refused(path).startswith(f"{path}: too many cells: more than 300 in all (sheet 'Roster'")


def test_a_lying_dimension_neither_hides_rows_nor_costs_time(tmp_path: Path) -> None:
    """A sheet claiming A1:XFD1048576 is read for what it holds."""
    source = write_scenario_xlsx(tmp_path / "tiny.xlsx", tiny_scenario())

    def lie(z: zipfile.ZipFile) -> None:
        with zipfile.ZipFile(source) as old:
            for name in old.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    xml = old.read(name).decode()
                    start = xml.index('<dimension ref="') + len('<dimension ref="')
                    end = xml.index('"', start)
                    z.writestr(name, xml[:start] + "A1:XFD1048576" + xml[end:])

    started = time.monotonic()
    assert read_scenario_xlsx(rezip(source, tmp_path / "lie.xlsx", lie)) == tiny_scenario()
    assert time.monotonic() - started < 5


# Property tests -------------------------------------------------------------------------------

CASES = {"json": 0, "json_valid": 0, "plausible": 0, "plausible_valid": 0, "xlsx": 0}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_json_gives_a_scenario_or_a_clean_validation_error(data: Any) -> None:
    """Whatever is dropped or replaced, loading returns a scenario or a located ValidationError."""
    CASES["json"] += 1
    try:
        scenario = scenario_from_dict(data)
    except ScenarioFileError as error:
        assert error.problems and all(p.where.startswith("$") for p in error.problems)
        return
    CASES["json_valid"] += 1
    assert scenario_from_dict(scenario_to_dict(scenario)) == scenario


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plausible())
def test_plausible_edits_give_a_scenario_or_a_clean_validation_error(data: Any) -> None:
    """Codes, dates and numbers swapped for others of their kind: a scenario or located problems."""
    CASES["plausible"] += 1
    try:
        scenario = scenario_from_dict(data)
    except ScenarioFileError as error:
        assert error.problems and all(p.where.startswith("$") for p in error.problems)
        return
    CASES["plausible_valid"] += 1
    assert scenario_from_dict(scenario_to_dict(scenario)) == scenario


@pytest.fixture(scope="module")
def rich_workbook(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The rich scenario as workbook bytes, written once."""
    path = tmp_path_factory.mktemp("wb") / "rich.xlsx"
    return write_scenario_xlsx(path, rich_scenario()).read_bytes()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([s.name for s in SHEETS]), st.integers(1, 6), st.integers(1, 10), CELLS
        ),
        min_size=1,
        max_size=4,
    )
)
def test_edited_workbooks_give_a_scenario_or_located_problems(
    rich_workbook: bytes, tmp_path: Path, edits: list[tuple[str, int, int, Any]]
) -> None:
    """Random cell edits give a scenario or problems naming a sheet, never another exception."""
    CASES["xlsx"] += 1
    wb = openpyxl.load_workbook(io.BytesIO(rich_workbook))
    for sheet, row, column, value in edits:
        wb[sheet].cell(row=row, column=column, value=value)
    path = tmp_path / "edited.xlsx"
    wb.save(path)
    try:
        read_scenario_xlsx(path)
    except ScenarioFileError as error:
        assert error.problems and all(p.where.startswith("sheet '") for p in error.problems)


def test_property_tests_ran(capsys: pytest.CaptureFixture[str]) -> None:
    """Reports how many generated cases ran (the property tests above must have run first)."""
    if CASES["json"] == 0:
        pytest.skip("the property tests did not run in this session")
    with capsys.disabled():
        print(
            f"\nscenario file property cases: {CASES['json']} mutated JSON "
            f"({CASES['json_valid']} still valid), {CASES['plausible']} plausible JSON edits "
            f"({CASES['plausible_valid']} still valid), {CASES['xlsx']} edited workbooks"
        )
    assert CASES["json"] >= 100


def test_dates_move_with_the_horizon_only_where_typed(tmp_path: Path) -> None:
    """A date typed as a date and time at midnight is a date; with a time it is refused."""
    path = write_scenario_xlsx(tmp_path / "tiny.xlsx", tiny_scenario())
    wb = openpyxl.load_workbook(path)
    wb["Holidays"].append([datetime(2027, 1, 6) + timedelta(hours=9), "Epiphany"])
    wb.save(path)
    with pytest.raises(ScenarioFileError) as error:
        read_scenario_xlsx(path)
    assert problems_of(error) == [
        f"{path}: sheet 'Holidays', row 2, column A (day): expected a date (YYYY-MM-DD), found "
        "2027-01-06 09:00"
    ]
