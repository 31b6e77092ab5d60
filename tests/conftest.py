"""Test set-up shared by all packages."""

import os

# Qt aborts without a display unless this is set before any QApplication exists.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The audit trail records this user (not the login of whoever runs the tests), also in the
# subprocesses the tests start.
os.environ["ATMP_PLANNER_USER"] = "tester"


# Imported after the environment above is set.
import shutil
from pathlib import Path

import pytest


@pytest.fixture
def demo_url(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> str:
    """A fresh copy of a database holding the demo and one plan (solved once per session)."""
    from atmp_planner.cli import main
    from tests.test_cli import FAST

    folder = tmp_path_factory.getbasetemp() / "solved-demo"
    source = folder / "planner.sqlite"
    if not source.exists():
        folder.mkdir(exist_ok=True)
        out = folder / "demo.xlsx"
        assert main(["--db", f"sqlite:///{source}", "demo", "--out", str(out), *FAST]) == 0
    shutil.copy(source, tmp_path / "planner.sqlite")
    return f"sqlite:///{tmp_path / 'planner.sqlite'}"


@pytest.fixture(scope="session")
def rich_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file holding the rich scenario, made once."""
    from data.db import open_database
    from data.repository import Repository
    from tests.factories import rich_scenario

    path = tmp_path_factory.mktemp("stored") / "planner.sqlite"
    repo = Repository(open_database(f"sqlite:///{path}"))
    repo.save_scenario(rich_scenario())
    repo.close()  # one self-contained file (no write-ahead log beside it) to copy
    return path


@pytest.fixture
def rich_url(rich_db: Path, tmp_path: Path) -> str:
    """A fresh copy of the database holding the rich scenario."""
    shutil.copy(rich_db, tmp_path / "planner.sqlite")
    return f"sqlite:///{tmp_path / 'planner.sqlite'}"
