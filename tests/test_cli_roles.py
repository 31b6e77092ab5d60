"""`users` and the roles on the command line: a refused command prints one line, exits 1
and changes nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from atmp_planner.cli import main
from data.db import open_database
from data.integrity import database_digest
from data.repository import Repository
from tests.data.test_repository import sample_plan
from tests.test_cli_roster_import import MATRIX, book


@pytest.fixture
def roles_url(rich_url: str) -> tuple[str, int]:
    """The rich scenario with a draft plan; alice director, sam scheduler, bob viewer."""
    repo = Repository(open_database(rich_url), user="alice")
    plan = sample_plan()
    plan_id = repo.save_plan(replace(plan, solver=replace(plan.solver, stopped=False)))
    repo.close()
    for args in (["alice", "director"], ["sam", "scheduler"], ["bob", "viewer"]):
        assert main(["--db", rich_url, "--user", "alice", "users", "grant", *args,
                     "--reason", "staffing"]) == 0  # fmt: skip
    return rich_url, plan_id


def test_users_list_shows_the_roles_and_who_you_are(
    roles_url: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = roles_url
    capsys.readouterr()
    assert main(["--db", url, "--user", "bob", "users", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines[2:5]] == [
        ["alice", "director", "alice"],
        ["sam", "scheduler", "alice"],
        ["bob", "viewer", "alice"],
    ]
    assert lines[-1] == "You act as bob: viewer"


def test_a_viewer_is_refused_every_change_and_the_database_is_unchanged(
    roles_url: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, plan_id = roles_url
    roster = book(tmp_path / "roster.xlsx", "Januari", MATRIX)
    referrals = book(
        tmp_path / "ref.xlsx",
        "Referrals",
        [
            ["Code", "Product", "Referral date", "Earliest apheresis", "Latest apheresis"],
            ["N1", "CART", "2027-01-10", "2027-01-12", "2027-01-20"],
        ],
    )
    scenario_file = tmp_path / "rich.json"
    assert main(["--db", url, "--user", "bob", "export-scenario", str(scenario_file)]) == 0
    pid = str(plan_id)
    commands = {
        "solving and saving draft plans": [
            ["solve", "--scenario", "rich", "--quiet"],
            ["plans", "--scenario", "rich", "--use", pid],
        ],
        "editing resources and settings": [
            ["demo", "--out", str(tmp_path / "d.xlsx"), "--quiet"],
            ["import", str(scenario_file), "--scenario", "copy"],
        ],
        "importing a roster": [["import", str(roster), "--scenario", "rich"]],
        "importing or editing referrals and patients": [
            ["import", str(referrals), "--scenario", "rich"],
            # The same scenario again changes nothing but still needs a coordinator.
            ["import", str(scenario_file), "--replace"],
        ],
        "pinning patients": [["pin", "P1", "--scenario", "rich"], ["unpin", "P1"]],
        "publishing a plan": [["publish", "--plan", pid, "--without-approval"]],
        "approving a plan": [["approve", pid, "--reason", "fine"]],
        "backing up the database and managing users": [
            ["backup", str(tmp_path / "b.gz")],
            ["restore", str(tmp_path / "b.gz")],
            ["users", "grant", "bob", "director", "--reason", "me"],
            ["users", "revoke", "alice", "--reason", "me"],
            ["users", "setup-postgres"],
        ],
    }
    before = database_digest(open_database(url))
    capsys.readouterr()
    for needs, runs in commands.items():
        for args in runs:
            assert main(["--db", url, "--user", "bob", *args]) == 1, args
            err = capsys.readouterr().err.splitlines()
            assert err[-1].startswith(f"atmp-planner: error: bob is a viewer; {needs} needs "), (
                args,
                err,
            )
            assert err[-1].endswith("; nothing was changed"), args
            assert database_digest(open_database(url)) == before, args
    assert not (tmp_path / "b.gz").exists() and not (tmp_path / "d.xlsx").exists()


def test_a_scheduler_publishes_but_imports_no_roster(
    roles_url: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, plan_id = roles_url
    roster = book(tmp_path / "roster.xlsx", "Januari", MATRIX)
    assert main(["--db", url, "--user", "sam", "import", str(roster), "--scenario", "rich"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "atmp-planner: error: sam is a scheduler; importing a roster needs the director or "
        "coordinator role; nothing was changed"
    )
    args = ["publish", "--plan", str(plan_id), "--without-approval"]
    assert main(["--db", url, "--user", "sam", *args]) == 0
    assert main(["--db", url, "--user", "alice", "import", str(roster), "--scenario", "rich"]) == 0


def test_setup_postgres_prints_its_sql_and_is_refused_on_sqlite(
    rich_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", rich_url, "users", "setup-postgres", "--print", "--prefix", "cc"]) == 0
    script = capsys.readouterr().out
    assert 'CREATE ROLE "cc_viewer" NOLOGIN' in script
    assert 'GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "cc_director", ' in script
    assert 'GRANT INSERT ON "public"."audit_record" TO "cc_director";' in script
    assert 'BEFORE UPDATE OR DELETE ON "public"."audit_record"' in script
    assert main(["--db", rich_url, "users", "setup-postgres", "--print", "--prefix", "X-"]) == 1
    assert "a group prefix is a lower-case letter" in capsys.readouterr().err
    assert main(["--db", rich_url, "users", "setup-postgres"]) == 1
    assert capsys.readouterr().err.startswith(
        "atmp-planner: error: group roles are PostgreSQL's; on SQLite roles are kept"
    )
