"""Hostile argument lists for every subcommand but gui (hypothesis, seeded), each run in
this process on a fresh copy of a small database with plans and a pin: exit 0, 1 or 2, no
traceback, one `atmp-planner: error:` line when it fails, the database unchanged unless a
writing command succeeded, and then the change recorded and done as it says.
scripts/reliability.py runs more cases."""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import pytest

from atmp_planner.cli import main
from data.db import open_database
from data.repository import Repository
from planner.replan import Pin
from tests.reliability import fuzz
from tests.reliability.fuzz import COMMAND_ARGS, FuzzStats, cli_campaign, make_source, run_case

#: Cases per subcommand: about 0.3 s each.
PER_COMMAND = 3
COMMANDS = [c for c in COMMAND_ARGS if c != "trust"]


def test_every_subcommand_fails_cleanly_or_does_what_it_says(tmp_path: Path) -> None:
    stats = cli_campaign(tmp_path, PER_COMMAND * len(COMMANDS), seed=2026)
    assert stats.problems == []
    assert stats.crashes == 0 and stats.partial_writes == 0
    tried = {command for command, _ in stats.per_command}
    assert tried == set(COMMANDS)
    assert stats.outcomes["exit 0"] > 0 and stats.outcomes["exit 1"] > 0


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("source") / "source.sqlite", plans=True)


def test_the_checks_see_a_crash_a_partial_write_and_a_second_error_line(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks can fail: a command that writes and then fails, one that raises, and one
    that prints two error lines are each counted."""
    stats = FuzzStats()
    run_case(source, tmp_path / "ok", ["pin", "P2"], stats)
    assert stats.problems == [] and stats.per_command[("pin", "exit 0")] == 1

    def writes_then_fails(argv: list[str]) -> int:
        repo = Repository(open_database(argv[1]), user="mallory")
        repo.add_pin("rich", Pin("P2"))
        repo.close()
        print("atmp-planner: error: refused", file=sys.stderr)
        return 1

    monkeypatch.setattr(fuzz, "main", writes_then_fails)
    run_case(source, tmp_path / "w", ["pin", "P2"], stats)
    assert stats.partial_writes == 1 and stats.per_command[("pin", "partial write")] == 1
    monkeypatch.setattr(fuzz, "main", lambda argv: {}["boom"])
    run_case(source, tmp_path / "c", ["scenarios"], stats)
    assert stats.crashes == 1 and stats.per_command[("scenarios", "crash")] == 1

    def two_lines(argv: list[str]) -> int:
        print("atmp-planner: error: one\natmp-planner: error: two", file=sys.stderr)
        return 1

    monkeypatch.setattr(fuzz, "main", two_lines)
    run_case(source, tmp_path / "t", ["scenarios"], stats)
    assert stats.per_command[("scenarios", "fault")] == 1 and len(stats.problems) == 3


@pytest.mark.parametrize(
    ("content", "words"),
    [
        # Each of these raised KeyError, TypeError, JSONDecodeError or UnicodeDecodeError
        # with a traceback before `bench --rows` checked what it read.
        ('{"rows": [{"a": 1}]}', "row 1: a run without an error has no number of patients"),
        ("[1, 2]", "no rows of a benchmark"),
        ('{"command": "x"}', "no rows of a benchmark"),
        ('{"rows": [1]}', "row 1: a row is not a table of named values"),
        ('{"rows": [{"error": "boom", "seconds": "slow"}]}', "row 1: seconds is not a number"),
        ('{"rows": ', "not JSON"),
        (b"\xff\xfe{}", "not UTF-8 text"),
    ],
)
def test_bench_rows_that_are_no_benchmark_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, words: str
) -> None:
    path = tmp_path / "rows.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    assert main(["bench", "--rows", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("atmp-planner: error:") and words in err[0]


def test_bench_rows_of_runs_that_failed_are_still_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row with an error needs nothing else; the table shows '-' for what it lacks."""
    path = tmp_path / "rows.json"
    path.write_text(json.dumps({"rows": [{"instance": "S", "error": "timed out"}]}), "utf-8")
    assert main(["bench", "--rows", str(path)]) == 1  # a run failed: exit 1, no error line
    captured = capsys.readouterr()
    assert "timed out" in captured.out and "atmp-planner: error" not in captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ["template", "\x1b[2Jwiped\x08.txt"],
        ["--db", "\x1b]0;title\x07", "scenarios"],
        ["import", "\x9bnot.csv"],
    ],
)
def test_control_characters_in_an_error_are_shown_not_sent_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """An escape sequence in a file name or URL used to reach the terminal raw (clearing
    the screen, retitling the window); the error line now writes it as \\xNN."""
    assert main(["--db", f"sqlite:///{tmp_path / 'x.sqlite'}", *argv]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("atmp-planner: error:")
    assert not any(unicodedata.category(c) == "Cc" for c in err.rstrip("\n"))
    assert "\\x1b" in err or "\\x9b" in err
