"""Bring your own centre on the command line: template, import, export-scenario."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from atmp_planner.cli import DEMO_NAME, MAX_PRINTED_PROBLEMS, main
from data.db import open_database
from data.demo import build_demo_scenario
from data.repository import Repository
from data.scenario_json import scenario_to_dict
from data.scenario_xlsx import SHEETS, write_scenario_xlsx
from tests.factories import rich_scenario


def state(rich_url: str) -> tuple[list[str], int]:
    """What a failed import must leave unchanged: stored names and the rows of all tables."""
    repo = Repository(open_database(rich_url))
    return repo.list_scenarios(), repo.count_rows()


def run(rich_url: str, *args: str) -> int:
    """main() on this database."""
    return main(["--db", rich_url, *args])


def test_template_writes_the_workbook(tmp_path: Path, rich_url: str) -> None:
    """`template` writes the workbook with Instructions and every sheet."""
    path = tmp_path / "centre.xlsx"
    assert run(rich_url, "template", str(path)) == 0
    assert openpyxl.load_workbook(path).sheetnames == ["Instructions", *(s.name for s in SHEETS)]


def test_template_must_be_xlsx(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A template asked for as .csv is refused in one line."""
    assert run(rich_url, "template", str(tmp_path / "centre.csv")) == 1
    assert capsys.readouterr().err.startswith("atmp-planner: error: the template is a workbook")


