"""Outbox of canonical events; translation mark on the ingestion journal.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("settled_at", TS, nullable=True),
    )
    op.create_index("ix_outbox_unsettled", "outbox", ["settled_at", "seq"])
    with op.batch_alter_table("ingestion") as batch:
        batch.add_column(sa.Column("translated_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingestion") as batch:
        batch.drop_column("translated_at")
    op.drop_index("ix_outbox_unsettled", "outbox")
    op.drop_table("outbox")
