"""The repository: saves and loads scenarios and plans, one transaction per call.

Every write to the database goes through this module. A call either stores everything
or nothing (one transaction); loads return planner objects equal to what was saved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, delete, exc, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from data.db import describe_error
from data.orm import (
    SCENARIO_CHILDREN,
    ApheresisExceptionRow,
    BedChangeRow,
    CleanroomDowntimeRow,
    CleanroomRow,
    CohortRow,
    DeviceDowntimeRow,
    DeviceRow,
    DoneStepRow,
    HolidayRow,
    PatientRow,
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

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def _unit_of_work(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any error.

        Database failures leave as StorageError, saying what went wrong.
        """
        try:
            with self._sessions.begin() as session:
                yield session
        except exc.DBAPIError as error:
            raise StorageError(describe_error(self._engine, error)) from error

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A unit of work that only reads: a stored value that cannot be decoded (a date
        that is no date, JSON that is no JSON) leaves as StoredDataError."""
        try:
            with self._unit_of_work() as session:
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
            # Matches no row, but the database still has to grant a write.
            session.execute(
                update(ScenarioRow)
                .where(ScenarioRow.id == -1)
                .values(version=ScenarioRow.version)
                .execution_options(synchronize_session=False)
            )

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
        self, scenario: Scenario, expected_version: int | None = None, *, replace: bool = True
    ) -> int:
        """Store a scenario under its name (replacing any stored one); return its new version.

        With expected_version, refuse (ConcurrentEditError) unless the stored scenario
        still has that version, i.e. nobody saved it in between. With replace=False, refuse
        (ScenarioExistsError) if a scenario of that name is stored, in the same transaction.
        """
        try:
            with self._unit_of_work() as session:
                row = session.scalars(
                    select(ScenarioRow).where(ScenarioRow.name == scenario.name).with_for_update()
                ).one_or_none()
                if row is None:
                    if expected_version is not None:
                        raise ConcurrentEditError(
                            f"Scenario '{scenario.name}' was expected at version "
                            f"{expected_version} but is no longer stored."
                        )
                    row = ScenarioRow(name=scenario.name, **_scenario_fields(scenario))
                    session.add(row)
                    session.flush()
                else:
                    if not replace:
                        raise ScenarioExistsError(
                            f"a scenario named '{scenario.name}' is stored already"
                        )
                    if expected_version is not None and expected_version != row.version:
                        raise ConcurrentEditError(
                            f"Scenario '{scenario.name}' was changed by someone else "
                            f"(stored version {row.version}, yours {expected_version}); "
                            "reload it before saving."
                        )
                    for table in reversed(SCENARIO_CHILDREN):
                        session.execute(
                            delete(table).where(table.scenario_id == row.id),  # type: ignore[attr-defined]
                            execution_options={"synchronize_session": False},
                        )
                    for key, value in _scenario_fields(scenario).items():
                        setattr(row, key, value)
                    flag_modified(row, "name")  # bump the version even if only children changed
                    session.flush()
                _insert_contents(session, row.id, scenario)
                return row.version
        except StaleDataError as error:
            raise ConcurrentEditError(
                f"Scenario '{scenario.name}' was changed by someone else while saving; "
                "reload it before saving."
            ) from error

    def load_scenario(self, name: str) -> Scenario:
        """The stored scenario of this name."""
        with self._reading() as session:
            row = session.scalars(select(ScenarioRow).where(ScenarioRow.name == name)).one_or_none()
            if row is None:
                raise NotFoundError(f"No scenario named '{name}' is stored.")
            return _load_scenario(session, row)

    def delete_scenario(self, name: str) -> None:
        """Remove a stored scenario together with its plans."""
        with self._unit_of_work() as session:
            scenario_id = _scenario_id(session, name)
            if scenario_id is None:
                raise NotFoundError(f"No scenario named '{name}' is stored.")
            plan_ids = select(PlanRow.id).where(PlanRow.scenario_id == scenario_id)
            for table in (
                PlanUtilisationRow,
                PlanAssignmentRow,
                PlanScheduleRow,
                PlanUnscheduledRow,
            ):
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

    # Plans ---------------------------------------------------------------------------------

    def save_plan(self, plan: Plan, *, current: bool = False) -> int:
        """Store a plan of a stored scenario (named by plan.scenario_name); return its id.

        With current=True it also becomes the scenario's current plan; otherwise the
        current plan stays as it is.
        """
        with self._unit_of_work() as session:
            scenario_id = _scenario_id(session, plan.scenario_name)
            if scenario_id is None:
                raise NotFoundError(
                    f"Cannot save a plan of scenario '{plan.scenario_name}': no scenario of "
                    "that name is stored."
                )
            chosen = _next_choice(session, scenario_id) if current else 0
            return _insert_plan(session, scenario_id, plan, chosen)

    def load_plan(self, plan_id: int, scenario_name: str | None = None) -> Plan:
        """The stored plan with this id (which must belong to scenario_name, if given)."""
        with self._reading() as session:
            return _load_plan(session, _plan_row(session, plan_id, scenario_name))

    def make_current(self, plan_id: int, scenario_name: str | None = None) -> None:
        """Make a stored plan its scenario's current plan (the one export and the window use)."""
        with self._unit_of_work() as session:
            row = _plan_row(session, plan_id, scenario_name)
            row.chosen_seq = _next_choice(session, row.scenario_id)

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
                )
                for r in rows
            ]

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
        )
        with self._reading() as session:
            return sum(
                session.scalar(select(func.count()).select_from(table)) or 0 for table in tables
            )


