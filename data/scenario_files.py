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
