"""Quality findings of golden-record versions (what a data steward must look at).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_finding",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("canonical_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("field", sa.String(255), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.String(512), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "rule", "field", name="uq_quality_finding_event"),
    )
    op.create_index("ix_quality_finding_canonical_id", "quality_finding", ["canonical_id"])
    op.create_index("ix_quality_finding_rule", "quality_finding", ["rule"])


def downgrade() -> None:
    op.drop_index("ix_quality_finding_rule", "quality_finding")
    op.drop_index("ix_quality_finding_canonical_id", "quality_finding")
    op.drop_table("quality_finding")
