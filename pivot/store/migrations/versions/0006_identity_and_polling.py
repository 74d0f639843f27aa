"""Merged golden records, lease periods on lots and their holders, poll cursors.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "xref_merge",
        sa.Column("absorbed_id", sa.String(64), primary_key=True),
        sa.Column("survivor_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("merged_at", TS, nullable=False),
    )
    op.create_index("ix_xref_merge_survivor_id", "xref_merge", ["survivor_id"])
    op.create_table(
        "tenancy",
        sa.Column("lease_id", sa.String(64), primary_key=True),
        sa.Column("lot_id", sa.String(64), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
    )
    op.create_index("ix_tenancy_lot_id", "tenancy", ["lot_id"])
    op.create_table(
        "lease_holder",
        sa.Column("lease_id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), primary_key=True),
    )
    op.create_index("ix_lease_holder_tenant_id", "lease_holder", ["tenant_id"])
    op.create_table(
        "poll_cursor",
        sa.Column("connector", sa.String(64), primary_key=True),
        sa.Column("cursor", sa.String(1024), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("poll_cursor")
    op.drop_index("ix_lease_holder_tenant_id", "lease_holder")
    op.drop_table("lease_holder")
    op.drop_index("ix_tenancy_lot_id", "tenancy")
    op.drop_table("tenancy")
    op.drop_index("ix_xref_merge_survivor_id", "xref_merge")
    op.drop_table("xref_merge")
