"""Signature of each accepted webhook, unique: a replayed webhook is refused.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingestion") as batch:
        batch.add_column(sa.Column("signature", sa.String(128), nullable=True))
        batch.create_unique_constraint("uq_ingestion_signature", ["signature"])


def downgrade() -> None:
    with op.batch_alter_table("ingestion") as batch:
        batch.drop_constraint("uq_ingestion_signature", type_="unique")
        batch.drop_column("signature")
