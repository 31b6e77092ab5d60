"""Initial schema: scenarios, their resources, products, trials, patients, and plans.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "scenario",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("horizon_start", sa.Date(), nullable=False),
        sa.Column("horizon_end", sa.Date(), nullable=False),
        sa.Column("site_code", sa.String(length=40), nullable=False),
        sa.Column("site_name", sa.String(length=200), nullable=False),
        sa.Column("site_country", sa.String(length=40), nullable=False),
        sa.Column("site_timezone", sa.String(length=64), nullable=False),
        sa.Column("site_day_start_hour", sa.Integer(), nullable=False),
        sa.Column("site_day_end_hour", sa.Integer(), nullable=False),
        sa.Column("ward_code", sa.String(length=40), nullable=False),
        sa.Column("ward_name", sa.String(length=200), nullable=False),
        sa.Column("ward_beds", sa.Integer(), nullable=False),
        sa.Column("apheresis_slots_per_weekday", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario")),
        sa.UniqueConstraint("name", name=op.f("uq_scenario_name")),
    )
    op.create_table(
        "apheresis_exception",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_apheresis_exception_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apheresis_exception")),
    )
    op.create_index(
        op.f("ix_apheresis_exception_scenario_id"),
        "apheresis_exception",
        ["scenario_id"],
        unique=False,
    )

    op.create_table(
        "bed_change",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_bed_change_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bed_change")),
    )
    op.create_index(op.f("ix_bed_change_scenario_id"), "bed_change", ["scenario_id"], unique=False)

    op.create_table(
        "cleanroom",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("changeover_hours", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_cleanroom_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleanroom")),
        sa.UniqueConstraint("scenario_id", "code", name=op.f("uq_cleanroom_scenario_id_code")),
    )
    op.create_index(op.f("ix_cleanroom_scenario_id"), "cleanroom", ["scenario_id"], unique=False)

    op.create_table(
        "device",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("room_codes", sa.JSON(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("changeover_hours", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_device_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("scenario_id", "code", name=op.f("uq_device_scenario_id_code")),
    )
    op.create_index(op.f("ix_device_scenario_id"), "device", ["scenario_id"], unique=False)

    op.create_table(
        "holiday",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_holiday_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday")),
    )
    op.create_index(op.f("ix_holiday_scenario_id"), "holiday", ["scenario_id"], unique=False)

    op.create_table(
        "plan",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("scheduled", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("median_vein_to_vein_days", sa.Double(), nullable=True),
        sa.Column("p90_vein_to_vein_days", sa.Double(), nullable=True),
        sa.Column("total_lateness_days", sa.Integer(), nullable=False),
        sa.Column("solver_status", sa.String(length=32), nullable=False),
        sa.Column("solver_engine", sa.String(length=64), nullable=False),
        sa.Column("solver_objective", sa.Double(), nullable=False),
        sa.Column("solver_bound", sa.Double(), nullable=False),
        sa.Column("solver_wall_time_s", sa.Double(), nullable=False),
        sa.Column("solver_greedy_objective", sa.Double(), nullable=False),
        sa.Column("settings_deterministic", sa.Boolean(), nullable=False),
        sa.Column("settings_deterministic_time", sa.Double(), nullable=False),
        sa.Column("settings_time_limit_s", sa.Double(), nullable=False),
        sa.Column("settings_workers", sa.Integer(), nullable=False),
        sa.Column("settings_seed", sa.Integer(), nullable=False),
        sa.Column("settings_use_greedy_hint", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_plan_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
    )
    op.create_index(op.f("ix_plan_scenario_id"), "plan", ["scenario_id"], unique=False)

    op.create_table(
        "priority_weight",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_priority_weight_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_weight")),
    )
    op.create_index(
        op.f("ix_priority_weight_scenario_id"), "priority_weight", ["scenario_id"], unique=False
    )

    op.create_table(
        "product",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("storage", sa.String(length=16), nullable=False),
        sa.Column("qc_release_days", sa.Integer(), nullable=False),
        sa.Column("fresh_shelf_days", sa.Integer(), nullable=False),
        sa.Column("ld_days_before_infusion", sa.Integer(), nullable=False),
        sa.Column("inpatient_days", sa.Integer(), nullable=False),
        sa.Column("failure_probability", sa.Double(), nullable=False),
        sa.Column("apheresis_hours", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_product_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("scenario_id", "code", name=op.f("uq_product_scenario_id_code")),
    )
    op.create_index(op.f("ix_product_scenario_id"), "product", ["scenario_id"], unique=False)

    op.create_table(
        "shift_code",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("start_hour", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("covers_day_work", sa.Boolean(), nullable=False),
        sa.Column("is_leave", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_shift_code_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_code")),
        sa.UniqueConstraint("scenario_id", "code", name=op.f("uq_shift_code_scenario_id_code")),
    )
    op.create_index(op.f("ix_shift_code_scenario_id"), "shift_code", ["scenario_id"], unique=False)

    op.create_table(
        "staff_member",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("trained_products", sa.JSON(), nullable=False),
        sa.Column("contracted_hours_per_week", sa.Double(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_staff_member_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_member")),
        sa.UniqueConstraint("scenario_id", "code", name=op.f("uq_staff_member_scenario_id_code")),
    )
    op.create_index(
        op.f("ix_staff_member_scenario_id"), "staff_member", ["scenario_id"], unique=False
    )

    op.create_table(
        "cleanroom_downtime",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("cleanroom_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cleanroom_id"],
            ["cleanroom.id"],
            name=op.f("fk_cleanroom_downtime_cleanroom_id_cleanroom"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_cleanroom_downtime_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleanroom_downtime")),
    )
    op.create_index(
        op.f("ix_cleanroom_downtime_cleanroom_id"),
        "cleanroom_downtime",
        ["cleanroom_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_cleanroom_downtime_scenario_id"),
        "cleanroom_downtime",
        ["scenario_id"],
        unique=False,
    )

    op.create_table(
        "device_downtime",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
            name=op.f("fk_device_downtime_device_id_device"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_device_downtime_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_downtime")),
    )
    op.create_index(
        op.f("ix_device_downtime_device_id"), "device_downtime", ["device_id"], unique=False
    )
    op.create_index(
        op.f("ix_device_downtime_scenario_id"), "device_downtime", ["scenario_id"], unique=False
    )

    op.create_table(
        "plan_assignment",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("patient_code", sa.String(length=40), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("step_code", sa.String(length=40), nullable=False),
        sa.Column("resource_type", sa.String(length=16), nullable=False),
        sa.Column("resource_code", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan.id"],
            name=op.f("fk_plan_assignment_plan_id_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_assignment")),
    )
    op.create_index(
        op.f("ix_plan_assignment_plan_id"), "plan_assignment", ["plan_id"], unique=False
    )

    op.create_table(
        "plan_schedule",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("patient_code", sa.String(length=40), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("apheresis_day", sa.Date(), nullable=False),
        sa.Column("manufacturing_start", sa.DateTime(), nullable=False),
        sa.Column("manufacturing_end", sa.DateTime(), nullable=False),
        sa.Column("release_day", sa.Date(), nullable=False),
        sa.Column("ld_start_day", sa.Date(), nullable=False),
        sa.Column("infusion_day", sa.Date(), nullable=False),
        sa.Column("bed_from", sa.Date(), nullable=False),
        sa.Column("bed_to", sa.Date(), nullable=False),
        sa.Column("lateness_days", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_schedule_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_schedule")),
    )
    op.create_index(op.f("ix_plan_schedule_plan_id"), "plan_schedule", ["plan_id"], unique=False)

    op.create_table(
        "plan_unscheduled",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("patient_code", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan.id"],
            name=op.f("fk_plan_unscheduled_plan_id_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_unscheduled")),
    )
    op.create_index(
        op.f("ix_plan_unscheduled_plan_id"), "plan_unscheduled", ["plan_id"], unique=False
    )

    op.create_table(
        "plan_utilisation",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("resource_kind", sa.String(length=40), nullable=False),
        sa.Column("share", sa.Double(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan.id"],
            name=op.f("fk_plan_utilisation_plan_id_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_utilisation")),
    )
    op.create_index(
        op.f("ix_plan_utilisation_plan_id"), "plan_utilisation", ["plan_id"], unique=False
    )

    op.create_table(
        "process_step",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("duration_hours", sa.Integer(), nullable=False),
        sa.Column("needs_cleanroom", sa.Boolean(), nullable=False),
        sa.Column("needs_device", sa.Boolean(), nullable=False),
        sa.Column("working_hours_only", sa.Boolean(), nullable=False),
        sa.Column("min_lag_hours", sa.Integer(), nullable=False),
        sa.Column("max_lag_hours", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_process_step_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_process_step_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_step")),
        sa.UniqueConstraint("product_id", "code", name=op.f("uq_process_step_product_id_code")),
    )
    op.create_index(
        op.f("ix_process_step_scenario_id"), "process_step", ["scenario_id"], unique=False
    )

    op.create_table(
        "roster_entry",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift_code_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_roster_entry_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shift_code_id"],
            ["shift_code.id"],
            name=op.f("fk_roster_entry_shift_code_id_shift_code"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_roster_entry_staff_member_id_staff_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_entry")),
        sa.UniqueConstraint(
            "staff_member_id", "day", name=op.f("uq_roster_entry_staff_member_id_day")
        ),
    )
    op.create_index(
        op.f("ix_roster_entry_scenario_id"), "roster_entry", ["scenario_id"], unique=False
    )
    op.create_index(
        op.f("ix_roster_entry_shift_code_id"), "roster_entry", ["shift_code_id"], unique=False
    )

    op.create_table(
        "trial",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_start", sa.Date(), nullable=False),
        sa.Column("enrolment_end", sa.Date(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("apheresis_within_days", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_trial_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_trial_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial")),
        sa.UniqueConstraint("scenario_id", "code", name=op.f("uq_trial_scenario_id_code")),
    )
    op.create_index(op.f("ix_trial_product_id"), "trial", ["product_id"], unique=False)
    op.create_index(op.f("ix_trial_scenario_id"), "trial", ["scenario_id"], unique=False)

    op.create_table(
        "cohort",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("cap", sa.Integer(), nullable=False),
        sa.Column("min_days_between_infusions", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_cohort_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trial.id"], name=op.f("fk_cohort_trial_id_trial"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort")),
        sa.UniqueConstraint("trial_id", "code", name=op.f("uq_cohort_trial_id_code")),
    )
    op.create_index(op.f("ix_cohort_scenario_id"), "cohort", ["scenario_id"], unique=False)

    op.create_table(
        "staff_need",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("process_step_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("product_trained", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["process_step_id"],
            ["process_step.id"],
            name=op.f("fk_staff_need_process_step_id_process_step"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_staff_need_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_need")),
    )
    op.create_index(
        op.f("ix_staff_need_process_step_id"), "staff_need", ["process_step_id"], unique=False
    )
    op.create_index(op.f("ix_staff_need_scenario_id"), "staff_need", ["scenario_id"], unique=False)

    op.create_table(
        "patient",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("referral_date", sa.Date(), nullable=False),
        sa.Column("earliest_apheresis", sa.Date(), nullable=False),
        sa.Column("latest_apheresis", sa.Date(), nullable=False),
        sa.Column("needed_infusion", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohort.id"],
            name=op.f("fk_patient_cohort_id_cohort"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_patient_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_patient_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("scenario_id", "code", name=op.f("uq_patient_scenario_id_code")),
    )
    op.create_index(op.f("ix_patient_cohort_id"), "patient", ["cohort_id"], unique=False)
    op.create_index(op.f("ix_patient_product_id"), "patient", ["product_id"], unique=False)
    op.create_index(op.f("ix_patient_scenario_id"), "patient", ["scenario_id"], unique=False)

    op.create_table(
        "done_step",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step_code", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("resource_code", sa.String(length=40), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_done_step_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_done_step_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_done_step")),
        sa.UniqueConstraint(
            "patient_id", "step_code", name=op.f("uq_done_step_patient_id_step_code")
        ),
    )
    op.create_index(op.f("ix_done_step_scenario_id"), "done_step", ["scenario_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_done_step_scenario_id"), table_name="done_step")
    op.drop_table("done_step")
    op.drop_index(op.f("ix_patient_scenario_id"), table_name="patient")
    op.drop_index(op.f("ix_patient_product_id"), table_name="patient")
    op.drop_index(op.f("ix_patient_cohort_id"), table_name="patient")
    op.drop_table("patient")
    op.drop_index(op.f("ix_staff_need_scenario_id"), table_name="staff_need")
    op.drop_index(op.f("ix_staff_need_process_step_id"), table_name="staff_need")
    op.drop_table("staff_need")
    op.drop_index(op.f("ix_cohort_scenario_id"), table_name="cohort")
    op.drop_table("cohort")
    op.drop_index(op.f("ix_trial_scenario_id"), table_name="trial")
    op.drop_index(op.f("ix_trial_product_id"), table_name="trial")
    op.drop_table("trial")
    op.drop_index(op.f("ix_roster_entry_shift_code_id"), table_name="roster_entry")
    op.drop_index(op.f("ix_roster_entry_scenario_id"), table_name="roster_entry")
    op.drop_table("roster_entry")
    op.drop_index(op.f("ix_process_step_scenario_id"), table_name="process_step")
    op.drop_table("process_step")
    op.drop_index(op.f("ix_plan_utilisation_plan_id"), table_name="plan_utilisation")
    op.drop_table("plan_utilisation")
    op.drop_index(op.f("ix_plan_unscheduled_plan_id"), table_name="plan_unscheduled")
    op.drop_table("plan_unscheduled")
    op.drop_index(op.f("ix_plan_schedule_plan_id"), table_name="plan_schedule")
    op.drop_table("plan_schedule")
    op.drop_index(op.f("ix_plan_assignment_plan_id"), table_name="plan_assignment")
    op.drop_table("plan_assignment")
    op.drop_index(op.f("ix_device_downtime_scenario_id"), table_name="device_downtime")
    op.drop_index(op.f("ix_device_downtime_device_id"), table_name="device_downtime")
    op.drop_table("device_downtime")
    op.drop_index(op.f("ix_cleanroom_downtime_scenario_id"), table_name="cleanroom_downtime")
    op.drop_index(op.f("ix_cleanroom_downtime_cleanroom_id"), table_name="cleanroom_downtime")
    op.drop_table("cleanroom_downtime")
    op.drop_index(op.f("ix_staff_member_scenario_id"), table_name="staff_member")
    op.drop_table("staff_member")
    op.drop_index(op.f("ix_shift_code_scenario_id"), table_name="shift_code")
    op.drop_table("shift_code")
    op.drop_index(op.f("ix_product_scenario_id"), table_name="product")
    op.drop_table("product")
    op.drop_index(op.f("ix_priority_weight_scenario_id"), table_name="priority_weight")
    op.drop_table("priority_weight")
    op.drop_index(op.f("ix_plan_scenario_id"), table_name="plan")
    op.drop_table("plan")
    op.drop_index(op.f("ix_holiday_scenario_id"), table_name="holiday")
    op.drop_table("holiday")
    op.drop_index(op.f("ix_device_scenario_id"), table_name="device")
    op.drop_table("device")
    op.drop_index(op.f("ix_cleanroom_scenario_id"), table_name="cleanroom")
    op.drop_table("cleanroom")
    op.drop_index(op.f("ix_bed_change_scenario_id"), table_name="bed_change")
    op.drop_table("bed_change")
    op.drop_index(op.f("ix_apheresis_exception_scenario_id"), table_name="apheresis_exception")
    op.drop_table("apheresis_exception")
    op.drop_table("scenario")
