"""Decisions of the AI services, with model version and inputs' hash.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_decision",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("output", sa.JSON, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "model", "subject", name="uq_ai_decision_event"),
    )
    op.create_index("ix_ai_decision_subject", "ai_decision", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_ai_decision_subject", "ai_decision")
    op.drop_table("ai_decision")
