"""The command line end to end on a real SQLite file and a real workbook."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from atmp_planner.cli import DEMO_NAME, main
from data.db import open_database
from data.repository import Repository
from planner import Assignment, ResourceType
from planner.checks import check_plan

FAST = ["--deterministic-time", "0.5", "--quiet"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A database holding the demo and its plan, made by `atmp-planner demo`."""
    folder = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{folder / 'planner.sqlite'}"
    out = folder / "weeks.xlsx"
    assert main(["--db", url, "demo", "--out", str(out), *FAST]) == 0
    return url, out


def export(url: str, out: Path, start: str, end: str) -> int:
    """Run `atmp-planner export` for a window."""
    return main(["--db", url, "export", "--out", str(out), "--from", start, "--to", end])


def read_assignments(path: Path) -> list[Assignment]:
    """Assignments read back from the machine-readable sheet of a workbook."""
    sheet = openpyxl.load_workbook(path, read_only=True)["Assignments"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:7] == ["patient", "product", "step", "resource_type", "resource", "start", "end"]
    col = {name: i for i, name in enumerate(header)}
    result = []
    for row in rows[1:]:
        assert isinstance(row[col["start"]], str) and isinstance(row[col["end"]], str)
        result.append(
            Assignment(
                patient_code=str(row[col["patient"]]),
                product_code=str(row[col["product"]]),
                step_code=str(row[col["step"]]),
                resource_type=ResourceType(row[col["resource_type"]]),
                resource_code=str(row[col["resource"]] or ""),
                start=datetime.fromisoformat(str(row[col["start"]])),
                end=datetime.fromisoformat(str(row[col["end"]])),
                quantity=int(row[col["quantity"]] or 1) if "quantity" in col else 1,
            )
        )
    return result


