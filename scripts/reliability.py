"""Run the reliability campaigns at length and write docs/reliability.md from the counts.

    ATMP_TEST_POSTGRES_URL=postgresql+psycopg://... .venv/bin/python scripts/reliability.py

Kills writers (SIGKILL) mid-write, races two editors, tampers with audit records by raw SQL
and round-trips backups, on a SQLite file and (with $ATMP_TEST_POSTGRES_URL) on a
PostgreSQL schema of its own; every figure in the page comes from this run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, make_url, text  # noqa: E402

from data.db import make_engine, upgrade  # noqa: E402
from data.integrity import database_digest  # noqa: E402
from data.repository import Repository  # noqa: E402
from tests.reliability.campaigns import (  # noqa: E402
    OPERATIONS,
    ConcurrentStats,
    KillStats,
    TamperStats,
    concurrent_campaign,
    kill_campaign,
    tamper_campaign,
)
from tests.reliability.fuzz import FuzzStats, fuzz_campaign  # noqa: E402
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
    minutes = (time.monotonic() - started) / 60
    write_page(args, backends, kills, races, tampers, backups, fuzz, minutes)
    failures = (
        sum(len(s.problems) for _, s in kills)
        + sum(r.wrong + r.lost + (r.rounds - r.refused) for _, r in races)
        + sum(len(t.misses) for _, _, t in tampers)
        + sum(not (same and ok) for *_, same, ok in backups)
        + len(fuzz.problems)
    )
    print(f"Wrote {args.out} ({minutes:.1f} min); {failures} failures")
    return 1 if failures else 0


def write_page(
    args: argparse.Namespace,
    backends: list[str],
    kills: list[tuple[str, KillStats]],
    races: list[tuple[str, ConcurrentStats]],
    tampers: list[tuple[str, int, TamperStats]],
    backups: list[tuple[str, str, int, int, bool, bool]],
    fuzz: FuzzStats,
    minutes: float,
) -> None:
    """docs/reliability.md from the counts."""
    command = "ATMP_TEST_POSTGRES_URL=... .venv/bin/python scripts/reliability.py" + (
        f" --kills {args.kills} --rounds {args.rounds} --records {args.records}"
        f" --fuzz {args.fuzz} --seed {args.seed}"
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
        "`tests/test_cli_trust_fuzz.py`).",
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
        "## What these figures do not cover",
        "",
        "- The hash chain detects edits by someone who does not recompute the hashes. "
        "Someone with write access who rewrites every later record and the head is only "
        "caught by comparing the head hash with a copy kept elsewhere (`audit verify` "
        "prints it; a backup holds it).",
        "- Kills, not power cuts: SQLite runs with `synchronous=FULL` in WAL mode, but "
        "no test pulls the plug on the disk.",
        "",
    ]
    args.out.write_text("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
