"""Who the acting user is and which role they hold, stored in the database.

Two ways, chosen per database:

* The `user_role` table (SQLite, or PostgreSQL without group roles): the role of the
  name the user claims (--user, $ATMP_PLANNER_USER, else the login). The application
  enforces it; on SQLite the file's permissions are the real control.
* PostgreSQL group roles (after `atmp-planner users setup-postgres`): the acting user is
  the database login (`current_user`) and its role is the most powerful of the groups
  PREFIX_director, PREFIX_coordinator, PREFIX_scheduler, PREFIX_viewer it is a member of.
  The server enforces the same matrix with table privileges (postgres_statements).

No role assigned yet (no rows, no groups set up): single-user, everything is allowed.
Once roles exist, a user without one is a viewer.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from data.audit import Change
from data.orm import (
    PLAN_CHILDREN,
    AccessSettingRow,
    AuditHeadRow,
    AuditRecordRow,
    Base,
    PinRow,
    PlanRow,
    ScenarioRow,
    UserRoleRow,
)
from planner.roles import Actor, RoleGrant, UserRole, highest

#: access_setting naming the prefix of the PostgreSQL group roles.
POSTGRES_GROUPS = "postgres_groups"
#: A group prefix: lower-case letters, digits and underscores (an SQL identifier).
PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,40}")
DEFAULT_PREFIX = "atmp"


def groups(prefix: str) -> dict[UserRole, str]:
    """The PostgreSQL group role of each user role."""
    return {role: f"{prefix}_{role.value}" for role in UserRole}


def postgres_prefix(session: Session) -> str | None:
    """The group prefix if roles come from PostgreSQL group membership here, else None."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.scalar(
        select(AccessSettingRow.value).where(AccessSettingRow.name == POSTGRES_GROUPS)
    )


def login(session: Session) -> str:
    """The database login of this connection (PostgreSQL's current_user)."""
    return str(session.scalar(text("SELECT current_user")))


def _member_roles(session: Session, prefix: str, name: str) -> list[UserRole]:
    """The user roles whose group the PostgreSQL role name is a member of (directly or
    through other groups)."""
    by_group = {group: role for role, group in groups(prefix).items()}
    query = text(
        "SELECT rolname FROM pg_roles WHERE rolname IN :groups "
        "AND pg_has_role(:name, oid, 'MEMBER')"
    ).bindparams(bindparam("groups", expanding=True))
    found = session.scalars(query, {"groups": list(by_group), "name": name})
    return [by_group[group] for group in found]


def actor(session: Session, claimed: str, explicit: bool) -> Actor:
    """Who acts in this session and with which role (None: no roles, single-user).

    With PostgreSQL groups the login acts; a different name given explicitly is refused
    (ValueError), so nobody can act under another's name.
    """
    prefix = postgres_prefix(session)
    if prefix is not None:
        me = login(session)
        if explicit and claimed != me:
            raise ValueError(
                f"on this shared PostgreSQL database you act as your login {me!r}; "
                f"--user {claimed!r} is refused (connect as {claimed} to act as them)"
            )
        return Actor(me, highest(_member_roles(session, prefix, me)) or UserRole.VIEWER)
    if not session.scalar(select(func.count()).select_from(UserRoleRow)):
        return Actor(claimed, None)
    role = session.scalar(select(UserRoleRow.role).where(UserRoleRow.user_name == claimed))
    return Actor(claimed, UserRole(role) if role is not None else UserRole.VIEWER)


def grants(session: Session) -> list[RoleGrant]:
    """Every user's role. With PostgreSQL groups, the roles are the logins' group
    memberships (what the server enforces), with the grant details the table records."""
    stored = {
        r.user_name: RoleGrant(
            r.user_name, UserRole(r.role), r.granted_by, r.granted_at.replace(tzinfo=UTC), r.reason
        )
        for r in session.scalars(select(UserRoleRow))
    }
    prefix = postgres_prefix(session)
    if prefix is None:
        return list(stored.values())
    names = groups(prefix)
    query = text(
        "SELECT m.rolname, g.rolname FROM pg_auth_members a "
        "JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
        "WHERE g.rolname IN :groups AND m.rolname NOT IN :groups"
    ).bindparams(bindparam("groups", expanding=True))
    held: dict[str, list[UserRole]] = {}
    by_group = {group: role for role, group in names.items()}
    for member, group in session.execute(query, {"groups": list(names.values())}):
        held.setdefault(member, []).append(by_group[group])
    result = []
    for member, roles in held.items():
        role = highest(roles)
        assert role is not None
        known = stored.get(member)
        result.append(
            RoleGrant(member, role, known.granted_by, known.granted_at, known.reason)
            if known is not None and known.role == role
            else RoleGrant(member, role, "(PostgreSQL)", None, None)
        )
    return result


