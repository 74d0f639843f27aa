"""The case index: each tenant request's deadline state, the records of its case, a cursor.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_state",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("urgency", sa.String(16), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(128), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_state_received_at", "case_state", ["received_at"])
    op.create_index("ix_case_state_closed_at", "case_state", ["closed_at"])
    op.create_index("ix_case_state_verdict", "case_state", ["verdict"])
    op.create_table(
        "case_link",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(64), nullable=False),
    )
    op.create_index("ix_case_link_record_id", "case_link", ["record_id"])
    op.create_table(
        "case_cursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_cursor")
    op.drop_index("ix_case_link_record_id", "case_link")
    op.drop_table("case_link")
    op.drop_index("ix_case_state_verdict", "case_state")
    op.drop_index("ix_case_state_closed_at", "case_state")
    op.drop_index("ix_case_state_received_at", "case_state")
    op.drop_table("case_state")
