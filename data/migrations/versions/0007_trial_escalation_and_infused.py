"""Trials: dose-escalation gates; patients: enrolment and infusion dates.

Adds cohort.escalation_gate_days (null: no gate), patient.enrolled_on (null: the referral
date) and patient.infused_on (null: not known), all nullable, so existing scenarios plan
as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns (plain ALTER TABLE: a batch rebuild would cascade-delete children)."""
    op.add_column("cohort", sa.Column("escalation_gate_days", sa.Integer(), nullable=True))
    op.add_column("patient", sa.Column("enrolled_on", sa.Date(), nullable=True))
    op.add_column("patient", sa.Column("infused_on", sa.Date(), nullable=True))


def downgrade() -> None:
    """Drop the columns."""
    op.drop_column("patient", "infused_on")
    op.drop_column("patient", "enrolled_on")
    op.drop_column("cohort", "escalation_gate_days")
