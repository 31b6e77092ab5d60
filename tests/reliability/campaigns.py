"""Reliability campaigns run by the tests (few rounds) and scripts/reliability.py (many):
processes killed while writing, and (see the other functions) concurrent edits."""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select

from data.db import open_database
from data.integrity import database_digest
from data.orm import PlanAssignmentRow
from data.repository import Repository
from data.scenario_files import write_scenario
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


def _reader(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        lines.put(line.strip())
    lines.put(None)


def prepare(engine: Engine, operation: str, folder: Path) -> None:
    """The starting state: variant A stored (and the import files written)."""
    repo = Repository(engine)
    repo.save_scenario(variants()[0])
    if operation == "import":
        write_scenario(folder / "a.json", variants()[0])
        write_scenario(folder / "b.json", variants()[1])


#: Seconds after a write begins within which the kill falls (about a write's length here).
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
        write, delay = rng.randrange(2), rng.uniform(0.0, WRITE_S[operation])
        state, digest = _kill_once(url, operation, folder, state, digest, write, delay, stats)
    return stats


def _kill_once(
    url: str,
    operation: str,
    folder: Path,
    state: int,
    before: str,
    write: int,
    delay: float,
    stats: KillStats,
) -> tuple[int, str]:
    """One writer started and killed `delay` s into its write number `write`; returns the
    state and digest it left."""
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
    threading.Thread(target=_reader, args=(child.stdout, lines), daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while f"begin {write}" not in seen:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if line is None:
            child.wait()
            raise RuntimeError(f"the writer ended early: {child.stderr.read()}")  # type: ignore[union-attr]
        seen.append(line)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    while (line := lines.get(timeout=60)) is not None:
        seen.append(line)
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
    finally:
        engine.dispose()
    left = state + done if operation == "plan" else (state + done) % VARIANTS
    return left, after


def _holds(engine: Engine, operation: str, state: int, writes: int) -> bool:
    """Whether the database holds exactly the state `writes` writes after `state`, whole."""
    repo = Repository(engine)
    if operation != "plan":
        return repo.load_scenario(NAME) == variants()[(state + writes) % VARIANTS]
    ids = repo.plan_ids(NAME)
    with engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(PlanAssignmentRow))
    total = state + writes
    if len(ids) != total or rows != total * PLAN_ROWS:
        return False
    if total == 0:
        return True
    current = repo.current_plan(NAME)
    return current is not None and current.same_content(plan(total - 1))
