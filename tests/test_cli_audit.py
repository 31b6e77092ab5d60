"""`atmp-planner audit show|verify`, --user and --reason, end to end on a real SQLite file
(and tampering by raw SQL, as someone with the file and sqlite3 would)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from atmp_planner.cli import main
from data.scenario_files import write_scenario
from tests.factories import rich_scenario
from tests.test_cli import FAST

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database where alice imported a scenario and bob re-imported it edited and
    solved it, each with a reason."""
    path = tmp_path / "planner.sqlite"
    url = f"sqlite:///{path}"
    scenario = rich_scenario()
    first = write_scenario(tmp_path / "rich.json", scenario)
    staff = (replace(scenario.staff[0], contracted_hours_per_week=30.0), *scenario.staff[1:])
    second = write_scenario(tmp_path / "rich2.json", replace(scenario, staff=staff))
    assert main(["--db", url, "--user", "alice", "import", str(first), "--reason", "load"]) == 0
    bob = ["--db", url, "--user", "bob"]
    assert main([*bob, "import", str(second), "--replace", "--reason", "OP1 part time"]) == 0
    assert main([*bob, "solve", *FAST, "--reason", "weekly plan"]) == 0
    return path


def cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess: status, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "atmp_planner", "--db", f"sqlite:///{path}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_show_prints_who_changed_what_and_why(db: Path) -> None:
    """`audit show --by bob` lists his field change with old and new value and reason, his
    import and his plan; --entity and --last narrow it."""
    done = cli(db, "audit", "show", "--by", "bob")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    change = next(line for line in lines if "contracted_hours_per_week" in line)
    assert "bob" in change and "update" in change and "staff_member" in change
    assert "40.0 -> 30.0  (reason: OP1 part time)" in change
    assert any("import" in line and "rich2.json" in line for line in lines)
    assert any("solve" in line and "(reason: weekly plan)" in line for line in lines)
    plans = cli(db, "audit", "show", "--entity", "plan", "--last", "1").stdout.splitlines()
    assert len(plans) == 3 and "choose" in plans[2] and "current: (none) -> #1" in plans[2]
    assert "No audit records match." in cli(db, "audit", "show", "--since", "2999-01-01").stdout
    history = cli(db, "audit", "show", "--entity", "staff_member", "--key", "OP1").stdout
    assert [line.split()[4] for line in history.splitlines()[2:]] == ["create", "update"]


def test_verify_passes_then_fails_after_one_raw_sql_edit(db: Path) -> None:
    """verify exits 0 on the untouched file; after one UPDATE by sqlite3 it exits 1, names
    the record, and the summary is the last line on stderr."""
    ok = cli(db, "audit", "verify")
    assert ok.returncode == 0 and ok.stdout.startswith("Audit trail intact: "), ok
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE audit_record SET new_value = '30.5' WHERE field = 'contracted_hours_per_week'"
        )
        seq = connection.execute(
            "SELECT seq FROM audit_record WHERE field = 'contracted_hours_per_week'"
        ).fetchone()[0]
    connection.close()
    bad = cli(db, "audit", "verify")
    assert bad.returncode == 1
    assert f"audit record #{seq} (" in bad.stderr and "it was edited" in bad.stderr
    assert bad.stderr.splitlines()[-1].startswith(
        "atmp-planner: error: the audit trail was tampered with: "
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--user", "", "scenarios"], ["--user", "user name is one line"]),
        (["solve", "--reason", " "], ["--reason", "is empty"]),
        (["audit", "show", "--since", "yesterday"], ["--since", "not a date"]),
        (["audit", "show", "--last", "0"], ["--last must be 1 to"]),
        (["audit"], ["audit_command"]),
    ],
)
def test_bad_audit_arguments_are_one_line(
    db: Path, args: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad --user, --reason, --since, --last: exit 2 with one line naming the option."""
    with pytest.raises(SystemExit) as stopped:
        main(["--db", f"sqlite:///{db}", *args])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and all(word in err[0] for word in words), err


def test_a_user_from_the_environment_is_recorded(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --user, $ATMP_PLANNER_USER is the user recorded."""
    monkeypatch.setenv("ATMP_PLANNER_USER", "erin")
    assert main(["--db", f"sqlite:///{db}", "plans", "--use", "1", "--reason", "check"]) == 0
    capsys.readouterr()
    assert main(["--db", f"sqlite:///{db}", "audit", "show", "--by", "erin"]) == 0
    out = capsys.readouterr().out
    assert "erin" in out and "choose" in out and "(reason: check)" in out
