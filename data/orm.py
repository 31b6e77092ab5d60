"""SQLAlchemy row classes: the stored form of planner.Scenario and planner.Plan.

Every table has a surrogate integer id and an integer ``version`` used by SQLAlchemy as
``version_id_col`` (optimistic concurrency). Child rows keep their order in a ``position``
column so that a round trip gives back exactly what was saved. Rows owned by a scenario
carry ``scenario_id`` even when they also hang off another row, so that a scenario's
contents can be loaded or replaced table by table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

#: Stable constraint and index names, so Alembic migrations can refer to them.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CODE = String(40)
NAME = String(200)


class Base(DeclarativeBase):
    """Declarative base of every row class; one MetaData with a naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        str: NAME,
        int: Integer(),
        float: Double(),
        bool: Boolean(),
        date: Date(),
        datetime: DateTime(timezone=False),
        list[str]: JSON(),
        list[int]: JSON(),
    }


class Versioned:
    """Mixin: surrogate id plus the optimistic-concurrency version column."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        """Use ``version`` as the mapper's version counter."""
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def _scenario_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("scenario.id", ondelete="CASCADE"), index=True)


# Scenario ----------------------------------------------------------------------------------


class ScenarioRow(Versioned, Base):
    """A scenario with its site, ward and weekly apheresis capacity."""

    __tablename__ = "scenario"

    name: Mapped[str] = mapped_column(unique=True)
    horizon_start: Mapped[date]
    horizon_end: Mapped[date]
    site_code: Mapped[str] = mapped_column(CODE)
    site_name: Mapped[str]
    site_country: Mapped[str] = mapped_column(CODE)
    site_timezone: Mapped[str] = mapped_column(String(64))
    site_day_start_hour: Mapped[int]
    site_day_end_hour: Mapped[int]
    ward_code: Mapped[str] = mapped_column(CODE)
    ward_name: Mapped[str]
    ward_beds: Mapped[int]
    apheresis_slots_per_weekday: Mapped[list[int]]
    #: Days from the planning date a re-plan keeps the published plan's steps.
    frozen_days: Mapped[int] = mapped_column(default=14)