def test_demo_prints_kpis_and_writes_the_first_weeks(
    demo_db: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """demo writes a workbook of the first four weeks only, and a second run reuses the data."""
    url, out = demo_db
    rows = read_assignments(out)
    assert rows
    first, last = date(2027, 1, 4), date(2027, 1, 31)
    assert all(a.start.date() <= last and a.end.date() >= first for a in rows)
    capsys.readouterr()
    again = out.with_name("again.xlsx")
    assert main(["--db", url, "demo", "--out", str(again), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "Scheduled patients" in printed and "Vein-to-vein median" in printed
    assert "Utilisation cleanrooms" in printed
    assert Repository(open_database(url)).list_scenarios() == [DEMO_NAME]


def test_exported_sheet_passes_the_independent_check(
    demo_db: tuple[str, Path], tmp_path: Path
) -> None:
    """The whole-horizon Assignments sheet alone shows no double-booked room, bed or slot."""
    url, _ = demo_db
    out = tmp_path / "all.xlsx"
    code = main(
        ["--db", url, "export", "--out", str(out), "--from", "2027-01-01", "--to", "2027-12-31"]
    )
    assert code == 0
    repo = Repository(open_database(url))
    scenario = repo.load_scenario(DEMO_NAME)
    plan = repo.latest_plan(DEMO_NAME)
    assert plan is not None
    rows = read_assignments(out)
    assert sorted(rows, key=lambda a: (*a.key, str(a.start))) == sorted(
        plan.assignments, key=lambda a: (*a.key, str(a.start))
    )
    assert check_plan(scenario, replace(plan, assignments=tuple(rows))) == []
    assert {a.resource_type for a in rows} >= {
        ResourceType.CLEANROOM,
        ResourceType.DEVICE,
        ResourceType.STAFF_POOL,
        ResourceType.BED,
        ResourceType.APHERESIS,
    }


def test_export_window_filters_rows(demo_db: tuple[str, Path], tmp_path: Path) -> None:
    """A one-week window keeps only rows overlapping that week."""
    url, _ = demo_db
    out = tmp_path / "week.xlsx"
    assert (
        main(
            ["--db", url, "export", "--out", str(out), "--from", "2027-02-01", "--to", "2027-02-07"]
        )
        == 0
    )
    rows = read_assignments(out)
    assert rows
    assert all(a.start < datetime(2027, 2, 8) and a.end > datetime(2027, 2, 1) for a in rows)


@pytest.mark.parametrize(
    ("argv", "status", "words"),
    [
        (
            ["export", "--out", "x.xlsx", "--from", "2027-13-01", "--to", "2027-02-01"],
            2,
            "not a date",
        ),
        (["export", "--out", "x.xlsx", "--from", "2027-02-01", "--to", "2027-01-01"], 1, "before"),
        (["export", "--out", "x.csv", "--from", "2027-01-01", "--to", "2027-01-02"], 1, ".xlsx"),
        (["solve", "--scenario", "nope"], 1, "no scenario named 'nope'"),
        (["demo", "--deterministic-time", "-1"], 2, "more than 0"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_bad_input_gives_one_line_and_non_zero_exit(
    demo_db: tuple[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    words: str,
) -> None:
    """Bad arguments or input: exit 1 or 2 with one error line naming the problem."""
    url, _ = demo_db
    argv = [str(tmp_path / a) if a.startswith("x.") else a for a in argv]
    if status == 2:
        with pytest.raises(SystemExit) as exited:
            main(["--db", url, *argv])
        assert exited.value.code == 2
    else:
        assert main(["--db", url, *argv]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and "error" in err[0]


def test_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """An unreachable PostgreSQL URL fails with one line that hides the password."""
    url = "postgresql+psycopg://u:secret@127.0.0.1:1/none"
    assert main(["--db", url, "scenarios"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "secret" not in err[0]


def test_the_only_stored_scenario_needs_no_scenario_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One scenario stored (not the demo): solve and plans use it; with two, say which exist."""
    from dataclasses import replace

    from data.db import open_database
    from data.repository import Repository
    from tests.factories import tiny_scenario

    url = f"sqlite:///{tmp_path / 'own.sqlite'}"
    repo = Repository(open_database(url))
    repo.save_scenario(tiny_scenario())
    assert main(["--db", url, "solve", *FAST]) == 0
    assert main(["--db", url, "plans"]) == 0
    assert "current" in capsys.readouterr().out
    repo.save_scenario(replace(tiny_scenario(), name="other"))
    assert main(["--db", url, "plans"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["atmp-planner: error: 2 scenarios are stored (other, tiny); give --scenario"]


@pytest.mark.parametrize(
    "argv",
    [
        ["template", "{missing}/t.xlsx"],
        ["export-scenario", "{missing}/s.json"],
    ],
)
def test_file_commands_do_not_make_missing_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """A mistyped folder is refused in one line, not silently created."""
    from data.db import open_database
    from data.repository import Repository
    from tests.factories import tiny_scenario

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    Repository(open_database(url)).save_scenario(tiny_scenario())
    missing = tmp_path / "no" / "such"
    args = [a.replace("{missing}", str(missing)) for a in argv]
    assert main(["--db", url, *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist; create it" in err[0]
    assert not (tmp_path / "no").exists()


def test_import_warns_of_what_can_never_be_planned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A centre without a roster imports (exit 0) with a warning saying what to fix."""
    from dataclasses import replace

    from data.scenario_files import write_scenario
    from tests.factories import tiny_scenario

    path = write_scenario(tmp_path / "bare.json", replace(tiny_scenario(), roster=()))
    assert main(["--db", f"sqlite:///{tmp_path / 'db.sqlite'}", "import", str(path)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith("atmp-planner: warning: ") for line in err)
    assert any("No operator trained on CART is on the roster" in line for line in err)


def test_solve_refuses_what_can_never_be_planned_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Solving a centre without a roster stores no plan and lists what to fix, one per
    line, ending in one error line; --plan-what-it-can plans and leaves them out."""
    from dataclasses import replace

    from data.db import open_database
    from data.repository import Repository
    from tests.factories import tiny_scenario

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    repo = Repository(open_database(url))
    repo.save_scenario(replace(tiny_scenario(2), roster=()))
    fast = ["--deterministic-time", "0.2", "--quiet"]
    assert main(["--db", url, "solve", *fast]) == 1
    err = capsys.readouterr().err.rstrip().splitlines()
    assert len(err) >= 2 and err[-1].startswith("atmp-planner: error: nothing was planned")
    assert all(line.startswith("  - No operator trained on CART") for line in err[:-1])
    assert "--plan-what-it-can" in err[-1]
    assert repo.plan_summaries("tiny") == []
    assert main(["--db", url, "solve", "--plan-what-it-can", *fast]) == 0
    (summary,) = repo.plan_summaries("tiny")
    assert summary.scheduled == 0


def test_import_adds_the_countrys_public_holidays_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file without holidays: a warning naming --public-holidays; with it, Sweden's
    holidays in the horizon are stored (Epiphany, 6 January 2027)."""
    from datetime import date

    from data.db import open_database
    from data.repository import Repository
    from data.scenario_files import write_scenario
    from tests.factories import tiny_scenario

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    path = write_scenario(tmp_path / "c.json", tiny_scenario())
    assert main(["--db", url, "import", str(path)]) == 0
    assert "add --public-holidays" in capsys.readouterr().err
    repo = Repository(open_database(url))
    assert repo.load_scenario("tiny").holidays == ()
    assert main(["--db", url, "import", str(path), "--replace", "--public-holidays"]) == 0
    assert "Added 1 public holidays of SE" in capsys.readouterr().out
    assert [h.day for h in repo.load_scenario("tiny").holidays] == [date(2027, 1, 6)]
