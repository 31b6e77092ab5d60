"""Reliability campaigns run by the tests (few rounds) and scripts/reliability.py (many):
processes killed while writing, audit records tampered with, concurrent edits."""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.orm import Session

from data import audit
from data.db import open_database
from data.integrity import database_digest
from data.orm import PlanAssignmentRow
from data.repository import ConcurrentEditError, Repository
from data.scenario_files import write_scenario
from planner import Scenario
from planner.audit import AuditFilter
from tests.factories import tiny_scenario
from tests.reliability.workload import NAME, PLAN_ROWS, VARIANTS, plan, variants

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ("import", "save", "plan")


@dataclass
class KillStats:
    """What a kill campaign did and found."""

    operation: str
    kills: int = 0
    #: Kills that landed after a write began and before it reported its commit.
    during_write: int = 0
    #: Kills after which the database held the write that was under way (it had committed).
    in_flight_kept: int = 0
    writes_committed: int = 0
    problems: list[str] = field(default_factory=list)
    #: The length of the last whole write seen (s), so kills fall inside writes however
    #: fast this machine is today.
    write_s: float | None = None


def _write_length(heard: dict[str, float], k: int) -> float | None:
    """Seconds from write k's begin to its commit, if both were heard."""
    if f"begin {k}" in heard and f"commit {k}" in heard:
        return heard[f"commit {k}"] - heard[f"begin {k}"]
    return None


