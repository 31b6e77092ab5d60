"""Property-based fuzzing of the roster and referral importers: every generated workbook
gives a change or a located ScenarioFileError, never another exception, and the scenario
it is read against is left as it was."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from data.referral_import import read_referrals
from data.roster_import import read_roster
from data.scenario_json import ScenarioFileError
from planner import Scenario
from planner.imports import add_referrals, merge_roster
from tests.factories import rich_scenario
from tests.reliability.files import referral_rows, roster_rows, write_book

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


def _book(rows: list[list[Any]], title: str) -> Path:
    return write_book(Path(tempfile.mkdtemp()) / "file.xlsx", title, rows)


def _located(error: ScenarioFileError) -> None:
    problems = list(error)
    assert problems and all(p.message and "\n" not in p.message for p in problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=roster_rows())
def test_any_matrix_roster_is_a_change_or_located_problems(rows: list[list[Any]]) -> None:
    before = rich_scenario()
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=referral_rows)
def test_any_referral_list_is_patients_or_located_problems(rows: list[list[Any]]) -> None:
    before = rich_scenario()
    path = _book(rows, "Remisser")
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
