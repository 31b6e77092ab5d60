"""Rosters from staffing offices: long and matrix layouts, legends, the merge and its report."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from data.demo import build_demo_scenario
from data.roster_import import read_roster
from data.scenario_json import ScenarioFileError
from planner import RosterEntry, Scenario, ShiftCode
from planner.imports import PersonCounts, merge_roster
from tests.factories import START, tiny_scenario


def workbook(
    path: Path, sheets: dict[str, list[list[Any]]], merges: dict[str, list[str]] | None = None
) -> Path:
    """Write sheets of rows (and merged ranges) with openpyxl, as an office would."""
    merges = merges or {}
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for area in merges.get(title, []):
            ws.merge_cells(area)
    wb.save(path)
    return path


def serial(day: date) -> int:
    """The Excel serial number of a date."""
    return (day - date(1899, 12, 30)).days


def roster_of(scenario: Scenario) -> dict[tuple[str, date], str]:
    return {(e.staff_code, e.day): e.shift_code for e in scenario.roster}


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return build_demo_scenario()


def test_long_layout_replaces_exactly_the_rows_given(tmp_path: Path) -> None:
    """One row per person and date: those pairs are replaced, a blank code clears one."""
    scenario = tiny_scenario()
    path = workbook(
        tmp_path / "export.xlsx",
        {
            "Export": [
                ["Roster export from the staffing office"],
                [],
                ["Employee", "Date", "Shift code"],
                ["op1", datetime(2027, 1, 4), "l"],
                ["OP1", "2027-01-09", "D"],
                [None, None, None],
                ["OP2", serial(date(2027, 1, 5)), None],
            ]
        },
    )
    change = read_roster(path, scenario)
    assert change.layout == "long"
    assert change.people == ("OP1", "OP2")
    assert change.days == (date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 9))
    assert change.entries == (
        RosterEntry("OP1", date(2027, 1, 4), "L"),
        RosterEntry("OP1", date(2027, 1, 9), "D"),
    )
    merged, report = merge_roster(scenario, change)
    expected = roster_of(scenario)
    expected[("OP1", date(2027, 1, 4))] = "L"
    expected[("OP1", date(2027, 1, 9))] = "D"
    del expected[("OP2", date(2027, 1, 5))]
    assert roster_of(merged) == expected
    assert (report.added, report.removed, report.changed, report.unchanged) == (1, 1, 1, 0)
    assert report.per_person == (
        PersonCounts("OP1", added=1, changed=1),
        PersonCounts("OP2", removed=1),
    )


def nordic_matrix(path: Path) -> Path:
    """A four-week schedule as a Swedish office sends it, trimmed to nine days."""
    days = [START + timedelta(days=i) for i in range(9)]  # Mon 4 Jan to Tue 12 Jan 2027
    header: list[Any] = [
        "Namn",
        serial(days[0]),
        datetime(2027, 1, 5),
        "2027-01-06",
        "7/1",
        "08.01.2027",
        "9/1",
        "10/1",
        "11.01",
        "12/1",
        "Summa",
    ]
    rows: list[list[Any]] = [
        ["Schema vecka 1-4 2027"],
        ["Period: vecka 1-2", None, None, "Avdelning: ATMP-enheten"],
        [None, "v. 1", None, None, None, None, None, None, "Week 2"],
        header,
        [None, "mån", "tis", "ons", "tor", "fre", "lör", "sön", "mån", "tis"],
        [],
        ["Operatörer"],
        ["OP01", "D", "D", "d", "D", "D", None, None, "L", "L", "=COUNTA(B8:J8)"],
        ["OP02", "N", None, None, "K", None, "W", "W", None, "S", 5],
        [],
        ["QC"],
        ["QC01", "L", None, None, None, None, None, None, "D", None, 6],
        ["Summa", 3, 1, 1, 2, 1, 1, 1, 2, 2],
    ]
    return workbook(path, {"Januari": rows}, {"Januari": ["A1:K1", "B12:F12", "B3:H3"]})


def test_messy_nordic_matrix_merges_each_cell(tmp_path: Path, demo: Scenario) -> None:
    """Titles, week and day-name rows, groups, totals, serial and text dates, merged leave."""
    change = read_roster(nordic_matrix(tmp_path / "schema.xlsx"), demo)
    days = [START + timedelta(days=i) for i in range(9)]
    assert change.layout == "matrix"
    assert change.sheets == ("Januari",)
    assert change.people == ("OP01", "OP02", "QC01")
    assert change.days == tuple(days)
    codes = {
        "OP01": ["D", "D", "D", "D", "D", None, None, "L", "L"],
        "OP02": ["N", None, None, "K", None, "W", "W", None, "S"],
        "QC01": ["L", "L", "L", "L", "L", None, None, "D", None],  # B12:F12 merged: a week off
    }
    new = {(p, d): c for p, row in codes.items() for d, c in zip(days, row, strict=True) if c}
    assert {(e.staff_code, e.day): e.shift_code for e in change.entries} == new
    merged, report = merge_roster(demo, change)
    before = roster_of(demo)
    covered = {(p, d) for p in codes for d in days}
    expected = {k: v for k, v in before.items() if k not in covered} | new
    assert roster_of(merged) == expected
    old = {k: v for k, v in before.items() if k in covered}
    assert report.added == len(new.keys() - old.keys())
    assert report.removed == len(old.keys() - new.keys())
    assert report.changed == sum(1 for k in new.keys() & old.keys() if new[k] != old[k])
    assert report.added + report.changed > 0
    assert (report.people, report.days) == (3, 9)
    assert [p.staff_code for p in report.per_person] == ["OP01", "OP02", "QC01"]
    for counts in report.per_person:
        mine = {k for k in covered if k[0] == counts.staff_code}
        total = counts.added + counts.removed + counts.changed + counts.unchanged
        assert total == len(mine & (new.keys() | old.keys()))


def test_a_legend_sheet_defines_the_codes(tmp_path: Path) -> None:
    """Codes come from the legend: times make a shift, none make leave; new ones are added."""
    scenario = tiny_scenario()
    path = workbook(
        tmp_path / "legend.xlsx",
        {
            "Schema": [
                ["Person", "Datum", "Pass"],
                ["OP1", "2027-01-04", "X"],
                ["OP2", "2027-01-04", "FL"],
                ["OP2", "2027-01-05", "D"],
            ],
            "Koder": [
                ["Code", "Description", "Start", "End"],
                ["D", "Dag", "08:00", "16:00"],
                ["X", "Utbildning", "09:00", "15:30"],
                ["FL", "Föräldraledig", None, None],
                ["NJ", "Natt", "20:00", "08:00"],
            ],
        },
    )
    change = read_roster(path, scenario)
    assert change.new_shift_codes == (
        ShiftCode("X", "Utbildning", 9, 7, covers_day_work=True),
        ShiftCode("FL", "Föräldraledig", 0, 0, covers_day_work=False, is_leave=True),
        ShiftCode("NJ", "Natt", 20, 12, covers_day_work=False),
    )
    merged, report = merge_roster(scenario, change)
    assert [s.code for s in merged.shift_codes] == ["D", "L", "X", "FL", "NJ"]
    assert roster_of(merged)[("OP2", date(2027, 1, 4))] == "FL"
    assert report.new_shift_codes == ("X", "FL", "NJ")
    assert (report.changed, report.unchanged) == (2, 1)


def test_with_a_legend_a_code_missing_from_it_is_refused(tmp_path: Path) -> None:
    """The legend, not the scenario, says which codes the file may use."""
    path = workbook(
        tmp_path / "legend.xlsx",
        {
            "Schema": [["Person", "Datum", "Pass"], ["OP1", "2027-01-04", "L"]],
            "Teckenförklaring": [["Kod", "Beskrivning", "Start", "Slut"], ["D", "Dag", 8, 16]],
        },
    )
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, tiny_scenario())
    assert error.value.lines() == [
        f"{path}: sheet 'Schema', row 2, column C (Pass): expected a shift code from sheet "
        "'Teckenförklaring' (D), found \"L\""
    ]


def test_every_bad_cell_is_reported_at_once(tmp_path: Path) -> None:
    """An unknown code, an unknown person and a date outside the horizon, each located."""
    path = workbook(
        tmp_path / "bad.xlsx",
        {
            "Roster": [
                ["Name", datetime(2027, 1, 4), "2027-01-05", "2027-03-05", "Total"],
                ["OP1", "D", "Q", "D", 3],
                ["OP9", "D", None, None, 1],
                ["OP2", None, "L", None, 1],
            ]
        },
    )
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, tiny_scenario())
    assert error.value.lines() == [
        f"{path}: sheet 'Roster', row 1, column D: expected a date in the scenario's horizon "
        "2027-01-04 to 2027-03-04, found 2027-03-05",
        f"{path}: sheet 'Roster', row 2, column C (2027-01-05): expected a shift code of "
        "scenario 'tiny' (D, L), found \"Q\"",
        f"{path}: sheet 'Roster', row 3, column A (Name): expected a staff code of scenario "
        "'tiny' (OP1, OP2), found \"OP9\"",
    ]


def test_a_yearless_date_needs_a_year_above(tmp_path: Path) -> None:
    """ "4/1" with no year in the title or period rows is not guessed."""
    path = workbook(
        tmp_path / "noyear.xlsx",
        {"Roster": [["Schema januari"], ["Namn", "4/1", "5/1"], ["OP1", "D", "D"]]},
    )
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, tiny_scenario())
    assert [p.where for p in error.value.problems] == [
        "sheet 'Roster', row 2, column B",
        "sheet 'Roster', row 2, column C",
    ]
    assert 'found "4/1" without a year' in error.value.problems[0].message


def test_a_person_twice_on_one_date_is_refused(tmp_path: Path) -> None:
    """Two rows for one person and date contradict each other: both places are named."""
    path = workbook(
        tmp_path / "twice.xlsx",
        {
            "Long": [
                ["Staff", "Date", "Shift"],
                ["OP1", "2027-01-04", "D"],
                ["OP1", "2027-01-04", "L"],
            ]
        },
    )
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, tiny_scenario())
    assert error.value.lines() == [
        f"{path}: sheet 'Long', row 3: OP1 on 2027-01-04 is given already at sheet 'Long', row 2"
    ]


def test_a_workbook_without_a_roster_is_refused(tmp_path: Path) -> None:
    """Nothing that looks like either layout: one line saying what was expected."""
    path = workbook(tmp_path / "notes.xlsx", {"Notes": [["Just some notes"], ["and more"]]})
    with pytest.raises(ScenarioFileError, match="no roster found"):
        read_roster(path, tiny_scenario())


@pytest.mark.parametrize(
    ("title", "week", "names", "dates", "total"),
    [
        (
            "Vagtplan uge 1 2027",
            "Uge 1",
            ["man", "tir", "ons", "tor", "fre", "lør", "søn"],
            ["4/1", "5/1", "6/1", "7/1", "8/1", "9/1", "10/1"],
            "I alt",
        ),
        (
            "Rota, week 1 of 2027",
            "Week 1",
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            ["Mon 4/1", "Tue 5/1", "Wed 6/1", "Thu 7/1", "Fri 8/1", "Sat 9/1", "Sun 10/1"],
            "Total",
        ),
    ],
)
def test_danish_and_english_matrices(
    tmp_path: Path, title: str, week: str, names: list[str], dates: list[str], total: str
) -> None:
    """Day names below the header, yearless dates with the year in the title, a totals row."""
    rows: list[list[Any]] = [
        [title],
        [None, week],
        ["Navn", *dates],
        [None, *names],
        ["OP1", "d", "D", None, "L", "l", None, None],
        [total, 1, 1, 0, 1, 1, 0, 0],
    ]
    change = read_roster(workbook(tmp_path / "rota.xlsx", {"Plan": rows}), tiny_scenario())
    assert change.days == tuple(START + timedelta(days=i) for i in range(7))
    assert change.people == ("OP1",)
    assert change.entries == (
        RosterEntry("OP1", date(2027, 1, 4), "D"),
        RosterEntry("OP1", date(2027, 1, 5), "D"),
        RosterEntry("OP1", date(2027, 1, 7), "L"),
        RosterEntry("OP1", date(2027, 1, 8), "L"),
    )


def test_a_formula_for_a_code_and_a_row_without_a_person_are_refused(tmp_path: Path) -> None:
    """Codes are typed, and belong to someone."""
    path = workbook(
        tmp_path / "formula.xlsx",
        {
            "Roster": [
                ["Name", "2027-01-04", "2027-01-05"],
                ["OP1", '=IF(1,"D","L")', "D"],
                [None, "D", "L"],
            ]
        },
    )
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, tiny_scenario())
    assert [str(p) for p in error.value.problems] == [
        "sheet 'Roster', row 2, column B (2027-01-04): found a formula '=IF(1,\"D\",\"L\")'; "
        "type the code itself",
        "sheet 'Roster', row 3, column A (Name): empty, but the row holds shift codes; "
        "expected a staff code",
    ]


def test_a_long_roster_with_times_is_not_taken_for_a_legend(tmp_path: Path) -> None:
    """Exports often carry each shift's times; the codes still decide."""
    path = workbook(
        tmp_path / "times.xlsx",
        {
            "Shifts": [
                ["Person", "Date", "Shift", "Start", "End"],
                ["OP2", "2027-01-06", "L", None, None],
            ]
        },
    )
    change = read_roster(path, tiny_scenario())
    assert (change.layout, change.new_shift_codes) == ("long", ())
    assert change.entries == (RosterEntry("OP2", date(2027, 1, 6), "L"),)


