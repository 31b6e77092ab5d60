"""Run the reliability campaigns at length and write docs/reliability.md from the counts.

    ATMP_TEST_POSTGRES_URL=postgresql+psycopg://... .venv/bin/python scripts/reliability.py

Kills writers (SIGKILL) mid-write, races two editors, tampers with audit records by raw SQL
and round-trips backups, on a SQLite file and (with $ATMP_TEST_POSTGRES_URL) on a
PostgreSQL schema of its own, then feeds hostile inputs to the domain's constructors, the
importers and every subcommand; every figure in the page comes from this run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, make_url, text  # noqa: E402

from data.db import make_engine, upgrade  # noqa: E402
from data.integrity import database_digest  # noqa: E402
from data.repository import Repository  # noqa: E402
from planner import Scenario  # noqa: E402
from tests.reliability.campaigns import (  # noqa: E402
    OPERATIONS,
    ConcurrentStats,
    KillStats,
    TamperStats,
    concurrent_campaign,
    kill_campaign,
    tamper_campaign,
)
from tests.reliability.constructors import InputStats, constructor_campaign  # noqa: E402
from tests.reliability.files import IMPORTERS, import_campaign  # noqa: E402
from tests.reliability.fuzz import FuzzStats, cli_campaign, fuzz_campaign  # noqa: E402
from tests.reliability.workload import NAME, plan, variants  # noqa: E402

POSTGRES_ENV = "ATMP_TEST_POSTGRES_URL"


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, migrated database of the backend, removed afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    base = make_url(os.environ[POSTGRES_ENV])
    schema = f"reliability_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base.render_as_string(hide_password=False))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )
    engine = make_engine(scoped)
    upgrade(engine)
    engine.dispose()
    try:
        yield scoped
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def history(engine: Engine) -> Repository:
    """The demo-sized scenario stored, edited by another user and planned twice."""
    repo = Repository(engine, user="alice")
    repo.save_scenario(variants()[0], reason="load", source="centre.xlsx")
    Repository(engine, user="bob").save_scenario(variants()[1], 1, reason="roster change")
    repo.save_plan(plan(0), current=True, reason="weekly plan")
    repo.save_plan(plan(1), current=True)
    return repo


def server_version(backend: str) -> str:
    """The database software the figures were made with."""
    if backend == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    engine = make_engine(os.environ[POSTGRES_ENV])
    try:
        with engine.connect() as connection:
            return str(connection.scalar(text("SHOW server_version"))).join(("PostgreSQL ", ""))
    finally:
        engine.dispose()


def main() -> int:
    """Run every campaign and write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="kills per operation and backend")
    parser.add_argument("--rounds", type=int, default=25, help="concurrent-save rounds")
    parser.add_argument("--records", type=int, default=20, help="audit records tampered with")
    parser.add_argument("--fuzz", type=int, default=1000, help="hostile argument lists tried")
    parser.add_argument(
        "--inputs",
        type=int,
        default=1000,
        help="bad-input campaign: constructor calls, imported files and argument lists, each",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    args = parser.parse_args()
    backends = ["sqlite"] + (["postgresql"] if os.environ.get(POSTGRES_ENV) else [])
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="reliability-"))
    kills: list[tuple[str, KillStats]] = []
    races: list[tuple[str, ConcurrentStats]] = []
    tampers: list[tuple[str, int, TamperStats]] = []
    backups: list[tuple[str, str, int, int, bool, bool]] = []
    for backend in backends:
        for operation in OPERATIONS:
            with database(backend, folder) as url:
                work = folder / f"{backend}-{operation}"
                work.mkdir()
                stats = kill_campaign(url, operation, work, args.kills, args.seed)
                kills.append((backend, stats))
                print(backend, stats, flush=True)
        with database(backend, folder) as url:
            a, b = make_engine(url), make_engine(url)
            race = concurrent_campaign(a, b, args.rounds)
            a.dispose()
            b.dispose()
            races.append((backend, race))
            print(backend, race, flush=True)
        with database(backend, folder) as url:
            engine = make_engine(url)
            history(engine)
            tamper = tamper_campaign(engine, args.seed, args.records)
            records = len(Repository(engine).audit_entries())
            engine.dispose()
            tampers.append((backend, records, tamper))
            print(backend, tamper.cases, tamper.detected, tamper.named, flush=True)
    for source_backend in backends:
        for target_backend in backends:
            with (
                database(source_backend, folder) as s_url,
                database(target_backend, folder) as t_url,
            ):
                source, target = make_engine(s_url), make_engine(t_url)
                path = folder / f"{source_backend}-{target_backend}.backup.gz"
                counts = history(source).backup(path)
                restored = Repository(target)
                restored.restore(path)
                same = database_digest(source) == database_digest(target)
                check = restored.verify_audit()
                loads = restored.load_scenario(NAME) == variants()[1]
                source.dispose()
                target.dispose()
                backups.append(
                    (
                        source_backend,
                        target_backend,
                        sum(counts.values()),
                        check.records,
                        same,
                        check.intact and loads,
                    )
                )
                print(backups[-1], flush=True)
    fuzz = fuzz_campaign(folder / "fuzz", args.fuzz, args.seed)
    print(fuzz.outcomes, fuzz.crashes, fuzz.partial_writes, flush=True)
    with database(backends[-1], folder) as url:
        engine = make_engine(url)
        made = constructor_campaign(args.inputs, args.seed, stored_in(Repository(engine, "fuzz")))
        engine.dispose()
    inputs = BadInputs(
        backends[-1],
        made,
        import_campaign(folder / "imports", args.inputs, args.seed),
        cli_campaign(folder / "cli", args.inputs, args.seed),
    )
    print(inputs.summary(), flush=True)
    minutes = (time.monotonic() - started) / 60
    write_page(args, backends, kills, races, tampers, backups, fuzz, inputs, minutes)
    failures = (
        sum(len(s.problems) for _, s in kills)
        + sum(r.wrong + r.lost + (r.rounds - r.refused) for _, r in races)
        + sum(len(t.misses) for _, _, t in tampers)
        + sum(not (same and ok) for *_, same, ok in backups)
        + len(fuzz.problems)
        + len(inputs.problems())
    )
    for problem in inputs.problems()[:20]:
        print("PROBLEM", problem)
    print(f"Wrote {args.out} ({minutes:.1f} min); {failures} failures")
    return 1 if failures else 0