@pytest.mark.parametrize("suffix", [".xlsx", ".json"])
def test_export_then_import_under_another_name_is_identical(
    tmp_path: Path, rich_url: str, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """export-scenario then import --scenario gives the same scenario but for its name."""
    path = tmp_path / f"rich{suffix}"
    assert run(rich_url, "export-scenario", str(path), "--scenario", "rich") == 0
    assert run(rich_url, "import", str(path), "--scenario", "copy") == 0
    assert "Imported 'copy'" in capsys.readouterr().out
    repo = Repository(open_database(rich_url))
    assert repo.list_scenarios() == ["copy", "rich"]
    assert repo.load_scenario("copy") == replace(repo.load_scenario("rich"), name="copy")


def test_the_demo_round_trips_through_the_commands(tmp_path: Path) -> None:
    """The demo centre, exported by the CLI in both formats, imports back equal."""
    address = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    repo = Repository(open_database(address))
    demo = replace(build_demo_scenario(), name=DEMO_NAME)
    repo.save_scenario(demo)
    for suffix in (".xlsx", ".json"):
        path = tmp_path / f"demo{suffix}"
        assert run(address, "export-scenario", str(path)) == 0
        assert run(address, "import", str(path), "--scenario", f"back{suffix}") == 0
        assert repo.load_scenario(f"back{suffix}") == replace(demo, name=f"back{suffix}")


def test_an_existing_name_is_refused_unless_replace(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Importing over a stored name is refused, changing nothing; --replace replaces it."""
    changed = replace(rich_scenario(), holidays=())
    path = write_scenario_xlsx(tmp_path / "rich.xlsx", changed)
    before = state(rich_url)
    assert run(rich_url, "import", str(path)) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"atmp-planner: error: a scenario named 'rich' is stored already \(saved by tester at "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, version 1\); add --replace to replace it, "
        r"or --scenario NAME to store this one under another name\n",
        err,
    ), err
    assert state(rich_url) == before
    assert run(rich_url, "import", str(path), "--replace") == 0
    assert "(replaced; version 2)" in capsys.readouterr().out
    assert Repository(open_database(rich_url)).load_scenario("rich") == changed


def test_an_invalid_file_prints_every_problem_then_a_summary_and_stores_nothing(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Problems one a line, then the summary; the database is as it was, even with --replace."""
    path = write_scenario_xlsx(tmp_path / "rich.xlsx", rich_scenario())
    wb = openpyxl.load_workbook(path)
    wb["Steps"]["D2"] = "six"
    wb["Ward"]["C2"] = -1
    wb.save(path)
    before = state(rich_url)
    for extra in ([], ["--replace"], ["--scenario", "new"]):
        assert run(rich_url, "import", str(path), *extra) == 1
        assert capsys.readouterr().err.splitlines() == [
            f"{path}: sheet 'Ward', row 2, column C (beds): expected at least 0, found -1",
            f"{path}: sheet 'Steps', row 2, column D (duration_hours): expected a whole number, "
            'found "six"',
            f"atmp-planner: error: {path}: 2 problems; nothing was imported",
        ]
        assert state(rich_url) == before


def test_many_problems_are_capped_with_a_count(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """More than 50 problems: the first 50, a count of the rest, the summary."""
    data = scenario_to_dict(rich_scenario())
    for entry in data["roster"][:70]:
        entry["day"] = "someday"
    path = tmp_path / "many.json"
    path.write_text(json.dumps(data), "utf-8")
    before = state(rich_url)
    assert run(rich_url, "import", str(path), "--scenario", "many") == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == MAX_PRINTED_PROBLEMS + 2
    assert lines[0] == (f'{path}: $.roster[0].day: expected a date YYYY-MM-DD, found "someday"')
    assert lines[-2:] == [
        f"... and {70 - MAX_PRINTED_PROBLEMS} more",
        f"atmp-planner: error: {path}: 70 problems; nothing was imported",
    ]
    assert state(rich_url) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a workbook", "not an xlsx workbook (not a zip archive, or a truncated one)"),
        (
            b"PK\x03\x04" + bytes(100),
            "not an xlsx workbook (not a zip archive, or a truncated one)",
        ),
    ],
)
def test_a_hostile_file_gets_one_line_and_changes_nothing(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    """A file that is no workbook: one line, exit 1, no traceback, database unchanged."""
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    before = state(rich_url)
    assert run(rich_url, "import", str(path), "--replace") == 1
    assert capsys.readouterr().err == f"atmp-planner: error: {path}: {message}\n"
    assert state(rich_url) == before


def test_wrong_suffixes_and_missing_files_are_one_line(
    tmp_path: Path, rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """import of a .csv, of a missing file, export to .txt, export of an unknown name."""
    assert run(rich_url, "import", str(tmp_path / "x.csv")) == 1
    assert run(rich_url, "import", str(tmp_path / "gone.xlsx")) == 1
    assert run(rich_url, "export-scenario", str(tmp_path / "x.txt"), "--scenario", "rich") == 1
    assert run(rich_url, "export-scenario", str(tmp_path / "x.json"), "--scenario", "nope") == 1
    exported = tmp_path / "rich.json"
    assert run(rich_url, "export-scenario", str(exported), "--scenario", "rich") == 0
    assert run(rich_url, "import", str(exported), "--scenario", " ") == 1
    assert capsys.readouterr().err.splitlines() == [
        f"atmp-planner: error: expected a .xlsx or .json file: {tmp_path / 'x.csv'}",
        f"atmp-planner: error: {tmp_path / 'gone.xlsx'}: no such file",
        f"atmp-planner: error: the file name must end in .xlsx or .json: {tmp_path / 'x.txt'}",
        "atmp-planner: error: no scenario named 'nope' (stored: rich)",
        "atmp-planner: error: --scenario must be a name of 1-200 characters",
    ]


def test_bring_your_own_centre_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's loop: template, fill, import, solve, export."""
    address = f"sqlite:///{tmp_path / 'own.sqlite'}"
    template = tmp_path / "centre.xlsx"
    assert run(address, "template", str(template)) == 0
    scenario = replace(rich_scenario(), name="Our centre")
    filled = write_scenario_xlsx(tmp_path / "filled.xlsx", scenario)  # stands in for typing
    assert openpyxl.load_workbook(template).sheetnames == openpyxl.load_workbook(filled).sheetnames
    assert run(address, "import", str(filled)) == 0
    solve = ["solve", "--scenario", "Our centre", "--deterministic-time", "0.2", "--quiet"]
    assert run(address, *solve) == 0
    start = scenario.horizon_start
    out = tmp_path / "plan.xlsx"
    window = ["--from", start.isoformat(), "--to", (start + timedelta(days=13)).isoformat()]
    assert run(address, "export", "--scenario", "Our centre", "--out", str(out), *window) == 0
    assert "Assignments" in openpyxl.load_workbook(out).sheetnames
    assert "Traceback" not in capsys.readouterr().err
