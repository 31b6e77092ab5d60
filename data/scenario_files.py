"""Scenario files of either format, chosen by the file's suffix (.xlsx or .json)."""

from __future__ import annotations

from pathlib import Path

from data.scenario_json import Problem, ScenarioFileError, read_scenario_json, write_scenario_json
from data.scenario_xlsx import read_scenario_xlsx, write_scenario_xlsx
from planner import Scenario

SUFFIXES = (".xlsx", ".json")


def read_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario; ScenarioFileError lists every problem found."""
    source = Path(path)
    if not source.is_file():
        raise ScenarioFileError(str(path), [Problem("", "no such file")])
    suffix = source.suffix.lower()
    if suffix == ".json":
        return read_scenario_json(source)
    if suffix == ".xlsx":
        return read_scenario_xlsx(source)
    raise ScenarioFileError(str(path), [Problem("", "expected a .xlsx or .json file")])


def write_scenario(path: str | Path, scenario: Scenario) -> Path:
    """Write a scenario as a filled workbook template (.xlsx) or as JSON (.json)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return write_scenario_json(path, scenario)
    if suffix == ".xlsx":
        return write_scenario_xlsx(path, scenario)
    raise ValueError(f"expected a .xlsx or .json file name, not {path}")


def detect_kind(path: str | Path) -> str:
    """What a file to import holds: scenario, roster or referrals (ScenarioFileError if none).

    JSON is a scenario; a workbook with the template's sheets is one; otherwise a sheet
    headed like a long roster, then one headed like a referral list, then a row of dates
    (a roster matrix) decide.
    """
    from data.referral_import import referral_columns
    from data.roster_import import is_legend, load_grids, long_columns, matrix_header
    from data.scenario_xlsx import SHEETS, open_checked_workbook

    source = Path(path)
    if source.suffix.lower() == ".json":
        return "scenario"
    wb = open_checked_workbook(source)
    try:
        titles = {t.strip().casefold() for t in wb.sheetnames}
    finally:
        wb.close()
    template = {s.name.casefold() for s in SHEETS}
    if {"scenario", "site"} <= titles or len(titles & template) * 2 > len(template):
        return "scenario"
    grids = [g for g in load_grids(source) if not is_legend(g)]
    if any(long_columns(g) is not None for g in grids):
        return "roster"
    if any(referral_columns(g) is not None for g in grids):
        return "referrals"
    if any(matrix_header(g) is not None for g in grids):
        return "roster"
    raise ScenarioFileError(
        str(path),
        [
            Problem(
                "",
                "neither a scenario, a roster nor a referral list; see docs/scenario-format.md "
                "for the layouts, or say which with --as scenario|roster|referrals",
            )
        ],
    )
