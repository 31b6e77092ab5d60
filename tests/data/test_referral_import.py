"""Referral lists: patients added to a scenario, every problem located, all or nothing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from data.referral_import import read_referrals
from data.scenario_json import ScenarioFileError
from planner import Patient
from planner.imports import add_referrals
from tests.factories import rich_scenario

HEADER = [
    "Code",
    "Product",
    "Trial",
    "Cohort",
    "Referral date",
    "Earliest apheresis",
    "Latest apheresis",
    "Clinically needed date",
    "Priority",
    "Enrolment date",
]


def referral_book(path: Path, rows: list[list[Any]]) -> Path:
    """A referral list as a clinic keeps it: a title, a blank row, the header, the patients."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Remisser"
    ws.append(["Referrals to the CAR-T board, January 2027"])
    ws.append([])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_referrals_are_added(tmp_path: Path) -> None:
    """A product patient and a trial patient (product from the trial), dates of each kind."""
    scenario = rich_scenario()
    path = referral_book(
        tmp_path / "ref.xlsx",
        [
            ["N1", "cart", None, None, datetime(2027, 1, 10), "2027-01-12", "20.01.2027", None, 2],
            [],
            [
                "N2",
                None,
                "tr-1",
                "dl2",
                "2027-01-11",
                "2027-01-11",
                "2027-01-25",
                "2027-02-20",
                None,
                "11.01.2027",
            ],
        ],
    )
    change = read_referrals(path, scenario)
    assert change.sheet == "Remisser"
    assert change.patients == (
        Patient("N1", "CART", date(2027, 1, 10), date(2027, 1, 12), date(2027, 1, 20), priority=2),
        Patient(
            "N2",
            "TIL",
            date(2027, 1, 11),
            date(2027, 1, 11),
            date(2027, 1, 25),
            needed_infusion=date(2027, 2, 20),
            trial_code="TR-1",
            cohort_code="DL2",
            enrolled_on=date(2027, 1, 11),
        ),
    )
    merged = add_referrals(scenario, change)
    assert merged.patients == (*scenario.patients, *change.patients)


def test_every_bad_referral_is_reported_at_once(tmp_path: Path) -> None:
    """Duplicates in the file and in the scenario, unknown product, trial and cohort."""
    path = referral_book(
        tmp_path / "bad.xlsx",
        [
            ["N1", "CART", None, None, "2027-01-10", "2027-01-12", "2027-01-20", None, 3],
            ["N1", "CART", None, None, "2027-01-10", "2027-01-12", "2027-01-20", None, 3],
            ["P1", "CART", None, None, "2027-01-10", "2027-01-12", "2027-01-20", None, 3],
            ["N3", "CART20", None, None, "2027-01-10", "2027-01-12", "2027-01-20", None, 3],
            ["N4", None, "TR-9", "DL1", "2027-01-10", "2027-01-12", "2027-01-20", None, 3],
            ["N5", None, "TR-1", "DL9", "2027-01-10", "2027-01-12", "2027-01-20", None, 3],
        ],
    )
    with pytest.raises(ScenarioFileError) as error:
        read_referrals(path, rich_scenario())
    where = f"{path}: sheet 'Remisser'"
    assert error.value.lines() == [
        f'{where}, row 5, column A (Code): expected a new patient code, found "N1": row 4 '
        "has it already",
        f'{where}, row 6, column A (Code): expected a new patient code, found "P1": scenario '
        "'rich' has patient 'P1' already",
        f"{where}, row 7, column B (Product): expected a product code of scenario 'rich' "
        '(CART, TIL), found "CART20"',
        f"{where}, row 8, column C (Trial): expected a trial code of scenario 'rich' (TR-1), "
        'found "TR-9"',
        f"{where}, row 9, column D (Cohort): expected a cohort of trial TR-1 (DL2, DL1), "
        'found "DL9"',
    ]


def test_dates_in_the_wrong_order_name_the_row(tmp_path: Path) -> None:
    """A bad priority names its cell; the patient's own rules (dates in order) name the row."""
    path = referral_book(
        tmp_path / "order.xlsx",
        [["N1", "CART", None, None, "2027-01-10", "2027-01-09", "2027-01-20", None, "x"]],
    )
    with pytest.raises(ScenarioFileError) as error:
        read_referrals(path, rich_scenario())
    assert [str(p) for p in error.value.problems] == [
        "sheet 'Remisser', row 4, column I (Priority): expected a priority 1-9 (1 most urgent), "
        'found "x"'
    ]
    path = referral_book(
        tmp_path / "order2.xlsx",
        [["N1", "CART", None, None, "2027-01-10", "2027-01-09", "2027-01-20", None, 1]],
    )
    with pytest.raises(ScenarioFileError) as error:
        read_referrals(path, rich_scenario())
    assert [str(p) for p in error.value.problems] == [
        "sheet 'Remisser', row 4: Patient 'N1': earliest apheresis (2027-01-09) is before the "
        "referral (2027-01-10)."
    ]


def test_a_product_other_than_the_trials_is_refused(tmp_path: Path) -> None:
    """A trial patient's product, when given, must be the trial's."""
    path = referral_book(
        tmp_path / "mismatch.xlsx",
        [["N1", "CART", "TR-1", "DL1", "2027-01-10", "2027-01-12", "2027-01-20", None, 1]],
    )
    with pytest.raises(ScenarioFileError) as error:
        read_referrals(path, rich_scenario())
    assert [str(p) for p in error.value.problems] == [
        "sheet 'Remisser', row 4, column B (Product): expected TIL (the product of trial TR-1) "
        'or blank, found "CART"'
    ]
