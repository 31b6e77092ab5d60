"""Published plans, the frozen window and pins.

Adds scenario.frozen_days (14 for existing scenarios), priority_weight.lateness_weight
(10 for existing ones, the weight every priority had), plan.published_seq (0: never
published; the highest is the scenario's published plan, earlier published ones are
superseded), plan.published_at, plan.solver_levels (the objective level by level; none for older
plans), and the pin table (a patient, or a patient's chain up to
a step, kept in re-plans).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns (plain ALTER TABLE: a batch rebuild would cascade-delete children)
    and the pin table."""
    op.add_column(
        "scenario",
        sa.Column("frozen_days", sa.Integer(), nullable=False, server_default="14"),
    )
    op.add_column(
        "priority_weight",
        sa.Column("lateness_weight", sa.Integer(), nullable=False, server_default="10"),
    )
    op.add_column(
        "plan", sa.Column("published_seq", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("plan", sa.Column("published_at", sa.DateTime(), nullable=True))
    op.add_column(
        "plan", sa.Column("solver_levels", sa.JSON(), nullable=False, server_default="[]")
    )
    op.create_table(
        "pin",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("patient_code", sa.String(length=40), nullable=False),
        sa.Column("step_code", sa.String(length=40), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("fk_pin_scenario_id_scenario"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pin")),
        sa.UniqueConstraint(
            "scenario_id",
            "patient_code",
            "step_code",
            name=op.f("uq_pin_scenario_id_patient_code_step_code"),
        ),
    )
    op.create_index(op.f("ix_pin_scenario_id"), "pin", ["scenario_id"], unique=False)


def downgrade() -> None:
    """Drop the pin table and the columns."""
    op.drop_index(op.f("ix_pin_scenario_id"), table_name="pin")
    op.drop_table("pin")
    op.drop_column("plan", "solver_levels")
    op.drop_column("plan", "published_at")
    op.drop_column("plan", "published_seq")
    op.drop_column("priority_weight", "lateness_weight")
    op.drop_column("scenario", "frozen_days")