# Scenario: planner -> rows -------------------------------------------------------------------


def _scenario_id(session: Session, name: str) -> int | None:
    return session.scalar(select(ScenarioRow.id).where(ScenarioRow.name == name))


def _scenario_fields(scenario: Scenario) -> dict[str, Any]:
    site, ward = scenario.site, scenario.ward
    return {
        "horizon_start": scenario.horizon_start,
        "horizon_end": scenario.horizon_end,
        "site_code": site.code,
        "site_name": site.name,
        "site_country": site.country,
        "site_timezone": site.timezone,
        "site_day_start_hour": site.day_start_hour,
        "site_day_end_hour": site.day_end_hour,
        "ward_code": ward.code,
        "ward_name": ward.name,
        "ward_beds": ward.beds,
        "apheresis_slots_per_weekday": list(scenario.apheresis.slots_per_weekday),
    }


def _windows(owner_key: str, owner_id: int, windows: Sequence[Window]) -> list[dict[str, Any]]:
    return [
        {
            owner_key: owner_id,
            "position": i,
            "starts_at": w.start,
            "ends_at": w.end,
            "reason": w.reason,
        }
        for i, w in enumerate(windows)
    ]


def _insert_contents(session: Session, sid: int, scenario: Scenario) -> None:
    """Insert everything a scenario holds below its own row."""
    rooms = _add_all(
        session,
        [
            CleanroomRow(
                scenario_id=sid,
                position=i,
                code=r.code,
                name=r.name,
                grade=r.grade.value,
                products=list(r.products),
                changeover_hours=r.changeover_hours,
            )
            for i, r in enumerate(scenario.cleanrooms)
        ],
    )
    _bulk_insert(
        session,
        CleanroomDowntimeRow,
        [
            {"scenario_id": sid, **w}
            for row, room in zip(rooms, scenario.cleanrooms, strict=True)
            for w in _windows("cleanroom_id", row.id, room.downtime)
        ],
    )
    devices = _add_all(
        session,
        [
            DeviceRow(
                scenario_id=sid,
                position=i,
                code=d.code,
                name=d.name,
                room_codes=list(d.room_codes),
                products=list(d.products),
                changeover_hours=d.changeover_hours,
            )
            for i, d in enumerate(scenario.devices)
        ],
    )
    _bulk_insert(
        session,
        DeviceDowntimeRow,
        [
            {"scenario_id": sid, **w}
            for row, device in zip(devices, scenario.devices, strict=True)
            for w in _windows("device_id", row.id, device.downtime)
        ],
    )
    staff = _add_all(
        session,
        [
            StaffMemberRow(
                scenario_id=sid,
                position=i,
                code=s.code,
                roles=[role.value for role in s.roles],
                trained_products=list(s.trained_products),
                contracted_hours_per_week=s.contracted_hours_per_week,
            )
            for i, s in enumerate(scenario.staff)
        ],
    )
    shifts = _add_all(
        session,
        [
            ShiftCodeRow(
                scenario_id=sid,
                position=i,
                code=s.code,
                name=s.name,
                start_hour=s.start_hour,
                hours=s.hours,
                covers_day_work=s.covers_day_work,
                is_leave=s.is_leave,
            )
            for i, s in enumerate(scenario.shift_codes)
        ],
    )
    staff_ids = {row.code: row.id for row in staff}
    shift_ids = {row.code: row.id for row in shifts}
    _bulk_insert(
        session,
        RosterEntryRow,
        [
            {
                "scenario_id": sid,
                "position": i,
                "staff_member_id": staff_ids[e.staff_code],
                "day": e.day,
                "shift_code_id": shift_ids[e.shift_code],
            }
            for i, e in enumerate(scenario.roster)
        ],
    )
    _bulk_insert(
        session,
        BedChangeRow,
        [
            {
                "scenario_id": sid,
                "position": i,
                "first_day": c.start,
                "last_day": c.end,
                "beds": c.beds,
                "reason": c.reason,
            }
            for i, c in enumerate(scenario.ward.changes)
        ],
    )
    _bulk_insert(
        session,
        ApheresisExceptionRow,
        [
            {"scenario_id": sid, "position": i, "day": day, "slots": slots}
            for i, (day, slots) in enumerate(scenario.apheresis.exceptions)
        ],
    )
    product_ids = _insert_products(session, sid, scenario.products)
    cohort_ids = _insert_trials(session, sid, scenario.trials, product_ids)
    _insert_patients(session, sid, scenario.patients, product_ids, cohort_ids)
    _bulk_insert(
        session,
        HolidayRow,
        [
            {"scenario_id": sid, "position": i, "day": h.day, "name": h.name}
            for i, h in enumerate(scenario.holidays)
        ],
    )
    _bulk_insert(
        session,
        PriorityWeightRow,
        [
            {"scenario_id": sid, "position": i, "priority": priority, "weight": weight}
            for i, (priority, weight) in enumerate(scenario.priority_weights)
        ],
    )