def stored_in(repo: Repository) -> Callable[[Scenario], Scenario]:
    """Store a scenario under a new name and load it back (under its own name)."""
    names = itertools.count(1)

    def store(scenario: Scenario) -> Scenario:
        name = f"constructor case {next(names)}"
        repo.save_scenario(replace(scenario, name=name), reason="bad-input campaign")
        return replace(repo.load_scenario(name), name=scenario.name)

    return store


@dataclass
class BadInputs:
    """The bad-input campaign's three parts (constructors' scenarios stored in backend)."""

    backend: str
    constructors: InputStats
    imports: FuzzStats
    cli: FuzzStats

    def tried(self) -> int:
        return (
            sum(self.constructors.tried(t) for t in self.constructors.targets())
            + sum(self.imports.outcomes.values())
            + sum(self.cli.outcomes.values())
        )

    def crashes(self) -> int:
        made = sum(self.constructors.of(t, "crash") for t in self.constructors.targets())
        return made + self.imports.crashes + self.cli.crashes

    def partial_writes(self) -> int:
        return self.imports.partial_writes + self.cli.partial_writes

    def problems(self) -> list[str]:
        return [*self.constructors.problems, *self.imports.problems, *self.cli.problems]

    def summary(self) -> str:
        return f"{self.tried()} bad-input cases, {self.crashes()} crashes, " + (
            f"{self.partial_writes()} partial writes, {len(self.problems())} problems"
        )


def _run_rows(stats: FuzzStats, targets: list[str]) -> list[str]:
    """One table row per target: cases by exit status, crashes, partial writes, faults."""
    rows = []
    for target in targets:
        n = {k: stats.per_command[(target, k)] for k in ("exit 0", "exit 1", "exit 2", "crash")}
        rows.append(
            f"| {target} | {sum(n.values())} | {n['exit 0']} | {n['exit 1']} | {n['exit 2']} "
            f"| {n['crash']} | {stats.per_command[(target, 'partial write')]} "
            f"| {stats.per_command[(target, 'fault')]} |"
        )
    return rows


