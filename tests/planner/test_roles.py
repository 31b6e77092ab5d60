"""The role matrix: who may do what, and the words of a refusal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from planner import ShiftCode
from planner.roles import (
    PERMISSIONS,
    Action,
    Actor,
    RoleGrant,
    UserRole,
    allows,
    describe_matrix,
    format_grants,
    highest,
    roles_for,
    scenario_actions,
)
from tests.factories import patient, tiny_scenario

A = Action
#: The matrix as docs/roles.md states it, written out by hand.
EXPECTED = {
    UserRole.DIRECTOR: set(Action),
    UserRole.COORDINATOR: {A.IMPORT_ROSTER, A.EDIT_PATIENTS, A.SOLVE},
    UserRole.SCHEDULER: {A.SOLVE, A.PIN, A.PUBLISH},
    UserRole.VIEWER: set(),
}


@pytest.mark.parametrize("role", list(UserRole))
@pytest.mark.parametrize("action", list(Action))
def test_the_matrix_is_the_documented_one(role: UserRole, action: Action) -> None:
    assert allows(role, action) == (action in EXPECTED[role])
    assert Actor("x", role).may(action) == (action in EXPECTED[role])


def test_a_viewer_may_nothing_and_only_a_director_approves_and_administers() -> None:
    assert PERMISSIONS[UserRole.VIEWER] == frozenset()
    assert roles_for(Action.APPROVE) == (UserRole.DIRECTOR,)
    assert roles_for(Action.ADMINISTER) == (UserRole.DIRECTOR,)
    assert roles_for(Action.EDIT_RESOURCES) == (UserRole.DIRECTOR,)


def test_without_roles_everything_is_allowed() -> None:
    """A database where nobody has a role yet is single-user."""
    assert all(allows(None, action) for action in Action)
    assert all(Actor("solo", None).may(action) for action in Action)


def test_a_refusal_names_the_user_their_role_and_the_roles_needed() -> None:
    assert Actor("bob", UserRole.VIEWER).refusal(Action.PUBLISH) == (
        "bob is a viewer; publishing a plan needs the director or scheduler role"
    )
    assert Actor("sam", UserRole.SCHEDULER).refusal(Action.APPROVE) == (
        "sam is a scheduler; approving a plan needs the director role"
    )
    assert Actor("bob", UserRole.VIEWER).refusal(Action.SOLVE) == (
        "bob is a viewer; solving and saving draft plans needs the director, coordinator or "
        "scheduler role"
    )


def test_the_most_powerful_role_wins() -> None:
    assert highest([UserRole.VIEWER, UserRole.SCHEDULER]) is UserRole.SCHEDULER
    assert highest([UserRole.COORDINATOR, UserRole.DIRECTOR]) is UserRole.DIRECTOR
    assert highest([]) is None


def test_what_a_scenario_save_needs_follows_what_it_changes() -> None:
    """Rosters and shift codes: importing a roster; patients: referrals; the rest (rooms,
    staff, site, horizon...): resources; a new scenario: resources."""
    base = tiny_scenario()
    roster = replace(base, roster=base.roster[1:])
    codes = replace(base, shift_codes=(*base.shift_codes, ShiftCode("N", "Night", 20, 8)))
    referred = replace(base, patients=(*base.patients, patient("P9")))
    rooms = replace(base, cleanrooms=base.cleanrooms[:0])
    assert scenario_actions(None, base) == [A.EDIT_RESOURCES]
    assert scenario_actions(base, roster) == [A.IMPORT_ROSTER]
    assert scenario_actions(base, codes) == [A.IMPORT_ROSTER]
    assert scenario_actions(base, referred) == [A.EDIT_PATIENTS]
    assert scenario_actions(base, rooms) == [A.EDIT_RESOURCES]
    assert scenario_actions(base, replace(base, frozen_days=3)) == [A.EDIT_RESOURCES]
    both = replace(referred, roster=roster.roster, cleanrooms=())
    assert scenario_actions(base, both) == [A.EDIT_RESOURCES, A.IMPORT_ROSTER, A.EDIT_PATIENTS]
    # An unchanged save still needs a coordinator's (or director's) rights.
    assert scenario_actions(base, base) == [A.EDIT_PATIENTS]


def test_the_printed_matrix_and_grants() -> None:
    matrix = describe_matrix().splitlines()
    assert matrix[0].split() == ["action", "director", "coordinator", "scheduler", "viewer"]
    assert matrix[2 + list(Action).index(A.PUBLISH)].endswith(
        "yes          -            yes          -"
    )
    assert "single-user" in format_grants([])
    table = format_grants([RoleGrant("bob", UserRole.VIEWER), RoleGrant("al", UserRole.DIRECTOR)])
    lines = table.splitlines()
    assert lines[2].startswith("al ") and lines[3].startswith("bob ")
    assert lines[-1] == "Anyone else is a viewer."
