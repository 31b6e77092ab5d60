"""Backup and restore of a whole database, audit trail included, between real SQLite and
PostgreSQL databases in every direction: the same rows, a verified trail, all or nothing."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from data.backup import BackupError
from data.db import make_engine, upgrade
from data.integrity import database_digest
from data.repository import Repository
from tests.data.conftest import postgres_schema
from tests.data.test_repository import sample_plan
from tests.factories import rich_scenario, tiny_scenario


def _history(engine: Engine) -> Repository:
    """Two scenarios, an edit by another user, two plans and a choice."""
    repo = Repository(engine, user="alice")
    scenario = rich_scenario()
    repo.save_scenario(scenario, reason="load")
    repo.save_scenario(tiny_scenario(), reason="second centre")
    staff = (replace(scenario.staff[0], contracted_hours_per_week=30.0), *scenario.staff[1:])
    Repository(engine, user="bob").save_scenario(replace(scenario, staff=staff), 1, reason="hrs")
    first = repo.save_plan(sample_plan(), current=True)
    repo.save_plan(sample_plan(), current=True)
    repo.make_current(first, "rich", reason="back")
    return repo


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A second, empty and migrated database (not the `engine` one), once per backend."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            engine = make_engine(f"sqlite:///{tmp_path / 'target.sqlite'}")
            stack.callback(engine.dispose)
        else:
            engine = stack.enter_context(postgres_schema())
        upgrade(engine)
        yield engine


@pytest.fixture
def source_target(engine: Engine, target: Engine) -> tuple[Engine, Engine]:
    """A database with a history and an empty one (all four backend pairs)."""
    return engine, target


def test_a_restored_database_holds_the_same_rows_and_a_verified_trail(
    source_target: tuple[Engine, Engine], tmp_path: Path
) -> None:
    """Backup, restore into an empty database: the digest of every row is equal, the
    audit trail verifies, scenarios and plans load equal, and saving goes on (new ids)."""
    source, target = source_target
    repo = _history(source)
    path = tmp_path / "planner.backup.gz"
    counts = repo.backup(path)
    assert counts["scenario"] == 2 and counts["plan"] == 2 and counts["audit_record"] > 100
    restored = Repository(target, user="carol")
    assert restored.restore(path) == counts
    assert database_digest(target) == database_digest(source)
    check = restored.verify_audit()
    assert check.intact and check.head_hash == repo.verify_audit().head_hash
    assert restored.load_scenario("rich") == repo.load_scenario("rich")
    assert restored.current_plan("rich") == repo.current_plan("rich")
    plan_id = restored.save_plan(sample_plan(), reason="after restore")
    assert plan_id == max(repo.plan_ids("rich")) + 1
    restored.save_scenario(tiny_scenario(name="third"))
    assert restored.verify_audit().intact
    assert restored.audit_entries()[-1].user == "carol"


def test_a_database_holding_anything_is_refused_and_left_alone(
    engine: Engine, tmp_path: Path
) -> None:
    """Restoring into a database with rows in it is refused; it keeps every row."""
    repo = _history(engine)
    path = tmp_path / "planner.backup.gz"
    repo.backup(path)
    before = database_digest(engine)
    with pytest.raises(BackupError, match=r"not empty \(2 scenarios, 2 plans, \d+ audit records"):
        repo.restore(path)
    assert database_digest(engine) == before


def test_an_edited_backup_is_refused_and_nothing_restored(
    engine: Engine, target: Engine, tmp_path: Path
) -> None:
    """One value changed by hand in the file: the digest check refuses it, all rolled back."""
    path = tmp_path / "planner.backup.gz"
    _history(engine).backup(path)
    document = json.loads(gzip.decompress(path.read_bytes()))
    rows = document["tables"]["staff_member"]["rows"]
    rows[0][-1] = 99.0  # contracted hours
    path.write_bytes(gzip.compress(json.dumps(document).encode()))
    with pytest.raises(BackupError, match="does not match its own digest"):
        Repository(target).restore(path)
    assert Repository(target).count_rows() == 0 and Repository(target).audit_entries() == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"not gzip at all", "is not an atmp-planner backup"),
        (gzip.compress(b'{"format": "something else"}'), "is not an atmp-planner backup"),
        (gzip.compress(b'{"format": "atmp-planner backup", "format_version": 9}'), "format 9"),
    ],
)
def test_a_file_that_is_no_backup_is_refused(
    target: Engine, tmp_path: Path, content: bytes, words: str
) -> None:
    """Garbage, another JSON, a future format: BackupError saying so; nothing stored."""
    path = tmp_path / "other.gz"
    path.write_bytes(content)
    with pytest.raises(BackupError, match=words):
        Repository(target).restore(path)
    assert Repository(target).count_rows() == 0
