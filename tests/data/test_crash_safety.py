"""A process killed (SIGKILL) while it imports, saves a scenario or saves a plan leaves the
last committed state intact, on real SQLite (WAL) and PostgreSQL: real subprocesses."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from data.db import upgrade
from tests.reliability.campaigns import OPERATIONS, kill_campaign

#: Kills per operation and backend: few, as each starts a Python process (about 1.5 s).
KILLS = 2


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_sqlite_databases_use_write_ahead_logging(sqlite_engine: Engine) -> None:
    """A migrated SQLite file is in WAL mode (a killed writer cannot tear the main file)."""
    upgrade(sqlite_engine)
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_killed_writer_loses_nothing_committed_and_leaves_nothing_half_written(
    engine: Engine, tmp_path: Path, operation: str
) -> None:
    """Writers killed at seeded random moments of a write: every kill leaves exactly the
    last committed state (digest of every row) or the whole write under way."""
    stats = kill_campaign(_url(engine), operation, tmp_path, kills=KILLS, seed=14)
    assert stats.problems == []
    assert stats.kills == KILLS
    assert stats.during_write >= 1  # the kills did hit writes
