"""Dead letters already replayed.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letter_replay",
        sa.Column("connector", sa.String(64), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("offset", sa.Integer, primary_key=True),
        sa.Column("failed_at", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dead_letter_replay")