def _insert_products(session: Session, sid: int, products: Sequence[Product]) -> dict[str, int]:
    """Insert products, their steps and staff needs; return product ids by code."""
    product_rows = _add_all(
        session,
        [
            ProductRow(
                scenario_id=sid,
                position=i,
                code=p.code,
                name=p.name,
                storage=p.storage.value,
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
            for i, p in enumerate(products)
        ],
    )
    steps = [
        (
            step,
            ProcessStepRow(
                scenario_id=sid,
                product_id=row.id,
                position=i,
                code=step.code,
                name=step.name,
                duration_hours=step.duration_hours,
                needs_cleanroom=step.needs_cleanroom,
                needs_device=step.needs_device,
                working_hours_only=step.working_hours_only,
                min_lag_hours=step.min_lag_hours,
                max_lag_hours=step.max_lag_hours,
            ),
        )
        for row, product in zip(product_rows, products, strict=True)
        for i, step in enumerate(product.steps)
    ]
    _add_all(session, [row for _, row in steps])
    _bulk_insert(
        session,
        StaffNeedRow,
        [
            {
                "scenario_id": sid,
                "process_step_id": row.id,
                "position": i,
                "role": need.role.value,
                "count": need.count,
                "hours": need.hours,
                "product_trained": need.product_trained,
            }
            for step, row in steps
            for i, need in enumerate(step.staff)
        ],
    )
    return {row.code: row.id for row in product_rows}


def _insert_trials(
    session: Session, sid: int, trials: Sequence[Trial], product_ids: Mapping[str, int]
) -> dict[tuple[str, str], int]:
    """Insert trials and cohorts; return cohort ids by (trial code, cohort code)."""
    trial_rows = _add_all(
        session,
        [
            TrialRow(
                scenario_id=sid,
                position=i,
                code=t.code,
                name=t.name,
                product_id=product_ids[t.product_code],
                enrolment_start=t.enrolment_start,
                enrolment_end=t.enrolment_end,
                priority=t.priority,
                apheresis_within_days=t.apheresis_within_days,
            )
            for i, t in enumerate(trials)
        ],
    )
    cohorts = [
        (
            (trial.code, cohort.code),
            CohortRow(
                scenario_id=sid,
                trial_id=row.id,
                position=i,
                code=cohort.code,
                cap=cohort.cap,
                min_days_between_infusions=cohort.min_days_between_infusions,
            ),
        )
        for row, trial in zip(trial_rows, trials, strict=True)
        for i, cohort in enumerate(trial.cohorts)
    ]
    _add_all(session, [row for _, row in cohorts])
    return {key: row.id for key, row in cohorts}


def _insert_patients(
    session: Session,
    sid: int,
    patients: Sequence[Patient],
    product_ids: Mapping[str, int],
    cohort_ids: Mapping[tuple[str, str], int],
) -> None:
    """Insert patients and their done steps."""
    rows = _add_all(
        session,
        [
            PatientRow(
                scenario_id=sid,
                position=i,
                code=p.code,
                product_id=product_ids[p.product_code],
                referral_date=p.referral_date,
                earliest_apheresis=p.earliest_apheresis,
                latest_apheresis=p.latest_apheresis,
                needed_infusion=p.needed_infusion,
                priority=p.priority,
                cohort_id=(
                    None
                    if p.trial_code is None or p.cohort_code is None
                    else cohort_ids[(p.trial_code, p.cohort_code)]
                ),
                status=p.status.value,
            )
            for i, p in enumerate(patients)
        ],
    )
    _bulk_insert(
        session,
        DoneStepRow,
        [
            {
                "scenario_id": sid,
                "patient_id": row.id,
                "position": i,
                "step_code": done.step_code,
                "starts_at": done.start,
                "ends_at": done.end,
                "resource_code": done.resource_code,
            }
            for row, patient in zip(rows, patients, strict=True)
            for i, done in enumerate(patient.done_steps)
        ],
    )


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
                Cohort(c.code, c.cap, c.min_days_between_infusions) for c in cohorts[t.id]
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
        ),
        notes=tuple(row.notes),
    )


__all__ = [
    "ConcurrentEditError",
    "NotFoundError",
    "Repository",
    "RepositoryError",
    "StorageError",
    "StoredDataError",
]
