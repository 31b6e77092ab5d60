"""Hostile arguments to the commands of the audit trail and backups (hypothesis): every
case exits 0, 1 or 2 with at most one error line and no traceback, and the database is
left exactly as it was (digest of every row) unless the command was meant to change it."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atmp_planner.cli import main
from data.db import open_database
from data.integrity import database_digest
from data.repository import Repository
from tests.factories import rich_scenario

#: Cases per run: enough to find a class of crash, few enough for CI (0.2 to 0.6 s each).
CASES = 40

junk = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)
since = st.one_of(
    junk, st.dates().map(str), st.datetimes().map(lambda d: d.isoformat()), st.just("2027-13-40")
)
numbers = st.one_of(junk, st.integers(-(2**70), 2**70).map(str))
entities = st.one_of(junk, st.sampled_from(["plan", "scenario", "roster_entry", "staff_member"]))


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    """An argument list for audit show/verify, backup or restore, often a bad one."""
    head: list[str] = []
    if draw(st.booleans()):
        head += ["--user", draw(junk)]
    command = draw(st.sampled_from(["show", "verify", "backup", "restore"]))
    if command == "show":
        args = ["audit", "show"]
        for option, values in (
            ("--entity", entities),
            ("--since", since),
            ("--last", numbers),
            ("--by", junk),
            ("--scenario", junk),
        ):
            if draw(st.booleans()):
                args += [option, draw(values)]
        return head + args
    if command == "verify":
        return [*head, "audit", "verify", *draw(st.lists(junk, max_size=1))]
    name = draw(st.one_of(junk, st.sampled_from(["b.gz", "x/b.gz", "b.json", ".", "", "-"])))
    return [*head, command, name]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with a scenario, an edit and its audit trail, closed (one file)."""
    path = tmp_path_factory.mktemp("fuzz") / "planner.sqlite"
    repo = Repository(open_database(f"sqlite:///{path}"), user="alice")
    repo.save_scenario(rich_scenario(), reason="load")
    repo.close()
    return path


@settings(
    max_examples=CASES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=argvs())
def test_hostile_arguments_give_one_line_and_change_nothing(
    source: Path, tmp_path: Path, argv: list[str]
) -> None:
    """Exit 0/1/2, no traceback, at most one `atmp-planner: error:` line on failure; the
    database unchanged (restore into it is refused: it is not empty)."""
    work = tmp_path / "case"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    db = work / "planner.sqlite"
    shutil.copy(source, db)
    engine = open_database(f"sqlite:///{db}", create=False)
    before = database_digest(engine)
    engine.dispose()
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.chdir(work),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            status = main(["--db", f"sqlite:///{db}", *argv])
        except SystemExit as stopped:
            status = stopped.code if isinstance(stopped.code, int) else 2
    lines = err.getvalue().splitlines()
    assert status in (0, 1, 2), (argv, status, lines)
    assert "Traceback" not in err.getvalue()
    if status != 0:
        errors = [line for line in lines if line.startswith("atmp-planner: error:")]
        assert len(errors) == 1 and lines[-1] == errors[0], (argv, lines)
    engine = open_database(f"sqlite:///{db}", create=False)
    try:
        assert database_digest(engine) == before, argv
        assert Repository(engine).verify_audit().intact
    finally:
        engine.dispose()
