"""Roles on a real PostgreSQL server: group roles and logins made by `users
setup-postgres`, real connections as a viewer, a scheduler and a director login; the
application refuses what a role may not do and the server refuses it too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, exc, make_url, text

from atmp_planner.cli import main
from data import db
from data.db import make_engine, open_database, upgrade
from data.repository import AccessDeniedError, Repository, StorageError
from planner.replan import Pin
from planner.roles import Actor, UserRole
from tests.data.conftest import _postgres_url, postgres_schema
from tests.data.test_repository import sample_plan
from tests.factories import rich_scenario

pytestmark = pytest.mark.postgres
PASSWORD = "atmp-roles-test"


def _run(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement))


def _denied(engine: Engine, statement: str) -> str:
    """The server's refusal of a raw statement (it must refuse)."""
    with pytest.raises(exc.DBAPIError) as caught:
        _run(engine, statement)
    return str(caught.value.orig)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Engine, str, dict[str, Engine]]]:
    """A schema holding the rich scenario and a draft plan, group roles set up by the
    owner, and three fresh logins (director, scheduler, viewer) with an engine each; every
    role made is dropped afterwards."""
    url = make_url(_postgres_url())
    prefix = f"t{uuid.uuid4().hex[:10]}"
    logins = {role: f"{prefix}_{role[0]}" for role in ("director", "scheduler", "viewer")}
    admin = make_engine(url.render_as_string(hide_password=False))
    engines: dict[str, Engine] = {}
    try:
        with postgres_schema() as owner:
            upgrade(owner)
            repo = Repository(owner, user=url.username)
            repo.save_scenario(rich_scenario())
            plan = sample_plan()
            repo.save_plan(replace(plan, solver=replace(plan.solver, stopped=False)))
            repo.setup_postgres(prefix, reason="shared database")
            schema = str(owner.url.query["options"]).removeprefix("-csearch_path=")
            for role, name in logins.items():
                _run(admin, f"CREATE ROLE {name} LOGIN PASSWORD '{PASSWORD}'")
                repo.set_role(name, UserRole(role), reason=f"test {role}")
                scoped = url.set(username=name, password=PASSWORD).update_query_dict(
                    {"options": f"-csearch_path={schema}"}
                )
                engines[role] = make_engine(scoped.render_as_string(hide_password=False))
            yield owner, prefix, engines
    finally:
        for engine in engines.values():
            engine.dispose()
        groups = [f"{prefix}_{r}" for r in ("director", "coordinator", "scheduler", "viewer")]
        with admin.begin() as connection:
            for name in [*logins.values(), *groups]:
                connection.execute(text(f"DROP ROLE IF EXISTS {name}"))
        admin.dispose()


def test_the_role_is_the_logins_group_and_nobody_acts_as_another(server) -> None:
    owner, prefix, engines = server
    viewer = Repository(engines["viewer"])  # $ATMP_PLANNER_USER is not the login: ignored
    assert viewer.actor() == Actor(f"{prefix}_v", UserRole.VIEWER)
    assert Repository(engines["scheduler"]).actor().role is UserRole.SCHEDULER
    with pytest.raises(AccessDeniedError, match="you act as your login 't"):
        Repository(engines["scheduler"], user="alice").actor()
    names = {(g.user, g.role) for g in Repository(owner).users()}
    assert {(f"{prefix}_s", UserRole.SCHEDULER), (f"{prefix}_v", UserRole.VIEWER)} <= names


def test_a_viewer_login_reads_and_both_app_and_server_refuse_its_writes(server) -> None:
    _owner, prefix, engines = server
    viewer = Repository(engines["viewer"])
    (summary,) = viewer.plan_summaries("rich")
    assert viewer.load_scenario("rich").name == "rich"
    with pytest.raises(AccessDeniedError, match="is a viewer; publishing a plan needs"):
        viewer.publish(summary.plan_id)
    with pytest.raises(AccessDeniedError, match="is a viewer; pinning patients needs"):
        viewer.add_pin("rich", Pin("P1"))
    engine = engines["viewer"]
    for statement in (
        "UPDATE plan SET published_seq = 9",
        "DELETE FROM pin",
        "UPDATE cleanroom SET changeover_hours = 0",
        "INSERT INTO audit_head (version, last_seq, last_hash) VALUES (1, 0, 'x')",
        f"INSERT INTO user_role (version, user_name, role, granted_by, granted_at) "
        f"VALUES (1, '{prefix}_v', 'director', 'me', now())",
    ):
        assert "permission denied" in _denied(engine, statement), statement
    with pytest.raises(StorageError, match="permission denied"):
        viewer.check_writable()


