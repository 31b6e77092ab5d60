"""Who may do what: the four user roles of a centre and the actions each may take.

Pure rules; data.access finds a user's role and data.repository enforces them on every
write. A database where nobody has been given a role yet is single-user: every action is
allowed (see docs/roles.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

from planner.scenario import Scenario


class UserRole(StrEnum):
    """A user's role in the centre (not a staff member's role in manufacturing)."""

    DIRECTOR = "director"
    COORDINATOR = "coordinator"
    SCHEDULER = "scheduler"
    VIEWER = "viewer"


class Action(StrEnum):
    """What a user may be allowed to do; the value says it in words."""

    EDIT_RESOURCES = "editing resources and settings"
    IMPORT_ROSTER = "importing a roster"
    EDIT_PATIENTS = "importing or editing referrals and patients"
    SOLVE = "solving and saving draft plans"
    PIN = "pinning patients"
    PUBLISH = "publishing a plan"
    APPROVE = "approving a plan"
    ADMINISTER = "backing up the database and managing users"


#: The matrix: every action each role may take (a viewer changes nothing).
PERMISSIONS: dict[UserRole, frozenset[Action]] = {
    UserRole.DIRECTOR: frozenset(Action),
    UserRole.COORDINATOR: frozenset({Action.IMPORT_ROSTER, Action.EDIT_PATIENTS, Action.SOLVE}),
    UserRole.SCHEDULER: frozenset({Action.SOLVE, Action.PIN, Action.PUBLISH}),
    UserRole.VIEWER: frozenset(),
}

#: Most powerful first: a user holding several roles acts with the first.
RANK: tuple[UserRole, ...] = tuple(UserRole)

#: Parts of a scenario coordinators keep up to date; every other part (rooms, devices,
#: staff, products, trials, site, ward, holidays, weights...) is a resource.
_PART_ACTIONS = {
    "roster": Action.IMPORT_ROSTER,
    "shift_codes": Action.IMPORT_ROSTER,
    "patients": Action.EDIT_PATIENTS,
}


def allows(role: UserRole | None, action: Action) -> bool:
    """Whether a role may take the action; None (no roles assigned yet) allows all."""
    return role is None or action in PERMISSIONS[role]


def roles_for(action: Action) -> tuple[UserRole, ...]:
    """The roles that may take the action, most powerful first."""
    return tuple(role for role in RANK if action in PERMISSIONS[role])


def highest(roles: Iterable[UserRole]) -> UserRole | None:
    """The most powerful of the roles; None if there are none."""
    held = set(roles)
    return next((role for role in RANK if role in held), None)


def scenario_actions(stored: Scenario | None, new: Scenario) -> list[Action]:
    """The actions saving new over the stored scenario (None: a new one) needs, in matrix
    order. A save that changes nothing still needs the coordinator's rights."""
    if stored is None:
        return [Action.EDIT_RESOURCES]
    needed = {
        _PART_ACTIONS.get(part.name, Action.EDIT_RESOURCES)
        for part in fields(Scenario)
        if getattr(stored, part.name) != getattr(new, part.name)
    }
    return [action for action in Action if action in needed] or [Action.EDIT_PATIENTS]


@dataclass(frozen=True)
class Actor:
    """Who acts: their name and role (None: no roles assigned, single-user)."""

    name: str
    role: UserRole | None

    def may(self, action: Action) -> bool:
        """Whether this actor may take the action."""
        return allows(self.role, action)

    def refusal(self, action: Action) -> str:
        """Why the action is refused, naming the user, their role and the roles needed."""
        *others, last = [role.value for role in roles_for(action)]
        names = f"{', '.join(others)} or {last}" if others else last
        return f"{self.name} is a {self.role}; {action.value} needs the {names} role"


def describe_matrix() -> str:
    """The matrix as a plain-text table (rows: actions; columns: roles)."""
    header = f"{'action':<46}" + "".join(f"{role.value:<13}" for role in UserRole)
    lines = [header.rstrip(), "-" * len(header.rstrip())]
    for action in Action:
        marks = "".join(f"{'yes' if allows(role, action) else '-':<13}" for role in UserRole)
        lines.append(f"{action.value:<46}{marks}".rstrip())
    return "\n".join(lines)


@dataclass(frozen=True)
class RoleGrant:
    """A user's role as stored: who gave it, when (UTC) and why."""

    user: str
    role: UserRole
    granted_by: str = ""
    granted_at: datetime | None = None
    reason: str | None = None


def format_grants(grants: Iterable[RoleGrant]) -> str:
    """A table of users and their roles, most powerful role first."""
    rows = sorted(grants, key=lambda a: (RANK.index(a.role), a.user))
    if not rows:
        return (
            "No roles are assigned: the database is single-user and everything is allowed. "
            "`atmp-planner users grant YOURNAME director --reason TEXT` starts using roles."
        )
    header = f"{'user':<20} {'role':<12} {'granted by':<16} {'granted (UTC)':<16}  reason"
    lines = [header, "-" * len(header)]
    for a in rows:
        when = "" if a.granted_at is None else f"{a.granted_at:%Y-%m-%d %H:%M}"
        lines.append(
            f"{a.user[:20]:<20} {a.role.value:<12} {a.granted_by[:16]:<16} {when:<16}  "
            f"{a.reason or ''}".rstrip()
        )
    lines.append("Anyone else is a viewer.")
    return "\n".join(lines)
