"""The repository: saves and loads scenarios and plans, one transaction per call.

Every write to the database goes through this module. A call either stores everything
or nothing (one transaction); loads return planner objects equal to what was saved.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, delete, event, exc, func, insert, inspect, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from data import access, audit, backup
from data.audit import Change
from data.db import SQLITE_BEGIN_IMMEDIATE, describe_error
from data.orm import (
    PLAN_CHILDREN,
    SCENARIO_CHILDREN,
    ApheresisExceptionRow,
    AuditHeadRow,
    AuditRecordRow,
    BedChangeRow,
    CleanroomDowntimeRow,
    CleanroomRow,
    CohortRow,
    DeviceDowntimeRow,
    DeviceRow,
    DoneStepRow,
    HolidayRow,
    PatientRow,
    PinRow,
    PlanAssignmentRow,
    PlanRow,
    PlanScheduleRow,
    PlanUnscheduledRow,
    PlanUtilisationRow,
    PriorityWeightRow,
    ProcessStepRow,
    ProductRow,
    RosterEntryRow,
    ScenarioRow,
    ShiftCodeRow,
    StaffMemberRow,
    StaffNeedRow,
    TrialRow,
    Versioned,
)
from data.scenario_diff import scenario_fields, sync_scenario
from data.scenario_json import scenario_from_dict, scenario_to_dict
from planner import (
    ApheresisCapacity,
    Assignment,
    BedChange,
    Cleanroom,
    Cohort,
    Device,
    DoneStep,
    Grade,
    Holiday,
    Kpis,
    Patient,
    PatientSchedule,
    PatientStatus,
    Plan,
    PlanSummary,
    ProcessStep,
    Product,
    ResourceType,
    Role,
    RosterEntry,
    Scenario,
    ShiftCode,
    Site,
    SolverInfo,
    SolveSettings,
    StaffMember,
    StaffNeed,
    Storage,
    Trial,
    Unscheduled,
    UnscheduledReason,
    ValidationError,
    Ward,
    Window,
)
from planner.audit import AuditCheck, AuditEntry, AuditFilter, shown
from planner.plan import ObjectiveLevel
from planner.replan import Pin, Replan
from planner.reproduce import PlanInputs, ReplanBasis
from planner.roles import (
    Action,
    Actor,
    RoleGrant,
    UserRole,
    scenario_actions,
)

RowT = TypeVar("RowT", bound=Versioned)
EnumT = TypeVar("EnumT", bound=StrEnum)
Weekly = tuple[int, int, int, int, int, int, int]


class RepositoryError(Exception):
    """Base class of the repository's own errors."""


class NotFoundError(RepositoryError, LookupError):
    """The scenario or plan asked for is not stored."""


class ScenarioExistsError(RepositoryError):
    """A scenario of that name is stored already and replacing it was not asked for."""


class ConcurrentEditError(RepositoryError):
    """Someone else saved the scenario since it was loaded; reload before saving again."""


class StorageError(RepositoryError):
    """The database failed during a call (damaged file, lost server, read-only, locked)."""


class StoredDataError(RepositoryError):
    """A stored value cannot be read back: the database is damaged or another program wrote it."""


class ApprovedPlanError(RepositoryError):
    """A change to an approved plan (approved plans are immutable), or publishing a draft
    where approval is required."""


class AccessDeniedError(RepositoryError):
    """The acting user's role does not allow what was asked; nothing was written."""


class NotReproducibleError(RepositoryError):
    """The plan has no stored inputs (made before they were stored)."""


def _enum(kind: type[EnumT], row: Versioned, column: str, value: str | None = None) -> EnumT:
    """The member of kind stored in a row's column (or value, for list columns).

    An unknown value raises StoredDataError naming the table, the row and the column.
    """
    raw: Any = getattr(row, column) if value is None else value
    try:
        return kind(raw)
    except ValueError:
        code = getattr(row, "code", None) or getattr(row, "patient_code", None)
        which = f"id {row.id}" + (f" (code {code!r})" if code else "")
        table = getattr(row, "__tablename__", type(row).__name__)
        known = ", ".join(member.value for member in kind)
        raise StoredDataError(
            f"table {table}, row {which}, column {column} holds {raw!r}, which is not a "
            f"known {kind.__name__} ({known}); the database was written by a newer or "
            "another program: use that program, or restore a backup"
        ) from None