def test_day_names_that_disagree_with_the_dates_are_refused(tmp_path: Path, demo: Scenario) -> None:
    """Month-first dates ("1/4" for 4 January) read day-first clash with their day names."""
    path = workbook(
        tmp_path / "us.xlsx",
        {"Rota": [["Rota 2027"], ["Name", "1/4", "1/5"], [None, "Mon", "Tue"], ["OP01", "D", "D"]]},
    )
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, demo)
    assert [str(p) for p in error.value.problems] == [
        "sheet 'Rota', row 3, column B (2027-04-01): expected the day name of 2027-04-01 (a "
        'Thursday), found "Mon"; is the date read as it was meant?',
        "sheet 'Rota', row 3, column C (2027-05-01): expected the day name of 2027-05-01 (a "
        'Saturday), found "Tue"; is the date read as it was meant?',
    ]


def test_files_beyond_the_limits_are_refused_in_one_line(tmp_path: Path) -> None:
    """The scenario workbooks' file checks guard rosters too; at most 400 columns a sheet."""
    from data.roster_import import MAX_ROSTER_COLUMNS

    wide = workbook(tmp_path / "wide.xlsx", {"Wide": [["Name", *range(MAX_ROSTER_COLUMNS)]]})
    with pytest.raises(ScenarioFileError) as error:
        read_roster(wide, tiny_scenario())
    assert error.value.lines() == [
        f"{wide}: sheet 'Wide' is too wide: more than {MAX_ROSTER_COLUMNS} columns"
    ]
    fake = tmp_path / "fake.xlsx"
    fake.write_text("Name;2027-01-04\nOP1;D\n")
    with pytest.raises(ScenarioFileError, match="not an xlsx workbook"):
        read_roster(fake, tiny_scenario())


def test_a_period_over_new_year_gives_each_date_its_year(tmp_path: Path, demo: Scenario) -> None:
    """28/12 is in 2026 and 4/1 in 2027 when the period row runs from one to the other."""
    path = workbook(
        tmp_path / "newyear.xlsx",
        {
            "Jul": [
                ["Schema jul och nyår"],
                ["Period 2026-12-28 – 2027-01-10"],
                ["Namn", "28/12", "29/12", "4/1"],
                ["OP01", "L", "L", "D"],
            ]
        },
    )
    with pytest.raises(ScenarioFileError) as error:
        read_roster(path, demo)
    assert [str(p) for p in error.value.problems] == [
        f"sheet 'Jul', row 3, column {c}: expected a date in the scenario's horizon 2027-01-04 to "
        f"2027-07-04, found 2026-12-{d}"
        for c, d in (("B", 28), ("C", 29))
    ]
