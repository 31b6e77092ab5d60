"""Plans: real creation time, which plan is current, and the solver outcome in full.

Adds plan.chosen_seq (the current plan is the one chosen last: the highest number),
plan.solver_cp_sat_status (what CP-SAT concluded, apart from the plan's own status),
plan.solver_stopped (stopped early by the user) and plan.solver_versions. Existing
plans: the newest plan of each scenario stays current, as before; the old solver_status
(CP-SAT's, or CANCELLED) moves to solver_cp_sat_status and solver_status becomes the
plan's own.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns and carry existing plans over."""
    with op.batch_alter_table("plan") as batch:
        batch.add_column(sa.Column("chosen_seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column(
                "solver_cp_sat_status",
                sa.String(length=32),
                nullable=False,
                server_default="NOT_RUN",
            )
        )
        batch.add_column(
            sa.Column("solver_stopped", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("solver_versions", sa.String(length=200), nullable=False, server_default="")
        )
    plan = sa.table(
        "plan",
        sa.column("id", sa.Integer()),
        sa.column("scenario_id", sa.Integer()),
        sa.column("created", sa.DateTime()),
        sa.column("chosen_seq", sa.Integer()),
        sa.column("solver_status", sa.String()),
        sa.column("solver_cp_sat_status", sa.String()),
        sa.column("solver_stopped", sa.Boolean()),
        sa.column("solver_engine", sa.String()),
        sa.column("solver_objective", sa.Double()),
        sa.column("solver_bound", sa.Double()),
    )
    newest = sa.select(sa.func.max(plan.c.id)).group_by(plan.c.scenario_id)
    op.execute(plan.update().where(plan.c.id.in_(newest)).values(chosen_seq=1))
    op.execute(
        plan.update()
        .where(plan.c.solver_status == "CANCELLED")
        .values(solver_stopped=True, solver_cp_sat_status="NOT_RUN")
    )
    op.execute(
        plan.update()
        .where(plan.c.solver_status != "CANCELLED")
        .values(solver_cp_sat_status=plan.c.solver_status)
    )
    op.execute(
        plan.update().values(
            solver_status=sa.case(
                (plan.c.solver_objective >= plan.c.solver_bound, "OPTIMAL"), else_="FEASIBLE"
            )
        )
    )
    with op.batch_alter_table("plan") as batch:
        for name in ("chosen_seq", "solver_cp_sat_status", "solver_stopped", "solver_versions"):
            batch.alter_column(name, server_default=None)


def downgrade() -> None:
    """Drop the columns; CP-SAT's status goes back into solver_status."""
    plan = sa.table(
        "plan",
        sa.column("solver_status", sa.String()),
        sa.column("solver_cp_sat_status", sa.String()),
        sa.column("solver_stopped", sa.Boolean()),
    )
    op.execute(
        plan.update().values(
            solver_status=sa.case(
                (plan.c.solver_stopped == sa.true(), "CANCELLED"),
                else_=plan.c.solver_cp_sat_status,
            )
        )
    )
    with op.batch_alter_table("plan") as batch:
        batch.drop_column("solver_versions")
        batch.drop_column("solver_stopped")
        batch.drop_column("solver_cp_sat_status")
        batch.drop_column("chosen_seq")
