"""Ingestion journal and spool.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingestion",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ingestion_id", sa.String(36), nullable=False, unique=True),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("source_key", sa.String(255), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("ingested_at", sa.Float, nullable=False),
        sa.Column("trace_headers", sa.JSON, nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ingestion_connector", "ingestion", ["connector"])
    op.create_index("ix_ingestion_pending", "ingestion", ["published_at", "seq"])


def downgrade() -> None:
    op.drop_index("ix_ingestion_pending", "ingestion")
    op.drop_index("ix_ingestion_connector", "ingestion")
    op.drop_table("ingestion")
