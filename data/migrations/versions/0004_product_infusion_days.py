"""Products: whether lymphodepletion and infusion may fall on weekends and holidays.

Adds product.infusion_any_day, false for every product: from now on lymphodepletion starts
and infusions fall on clinical days (weekdays that are not public holidays) unless a
product says otherwise.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column (plain ALTER TABLE: a batch rebuild would cascade-delete steps)."""
    op.add_column(
        "product",
        sa.Column("infusion_any_day", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    """Drop the column."""
    op.drop_column("product", "infusion_any_day")