def test_the_command_line_on_a_viewer_login(server, capsys: pytest.CaptureFixture[str]) -> None:
    """Opening the database (migrated already) needs no write; a change is one error line."""
    _owner, prefix, engines = server
    url = engines["viewer"].url.render_as_string(hide_password=False)
    assert main(["--db", url, "plans", "--scenario", "rich"]) == 0
    assert main(["--db", url, "users", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"You act as {prefix}_v: viewer"
    assert main(["--db", url, "pin", "P1", "--scenario", "rich"]) == 1
    assert capsys.readouterr().err == (
        f"atmp-planner: error: {prefix}_v is a viewer; pinning patients needs the director or "
        "scheduler role; nothing was changed\n"
    )
    assert main(["--db", url, "--user", "alice", "plans", "--scenario", "rich"]) == 0
    assert main(["--db", url, "--user", "alice", "pin", "P1", "--scenario", "rich"]) == 1
    assert "you act as your login" in capsys.readouterr().err


def test_a_scheduler_login_publishes_and_pins_but_approves_and_edits_nothing(server) -> None:
    _owner, prefix, engines = server
    scheduler = Repository(engines["scheduler"])
    scheduler.check_writable()
    (summary, *_) = scheduler.plan_summaries("rich")
    assert scheduler.add_pin("rich", Pin("P2"))
    scheduler.publish(summary.plan_id)
    assert scheduler.published_plan_id("rich") == summary.plan_id
    with pytest.raises(AccessDeniedError, match="is a scheduler; approving a plan needs"):
        scheduler.approve(summary.plan_id, reason="fine")
    scenario = scheduler.load_scenario("rich")
    with pytest.raises(AccessDeniedError, match="is a scheduler; editing resources"):
        scheduler.save_scenario(replace(scenario, frozen_days=3))
    engine = engines["scheduler"]
    for statement in (
        "UPDATE plan SET approved_by = 'me', approved_at = now()",
        "UPDATE cleanroom SET changeover_hours = 0",
        "DELETE FROM patient",
        f"UPDATE user_role SET role = 'director' WHERE user_name = '{prefix}_s'",
    ):
        assert "permission denied" in _denied(engine, statement), statement
    refusal = _denied(engine, f"GRANT {prefix}_director TO {prefix}_s")
    assert refusal == f'must have admin option on role "{prefix}_director"'
    assert scheduler.verify_audit().intact


def test_the_audit_trail_is_append_only_for_every_login_owner_included(server) -> None:
    owner, _prefix, engines = server
    for role in ("viewer", "scheduler", "director"):
        for statement in ("UPDATE audit_record SET reason = 'x'", "DELETE FROM audit_record"):
            refusal = _denied(engines[role], statement)
            assert "permission denied" in refusal, (role, statement)
    for statement in (
        "UPDATE audit_record SET reason = 'x'",
        "DELETE FROM audit_record",
        "TRUNCATE audit_record",
    ):
        assert "the audit trail is append-only" in _denied(owner, statement), statement
    assert Repository(owner).verify_audit().intact


def test_a_director_login_grants_roles_and_approves(server) -> None:
    owner, prefix, engines = server
    director = Repository(engines["director"])
    director.set_role(f"{prefix}_v", UserRole.SCHEDULER, reason="promoted")
    assert Repository(engines["viewer"]).actor().role is UserRole.SCHEDULER
    director.set_role(f"{prefix}_v", UserRole.VIEWER, reason="back")
    assert Repository(engines["viewer"]).actor().role is UserRole.VIEWER
    plan_id = director.plan_summaries("rich")[0].plan_id
    director.approve(plan_id, reason="checked")  # the owner's login solved it
    assert director.plan_summaries("rich")[0].approved_by == f"{prefix}_d"
    records = [e for e in Repository(owner).audit_entries() if e.entity == "user_role"]
    assert [(e.user, e.key, e.new) for e in records[-2:]] == [
        (f"{prefix}_d", f"{prefix}_v", '"scheduler"'),
        (f"{prefix}_d", f"{prefix}_v", '"viewer"'),
    ]


def test_an_upgrade_gives_the_groups_their_privileges_on_new_tables(monkeypatch) -> None:
    """A table an upgrade adds (here made by hand) is out of every group's reach until
    granted; opening the database after an upgrade grants it, as `users setup-postgres`
    did for the tables it found, so viewers read it without that command run again."""
    url = make_url(_postgres_url())
    prefix = f"t{uuid.uuid4().hex[:10]}"
    viewer = f"{prefix}_viewer"
    admin = make_engine(url.render_as_string(hide_password=False))
    try:
        with postgres_schema() as owner:
            upgrade(owner)
            Repository(owner, user=url.username).setup_postgres(prefix, reason="go live")
            _run(owner, "CREATE TABLE batch_note (id integer PRIMARY KEY, note text)")

            def reads(table: str) -> bool:
                with owner.connect() as connection:
                    query = text("SELECT has_table_privilege(:role, :table, 'SELECT')")
                    return bool(connection.scalar(query, {"role": viewer, "table": table}))

            assert reads("plan") and not reads("batch_note")
            # The database's revision is now an older one than this program's head.
            monkeypatch.setattr(db, "SCHEMA_HEAD", "0010_after_head")
            open_database(owner.url.render_as_string(hide_password=False)).dispose()
            assert reads("batch_note") and reads("plan")
    finally:
        groups = [f"{prefix}_{r}" for r in ("director", "coordinator", "scheduler", "viewer")]
        with admin.begin() as connection:
            for name in groups:
                connection.execute(text(f"DROP ROLE IF EXISTS {name}"))
        admin.dispose()
