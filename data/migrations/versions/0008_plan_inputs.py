"""Plan approval and the inputs a plan was made from.

Adds plan.approved_by, plan.approved_at and plan.approval_reason (null: a draft),
plan.inputs_json (the scenario as solved, canonical JSON with sorted keys),
plan.inputs_sha256 (its SHA-256) and plan.replan_inputs (the re-plan basis: published plan
id, planning date, frozen days, pins; null for a fresh plan). Older plans have no stored
inputs and cannot be reproduced.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns (plain ALTER TABLE: a batch rebuild would cascade-delete children)."""
    op.add_column("plan", sa.Column("approved_by", sa.String(length=200), nullable=True))
    op.add_column("plan", sa.Column("approved_at", sa.DateTime(), nullable=True))
    op.add_column("plan", sa.Column("approval_reason", sa.Text(), nullable=True))
    op.add_column("plan", sa.Column("inputs_json", sa.Text(), nullable=True))
    op.add_column("plan", sa.Column("inputs_sha256", sa.String(length=64), nullable=True))
    op.add_column("plan", sa.Column("replan_inputs", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the columns."""
    for column in (
        "replan_inputs",
        "inputs_sha256",
        "inputs_json",
        "approval_reason",
        "approved_at",
        "approved_by",
    ):
        op.drop_column("plan", column)
