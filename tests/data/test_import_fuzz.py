"""Property-based fuzzing of the roster and referral importers: every generated workbook
gives a change or a located ScenarioFileError, never another exception, and the scenario
it is read against is left as it was."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.referral_import import read_referrals
from data.roster_import import read_roster
from data.scenario_json import ScenarioFileError
from planner import Scenario
from planner.imports import add_referrals, merge_roster
from tests.factories import START, rich_scenario

SCENARIO: Scenario = rich_scenario()
TRIED = {"roster": 0, "referrals": 0, "refused": 0}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """After the module: how many generated workbooks the importers were given."""
    yield
    if TRIED["roster"] or TRIED["referrals"]:
        sys.__stdout__.write(
            f"\nimporter fuzz cases: {TRIED['roster']} roster workbooks, "
            f"{TRIED['referrals']} referral lists, {TRIED['refused']} refused with located "
            "problems, no other exception\n"
        )


# Text a workbook can hold (no control characters; openpyxl refuses them when writing).
_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
_days = st.dates(START - timedelta(days=40), START + timedelta(days=120))
_cells = st.one_of(
    st.none(),
    st.sampled_from(["D", "N", "L", "d ", "", "X", "SEM", "07:00-15:30", "7-15", "=SUM(A1)"]),
    _text,
    st.integers(-5, 50_000),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    _days,
    st.datetimes(datetime(2026, 11, 1), datetime(2027, 6, 1)),
)
_people = st.sampled_from(["OP1", "OP2", "QC1", "NU1", "op1", " OP2 ", "Nobody", "", "Summa"])


def _book(rows: list[list[Any]], title: str) -> Path:
    folder = Path(tempfile.mkdtemp())
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    path = folder / "file.xlsx"
    wb.save(path)
    return path


def _located(error: ScenarioFileError) -> None:
    problems = list(error)
    assert problems and all(p.message and "\n" not in p.message for p in problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(
        st.one_of(_days, st.sampled_from(["Namn", "Name", "v. 1", "mån", "Summa"])),
        min_size=1,
        max_size=10,
    ),
    body=st.lists(st.tuples(_people, st.lists(_cells, max_size=10)), max_size=8),
    title=st.lists(st.one_of(st.none(), _text), max_size=2),
)
def test_any_matrix_roster_is_a_change_or_located_problems(
    header: list[Any], body: list[tuple[str, list[Any]]], title: list[Any]
) -> None:
    before = rich_scenario()
    rows: list[list[Any]] = [[t] for t in title] + [["Name", *header]]
    rows += [[person, *cells] for person, cells in body]
    path = _book(rows, "Schema")
    TRIED["roster"] += 1
    try:
        change = read_roster(path, SCENARIO)
    except ScenarioFileError as error:
        TRIED["refused"] += 1
        _located(error)
    else:
        merged, _report = merge_roster(SCENARIO, change)
        assert {e.staff_code for e in merged.roster} <= {s.code for s in merged.staff}
    assert before == SCENARIO


_REF_HEADER = [
    "Code", "Product", "Trial", "Cohort", "Referral date", "Earliest apheresis",
    "Latest apheresis", "Clinically needed date", "Priority", "Enrolment date",
]  # fmt: skip
_ref_cells = st.one_of(
    _cells,
    st.sampled_from(["CART", "TIL", "TR-1", "DL1", "dl2", "N1", "N1", "P1", "0", "10"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(_ref_cells, min_size=1, max_size=10), max_size=6))
def test_any_referral_list_is_patients_or_located_problems(rows: list[list[Any]]) -> None:
    before = rich_scenario()
    path = _book([_REF_HEADER, *rows], "Remisser")
    TRIED["referrals"] += 1
    try:
        change = read_referrals(path, SCENARIO)
    except ScenarioFileError as error:
        TRIED["refused"] += 1
        _located(error)
    else:
        merged = add_referrals(SCENARIO, change)
        assert len(merged.patients) == len(SCENARIO.patients) + len(change.patients)
    assert before == SCENARIO