def _directors(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(UserRoleRow.user_name).where(UserRoleRow.role == UserRole.DIRECTOR.value)
        )
    )


def set_role(
    session: Session, by: Actor, name: str, role: UserRole | None, reason: str
) -> list[Change]:
    """Give name the role (None: take their role away) as the actor; the changes to
    record. Refused (ValueError): a first grant that does not make the actor director,
    and taking the director role from the last director."""
    row = session.scalars(
        select(UserRoleRow).where(UserRoleRow.user_name == name).with_for_update()
    ).one_or_none()
    prefix = postgres_prefix(session)
    if by.role is None and (name != by.name or role is not UserRole.DIRECTOR):
        raise ValueError(
            "no roles are assigned yet, so the first grant must make you director: "
            f"`atmp-planner users grant {by.name} director --reason TEXT`"
        )
    old = None if row is None else row.role
    last = prefix is None and _directors(session) == [name]
    if old == UserRole.DIRECTOR.value and role is not UserRole.DIRECTOR and last:
        raise ValueError(
            f"{name} is the last director; grant the director role to someone else first"
        )
    if prefix is not None:
        _set_membership(session, prefix, name, role)
    if role is None:
        if row is None and prefix is None:
            raise ValueError(f"{name} has no role to revoke")
        if row is not None:
            session.delete(row)
        return [Change("delete", "user_role", name, "role", old, None)]
    now = datetime.now(UTC).replace(tzinfo=None)
    if row is None:
        session.add(
            UserRoleRow(
                user_name=name, role=role.value, granted_by=by.name, granted_at=now, reason=reason
            )
        )
        return [Change("create", "user_role", name, "role", None, role.value)]
    row.role, row.granted_by, row.granted_at, row.reason = role.value, by.name, now, reason
    return [Change("update", "user_role", name, "role", old, role.value)]


def _set_membership(session: Session, prefix: str, name: str, role: UserRole | None) -> None:
    """Make the PostgreSQL login a member of exactly the group of role (none: of none)."""
    if not session.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :n"), {"n": name}):
        raise ValueError(
            f"there is no PostgreSQL login {name!r}; the database administrator creates it "
            f"first: CREATE ROLE {_identifier(name)} LOGIN PASSWORD '...'"
        )
    who = _identifier(name)
    for other, group in groups(prefix).items():
        if other is role:
            session.execute(text(f"GRANT {_identifier(group)} TO {who}"))
        elif session.scalar(
            text(
                "SELECT count(*) FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
                "JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = :g AND m.rolname = :m"
            ),
            {"g": group, "m": name},
        ):
            session.execute(text(f"REVOKE {_identifier(group)} FROM {who}"))


# PostgreSQL group roles and privileges ------------------------------------------------------


def _writes(role: UserRole) -> list[tuple[str, str]]:
    """(privileges, table) the role is granted beyond SELECT on every table."""
    audit = [
        ("INSERT", AuditRecordRow.__tablename__),
        ("INSERT, UPDATE", AuditHeadRow.__tablename__),
    ]
    plan = PlanRow.__tablename__
    children = [("INSERT", t.__tablename__) for t in PLAN_CHILDREN]
    if role is UserRole.VIEWER:
        return []
    if role is UserRole.DIRECTOR:
        return [
            (
                "INSERT" if t.name == AuditRecordRow.__tablename__ else "INSERT, UPDATE, DELETE",
                t.name,
            )
            for t in Base.metadata.sorted_tables
        ]
    if role is UserRole.SCHEDULER:
        return [
            *audit,
            ("INSERT, UPDATE (chosen_seq, published_seq, published_at, version)", plan),
            *children,
            ("INSERT, DELETE", PinRow.__tablename__),
        ]
    edited = ["roster_entry", "shift_code", "patient", "done_step"]
    return [
        *audit,
        ("UPDATE (name, version)", ScenarioRow.__tablename__),
        *[("INSERT, UPDATE, DELETE", t) for t in edited],
        ("INSERT, UPDATE (chosen_seq, version)", plan),
        *children,
    ]