def _reader(stream: object, lines: queue.Queue[str | None], heard: dict[str, float]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        heard[line.strip()] = time.monotonic()
        lines.put(line.strip())
    lines.put(None)


def prepare(engine: Engine, operation: str, folder: Path) -> None:
    """The starting state: variant A stored (and the import files written); for plan
    saves a small scenario of the same name is enough (plans are not checked against it)."""
    repo = Repository(engine)
    repo.save_scenario(tiny_scenario(name=NAME) if operation == "plan" else variants()[0])
    if operation == "import":
        write_scenario(folder / "a.json", variants()[0])
        write_scenario(folder / "b.json", variants()[1])


#: A write's length (s) until one has been seen; kills fall within a write's length.
WRITE_S = {"import": 0.6, "save": 0.3, "plan": 0.3}


def kill_campaign(url: str, operation: str, folder: Path, kills: int, seed: int) -> KillStats:
    """Start a writer `kills` times and SIGKILL it at a seeded random moment of its first
    or second write; after each kill the database must open and hold exactly the last
    committed state (same digest of every row), or that of the write under way if it had
    committed, never anything in between."""
    rng = random.Random(seed)
    stats = KillStats(operation)
    engine = open_database(url, create=False)
    try:
        prepare(engine, operation, folder)
        digest = database_digest(engine)
    finally:
        engine.dispose()
    state = 0  # variant stored (import, save) or plans stored (plan)
    for _ in range(kills):
        write, share = rng.randrange(2), rng.uniform(0.0, 1.0)
        state, digest = _kill_once(url, operation, folder, state, digest, write, share, stats)
    return stats


def _kill_once(
    url: str,
    operation: str,
    folder: Path,
    state: int,
    before: str,
    write: int,
    share: float,
    stats: KillStats,
) -> tuple[int, str]:
    """One writer started and killed `share` of a write's length into its write number
    `write`; returns the state and digest it left."""
    driver = [sys.executable, "-m", "tests.reliability.crash_driver"]
    child = subprocess.Popen(
        [*driver, url, operation, str(folder), str(state)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines: queue.Queue[str | None] = queue.Queue()
    heard: dict[str, float] = {}  # when each line arrived
    threading.Thread(target=_reader, args=(child.stdout, lines, heard), daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while f"begin {write}" not in seen:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if line is None:
            child.wait()
            raise RuntimeError(f"the writer ended early: {child.stderr.read()}")  # type: ignore[union-attr]
        seen.append(line)
    if write == 1:  # this writer's own first write, just done
        stats.write_s = _write_length(heard, 0) or stats.write_s
    time.sleep(share * (stats.write_s or WRITE_S[operation]))
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    while (line := lines.get(timeout=60)) is not None:
        seen.append(line)
    for k in (0, 1):
        stats.write_s = _write_length(heard, k) or stats.write_s
    child.stderr.close()  # type: ignore[union-attr]
    stats.kills += 1
    words = [s.split() for s in seen]
    commits = {int(w[1]) for w in words if w[0] == "commit"}
    digests = {int(w[1]): w[2] for w in words if w[0] == "digest"}
    begun = max(int(w[1]) for w in words if w[0] == "begin")
    last = max(commits, default=-1)
    stats.writes_committed += len(commits)
    under_way = begun > last
    stats.during_write += under_way
    # The database must open (migration checks, SQLite's quick_check) after every kill.
    engine = open_database(url, create=False)
    try:
        after = database_digest(engine)
        done = last + 1
        # Killed between a commit and its digest: the contents check below decides.
        committed = digests.get(last, before if last < 0 else after)
        if after != committed:
            if under_way and _holds(engine, operation, state, done + 1):
                stats.in_flight_kept += 1
                done += 1
            else:
                stats.problems.append(
                    f"{operation}: killed after {done} committed writes, the database holds "
                    "neither the last committed state nor the next one"
                )
        if not _holds(engine, operation, state, done):
            stats.problems.append(f"{operation}: the stored contents are not those of write {done}")
        if not Repository(engine).verify_audit().intact:
            stats.problems.append(f"{operation}: the audit trail does not verify after a kill")
    finally:
        engine.dispose()
    left = state + done if operation == "plan" else (state + done) % VARIANTS
    return left, after


def _holds(engine: Engine, operation: str, state: int, writes: int) -> bool:
    """Whether the database holds exactly the state `writes` writes after `state`, whole,
    its audit trail included (a record of the stored version, one per plan)."""
    repo = Repository(engine)
    if operation != "plan":
        saves = [
            e.scenario_version
            for e in repo.audit_entries(AuditFilter(entity="scenario"))
            if e.action in ("save", "import")
        ]
        return repo.load_scenario(NAME) == variants()[(state + writes) % VARIANTS] and saves[
            -1:
        ] == [repo.scenario_version(NAME)]
    ids = repo.plan_ids(NAME)
    with engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(PlanAssignmentRow))
    solves = [e.key for e in repo.audit_entries(AuditFilter(entity="plan")) if e.action == "solve"]
    total = state + writes
    if len(ids) != total or rows != total * PLAN_ROWS or solves != [f"#{i}" for i in ids]:
        return False
    if total == 0:
        return True
    current = repo.current_plan(NAME)
    return current is not None and current.same_content(plan(total - 1))


# Tampering ---------------------------------------------------------------------------------


def _a_microsecond_later(value: object) -> object:
    """A stored time one microsecond later (SQLite hands raw SQL its text)."""
    if isinstance(value, str):
        return (datetime.fromisoformat(value) + timedelta(microseconds=1)).isoformat(sep=" ")
    assert isinstance(value, datetime)
    return value + timedelta(microseconds=1)


#: Every column of an audit record with a way to change its value.
TAMPER_EDITS: dict[str, Callable[[Any], object]] = {
    "seq": lambda v: int(v) + 100_000,
    "at": _a_microsecond_later,
    "user_name": lambda v: f"{v}x",
    "action": lambda v: "delete" if v != "delete" else "create",
    "entity": lambda v: f"{v}x",
    "entity_key": lambda v: f"{v}x",
    "scenario": lambda v: "other" if v != "other" else "rich",
    "scenario_version": lambda v: (v or 0) + 1,
    "field": lambda v: "priority" if v != "priority" else "name",
    "old_value": lambda v: '"forged"' if v != '"forged"' else None,
    "new_value": lambda v: '"forged"' if v != '"forged"' else None,
    "reason": lambda v: "no reason" if v != "no reason" else None,
    "prev_hash": lambda v: "f" * 64 if v != "f" * 64 else "e" * 64,
    "hash": lambda v: "f" * 64 if v != "f" * 64 else "e" * 64,
}


@dataclass
class TamperStats:
    """Tamper cases tried on an audit trail and how many verification caught."""

    cases: Counter[str] = field(default_factory=Counter)
    detected: Counter[str] = field(default_factory=Counter)
    #: Detected and the message named the record tampered with (or the cut-off end).
    named: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)


def tampered(engine: Engine, tamper: Callable[[Connection], object]) -> tuple[bool, str]:
    """Verify after tampering by raw SQL inside a transaction that is then rolled back."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            tamper(connection)
            with Session(bind=connection) as session:
                check = audit.verify(session)
            return check.intact, "\n".join(check.problems)
        finally:
            transaction.rollback()


def _tally(stats: TamperStats, kind: str, outcome: tuple[bool, str], name: str, what: str) -> None:
    intact, problems = outcome
    stats.cases[kind] += 1
    if intact:
        stats.misses.append(f"{what}: not detected")
        return
    stats.detected[kind] += 1
    if name in problems:
        stats.named[kind] += 1
    else:
        stats.misses.append(f"{what}: detected without naming it ({problems[:200]})")


def tamper_campaign(engine: Engine, seed: int, records: int) -> TamperStats:
    """Edit every column of `records` records picked at random (first and last always),
    delete records (first, last, random) and swap pairs, each by raw SQL in a rolled-back
    transaction, and verify after each."""
    rng = random.Random(seed)
    stats = TamperStats()
    with engine.connect() as connection:
        seqs = list(connection.scalars(text("SELECT seq FROM audit_record ORDER BY seq")))
    picked = [seqs[0], seqs[-1], *rng.sample(seqs[1:-1], min(records, len(seqs)) - 2)]
    for seq in picked:
        for column, edit in TAMPER_EDITS.items():
            with engine.connect() as connection:
                value = connection.scalar(
                    text(f"SELECT {column} FROM audit_record WHERE seq = :s"), {"s": seq}
                )
            new = edit(value)

            def update(c: Connection, column: str = column, new: object = new, seq: int = seq):
                c.execute(
                    text(f"UPDATE audit_record SET {column} = :v WHERE seq = :s"),
                    {"v": new, "s": seq},
                )

            named = new if column == "seq" else seq
            outcome = tampered(engine, update)
            _tally(stats, "edit", outcome, f"audit record #{named} ", f"#{seq}.{column}")
    for seq in [seqs[0], seqs[-1], *rng.sample(seqs[1:-1], min(records, len(seqs)) - 2)]:

        def delete(c: Connection, seq: int = seq) -> None:
            c.execute(text("DELETE FROM audit_record WHERE seq = :s"), {"s": seq})

        outcome = tampered(engine, delete)
        name = f"ends at record #{seq - 1}" if seq == seqs[-1] else f"expected record #{seq}"
        _tally(stats, "delete", outcome, name, f"delete #{seq}")
    for _ in range(records):
        a, b = sorted(rng.sample(seqs, 2))

        def swap(c: Connection, a: int = a, b: int = b) -> None:
            c.execute(text("UPDATE audit_record SET seq = -1 WHERE seq = :a"), {"a": a})
            c.execute(text("UPDATE audit_record SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
            c.execute(text("UPDATE audit_record SET seq = :b WHERE seq = -1"), {"b": b})

        _tally(stats, "reorder", tampered(engine, swap), f"audit record #{a} ", f"swap #{a} #{b}")
    return stats


# Concurrent edits --------------------------------------------------------------------------


@dataclass
class ConcurrentStats:
    """Rounds of two people saving the same loaded version at the same moment."""

    rounds: int = 0
    refused: int = 0
    #: Rounds where both saves went through (a lost update) or neither did.
    wrong: int = 0
    #: Rounds after which the stored scenario was not the winner's.
    lost: int = 0


def concurrent_campaign(engine_a: Engine, engine_b: Engine, rounds: int) -> ConcurrentStats:
    """Alice and Bob (two engines: two connections) save edits of the same version at the
    same moment (a barrier), `rounds` times; one must win, the other be refused."""
    repos = [Repository(engine_a, user="alice"), Repository(engine_b, user="bob")]
    base = variants()[0]
    repos[0].save_scenario(base)
    stats = ConcurrentStats()
    for round_ in range(rounds):
        version = repos[0].scenario_version(NAME)
        edits = [
            replace(
                base, staff=(replace(base.staff[0], contracted_hours_per_week=h), *base.staff[1:])
            )
            for h in (30.0 + round_ % 5, 20.0 + round_ % 7)
        ]
        start = threading.Barrier(2, timeout=60)
        outcome: list[object] = [None, None]

        def save(
            i: int,
            start: threading.Barrier = start,
            outcome: list[object] = outcome,
            edits: list[Scenario] = edits,
            version: int = version,
        ) -> None:
            start.wait()
            try:
                outcome[i] = repos[i].save_scenario(edits[i], expected_version=version)
            except ConcurrentEditError as error:
                outcome[i] = error

        threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        stats.rounds += 1
        won = [i for i in range(2) if isinstance(outcome[i], int)]
        if len(won) != 1:
            stats.wrong += 1
            continue
        loser = outcome[1 - won[0]]
        if isinstance(loser, ConcurrentEditError) and f"by {repos[won[0]].user}" in str(loser):
            stats.refused += 1
        if repos[0].load_scenario(NAME) != edits[won[0]]:
            stats.lost += 1
    return stats
