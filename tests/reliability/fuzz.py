"""Hostile arguments to the audit, backup and restore commands (hypothesis strategies) and
the check every case must pass; shared by tests/test_cli_trust_fuzz.py and
scripts/reliability.py."""

from __future__ import annotations

import contextlib
import io
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from atmp_planner.cli import main
from data.db import open_database
from data.integrity import database_digest
from data.repository import Repository
from tests.factories import rich_scenario

junk = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
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
            ("--key", junk),
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


def make_source(path: Path) -> Path:
    """A database with a scenario and its audit trail, closed (one self-contained file)."""
    repo = Repository(open_database(f"sqlite:///{path}"), user="alice")
    repo.save_scenario(rich_scenario(), reason="load")
    repo.close()
    return path


@dataclass
class FuzzStats:
    """Cases tried by outcome, and what went wrong."""

    outcomes: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    partial_writes: int = 0
    problems: list[str] = field(default_factory=list)


def run_case(source: Path, work: Path, argv: list[str], stats: FuzzStats) -> None:
    """Run the CLI on a fresh copy of source: exit 0/1/2, no traceback, one error line on
    failure, the database unchanged (digest of every row) and its trail intact."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "planner.sqlite"
    shutil.copy(source, db)
    engine = open_database(f"sqlite:///{db}", create=False)
    before = database_digest(engine)
    engine.dispose()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(work), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status: object = main(["--db", f"sqlite:///{db}", *argv])
        except SystemExit as stopped:
            status = stopped.code
        except Exception as error:  # a crash: what this campaign looks for
            status = f"crash: {type(error).__name__}: {error}"
    lines = err.getvalue().splitlines()
    stats.outcomes[f"exit {status}" if status in (0, 1, 2) else "crash"] += 1
    if status not in (0, 1, 2) or "Traceback" in err.getvalue():
        stats.crashes += 1
        stats.problems.append(f"{argv!r}: {status} {lines[-3:]}")
    elif status != 0:
        errors = [line for line in lines if line.startswith("atmp-planner: error:")]
        if not (len(errors) == 1 and lines[-1] == errors[0]):
            stats.problems.append(f"{argv!r}: not one error line: {lines}")
    engine = open_database(f"sqlite:///{db}", create=False)
    try:
        if database_digest(engine) != before or not Repository(engine).verify_audit().intact:
            stats.partial_writes += 1
            stats.problems.append(f"{argv!r}: the database changed")
    finally:
        engine.dispose()


def fuzz_campaign(folder: Path, cases: int, seed: int) -> FuzzStats:
    """`cases` argument lists drawn by hypothesis (seeded), each run by run_case."""
    folder.mkdir(parents=True, exist_ok=True)
    source = make_source(folder / "source.sqlite")
    stats = FuzzStats()

    @hypothesis_seed(seed)
    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(argv=argvs())
    def campaign(argv: list[str]) -> None:
        run_case(source, folder / "case", argv, stats)

    campaign()
    return stats