def postgres_statements(prefix: str, schema: str) -> list[str]:
    """The SQL that makes the four group roles (NOLOGIN) and grants each the table
    privileges of its role in schema; the audit trail is append-only for every login."""
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise ValueError(
            f"a group prefix is a lower-case letter, then letters, digits or underscores: "
            f"{prefix!r}"
        )
    q = _identifier
    s = q(schema)
    names = groups(prefix)
    everyone = ", ".join(q(g) for g in names.values())
    statements = [
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
        f"'{group}') THEN CREATE ROLE {q(group)} NOLOGIN; END IF; END $$"
        for group in names.values()
    ]
    statements += [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM PUBLIC, {everyone}",
        f"GRANT USAGE ON SCHEMA {s} TO {everyone}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {everyone}",
    ]
    for role in UserRole:
        if role is UserRole.VIEWER:
            continue
        group = q(names[role])
        statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {group}")
        for privileges, table in _writes(role):
            statements.append(f"GRANT {privileges} ON {s}.{q(table)} TO {group}")
    # Directors may give the other roles to logins (`users grant`).
    for role in (UserRole.COORDINATOR, UserRole.SCHEDULER, UserRole.VIEWER):
        statements.append(
            f"GRANT {q(names[role])} TO {q(names[UserRole.DIRECTOR])} WITH ADMIN OPTION"
        )
    audit = f"{s}.{q(AuditRecordRow.__tablename__)}"
    function = f"{s}.atmp_audit_append_only"
    statements += [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION USING MESSAGE = 'the audit trail is append-only: ' || TG_OP "
        "|| ' on audit_record refused', ERRCODE = 'insufficient_privilege'; END $$",
        f"DROP TRIGGER IF EXISTS audit_record_append_only ON {audit}",
        f"CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON {audit} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"DROP TRIGGER IF EXISTS audit_record_no_truncate ON {audit}",
        f"CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON {audit} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]
    return statements


def _identifier(name: str) -> str:
    """A PostgreSQL identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def postgres_script(prefix: str, schema: str) -> str:
    """postgres_statements as one script, with how to add people at its end."""
    lines = [f"{statement};" for statement in postgres_statements(prefix, schema)]
    names = groups(prefix)
    lines += [
        "",
        "-- Then one LOGIN role per person, a member of one group, e.g.:",
        f"--   CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE {names[UserRole.DIRECTOR]};",
        f"--   CREATE ROLE bob LOGIN PASSWORD '...' IN ROLE {names[UserRole.VIEWER]};",
        "-- and, in this database, once (as the login that ran this script):",
        f"--   INSERT INTO access_setting (version, name, value) VALUES (1, '{POSTGRES_GROUPS}', "
        f"'{prefix}');",
        "-- (`atmp-planner users setup-postgres` runs all of this and records it.)",
    ]
    return "\n".join(lines)


def regrant_after_upgrade(session: Session) -> str | None:
    """Where group roles are in use (their prefix recorded), grant them again on every
    table, the ones an upgrade just made included; the prefix, or None where there are
    none. Run by the login that upgraded, who owns the tables and so may grant."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    prefix = session.scalar(
        select(AccessSettingRow.value).where(AccessSettingRow.name == POSTGRES_GROUPS)
    )
    if prefix is None:
        return None
    schema = str(session.scalar(text("SELECT current_schema()")))
    for statement in postgres_statements(prefix, schema):
        session.execute(text(statement))
    return str(prefix)


def setup_postgres(session: Session, prefix: str) -> list[Change]:
    """Run postgres_statements here, make this login director and record the prefix:
    from then on roles are group memberships. The changes to record."""
    if session.get_bind().dialect.name != "postgresql":
        raise ValueError(
            "group roles are PostgreSQL's; on SQLite roles are kept in the database "
            "(`atmp-planner users grant`) and the file's permissions guard it"
        )
    schema = str(session.scalar(text("SELECT current_schema()")))
    for statement in postgres_statements(prefix, schema):
        session.execute(text(statement))
    me = login(session)
    session.execute(
        text(f"GRANT {_identifier(groups(prefix)[UserRole.DIRECTOR])} TO {_identifier(me)}")
    )
    row = session.scalars(
        select(AccessSettingRow).where(AccessSettingRow.name == POSTGRES_GROUPS)
    ).one_or_none()
    old = None if row is None else row.value
    if row is None:
        session.add(AccessSettingRow(name=POSTGRES_GROUPS, value=prefix))
    else:
        row.value = prefix
    return [Change("update", "access_setting", POSTGRES_GROUPS, "value", old, prefix)]
