"""Products: where a fresh product's shelf life starts, and lymphodepletion before release.

Adds product.shelf_life_from_step (the step whose end starts the shelf life; NULL means the
last step, as before) and product.ld_before_release (whether lymphodepletion may start
before release). Existing fresh products get ld_before_release true: their lymphodepletion
must precede the infusion within the shelf life, as plans made before assumed; cryopreserved
products wait for release.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns; fresh products may start lymphodepletion before release."""
    # Plain ALTER TABLE, not batch mode: rebuilding the product table on SQLite would
    # cascade-delete its steps (foreign keys are on).
    op.add_column("product", sa.Column("shelf_life_from_step", sa.String(length=40)))
    op.add_column(
        "product",
        sa.Column("ld_before_release", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    product = sa.table(
        "product",
        sa.column("storage", sa.String()),
        sa.column("ld_before_release", sa.Boolean()),
    )
    op.execute(product.update().where(product.c.storage == "fresh").values(ld_before_release=True))


def downgrade() -> None:
    """Drop the columns (ALTER TABLE DROP COLUMN, which SQLite has had since 3.35)."""
    op.drop_column("product", "ld_before_release")
    op.drop_column("product", "shelf_life_from_step")