class CleanroomRow(Versioned, Base):
    """A cleanroom of a scenario; its product codes are a JSON list."""

    __tablename__ = "cleanroom"
    __table_args__ = (UniqueConstraint("scenario_id", "code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    code: Mapped[str] = mapped_column(CODE)
    name: Mapped[str]
    grade: Mapped[str] = mapped_column(String(1))
    products: Mapped[list[str]]
    changeover_hours: Mapped[int]


class CleanroomDowntimeRow(Versioned, Base):
    """A downtime window of a cleanroom."""

    __tablename__ = "cleanroom_downtime"

    scenario_id: Mapped[int] = _scenario_fk()
    cleanroom_id: Mapped[int] = mapped_column(
        ForeignKey("cleanroom.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class DeviceRow(Versioned, Base):
    """A processing device of a scenario; room and product codes are JSON lists."""

    __tablename__ = "device"
    __table_args__ = (UniqueConstraint("scenario_id", "code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    code: Mapped[str] = mapped_column(CODE)
    name: Mapped[str]
    room_codes: Mapped[list[str]]
    products: Mapped[list[str]]
    changeover_hours: Mapped[int]


class DeviceDowntimeRow(Versioned, Base):
    """A downtime window of a device."""

    __tablename__ = "device_downtime"

    scenario_id: Mapped[int] = _scenario_fk()
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class StaffMemberRow(Versioned, Base):
    """A staff member; roles and trained product codes are JSON lists."""

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("scenario_id", "code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    code: Mapped[str] = mapped_column(CODE)
    roles: Mapped[list[str]]
    trained_products: Mapped[list[str]]
    contracted_hours_per_week: Mapped[float]


class ShiftCodeRow(Versioned, Base):
    """A roster shift code."""

    __tablename__ = "shift_code"
    __table_args__ = (UniqueConstraint("scenario_id", "code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    code: Mapped[str] = mapped_column(CODE)
    name: Mapped[str]
    start_hour: Mapped[int]
    hours: Mapped[int]
    covers_day_work: Mapped[bool]
    is_leave: Mapped[bool]


class RosterEntryRow(Versioned, Base):
    """One staff member's shift on one date."""

    __tablename__ = "roster_entry"
    __table_args__ = (UniqueConstraint("staff_member_id", "day"),)

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"))
    day: Mapped[date]
    shift_code_id: Mapped[int] = mapped_column(
        ForeignKey("shift_code.id", ondelete="CASCADE"), index=True
    )


class BedChangeRow(Versioned, Base):
    """A dated change of the ward's bed count."""

    __tablename__ = "bed_change"

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    first_day: Mapped[date]
    last_day: Mapped[date]
    beds: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)


class ApheresisExceptionRow(Versioned, Base):
    """Apheresis slots on one date, overriding the weekday capacity."""

    __tablename__ = "apheresis_exception"

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    day: Mapped[date]
    slots: Mapped[int]


class ProductRow(Versioned, Base):
    """A product of a scenario."""

    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("scenario_id", "code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    code: Mapped[str] = mapped_column(CODE)
    name: Mapped[str]
    storage: Mapped[str] = mapped_column(String(16))
    qc_release_days: Mapped[int]
    fresh_shelf_days: Mapped[int]
    ld_days_before_infusion: Mapped[int]
    inpatient_days: Mapped[int]
    failure_probability: Mapped[float]
    apheresis_hours: Mapped[int]
    shelf_life_from_step: Mapped[str | None] = mapped_column(CODE)
    ld_before_release: Mapped[bool]
    infusion_any_day: Mapped[bool] = mapped_column(default=False)


class ProcessStepRow(Versioned, Base):
    """A manufacturing step of a product, in process order."""

    __tablename__ = "process_step"
    __table_args__ = (UniqueConstraint("product_id", "code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(CODE)
    name: Mapped[str]
    duration_hours: Mapped[int]
    needs_cleanroom: Mapped[bool]
    needs_device: Mapped[bool]
    working_hours_only: Mapped[bool]
    min_lag_hours: Mapped[int]
    max_lag_hours: Mapped[int | None]


class StaffNeedRow(Versioned, Base):
    """People of a role a process step needs."""

    __tablename__ = "staff_need"

    scenario_id: Mapped[int] = _scenario_fk()
    process_step_id: Mapped[int] = mapped_column(
        ForeignKey("process_step.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    role: Mapped[str] = mapped_column(String(32))
    count: Mapped[int]
    hours: Mapped[int]
    product_trained: Mapped[bool]


class TrialRow(Versioned, Base):
    """A clinical trial of one product."""

    __tablename__ = "trial"
    __table_args__ = (UniqueConstraint("scenario_id", "code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    code: Mapped[str] = mapped_column(CODE)
    name: Mapped[str]
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    enrolment_start: Mapped[date]
    enrolment_end: Mapped[date]
    priority: Mapped[int]
    apheresis_within_days: Mapped[int | None]


class CohortRow(Versioned, Base):
    """A cohort of a trial."""

    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("trial_id", "code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    trial_id: Mapped[int] = mapped_column(ForeignKey("trial.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(CODE)
    cap: Mapped[int]
    min_days_between_infusions: Mapped[int]
    escalation_gate_days: Mapped[int | None]


class PatientRow(Versioned, Base):
    """A patient; a trial patient points at a cohort (and so at its trial)."""

    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("scenario_id", "code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    code: Mapped[str] = mapped_column(CODE)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    referral_date: Mapped[date]
    earliest_apheresis: Mapped[date]
    latest_apheresis: Mapped[date]
    needed_infusion: Mapped[date | None]
    priority: Mapped[int]
    cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohort.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    enrolled_on: Mapped[date | None]
    infused_on: Mapped[date | None]


class DoneStepRow(Versioned, Base):
    """A step of a patient already carried out."""

    __tablename__ = "done_step"
    __table_args__ = (UniqueConstraint("patient_id", "step_code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    position: Mapped[int]
    step_code: Mapped[str] = mapped_column(CODE)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    resource_code: Mapped[str] = mapped_column(CODE)


class HolidayRow(Versioned, Base):
    """A public holiday."""

    __tablename__ = "holiday"

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    day: Mapped[date]
    name: Mapped[str]


class PriorityWeightRow(Versioned, Base):
    """The objective weight of one priority class."""

    __tablename__ = "priority_weight"

    scenario_id: Mapped[int] = _scenario_fk()
    position: Mapped[int]
    priority: Mapped[int]
    weight: Mapped[int]
    #: Objective weight of one day of lateness of a patient of this priority.
    lateness_weight: Mapped[int] = mapped_column(default=10)


#: Tables owned by a scenario, parents before children (delete in reverse).
SCENARIO_CHILDREN: tuple[type[Versioned], ...] = (
    CleanroomRow,
    CleanroomDowntimeRow,
    DeviceRow,
    DeviceDowntimeRow,
    StaffMemberRow,
    ShiftCodeRow,
    RosterEntryRow,
    BedChangeRow,
    ApheresisExceptionRow,
    ProductRow,
    ProcessStepRow,
    StaffNeedRow,
    TrialRow,
    CohortRow,
    PatientRow,
    DoneStepRow,
    HolidayRow,
    PriorityWeightRow,
)


# Plan --------------------------------------------------------------------------------------


class PlanRow(Versioned, Base):
    """A plan of a scenario with its headline KPIs and what the solver reported."""

    __tablename__ = "plan"

    scenario_id: Mapped[int] = _scenario_fk()
    #: When the plan was made, UTC (naive in the column).
    created: Mapped[datetime]
    #: Order in which plans were made current (0: never); the highest is the current plan.
    chosen_seq: Mapped[int]
    notes: Mapped[list[str]]
    scheduled: Mapped[int]
    total: Mapped[int]
    median_vein_to_vein_days: Mapped[float | None]
    p90_vein_to_vein_days: Mapped[float | None]
    total_lateness_days: Mapped[int]
    solver_status: Mapped[str] = mapped_column(String(32))
    solver_engine: Mapped[str] = mapped_column(String(64))
    solver_objective: Mapped[float]
    solver_bound: Mapped[float]
    solver_wall_time_s: Mapped[float]
    solver_greedy_objective: Mapped[float]
    solver_cp_sat_status: Mapped[str] = mapped_column(String(32))
    solver_stopped: Mapped[bool]
    solver_versions: Mapped[str] = mapped_column(String(200))
    settings_deterministic: Mapped[bool]
    settings_deterministic_time: Mapped[float]
    settings_time_limit_s: Mapped[float]
    settings_workers: Mapped[int]
    settings_seed: Mapped[int]
    settings_use_greedy_hint: Mapped[bool]
    #: Order in which plans were published (0: never); the highest is the published plan,
    #: the others published before it are superseded.
    published_seq: Mapped[int] = mapped_column(default=0)
    #: When the plan was published, UTC (naive in the column).
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The objective level by level: [name, value, bound or null, maximise].
    solver_levels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Who approved the plan (null: a draft); an approved plan's content never changes.
    approved_by: Mapped[str | None] = mapped_column(default=None)
    #: When the plan was approved, UTC (naive in the column).
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    approval_reason: Mapped[str | None] = mapped_column(Text, default=None)
    #: The scenario as solved, canonical JSON (sorted keys); null for plans made before 0008.
    inputs_json: Mapped[str | None] = mapped_column(Text, default=None)
    #: SHA-256 (hex) of inputs_json.
    inputs_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    #: What a re-plan kept: {published_id, today, frozen_days, pins, basis}; null: fresh.
    replan_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class PinRow(Versioned, Base):
    """A patient (step_code empty) or a patient's chain up to a step, kept in re-plans."""

    __tablename__ = "pin"
    __table_args__ = (UniqueConstraint("scenario_id", "patient_code", "step_code"),)

    scenario_id: Mapped[int] = _scenario_fk()
    patient_code: Mapped[str] = mapped_column(CODE)
    step_code: Mapped[str] = mapped_column(CODE)


def _plan_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)


class PlanUtilisationRow(Versioned, Base):
    """Busy share of one resource kind in a plan."""

    __tablename__ = "plan_utilisation"

    plan_id: Mapped[int] = _plan_fk()
    position: Mapped[int]
    resource_kind: Mapped[str] = mapped_column(CODE)
    share: Mapped[float]


class PlanAssignmentRow(Versioned, Base):
    """One step of one patient on one resource."""

    __tablename__ = "plan_assignment"

    plan_id: Mapped[int] = _plan_fk()
    position: Mapped[int]
    patient_code: Mapped[str] = mapped_column(CODE)
    product_code: Mapped[str] = mapped_column(CODE)
    step_code: Mapped[str] = mapped_column(CODE)
    resource_type: Mapped[str] = mapped_column(String(16))
    resource_code: Mapped[str] = mapped_column(CODE)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    quantity: Mapped[int]


class PlanScheduleRow(Versioned, Base):
    """The milestones of one scheduled patient."""

    __tablename__ = "plan_schedule"

    plan_id: Mapped[int] = _plan_fk()
    position: Mapped[int]
    patient_code: Mapped[str] = mapped_column(CODE)
    product_code: Mapped[str] = mapped_column(CODE)
    apheresis_day: Mapped[date]
    manufacturing_start: Mapped[datetime]
    manufacturing_end: Mapped[datetime]
    release_day: Mapped[date]
    ld_start_day: Mapped[date]
    infusion_day: Mapped[date]
    bed_from: Mapped[date]
    bed_to: Mapped[date]
    lateness_days: Mapped[int]


class PlanUnscheduledRow(Versioned, Base):
    """A patient a plan could not place, with the reason."""

    __tablename__ = "plan_unscheduled"

    plan_id: Mapped[int] = _plan_fk()
    position: Mapped[int]
    patient_code: Mapped[str] = mapped_column(CODE)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)


#: The rows of a plan (written once with it).
PLAN_CHILDREN = (
    PlanUtilisationRow,
    PlanAssignmentRow,
    PlanScheduleRow,
    PlanUnscheduledRow,
)


# Audit trail -------------------------------------------------------------------------------


class AuditRecordRow(Base):
    """One change, append-only: who, when (UTC), what (entity, key, field, old and new
    value, JSON text) and why, chained to the record before it by SHA-256 (see data.audit).

    No version counter: a record is never updated. ``seq`` numbers records 1, 2, 3... in
    the order they were appended.
    """

    __tablename__ = "audit_record"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: When it was recorded, UTC (naive in the column).
    at: Mapped[datetime]
    user_name: Mapped[str]
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_key: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str | None] = mapped_column(index=True)
    scenario_version: Mapped[int | None]
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Versioned, Base):
    """The newest record of the audit trail (one row): a deleted last record shows, and
    writers lock this row to append one at a time."""

    __tablename__ = "audit_head"

    last_seq: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


# Users and roles ---------------------------------------------------------------------------


class UserRoleRow(Versioned, Base):
    """A user's role (see planner.roles): who granted it, when (UTC) and why. A database
    without rows is single-user: everything is allowed."""

    __tablename__ = "user_role"

    user_name: Mapped[str] = mapped_column(unique=True)
    role: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str]
    granted_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)


class AccessSettingRow(Versioned, Base):
    """A setting of access control, e.g. `postgres_groups`: the prefix of the PostgreSQL
    group roles users' roles are read from (see data.access)."""

    __tablename__ = "access_setting"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[str]


#: Tables whose rows are never updated, so carry no version counter.
APPEND_ONLY: tuple[type[Base], ...] = (AuditRecordRow,)
