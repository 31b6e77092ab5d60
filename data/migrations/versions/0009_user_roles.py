"""User roles: who is director, coordinator, scheduler or viewer, and access settings.

Adds user_role (one row per user: role, granted_by, granted_at, reason) and
access_setting (e.g. the prefix of the PostgreSQL group roles). Both start empty: a
database without roles is single-user and everything stays allowed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create user_role and access_setting, empty."""
    op.create_table(
        "user_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_role")),
        sa.UniqueConstraint("user_name", name=op.f("uq_user_role_user_name")),
    )
    op.create_table(
        "access_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_setting")),
        sa.UniqueConstraint("name", name=op.f("uq_access_setting_name")),
    )


def downgrade() -> None:
    """Drop them (the database is single-user again; the audit trail keeps the grants)."""
    op.drop_table("access_setting")
    op.drop_table("user_role")