def _bulk_insert(session: Session, model: type[Versioned], rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows of one table in one executemany (version 1 for new rows)."""
    if rows:
        session.execute(insert(model), [{"version": 1, **row} for row in rows])


def _add_all(session: Session, rows: Sequence[RowT]) -> Sequence[RowT]:
    """Insert ORM rows and flush so that their ids are known."""
    session.add_all(rows)
    session.flush()
    return rows


class Repository:
    """Stores scenarios and plans in a database; one unit of work (transaction) per call."""

    def __init__(self, engine: Engine, user: str | None = None) -> None:
        """A repository on the engine; changes are recorded in the audit trail as made by
        user (default: $ATMP_PLANNER_USER, else the OS login)."""
        self._engine = engine
        self.user = _checked(audit.check_user, user if user is not None else audit.default_user())
        #: Whether the user was named (not taken from the environment or the login).
        self._named = user is not None
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # SQLite: writers take the write lock when they begin (see data.db).
        writer = engine.execution_options(**{SQLITE_BEGIN_IMMEDIATE: True})
        self._writer_sessions = sessionmaker(writer, expire_on_commit=False)
        for sessions in (self._sessions, self._writer_sessions):
            event.listen(sessions, "before_flush", _approved_plans_are_immutable)

    @contextmanager
    def _unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any error.

        Database failures leave as StorageError, saying what went wrong.
        """
        sessions = self._writer_sessions if write else self._sessions
        try:
            with sessions.begin() as session:
                yield session
        except exc.DBAPIError as error:
            raise StorageError(describe_error(self._engine, error)) from error

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A unit of work that only reads: a stored value that cannot be decoded (a date
        that is no date, JSON that is no JSON) leaves as StoredDataError."""
        try:
            with self._unit_of_work(write=False) as session:
                yield session
        except ValidationError:
            raise
        except ValueError as error:
            raise StoredDataError(
                f"a stored value cannot be read ({error}); the database is damaged or was "
                "written by another program: restore a backup"
            ) from error

    def close(self) -> None:
        """Close the database connections (a SQLite file then holds everything committed,
        its write-ahead log folded in)."""
        self._engine.dispose()

    def check_writable(self) -> None:
        """Raise StorageError now if the database refuses writes (read-only file or user),
        so that a command fails before its work rather than at its end."""
        with self._unit_of_work() as session:
            # Matches no row, but the database still has to grant a write (every writing
            # role appends to the audit trail, so may update its head).
            session.execute(
                update(AuditHeadRow)
                .where(AuditHeadRow.id == -1)
                .values(version=AuditHeadRow.version)
                .execution_options(synchronize_session=False)
            )

    # Users and roles ------------------------------------------------------------------------

    def _acting(self, session: Session, *actions: Action) -> Actor:
        """Who acts in this unit of work, once their role allows every action; else
        AccessDeniedError (raised before anything is written)."""
        try:
            who = access.actor(session, self.user, self._named)
        except ValueError as error:
            raise AccessDeniedError(str(error)) from None
        for action in actions:
            if not who.may(action):
                raise AccessDeniedError(f"{who.refusal(action)}; nothing was changed")
        return who

    def actor(self) -> Actor:
        """Who acts on this database and with which role (role None: no roles assigned)."""
        with self._reading() as session:
            try:
                return access.actor(session, self.user, self._named)
            except ValueError as error:
                raise AccessDeniedError(str(error)) from None

    def allows(self, action: Action) -> bool:
        """Whether the acting user's role allows the action."""
        return self.actor().may(action)

    def require(self, action: Action) -> Actor:
        """Who acts, or AccessDeniedError now unless they may take the action, so a
        command is refused before its work (a solve) rather than at its end."""
        with self._reading() as session:
            return self._acting(session, action)

    def users(self) -> list[RoleGrant]:
        """Every user's role (with PostgreSQL groups: the logins' memberships)."""
        with self._reading() as session:
            return access.grants(session)

    def set_role(self, name: str, role: UserRole | None, *, reason: str) -> None:
        """Give a user a role (None: take it away), recorded in the audit trail with the
        reason (required). Needs the director role, except the first grant of a database,
        which must make the acting user director."""
        name = _checked(audit.check_user, name)
        checked = _checked(audit.check_reason, cast(str | None, reason))
        if not checked:
            raise RepositoryError("a change of role needs a reason (--reason TEXT)")
        with self._unit_of_work() as session:
            by = self._acting(session, Action.ADMINISTER)
            try:
                changes = access.set_role(session, by, name, role, checked)
            except ValueError as error:
                raise AccessDeniedError(str(error)) from None
            audit.append(session, by.name, changes, reason=checked)

    def setup_postgres(self, prefix: str, *, reason: str | None = None) -> None:
        """Make the PostgreSQL group roles and their privileges (data.access); from then on
        users' roles are their logins' group memberships and this login is a director."""
        with self._unit_of_work() as session:
            by = self._acting(session, Action.ADMINISTER)
            try:
                changes = access.setup_postgres(session, prefix)
            except ValueError as error:
                raise RepositoryError(str(error)) from None
            audit.append(session, by.name, changes, reason=_checked(audit.check_reason, reason))

    def postgres_script(self, prefix: str) -> str:
        """The SQL setup_postgres runs, for a database administrator to read or run."""
        with self._reading() as session:
            schema = (
                str(session.scalar(text("SELECT current_schema()")))
                if session.get_bind().dialect.name == "postgresql"
                else "public"
            )
        try:
            return access.postgres_script(prefix, schema)
        except ValueError as error:
            raise RepositoryError(str(error)) from None

    # Scenarios -----------------------------------------------------------------------------

    def list_scenarios(self) -> list[str]:
        """Names of the stored scenarios, sorted."""
        with self._reading() as session:
            return list(session.scalars(select(ScenarioRow.name).order_by(ScenarioRow.name)))

    def has_scenario(self, name: str) -> bool:
        """Whether a scenario of this name is stored."""
        with self._reading() as session:
            return _scenario_id(session, name) is not None

    def scenario_version(self, name: str) -> int:
        """The stored version of a scenario (1 after the first save, +1 per save)."""
        with self._reading() as session:
            version = session.scalar(select(ScenarioRow.version).where(ScenarioRow.name == name))
        if version is None:
            raise NotFoundError(f"No scenario named '{name}' is stored.")
        return version

    def save_scenario(
        self,
        scenario: Scenario,
        expected_version: int | None = None,
        *,
        replace: bool = True,
        reason: str | None = None,
        source: str | None = None,
    ) -> int:
        """Store a scenario under its name (replacing any stored one); return its new version.

        Only what differs from the stored scenario is written (rows updated, inserted,
        deleted), and each change is recorded in the audit trail with reason, in the same
        transaction; source (a file name) records the save as an import.

        With expected_version, refuse (ConcurrentEditError, naming who changed what) unless
        the stored scenario still has that version, i.e. nobody saved it in between. With
        replace=False, refuse (ScenarioExistsError) if a scenario of that name is stored.
        """
        reason = _checked(audit.check_reason, reason)
        name = scenario.name
        try:
            with self._unit_of_work() as session:
                # Refused before anything is locked (locking is a write on PostgreSQL)...
                who = self._acting(session)
                checked = self._check_save(session, who, scenario, lock=False)
                row = session.scalars(
                    select(ScenarioRow).where(ScenarioRow.name == name).with_for_update()
                ).one_or_none()
                if (None if row is None else row.version) != checked:
                    # ...and again under the lock if someone saved it in between.
                    self._check_save(session, who, scenario, lock=True)
                changes: list[Change] = []
                if row is None:
                    if expected_version is not None:
                        raise ConcurrentEditError(
                            f"Scenario '{name}' was expected at version {expected_version} but "
                            f"is no longer stored{_last_by(session, name)}; nothing was saved."
                        )
                    row = ScenarioRow(name=name, **scenario_fields(scenario))
                    session.add(row)
                    try:
                        session.flush()
                    except exc.IntegrityError:
                        raise _CreatedMeanwhile from None
                    changes.append(
                        Change("create", "scenario", name, new=scenario_fields(scenario))
                    )
                    changes += sync_scenario(session, row, scenario)
                else:
                    if not replace:
                        raise ScenarioExistsError(
                            f"a scenario named '{name}' is stored already{_last_by(session, name)}"
                        )
                    if expected_version is not None and expected_version != row.version:
                        raise ConcurrentEditError(_changed_since(session, row, expected_version))
                    flag_modified(row, "name")  # a new version even if only children change
                    changes = sync_scenario(session, row, scenario)
                summary: dict[str, Any] = {"version": row.version}
                if source is not None:
                    summary["file"] = source
                for action in ("create", "update", "delete"):
                    summary[f"{action}d"] = sum(c.action == action for c in changes)
                changes.append(
                    Change("import" if source else "save", "scenario", name, new=summary)
                )
                audit.append(
                    session,
                    who.name,
                    changes,
                    scenario=name,
                    scenario_version=row.version,
                    reason=reason,
                )
                return row.version
        except _CreatedMeanwhile:
            with self._reading() as session:
                by = _last_by(session, name)
            raise ScenarioExistsError(
                f"a scenario named '{name}' was stored{by} while you were saving yours; "
                "nothing of yours was stored"
            ) from None
        except StaleDataError as error:
            raise ConcurrentEditError(
                f"Scenario '{name}' was changed by someone else while saving; nothing was "
                "saved; reload it and save again."
            ) from error

    def _check_save(
        self, session: Session, who: Actor, scenario: Scenario, lock: bool
    ) -> int | None:
        """Refuse (AccessDeniedError) saving the scenario unless who may change what it
        changes; the stored version compared (None: not stored)."""
        if who.role is None:
            return None
        query = select(ScenarioRow).where(ScenarioRow.name == scenario.name)
        row = session.scalars(query.with_for_update() if lock else query).one_or_none()
        stored = None if row is None else _load_scenario(session, row)
        self._acting(session, *scenario_actions(stored, scenario))
        return None if row is None else row.version

    def load_scenario(self, name: str) -> Scenario:
        """The stored scenario of this name."""
        with self._reading() as session:
            row = session.scalars(select(ScenarioRow).where(ScenarioRow.name == name)).one_or_none()
            if row is None:
                raise NotFoundError(f"No scenario named '{name}' is stored.")
            return _load_scenario(session, row)

    def delete_scenario(self, name: str, *, reason: str | None = None) -> None:
        """Remove a stored scenario together with its plans."""
        with self._unit_of_work() as session:
            who = self._acting(session, Action.EDIT_RESOURCES)
            scenario_id = _scenario_id(session, name)
            if scenario_id is None:
                raise NotFoundError(f"No scenario named '{name}' is stored.")
            approved = session.scalars(
                select(PlanRow.id).where(
                    PlanRow.scenario_id == scenario_id, PlanRow.approved_at.is_not(None)
                )
            ).all()
            if approved:
                listed = ", ".join(f"#{i}" for i in approved)
                raise ApprovedPlanError(
                    f"scenario '{name}' has approved plans ({listed}); "
                    "approved plans are kept unchanged, so the scenario cannot be deleted"
                )
            plan_ids = select(PlanRow.id).where(PlanRow.scenario_id == scenario_id)
            for table in PLAN_CHILDREN:
                session.execute(
                    delete(table).where(table.plan_id.in_(plan_ids)),
                    execution_options={"synchronize_session": False},
                )
            owned: tuple[type[Versioned], ...] = (*SCENARIO_CHILDREN, PlanRow)
            for owned_table in reversed(owned):
                session.execute(
                    delete(owned_table).where(owned_table.scenario_id == scenario_id),  # type: ignore[attr-defined]
                    execution_options={"synchronize_session": False},
                )
            session.execute(
                delete(ScenarioRow).where(ScenarioRow.id == scenario_id),
                execution_options={"synchronize_session": False},
            )
            audit.append(
                session,
                who.name,
                [Change("delete", "scenario", name)],
                scenario=name,
                reason=_checked(audit.check_reason, reason),
            )

    # Plans ---------------------------------------------------------------------------------

    def save_plan(
        self,
        plan: Plan,
        *,
        current: bool = False,
        reason: str | None = None,
        scenario: Scenario | None = None,
        replan: Replan | None = None,
    ) -> int:
        """Store a plan of a stored scenario (named by plan.scenario_name); return its id.

        With current=True it also becomes the scenario's current plan; otherwise the
        current plan stays as it is. Recorded in the audit trail (with reason). With the
        scenario as solved (and the re-plan basis, if any) the plan can be reproduced.
        """
        reason = _checked(audit.check_reason, reason)
        with self._unit_of_work() as session:
            who = self._acting(session, Action.SOLVE)
            scenario_id = _scenario_id(session, plan.scenario_name)
            if scenario_id is None:
                raise NotFoundError(
                    f"Cannot save a plan of scenario '{plan.scenario_name}': no scenario of "
                    "that name is stored."
                )
            before = _current_plan_id(session, scenario_id) if current else None
            chosen = _next_choice(session, scenario_id) if current else 0
            plan_id = _insert_plan(session, scenario_id, plan, chosen)
            if scenario is not None:
                _store_inputs(session.get_one(PlanRow, plan_id), scenario, replan)
            _audit_plan(session, who.name, plan, plan_id, before if current else 0, reason)
            return plan_id

    def load_plan(self, plan_id: int, scenario_name: str | None = None) -> Plan:
        """The stored plan with this id (which must belong to scenario_name, if given)."""
        with self._reading() as session:
            return _load_plan(session, _plan_row(session, plan_id, scenario_name))

    def make_current(
        self, plan_id: int, scenario_name: str | None = None, *, reason: str | None = None
    ) -> None:
        """Make a stored plan its scenario's current plan (the one export and the window use).

        Recorded in the audit trail (with reason).
        """
        reason = _checked(audit.check_reason, reason)
        with self._unit_of_work() as session:
            who = self._acting(session, Action.SOLVE)
            row = _plan_row(session, plan_id, scenario_name)
            before = _current_plan_id(session, row.scenario_id)
            row.chosen_seq = _next_choice(session, row.scenario_id)
            name = session.scalar(select(ScenarioRow.name).where(ScenarioRow.id == row.scenario_id))
            audit.append(
                session,
                who.name,
                [_choice(plan_id, before)],
                scenario=name,
                reason=reason,
            )

    def current_plan(self, scenario_name: str) -> Plan | None:
        """The plan a user last made current (by a finished solve or by choice), or None."""
        with self._reading() as session:
            row = session.scalars(
                select(PlanRow)
                .join(ScenarioRow, ScenarioRow.id == PlanRow.scenario_id)
                .where(ScenarioRow.name == scenario_name, PlanRow.chosen_seq > 0)
                .order_by(PlanRow.chosen_seq.desc(), PlanRow.id.desc())
                .limit(1)
            ).one_or_none()
            return None if row is None else _load_plan(session, row)

    def latest_plan(self, scenario_name: str) -> Plan | None:
        """The most recently created plan of a scenario, current or not; None if none."""
        with self._reading() as session:
            row = session.scalars(
                select(PlanRow)
                .join(ScenarioRow, ScenarioRow.id == PlanRow.scenario_id)
                .where(ScenarioRow.name == scenario_name)
                .order_by(PlanRow.created.desc(), PlanRow.id.desc())
                .limit(1)
            ).one_or_none()
            return None if row is None else _load_plan(session, row)

    def plan_summaries(self, scenario_name: str) -> list[PlanSummary]:
        """A scenario's stored plans in the order they were saved, with which one is current."""
        with self._reading() as session:
            rows = session.scalars(
                select(PlanRow)
                .join(ScenarioRow, ScenarioRow.id == PlanRow.scenario_id)
                .where(ScenarioRow.name == scenario_name)
                .order_by(PlanRow.id)
            ).all()
            chosen = [r for r in rows if r.chosen_seq > 0]
            current = max(chosen, key=lambda r: (r.chosen_seq, r.id)).id if chosen else None
            published = _published_id(rows)
            return [
                PlanSummary(
                    plan_id=r.id,
                    scenario_name=scenario_name,
                    created=_from_column(r.created),
                    current=r.id == current,
                    status=r.solver_status,
                    engine=r.solver_engine,
                    cp_sat_status=r.solver_cp_sat_status,
                    stopped=r.solver_stopped,
                    scheduled=r.scheduled,
                    total=r.total,
                    objective=r.solver_objective,
                    total_lateness_days=r.total_lateness_days,
                    published=r.id == published,
                    superseded=r.published_seq > 0 and r.id != published,
                    approved_by=r.approved_by,
                    approved_at=None if r.approved_at is None else _from_column(r.approved_at),
                )
                for r in rows
            ]

    # Published plans and pins ------------------------------------------------------------

    def publish(
        self,
        plan_id: int,
        scenario_name: str | None = None,
        *,
        reason: str | None = None,
        require_approval: bool = False,
    ) -> int | None:
        """Make a stored plan the one its scenario's centre works to; return the id of the
        plan it supersedes (None if none was published). Recorded in the audit trail.

        With require_approval, a draft (a plan nobody approved) is refused.
        """
        reason = _checked(audit.check_reason, reason)
        with self._unit_of_work() as session:
            who = self._acting(session, Action.PUBLISH)
            row = _plan_row(session, plan_id, scenario_name)
            if require_approval and row.approved_at is None:
                raise ApprovedPlanError(
                    f"plan #{plan_id} is a draft; approve it first (`atmp-planner approve "
                    f"{plan_id} --reason ...`) or publish it --without-approval"
                )
            rows = session.scalars(
                select(PlanRow).where(PlanRow.scenario_id == row.scenario_id)
            ).all()
            before = _published_id(rows)
            row.published_seq = max(r.published_seq for r in rows) + 1
            row.published_at = _to_column(datetime.now(UTC))
            name = session.scalar(select(ScenarioRow.name).where(ScenarioRow.id == row.scenario_id))
            old = None if before is None else f"#{before}"
            what = "published" if row.approved_at is not None else "published without approval"
            change = Change("publish", "plan", f"#{plan_id}", what, old, f"#{plan_id}")
            audit.append(session, who.name, [change], scenario=name, reason=reason)
            return None if before == plan_id else before

    def approve(self, plan_id: int, scenario_name: str | None = None, *, reason: str) -> None:
        """Approve a draft plan as the acting user, with a reason (required): recorded in the
        plan row and the audit trail. From then on the plan cannot change. Once roles are in
        use, nobody approves a plan they solved themselves."""
        checked: str | None = _checked(audit.check_reason, cast(str | None, reason))
        if not checked or not checked.strip():
            raise ApprovedPlanError("an approval needs a reason (--reason TEXT)")
        with self._unit_of_work() as session:
            who = self._acting(session, Action.APPROVE)
            row = _plan_row(session, plan_id, scenario_name)
            if who.role is not None and _solved_by(session, plan_id) == who.name:
                raise AccessDeniedError(
                    f"{who.name} solved plan #{plan_id}; another director approves it "
                    "(four eyes); nothing was changed"
                )
            if row.solver_stopped:
                raise ApprovedPlanError(
                    f"plan #{plan_id} was stopped early; approve a plan whose solve ran to "
                    "its budget"
                )
            row.approved_by = who.name
            row.approved_at = _to_column(datetime.now(UTC))
            row.approval_reason = checked
            name = session.scalar(select(ScenarioRow.name).where(ScenarioRow.id == row.scenario_id))
            change = Change("approve", "plan", f"#{plan_id}", "approved", None, who.name)
            audit.append(session, who.name, [change], scenario=name, reason=checked)

    def plan_inputs(self, plan_id: int, scenario_name: str | None = None) -> PlanInputs:
        """The stored inputs of a plan (the scenario as solved, re-plan basis), checked
        against their SHA-256."""
        with self._reading() as session:
            row = _plan_row(session, plan_id, scenario_name)
            if row.inputs_json is None or row.inputs_sha256 is None:
                raise NotReproducibleError(
                    f"plan #{plan_id} has no stored inputs (made before atmp-planner stored "
                    "them, or saved without its scenario); it cannot be reproduced"
                )
            digest = hashlib.sha256(row.inputs_json.encode("utf-8")).hexdigest()
            if digest != row.inputs_sha256:
                raise StoredDataError(
                    f"the stored inputs of plan #{plan_id} do not match their SHA-256 "
                    f"({digest[:12]}... vs {row.inputs_sha256[:12]}... recorded): edited "
                    "outside atmp-planner"
                )
            scenario = scenario_from_dict(json.loads(row.inputs_json), file=f"plan #{plan_id}")
            return PlanInputs(scenario, row.inputs_sha256, _replan_basis(row.replan_inputs))

    def published_plan_id(self, scenario_name: str) -> int | None:
        """The id of the scenario's published plan, or None."""
        with self._reading() as session:
            rows = session.scalars(
                select(PlanRow)
                .join(ScenarioRow, ScenarioRow.id == PlanRow.scenario_id)
                .where(ScenarioRow.name == scenario_name, PlanRow.published_seq > 0)
            ).all()
            return _published_id(rows)

    def pins(self, scenario_name: str) -> tuple[Pin, ...]:
        """The scenario's pins, by patient and step."""
        with self._reading() as session:
            rows = session.scalars(
                select(PinRow)
                .join(ScenarioRow, ScenarioRow.id == PinRow.scenario_id)
                .where(ScenarioRow.name == scenario_name)
                .order_by(PinRow.patient_code, PinRow.step_code)
            ).all()
            return tuple(Pin(r.patient_code, r.step_code or None) for r in rows)

    def add_pin(self, scenario_name: str, pin: Pin) -> bool:
        """Store a pin; False if it was there already."""
        with self._unit_of_work() as session:
            who = self._acting(session, Action.PIN)
            sid = _scenario_id(session, scenario_name)
            if sid is None:
                raise NotFoundError(f"No scenario named '{scenario_name}' is stored.")
            step = pin.step_code or ""
            found = session.scalar(
                select(PinRow.id).where(
                    PinRow.scenario_id == sid,
                    PinRow.patient_code == pin.patient_code,
                    PinRow.step_code == step,
                )
            )
            if found is not None:
                return False
            session.add(PinRow(scenario_id=sid, patient_code=pin.patient_code, step_code=step))
            key = f"{pin.patient_code}/{step or '*'}"
            audit.append(session, who.name, [Change("create", "pin", key)], scenario=scenario_name)
            return True

    def remove_pins(self, scenario_name: str, patient_code: str, step_code: str | None) -> int:
        """Remove a patient's pin on a step (step_code None: every pin of the patient);
        return how many were removed."""
        with self._unit_of_work() as session:
            who = self._acting(session, Action.PIN)
            sid = _scenario_id(session, scenario_name)
            if sid is None:
                raise NotFoundError(f"No scenario named '{scenario_name}' is stored.")
            rows = session.scalars(
                select(PinRow).where(PinRow.scenario_id == sid, PinRow.patient_code == patient_code)
            ).all()
            gone = [r for r in rows if step_code is None or r.step_code == step_code]
            for r in gone:
                session.delete(r)
            changes = [
                Change("delete", "pin", f"{r.patient_code}/{r.step_code or '*'}") for r in gone
            ]
            audit.append(session, who.name, changes, scenario=scenario_name)
            return len(gone)

    def plan_ids(self, scenario_name: str) -> list[int]:
        """Ids of a scenario's stored plans, oldest first."""
        with self._reading() as session:
            return list(
                session.scalars(
                    select(PlanRow.id)
                    .join(ScenarioRow, ScenarioRow.id == PlanRow.scenario_id)
                    .where(ScenarioRow.name == scenario_name)
                    .order_by(PlanRow.created, PlanRow.id)
                )
            )

    # Audit trail ----------------------------------------------------------------------------

    def audit_entries(self, which: AuditFilter | None = None) -> list[AuditEntry]:
        """Audit records, oldest first, as the filter selects."""
        with self._reading() as session:
            return audit.entries(session, which or AuditFilter())

    def verify_audit(self) -> AuditCheck:
        """Check the whole audit trail: every record unedited, none deleted or moved."""
        with self._reading() as session:
            return audit.verify(session)

    # Backup -------------------------------------------------------------------------------

    def backup(self, path: Path) -> dict[str, int]:
        """Write the whole database to a backup file (see data.backup); rows per table."""
        self.require(Action.ADMINISTER)
        try:
            return backup.write_backup(self._engine, path)
        except exc.DBAPIError as error:
            raise StorageError(describe_error(self._engine, error)) from error

    def restore(self, path: Path) -> dict[str, int]:
        """Load a backup into this (empty) database, all or nothing; rows per table."""
        self.require(Action.ADMINISTER)
        try:
            return backup.restore_backup(self._engine, path)
        except exc.DBAPIError as error:
            raise StorageError(describe_error(self._engine, error)) from error

    def count_rows(self) -> int:
        """Rows in all tables together (a cheap fingerprint for tests and diagnostics)."""
        tables: tuple[type[Versioned], ...] = (
            ScenarioRow,
            *SCENARIO_CHILDREN,
            PlanRow,
            PlanUtilisationRow,
            PlanAssignmentRow,
            PlanScheduleRow,
            PlanUnscheduledRow,
            PinRow,
        )
        with self._reading() as session:
            return sum(
                session.scalar(select(func.count()).select_from(table)) or 0 for table in tables
            )


# Audit: who changed what -------------------------------------------------------------------

CheckedT = TypeVar("CheckedT")


def _checked(check: Callable[[CheckedT], CheckedT], value: CheckedT) -> CheckedT:
    """value passed through check; its ValueError leaves as RepositoryError (one line)."""
    try:
        return check(value)
    except ValueError as error:
        raise RepositoryError(str(error)) from None


class _CreatedMeanwhile(Exception):
    """Another transaction stored a scenario of the same name while this one was saving."""


def _last_by(session: Session, name: str) -> str:
    """' (saved by USER at TIME UTC, version N)' from the audit trail, or '' if unknown."""
    row = session.scalars(
        select(AuditRecordRow)
        .where(AuditRecordRow.scenario == name, AuditRecordRow.entity == "scenario")
        .order_by(AuditRecordRow.seq.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return ""
    done = {"delete": "deleted", "import": "imported"}.get(row.action, "saved")
    version = "" if row.scenario_version is None else f", version {row.scenario_version}"
    return f" ({done} by {row.user_name} at {row.at:%Y-%m-%d %H:%M:%S} UTC{version})"


#: Changes a refusal names one by one; the rest are counted.
_NAMED_CHANGES = 5


def _changed_since(session: Session, row: ScenarioRow, loaded: int) -> str:
    """Why a save based on version `loaded` is refused: who saved since, and what changed."""
    records = session.scalars(
        select(AuditRecordRow)
        .where(
            AuditRecordRow.scenario == row.name,
            AuditRecordRow.scenario_version > loaded,
        )
        .order_by(AuditRecordRow.seq)
    ).all()
    saves = [r for r in records if r.entity == "scenario" and r.action in ("save", "import")]
    who = sorted({r.user_name for r in saves})
    when = f" at {saves[-1].at:%Y-%m-%d %H:%M:%S} UTC" if saves else ""
    by = f"{', '.join(who)}{when}" if who else "someone else"
    details = [r for r in records if r.action in ("create", "update", "delete")]
    described = [
        f"{r.entity} {r.entity_key} "
        + (
            f"{r.field} {shown(r.old_value)} -> {shown(r.new_value)}"
            if r.field is not None
            else {"create": "added", "delete": "removed"}.get(r.action, r.action)
        )
        for r in details[:_NAMED_CHANGES]
    ]
    if len(details) > _NAMED_CHANGES:
        described.append(f"and {len(details) - _NAMED_CHANGES} more")
    what = f": {'; '.join(described)}" if described else ""
    return (
        f"Scenario '{row.name}' was changed by {by} since you loaded it (stored version "
        f"{row.version}, yours {loaded}){what}. Nothing of yours was saved; reload it and make "
        "your changes again."
    )


def _solved_by(session: Session, plan_id: int) -> str | None:
    """Who saved the plan (its solve record in the audit trail), if recorded."""
    return session.scalar(
        select(AuditRecordRow.user_name)
        .where(
            AuditRecordRow.entity == "plan",
            AuditRecordRow.entity_key == f"#{plan_id}",
            AuditRecordRow.action == "solve",
        )
        .limit(1)
    )


def _current_plan_id(session: Session, scenario_id: int) -> int | None:
    """The id of a scenario's current plan, if any."""
    return session.scalar(
        select(PlanRow.id)
        .where(PlanRow.scenario_id == scenario_id, PlanRow.chosen_seq > 0)
        .order_by(PlanRow.chosen_seq.desc(), PlanRow.id.desc())
        .limit(1)
    )


def _choice(plan_id: int, before: int | None) -> Change:
    return Change(
        "choose",
        "plan",
        f"#{plan_id}",
        "current",
        None if before is None else f"#{before}",
        f"#{plan_id}",
    )


def _audit_plan(
    session: Session, user: str, plan: Plan, plan_id: int, before: int | None, reason: str | None
) -> None:
    """Record a saved plan (and, unless before is 0, that it became current)."""
    settings = plan.solver.settings
    summary = {
        "created": plan.created.astimezone(UTC).isoformat(),
        "status": plan.solver.status,
        "made by": plan.solver.engine,
        "scheduled": f"{plan.kpis.scheduled}/{plan.kpis.total}",
        "objective": plan.solver.objective,
        "stopped early": plan.solver.stopped,
        "seed": settings.seed,
        "deterministic time": settings.deterministic_time if settings.deterministic else None,
        "versions": plan.solver.versions,
    }
    changes = [Change("solve", "plan", f"#{plan_id}", new=summary)]
    if before != 0:
        changes.append(_choice(plan_id, before))
    audit.append(session, user, changes, scenario=plan.scenario_name, reason=reason)


# Scenario: planner -> rows -------------------------------------------------------------------


#: Plan columns that change as a plan moves through its lifecycle; the rest are its content.
_LIFECYCLE_COLUMNS = frozenset({"chosen_seq", "published_seq", "published_at", "version"})
_APPROVAL_COLUMNS = frozenset({"approved_by", "approved_at", "approval_reason"})


def _committed(row: PlanRow, column: str) -> Any:
    """A column's value before this flush (as last loaded or committed)."""
    history = getattr(inspect(row).attrs, column).history
    before = history.deleted or history.unchanged
    return before[0] if before else None


def _approved_plans_are_immutable(session: Session, _context: object, _instances: object) -> None:
    """Refuse, before anything is written, any change to an approved plan's content
    (a second approval included), and deleting it or its rows."""
    for obj in session.dirty:
        if not isinstance(obj, PlanRow) or _committed(obj, "approved_at") is None:
            continue
        changed = {
            a.key
            for a in inspect(obj).attrs
            if a.key not in _LIFECYCLE_COLUMNS and a.history.has_changes()
        }
        if changed:
            what = "approved again" if changed & _APPROVAL_COLUMNS else "changed"
            at = _from_column(_committed(obj, "approved_at"))
            raise ApprovedPlanError(
                f"plan #{obj.id} was approved by {_committed(obj, 'approved_by')} on "
                f"{at:%Y-%m-%d %H:%M} UTC; an approved plan cannot be {what}"
            )
    for obj in session.deleted:
        if isinstance(obj, (PlanRow, *PLAN_CHILDREN)):
            plan_id = obj.id if isinstance(obj, PlanRow) else obj.plan_id
            approved = session.scalar(select(PlanRow.approved_at).where(PlanRow.id == plan_id))
            if approved is not None:
                raise ApprovedPlanError(f"plan #{plan_id} is approved; it cannot be deleted")


def _canonical_json(scenario: Scenario) -> str:
    """The scenario as canonical JSON: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(
        scenario_to_dict(scenario), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def _store_inputs(row: PlanRow, scenario: Scenario, replan: Replan | None) -> None:
    """Record on a new plan row the scenario it was solved from and what a re-plan kept."""
    text = _canonical_json(scenario)
    row.inputs_json = text
    row.inputs_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if replan is not None:
        if replan.published_id is None:
            raise NotReproducibleError("a re-plan's basis must be a stored plan to be recorded")
        row.replan_inputs = {
            "published_id": replan.published_id,
            "today": replan.today.isoformat(),
            "frozen_days": replan.frozen_days,
            "pins": [[p.patient_code, p.step_code] for p in replan.pins],
            "basis": replan.basis,
        }


def _replan_basis(stored: dict[str, Any] | None) -> ReplanBasis | None:
    """The re-plan basis from its stored JSON (None: a fresh plan)."""
    if stored is None:
        return None
    try:
        return ReplanBasis(
            published_id=int(stored["published_id"]),
            today=date.fromisoformat(str(stored["today"])),
            frozen_days=int(stored["frozen_days"]),
            pins=tuple(Pin(str(p), None if s is None else str(s)) for p, s in stored["pins"]),
            basis=str(stored["basis"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise StoredDataError(
            f"the stored re-plan basis cannot be read ({error!r}); the database is damaged "
            "or was written by another program"
        ) from error


def _level(name: object, value: object, bound: object, maximise: object) -> ObjectiveLevel:
    """An objective level from its stored JSON list."""
    return ObjectiveLevel(
        str(name), int(str(value)), None if bound is None else int(str(bound)), bool(maximise)
    )


def _published_id(rows: Sequence[PlanRow]) -> int | None:
    """The published plan among a scenario's plan rows: the one published last."""
    published = [r for r in rows if r.published_seq > 0]
    return max(published, key=lambda r: (r.published_seq, r.id)).id if published else None


def _scenario_id(session: Session, name: str) -> int | None:
    return session.scalar(select(ScenarioRow.id).where(ScenarioRow.name == name))


# Scenario: rows -> planner -------------------------------------------------------------------


def _children(session: Session, model: type[RowT], sid: int) -> Sequence[RowT]:
    """A scenario's rows of one table in stored order."""
    return session.scalars(
        select(model)
        .where(model.scenario_id == sid)  # type: ignore[attr-defined]
        .order_by(model.position)  # type: ignore[attr-defined]
    ).all()


def _by_parent(rows: Sequence[RowT], parent: str) -> dict[int, list[RowT]]:
    """Rows grouped by a parent id column, each group in stored order."""
    groups: dict[int, list[RowT]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, parent)].append(row)
    return groups


def _load_scenario(session: Session, row: ScenarioRow) -> Scenario:
    sid = row.id
    room_down = _by_parent(_children(session, CleanroomDowntimeRow, sid), "cleanroom_id")
    device_down = _by_parent(_children(session, DeviceDowntimeRow, sid), "device_id")
    cleanrooms = tuple(
        Cleanroom(
            code=r.code,
            name=r.name,
            grade=_enum(Grade, r, "grade"),
            products=tuple(r.products),
            changeover_hours=r.changeover_hours,
            downtime=tuple(Window(w.starts_at, w.ends_at, w.reason) for w in room_down[r.id]),
        )
        for r in _children(session, CleanroomRow, sid)
    )
    devices = tuple(
        Device(
            code=d.code,
            name=d.name,
            room_codes=tuple(d.room_codes),
            products=tuple(d.products),
            changeover_hours=d.changeover_hours,
            downtime=tuple(Window(w.starts_at, w.ends_at, w.reason) for w in device_down[d.id]),
        )
        for d in _children(session, DeviceRow, sid)
    )
    staff_rows = _children(session, StaffMemberRow, sid)
    shift_rows = _children(session, ShiftCodeRow, sid)
    staff_codes = {s.id: s.code for s in staff_rows}
    shift_codes = {s.id: s.code for s in shift_rows}
    roster_rows = session.execute(
        select(RosterEntryRow.staff_member_id, RosterEntryRow.day, RosterEntryRow.shift_code_id)
        .where(RosterEntryRow.scenario_id == sid)
        .order_by(RosterEntryRow.position)
    ).all()
    products, product_codes = _load_products(session, sid)
    trials, cohort_keys = _load_trials(session, sid, product_codes)
    done = _by_parent(_children(session, DoneStepRow, sid), "patient_id")
    patients = []
    for p in _children(session, PatientRow, sid):
        trial_code, cohort_code = (None, None) if p.cohort_id is None else cohort_keys[p.cohort_id]
        patients.append(
            Patient(
                code=p.code,
                product_code=product_codes[p.product_id],
                referral_date=p.referral_date,
                earliest_apheresis=p.earliest_apheresis,
                latest_apheresis=p.latest_apheresis,
                needed_infusion=p.needed_infusion,
                priority=p.priority,
                trial_code=trial_code,
                cohort_code=cohort_code,
                status=_enum(PatientStatus, p, "status"),
                enrolled_on=p.enrolled_on,
                infused_on=p.infused_on,
                done_steps=tuple(
                    DoneStep(d.step_code, d.starts_at, d.ends_at, d.resource_code)
                    for d in done[p.id]
                ),
            )
        )
    return Scenario(
        name=row.name,
        site=Site(
            code=row.site_code,
            name=row.site_name,
            country=row.site_country,
            timezone=row.site_timezone,
            day_start_hour=row.site_day_start_hour,
            day_end_hour=row.site_day_end_hour,
        ),
        horizon_start=row.horizon_start,
        horizon_end=row.horizon_end,
        cleanrooms=cleanrooms,
        devices=devices,
        staff=tuple(
            StaffMember(
                code=s.code,
                roles=tuple(_enum(Role, s, "roles", role) for role in s.roles),
                trained_products=tuple(s.trained_products),
                contracted_hours_per_week=s.contracted_hours_per_week,
            )
            for s in staff_rows
        ),
        shift_codes=tuple(
            ShiftCode(s.code, s.name, s.start_hour, s.hours, s.covers_day_work, s.is_leave)
            for s in shift_rows
        ),
        roster=tuple(
            RosterEntry(staff_codes[staff_id], day, shift_codes[shift_id])
            for staff_id, day, shift_id in roster_rows
        ),
        ward=Ward(
            code=row.ward_code,
            name=row.ward_name,
            beds=row.ward_beds,
            changes=tuple(
                BedChange(c.first_day, c.last_day, c.beds, c.reason)
                for c in _children(session, BedChangeRow, sid)
            ),
        ),
        apheresis=ApheresisCapacity(
            slots_per_weekday=cast(Weekly, tuple(row.apheresis_slots_per_weekday)),
            exceptions=tuple(
                (e.day, e.slots) for e in _children(session, ApheresisExceptionRow, sid)
            ),
        ),
        products=products,
        trials=trials,
        patients=tuple(patients),
        holidays=tuple(Holiday(h.day, h.name) for h in _children(session, HolidayRow, sid)),
        priority_weights=tuple(
            (w.priority, w.weight) for w in _children(session, PriorityWeightRow, sid)
        ),
        frozen_days=row.frozen_days,
        lateness_weights=tuple(
            (w.priority, w.lateness_weight) for w in _children(session, PriorityWeightRow, sid)
        ),
    )


def _load_products(session: Session, sid: int) -> tuple[tuple[Product, ...], dict[int, str]]:
    """A scenario's products and their codes by row id."""
    needs = _by_parent(_children(session, StaffNeedRow, sid), "process_step_id")
    steps = _by_parent(_children(session, ProcessStepRow, sid), "product_id")
    rows = _children(session, ProductRow, sid)
    products = tuple(
        Product(
            code=p.code,
            name=p.name,
            steps=tuple(
                ProcessStep(
                    code=s.code,
                    name=s.name,
                    duration_hours=s.duration_hours,
                    needs_cleanroom=s.needs_cleanroom,
                    needs_device=s.needs_device,
                    staff=tuple(
                        StaffNeed(_enum(Role, n, "role"), n.count, n.hours, n.product_trained)
                        for n in needs[s.id]
                    ),
                    working_hours_only=s.working_hours_only,
                    min_lag_hours=s.min_lag_hours,
                    max_lag_hours=s.max_lag_hours,
                )
                for s in steps[p.id]
            ),
            storage=_enum(Storage, p, "storage"),
            qc_release_days=p.qc_release_days,
            fresh_shelf_days=p.fresh_shelf_days,
            ld_days_before_infusion=p.ld_days_before_infusion,
            inpatient_days=p.inpatient_days,
            failure_probability=p.failure_probability,
            apheresis_hours=p.apheresis_hours,
            shelf_life_from_step=p.shelf_life_from_step,
            ld_before_release=p.ld_before_release,
            infusion_any_day=p.infusion_any_day,
        )
        for p in rows
    )
    return products, {p.id: p.code for p in rows}


def _load_trials(
    session: Session, sid: int, product_codes: Mapping[int, str]
) -> tuple[tuple[Trial, ...], dict[int, tuple[str, str]]]:
    """A scenario's trials and (trial code, cohort code) by cohort row id."""
    cohorts = _by_parent(_children(session, CohortRow, sid), "trial_id")
    rows = _children(session, TrialRow, sid)
    trials = tuple(
        Trial(
            code=t.code,
            name=t.name,
            product_code=product_codes[t.product_id],
            cohorts=tuple(
                Cohort(c.code, c.cap, c.min_days_between_infusions, c.escalation_gate_days)
                for c in cohorts[t.id]
            ),
            enrolment_start=t.enrolment_start,
            enrolment_end=t.enrolment_end,
            priority=t.priority,
            apheresis_within_days=t.apheresis_within_days,
        )
        for t in rows
    )
    keys = {c.id: (t.code, c.code) for t in rows for c in cohorts[t.id]}
    return trials, keys


# Plans -------------------------------------------------------------------------------------


def _next_choice(session: Session, scenario_id: int) -> int:
    """The number that makes a plan the scenario's current one (one above the highest)."""
    highest = session.scalar(
        select(func.max(PlanRow.chosen_seq)).where(PlanRow.scenario_id == scenario_id)
    )
    return (highest or 0) + 1


def _to_column(moment: datetime) -> datetime:
    """A moment as naive UTC for a DateTime column (naive moments are taken as UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _from_column(moment: datetime) -> datetime:
    """A naive UTC column value as an aware UTC moment."""
    return moment.replace(tzinfo=UTC)


def _plan_row(session: Session, plan_id: int, scenario_name: str | None) -> PlanRow:
    """The plan row with this id, checked to belong to the named scenario if one is given."""
    row = session.get(PlanRow, plan_id)
    if row is None:
        where = f" of scenario '{scenario_name}'" if scenario_name else ""
        raise NotFoundError(f"No plan #{plan_id}{where} is stored.")
    if scenario_name is not None:
        owner = session.scalar(select(ScenarioRow.name).where(ScenarioRow.id == row.scenario_id))
        if owner != scenario_name:
            raise NotFoundError(
                f"Plan #{plan_id} belongs to scenario '{owner}', not '{scenario_name}'."
            )
    return row


def _insert_plan(session: Session, scenario_id: int, plan: Plan, chosen_seq: int) -> int:
    """Insert a plan and its rows; return the plan id."""
    kpis, solver, settings = plan.kpis, plan.solver, plan.solver.settings
    (row,) = _add_all(
        session,
        [
            PlanRow(
                scenario_id=scenario_id,
                created=_to_column(plan.created),
                chosen_seq=chosen_seq,
                notes=list(plan.notes),
                scheduled=kpis.scheduled,
                total=kpis.total,
                median_vein_to_vein_days=kpis.median_vein_to_vein_days,
                p90_vein_to_vein_days=kpis.p90_vein_to_vein_days,
                total_lateness_days=kpis.total_lateness_days,
                solver_status=solver.status,
                solver_engine=solver.engine,
                solver_objective=solver.objective,
                solver_bound=solver.bound,
                solver_wall_time_s=solver.wall_time_s,
                solver_greedy_objective=solver.greedy_objective,
                solver_cp_sat_status=solver.cp_sat_status,
                solver_stopped=solver.stopped,
                solver_versions=solver.versions,
                solver_levels=[[lv.name, lv.value, lv.bound, lv.maximise] for lv in solver.levels],
                settings_deterministic=settings.deterministic,
                settings_deterministic_time=settings.deterministic_time,
                settings_time_limit_s=settings.time_limit_s,
                settings_workers=settings.workers,
                settings_seed=settings.seed,
                settings_use_greedy_hint=settings.use_greedy_hint,
            )
        ],
    )
    pid = row.id
    _bulk_insert(
        session,
        PlanUtilisationRow,
        [
            {"plan_id": pid, "position": i, "resource_kind": kind, "share": share}
            for i, (kind, share) in enumerate(kpis.utilisation)
        ],
    )
    _bulk_insert(
        session,
        PlanAssignmentRow,
        [
            {
                "plan_id": pid,
                "position": i,
                "patient_code": a.patient_code,
                "product_code": a.product_code,
                "step_code": a.step_code,
                "resource_type": a.resource_type.value,
                "resource_code": a.resource_code,
                "starts_at": a.start,
                "ends_at": a.end,
                "quantity": a.quantity,
            }
            for i, a in enumerate(plan.assignments)
        ],
    )
    _bulk_insert(
        session,
        PlanScheduleRow,
        [
            {
                "plan_id": pid,
                "position": i,
                "patient_code": s.patient_code,
                "product_code": s.product_code,
                "apheresis_day": s.apheresis_day,
                "manufacturing_start": s.manufacturing_start,
                "manufacturing_end": s.manufacturing_end,
                "release_day": s.release_day,
                "ld_start_day": s.ld_start_day,
                "infusion_day": s.infusion_day,
                "bed_from": s.bed_from,
                "bed_to": s.bed_to,
                "lateness_days": s.lateness_days,
            }
            for i, s in enumerate(plan.schedules)
        ],
    )
    _bulk_insert(
        session,
        PlanUnscheduledRow,
        [
            {
                "plan_id": pid,
                "position": i,
                "patient_code": u.patient_code,
                "reason": u.reason.value,
                "detail": u.detail,
            }
            for i, u in enumerate(plan.unscheduled)
        ],
    )
    return pid


def _plan_children(session: Session, model: type[RowT], plan_id: int) -> Sequence[RowT]:
    """A plan's rows of one table in stored order."""
    return session.scalars(
        select(model)
        .where(model.plan_id == plan_id)  # type: ignore[attr-defined]
        .order_by(model.position)  # type: ignore[attr-defined]
    ).all()


def _load_plan(session: Session, row: PlanRow) -> Plan:
    scenario_name = session.scalar(
        select(ScenarioRow.name).where(ScenarioRow.id == row.scenario_id)
    )
    assert scenario_name is not None  # the foreign key guarantees it
    return Plan(
        scenario_name=scenario_name,
        created=_from_column(row.created),
        assignments=tuple(
            Assignment(
                patient_code=a.patient_code,
                product_code=a.product_code,
                step_code=a.step_code,
                resource_type=_enum(ResourceType, a, "resource_type"),
                resource_code=a.resource_code,
                start=a.starts_at,
                end=a.ends_at,
                quantity=a.quantity,
            )
            for a in _plan_children(session, PlanAssignmentRow, row.id)
        ),
        schedules=tuple(
            PatientSchedule(
                patient_code=s.patient_code,
                product_code=s.product_code,
                apheresis_day=s.apheresis_day,
                manufacturing_start=s.manufacturing_start,
                manufacturing_end=s.manufacturing_end,
                release_day=s.release_day,
                ld_start_day=s.ld_start_day,
                infusion_day=s.infusion_day,
                bed_from=s.bed_from,
                bed_to=s.bed_to,
                lateness_days=s.lateness_days,
            )
            for s in _plan_children(session, PlanScheduleRow, row.id)
        ),
        unscheduled=tuple(
            Unscheduled(u.patient_code, _enum(UnscheduledReason, u, "reason"), u.detail)
            for u in _plan_children(session, PlanUnscheduledRow, row.id)
        ),
        kpis=Kpis(
            scheduled=row.scheduled,
            total=row.total,
            median_vein_to_vein_days=row.median_vein_to_vein_days,
            p90_vein_to_vein_days=row.p90_vein_to_vein_days,
            total_lateness_days=row.total_lateness_days,
            utilisation=tuple(
                (u.resource_kind, u.share)
                for u in _plan_children(session, PlanUtilisationRow, row.id)
            ),
        ),
        solver=SolverInfo(
            status=row.solver_status,
            engine=row.solver_engine,
            objective=row.solver_objective,
            bound=row.solver_bound,
            wall_time_s=row.solver_wall_time_s,
            settings=SolveSettings(
                deterministic=row.settings_deterministic,
                deterministic_time=row.settings_deterministic_time,
                time_limit_s=row.settings_time_limit_s,
                workers=row.settings_workers,
                seed=row.settings_seed,
                use_greedy_hint=row.settings_use_greedy_hint,
            ),
            greedy_objective=row.solver_greedy_objective,
            cp_sat_status=row.solver_cp_sat_status,
            stopped=row.solver_stopped,
            versions=row.solver_versions,
            levels=tuple(
                ObjectiveLevel(
                    str(name), int(value), None if bound is None else int(bound), bool(up)
                )
                for name, value, bound, up in row.solver_levels
            ),
        ),
        notes=tuple(row.notes),
    )


__all__ = [
    "AccessDeniedError",
    "ConcurrentEditError",
    "NotFoundError",
    "Repository",
    "RepositoryError",
    "StorageError",
    "StoredDataError",
]
