"""`atmp-planner backup FILE` and `restore FILE` end to end on real SQLite files."""

from __future__ import annotations

from pathlib import Path

import pytest

from atmp_planner.cli import main
from data.db import open_database
from data.integrity import database_digest
from tests.test_cli_audit import db  # noqa: F401 (a fixture: a database with a history)


def run(path: Path, *args: str) -> int:
    return main(["--db", f"sqlite:///{path}", *args])


def test_backup_then_restore_into_a_new_file_verifies(
    db: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The restored file holds the same rows; restore says the digest matched and the
    audit trail verified; a second restore into it is refused, changing nothing."""
    backup, copy = tmp_path / "planner.backup.gz", tmp_path / "restored.sqlite"
    assert run(db, "backup", str(backup)) == 0
    assert capsys.readouterr().out.startswith(f"Wrote {backup}: 1 scenarios, 1 plans, ")
    assert run(copy, "restore", str(backup)) == 0
    out = capsys.readouterr().out
    assert "digest matches; Audit trail intact: " in out
    digest = database_digest(open_database(f"sqlite:///{copy}"))
    assert digest == database_digest(open_database(f"sqlite:///{db}"))
    assert run(copy, "restore", str(backup)) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "the database is not empty (1 scenarios, 1 plans" in err[0]
    assert database_digest(open_database(f"sqlite:///{copy}")) == digest


def test_a_failed_restore_leaves_no_new_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Restoring garbage into a new SQLite file: one line, exit 1, and no file is left."""
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"nothing useful")
    target = tmp_path / "new.sqlite"
    assert run(target, "restore", str(garbage)) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "is not an atmp-planner backup" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.gz"]


def test_a_backup_name_must_end_in_gz(
    db: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A backup file name without .gz is refused before anything is written."""
    assert run(db, "backup", str(tmp_path / "planner.json")) == 1
    assert "must end in .gz" in capsys.readouterr().err
    assert not (tmp_path / "planner.json").exists()
