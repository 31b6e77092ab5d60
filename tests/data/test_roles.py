"""Roles stored in the database and enforced by the repository: every refusal writes
nothing; grants are audited with who and why."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from data.db import downgrade, make_engine, upgrade
from data.integrity import database_digest
from data.repository import AccessDeniedError, Repository
from planner import ShiftCode
from planner.audit import AuditFilter
from planner.replan import Pin
from planner.roles import Actor, UserRole
from tests.data.test_repository import sample_plan
from tests.factories import patient, rich_scenario

DIRECTOR, COORDINATOR, SCHEDULER, VIEWER = UserRole


def as_user(engine: Engine, name: str) -> Repository:
    return Repository(engine, user=name)


@pytest.fixture
def staffed(engine: Engine) -> tuple[Engine, int]:
    """The rich scenario, one draft plan, and alice director, cora coordinator, sam
    scheduler, bob viewer (granted by alice)."""
    alice = as_user(engine, "alice")
    alice.save_scenario(rich_scenario())
    plan = sample_plan()
    plan_id = alice.save_plan(replace(plan, solver=replace(plan.solver, stopped=False)))
    alice.set_role("alice", DIRECTOR, reason="runs the centre")
    for name, role in (("cora", COORDINATOR), ("sam", SCHEDULER), ("bob", VIEWER)):
        alice.set_role(name, role, reason=f"{name}'s job")
    return engine, plan_id


@contextmanager
def refused(engine: Engine, message: str) -> Iterator[None]:
    """Expect a refusal with this message that leaves the database as it was."""
    before = database_digest(engine)
    with pytest.raises(AccessDeniedError) as caught:
        yield
    assert str(caught.value) == message
    assert database_digest(engine) == before


def test_a_new_database_is_single_user_until_the_first_grant(engine: Engine) -> None:
    """No roles: everything is allowed; the first grant must make the granter director,
    and from then on anyone without a role is a viewer."""
    repo = as_user(engine, "alice")
    assert repo.actor() == Actor("alice", None) and repo.users() == []
    repo.save_scenario(rich_scenario())
    with refused(
        engine,
        "no roles are assigned yet, so the first grant must make you director: "
        "`atmp-planner users grant alice director --reason TEXT`",
    ):
        repo.set_role("bob", DIRECTOR, reason="go ahead")
    repo.set_role("alice", DIRECTOR, reason="set up roles")
    assert repo.actor() == Actor("alice", DIRECTOR)
    assert as_user(engine, "mallory").actor() == Actor("mallory", VIEWER)
    (grant,) = repo.users()
    assert (grant.user, grant.role, grant.granted_by, grant.reason) == (
        "alice",
        DIRECTOR,
        "alice",
        "set up roles",
    )
    (record,) = repo.audit_entries(AuditFilter(entity="user_role"))
    assert (record.user, record.key, record.new, record.reason) == (
        "alice",
        "alice",
        '"director"',
        "set up roles",
    )


def test_a_viewer_changes_nothing(staffed: tuple[Engine, int]) -> None:
    engine, plan_id = staffed
    bob = as_user(engine, "bob")
    scenario = bob.load_scenario("rich")  # reading is allowed
    refusals = [
        (
            lambda: bob.save_scenario(replace(scenario, frozen_days=1)),
            "editing resources and settings needs the director role",
        ),
        (
            lambda: bob.save_scenario(scenario),
            "importing or editing referrals and patients needs the director or coordinator role",
        ),
        (
            lambda: bob.save_plan(sample_plan()),
            "solving and saving draft plans needs the director, coordinator or scheduler role",
        ),
        (
            lambda: bob.make_current(plan_id),
            "solving and saving draft plans needs the director, coordinator or scheduler role",
        ),
        (lambda: bob.publish(plan_id), "publishing a plan needs the director or scheduler role"),
        (lambda: bob.approve(plan_id, reason="ok"), "approving a plan needs the director role"),
        (
            lambda: bob.add_pin("rich", Pin("P1")),
            "pinning patients needs the director or scheduler role",
        ),
        (
            lambda: bob.remove_pins("rich", "P1", None),
            "pinning patients needs the director or scheduler role",
        ),
        (
            lambda: bob.delete_scenario("rich"),
            "editing resources and settings needs the director role",
        ),
        (
            lambda: bob.set_role("bob", DIRECTOR, reason="me"),
            "backing up the database and managing users needs the director role",
        ),
    ]
    for call, needs in refusals:
        with refused(engine, f"bob is a viewer; {needs}; nothing was changed"):
            call()


def test_a_coordinator_keeps_rosters_and_referrals_but_not_resources(
    staffed: tuple[Engine, int],
) -> None:
    engine, plan_id = staffed
    cora = as_user(engine, "cora")
    scenario = cora.load_scenario("rich")
    night = ShiftCode("X9", "Night", 20, 8)
    roster = replace(scenario, shift_codes=(*scenario.shift_codes, night))
    cora.save_scenario(roster, reason="new night shift")
    referred = replace(roster, patients=(*roster.patients, patient("P9")))
    cora.save_scenario(referred, reason="referral")
    assert cora.load_scenario("rich") == referred
    with refused(
        engine,
        "cora is a coordinator; editing resources and settings needs the director role; "
        "nothing was changed",
    ):
        room, *rooms = referred.cleanrooms
        moved = replace(room, changeover_hours=room.changeover_hours + 1)
        cora.save_scenario(
            replace(referred, patients=referred.patients[:1], cleanrooms=(moved, *rooms))
        )
    with refused(
        engine,
        "cora is a coordinator; publishing a plan needs the director or scheduler "
        "role; nothing was changed",
    ):
        cora.publish(plan_id)
    users = {r.user for r in cora.audit_entries(AuditFilter(scenario="rich", entity="patient"))}
    assert users == {"alice", "cora"}


def test_a_scheduler_solves_pins_and_publishes_and_only_another_director_approves(
    staffed: tuple[Engine, int],
) -> None:
    engine, plan_id = staffed
    sam = as_user(engine, "sam")
    assert sam.add_pin("rich", Pin("P1"))
    plan = sample_plan()
    mine = sam.save_plan(replace(plan, solver=replace(plan.solver, stopped=False)), current=True)
    with refused(
        engine, "sam is a scheduler; approving a plan needs the director role; nothing was changed"
    ):
        sam.approve(mine, reason="looks fine")
    alice = as_user(engine, "alice")
    with refused(
        engine,
        f"alice solved plan #{plan_id}; another director approves it (four eyes); "
        "nothing was changed",
    ):
        alice.approve(plan_id, reason="mine")
    alice.approve(mine, reason="checked")
    assert sam.publish(mine, require_approval=True) is None
    (summary,) = [s for s in sam.plan_summaries("rich") if s.plan_id == mine]
    assert (summary.approved_by, summary.published) == ("alice", True)


def test_the_last_director_stays_and_a_revoked_user_is_a_viewer(
    staffed: tuple[Engine, int],
) -> None:
    engine, _ = staffed
    alice = as_user(engine, "alice")
    with refused(
        engine, "alice is the last director; grant the director role to someone else first"
    ):
        alice.set_role("alice", VIEWER, reason="leaving")
    alice.set_role("sam", None, reason="moved to another unit")
    assert as_user(engine, "sam").actor() == Actor("sam", VIEWER)
    with refused(engine, "sam has no role to revoke"):
        alice.set_role("sam", None, reason="again")
    alice.set_role("cora", DIRECTOR, reason="deputy")
    alice.set_role("alice", None, reason="leaving")
    assert {(g.user, g.role) for g in alice.users()} == {("cora", DIRECTOR), ("bob", VIEWER)}
    changes = [
        (e.user, e.action, e.key, e.old, e.new)
        for e in alice.audit_entries(AuditFilter(entity="user_role"))
    ][-3:]
    assert changes == [
        ("alice", "delete", "sam", '"scheduler"', None),
        ("alice", "update", "cora", '"coordinator"', '"director"'),
        ("alice", "delete", "alice", '"director"', None),
    ]


def test_backup_and_restore_carry_the_roles(staffed: tuple[Engine, int], tmp_path: Path) -> None:
    """Only a director backs up; the restored database has the same roles."""
    engine, _ = staffed
    with refused(
        engine,
        "bob is a viewer; backing up the database and managing users needs "
        "the director role; nothing was changed",
    ):
        as_user(engine, "bob").backup(tmp_path / "b.gz")
    as_user(engine, "alice").backup(tmp_path / "b.gz")
    restored = make_engine(f"sqlite:///{tmp_path / 'restored.sqlite'}")
    upgrade(restored)
    as_user(restored, "anyone").restore(tmp_path / "b.gz")  # an empty database: no roles
    assert as_user(restored, "bob").actor() == Actor("bob", VIEWER)
    assert sorted(g.user for g in as_user(restored, "x").users()) == [
        "alice",
        "bob",
        "cora",
        "sam",
    ]


def test_0009_adds_the_role_tables_and_down_again_is_single_user(sqlite_engine: Engine) -> None:
    upgrade(sqlite_engine)
    repo = as_user(sqlite_engine, "alice")
    repo.set_role("alice", DIRECTOR, reason="start")
    downgrade(sqlite_engine, "0008")
    with sqlite_engine.connect() as connection:
        assert not {"user_role", "access_setting"} & set(inspect(connection).get_table_names())
    upgrade(sqlite_engine)
    assert repo.actor() == Actor("alice", None)
    assert repo.verify_audit().intact  # the grant stays recorded
