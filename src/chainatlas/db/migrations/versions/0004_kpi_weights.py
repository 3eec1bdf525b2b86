"""The yearly assessment weights of the chain-chief KPIs (考核权重, issue #6 point 5).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wf_kpi_weights",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("weights", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_wf_kpi_weights")),
    )


def downgrade() -> None:
    op.drop_table("wf_kpi_weights")
