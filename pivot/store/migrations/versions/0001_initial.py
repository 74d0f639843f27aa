"""Initial schema: xref, golden records with lineage, processed events.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "xref",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("canonical_id", sa.String(64), nullable=False),
        sa.Column("valid_from", TS, nullable=False),
        sa.Column("valid_to", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("system", "entity", "source_id", name="uq_xref_source"),
    )
    op.create_index("ix_xref_canonical_id", "xref", ["canonical_id"])
    op.create_table(
        "golden_record",
        sa.Column("canonical_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("last_event_id", sa.String(64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_golden_record_entity", "golden_record", ["entity"])
    op.create_table(
        "golden_record_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("canonical_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("source_system", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=True),
        sa.Column("mapping_version", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.UniqueConstraint("canonical_id", "version", name="uq_golden_version"),
    )
    op.create_index("ix_golden_record_version_canonical_id", "golden_record_version",
                    ["canonical_id"])
    op.create_table(
        "processed_event",
        sa.Column("consumer", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("processed_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("processed_event")
    op.drop_index("ix_golden_record_version_canonical_id", "golden_record_version")
    op.drop_table("golden_record_version")
    op.drop_index("ix_golden_record_entity", "golden_record")
    op.drop_table("golden_record")
    op.drop_index("ix_xref_canonical_id", "xref")
    op.drop_table("xref")