def bad_input_section(inputs: BadInputs) -> list[str]:
    """The page's bad-input campaign: constructors, importers, subcommands."""
    c = inputs.constructors
    lines = [
        "## Bad-input campaign",
        "",
        f"{inputs.tried()} generated cases: {inputs.crashes()} crashes, "
        f"{inputs.partial_writes()} partial writes, {len(inputs.problems())} other faults.",
        "",
        "### Domain constructors",
        "",
        "Every validated class of `planner/`, built again from a valid object of the rich "
        "test scenario with one to three fields replaced by hostile values drawn by "
        "hypothesis: wrong kinds (text for numbers, lists for text, nothing), NaN and "
        "infinities, negative and huge numbers, empty, long, unicode and control text, "
        "dates far off or with a time zone, duplicated, dropped or junk list items, and "
        "values of the right kind from elsewhere (dangling codes, dates out of order). "
        "Each must give a valid object or a ValidationError of plain sentences naming the "
        "field (no Python words, no repr); a valid object replaces the original in the "
        "scenario, which must be refused the same way or come back equal from the "
        f"scenario JSON writer and reader and from a {inputs.backend} database.",
        "",
        "| class | cases | valid, round-tripped (JSON, database) | refused "
        "| valid, refused in the scenario | crashes | unreadable refusals | broken round trips |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in c.targets():
        lines.append(
            f"| {t} | {c.tried(t)} | {c.of(t, 'valid')} | {c.of(t, 'refused')} "
            f"| {c.of(t, 'valid, refused in the scenario')} | {c.of(t, 'crash')} "
            f"| {c.of(t, 'unreadable')} | {c.of(t, 'broken invariant')} |"
        )
    header = [
        "| cases | exit 0 | exit 1 | exit 2 | crashes | partial writes | other faults |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        "",
        "### Importers, into a database",
        "",
        "Generated files imported by `atmp-planner import` into a fresh copy of a database "
        "holding the rich scenario: its JSON with keys dropped or values replaced by junk or "
        "by values of the same key from elsewhere; its JSON text cut, spliced or not UTF-8; "
        "its workbook with cells overwritten; matrix rosters, long rosters (columns in any "
        "order and language, with or without a legend sheet) and referral lists of random "
        "cells merged into the stored scenario (`--scenario rich`). Each must exit 0, 1 or 2 "
        "with one error line, change no row when refused (digest of every row), and when stored, "
        "record it in the audit trail; a stored scenario must load back equal to what the "
        "reader makes of the file.",
        "",
        "| file " + header[0],
        header[1],
        *_run_rows(inputs.imports, list(IMPORTERS)),
        "",
        "### Every subcommand",
        "",
        "Argument lists drawn per subcommand (all but `gui`), mostly plausible values with "
        "junk, missing, out-of-range and odd ones mixed in (plan ids, dates, codes, file "
        "names, budgets, reasons; a junk `--user` or another `--db` now and then), each on a "
        "fresh copy of a database with a published and a current plan and a pin. Each must "
        "exit 0, 1 or 2 without a traceback, print exactly one `atmp-planner: error:` line "
        "(the last, without control characters) when it fails and leave every row as it "
        "was; a writing command that succeeds must have recorded its change in the audit "
        "trail and done what it says (the pin there, the plan approved, published or "
        "current, a solve's plan stored, an import's scenario stored).",
        "",
        "| subcommand " + header[0],
        header[1],
        *_run_rows(inputs.cli, sorted({t for t, _ in inputs.cli.per_command})),
        "",
    ]
    return lines


def write_page(
    args: argparse.Namespace,
    backends: list[str],
    kills: list[tuple[str, KillStats]],
    races: list[tuple[str, ConcurrentStats]],
    tampers: list[tuple[str, int, TamperStats]],
    backups: list[tuple[str, str, int, int, bool, bool]],
    fuzz: FuzzStats,
    inputs: BadInputs,
    minutes: float,
) -> None:
    """docs/reliability.md from the counts."""
    command = "ATMP_TEST_POSTGRES_URL=... .venv/bin/python scripts/reliability.py" + (
        f" --kills {args.kills} --rounds {args.rounds} --records {args.records}"
        f" --fuzz {args.fuzz} --inputs {args.inputs} --seed {args.seed}"
    )
    lines = [
        "# Reliability figures",
        "",
        "Generated by `scripts/reliability.py`; do not edit by hand, run it again:",
        "",
        f"    {command}",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {minutes:.1f} min on "
        f"{platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        + ", ".join(server_version(b) for b in backends)
        + ". The same campaigns run briefly in the test suite (`tests/data/test_crash_safety.py`, "
        "`test_shared_database.py`, `test_audit.py`, `test_backup.py`, "
        "`test_hostile_imports.py`, `tests/planner/test_hostile_constructors.py`, "
        "`tests/test_cli_trust_fuzz.py`, `tests/test_cli_hostile_arguments.py`).",
        "",
        "## In short",
        "",
        "| hostile cases tried | crashes | partial writes | kills survived "
        "| concurrent edits refused |",
        "| ---: | ---: | ---: | ---: | ---: |",
        f"| {inputs.tried() + sum(fuzz.outcomes.values())} "
        f"| {inputs.crashes() + fuzz.crashes} | {inputs.partial_writes() + fuzz.partial_writes} "
        f"| {sum(s.kills - len(s.problems) for _, s in kills)} of {sum(s.kills for _, s in kills)} "
        f"| {sum(r.refused for _, r in races)} of {sum(r.rounds for _, r in races)} |",
        "",
        "## Writers killed mid-write (SIGKILL)",
        "",
        "A real process repeats one kind of write (the CLI's `import --replace` of a "
        "demo-sized centre, alternating two versions that differ in about a thousand rows; "
        "the repository's scenario save; a plan save of 3,000 assignment rows, as a solve "
        "does) and is killed at a seeded random moment of its first or second write. After "
        "each kill the database must open and hold exactly the last committed state (the "
        "SHA-256 digest of every row of every table equal to the one the writer printed "
        "after that commit) or the whole write under way, if it had committed; the stored "
        "scenario or plans must equal what the write meant to store, with their audit "
        "records (one per plan, one for the stored version), and the trail must verify. "
        "'During a write': killed after the write began and before it reported its commit.",
        "",
        "| backend | operation | kills | during a write | write under way kept whole "
        "| lost or half-written |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for backend, s in kills:
        lines.append(
            f"| {backend} | {s.operation} | {s.kills} | {s.during_write} | {s.in_flight_kept} "
            f"| {len(s.problems)} |"
        )
    total = sum(s.kills for _, s in kills)
    bad = sum(len(s.problems) for _, s in kills)
    lines += ["", f"**{total} kills, {total - bad} survived with nothing lost.**", ""]
    lines += [
        "## Two people saving the same scenario at the same moment",
        "",
        "Alice and Bob, on two connections, load the same version and save different edits "
        "at the same instant (a thread barrier), round after round. One save must go "
        "through; the other must be refused with a message naming Alice or Bob and what "
        "they changed, and the stored scenario must be the winner's.",
        "",
        "| backend | rounds | refused, naming the other | both or neither saved | lost updates |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for backend, r in races:
        lines.append(f"| {backend} | {r.rounds} | {r.refused} | {r.wrong} | {r.lost} |")
    lines += [
        "",
        "## Audit records tampered with by raw SQL",
        "",
        "On a trail of a demo-sized import, an edit by another user and two plans: every "
        f"column of {args.records} records picked at random (the first and last always) "
        "changed by one `UPDATE`, records deleted (first, last and random ones) and pairs "
        "swapped; after each, `audit verify` must fail and name the record.",
        "",
        "| backend | records in the trail | kind | cases | detected | record named |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for backend, records, t in tampers:
        for kind in ("edit", "delete", "reorder"):
            lines.append(
                f"| {backend} | {records} | {kind} | {t.cases[kind]} | {t.detected[kind]} "
                f"| {t.named[kind]} |"
            )
    lines += [
        "",
        "## Backup and restore",
        "",
        "The same history backed up and restored into an empty database of each backend.",
        "",
        "| from | to | rows | audit records | digest of every row equal "
        "| audit verifies, scenario loads |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for source, target, rows, records, same, ok in backups:
        lines.append(
            f"| {source} | {target} | {rows} | {records} | {'yes' if same else 'NO'} "
            f"| {'yes' if ok else 'NO'} |"
        )
    tried = sum(fuzz.outcomes.values())
    lines += [
        "",
        "## Hostile arguments",
        "",
        "Argument lists drawn by hypothesis for `audit show` (junk or odd `--entity`, "
        "`--key`, `--since`, `--last`, `--by`, `--scenario`), `audit verify`, `backup` and "
        "`restore` (junk file names, directories, wrong suffixes, line breaks), with or "
        "without a junk `--user`, each on a fresh copy of a database. Each must exit 0, 1 "
        "or 2 without a traceback, print exactly one `atmp-planner: error:` line when it "
        "fails, and leave the database as it was (digest of every row, audit trail intact).",
        "",
        "| cases tried | exit 0 | exit 1 | exit 2 | crashes | partial writes | other faults |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {tried} | {fuzz.outcomes['exit 0']} | {fuzz.outcomes['exit 1']} "
        f"| {fuzz.outcomes['exit 2']} | {fuzz.crashes} | {fuzz.partial_writes} "
        f"| {len(fuzz.problems) - fuzz.crashes - fuzz.partial_writes} |",
        "",
        *bad_input_section(inputs),
        "## What these figures do not cover",
        "",
        "- The hash chain detects edits by someone who does not recompute the hashes. "
        "Someone with write access who rewrites every later record and the head is only "
        "caught by comparing the head hash with a copy kept elsewhere (`audit verify` "
        "prints it; a backup holds it).",
        "- Kills, not power cuts: SQLite runs with `synchronous=FULL` in WAL mode, but "
        "no test pulls the plug on the disk.",
        "- The bad-input campaign runs on SQLite files; the importers' writes to PostgreSQL "
        "are covered by the kills and the shared-database tests, not by generated files. "
        "`gui` is left out (it opens a window), and `demo` and `bench` only get argument "
        "lists refused before their long runs start.",
        "",
    ]
    args.out.write_text("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
