"""apps catalogue

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa
import carnet.db


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("labelled_at", carnet.db.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("launch_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("launch_url")
        batch_op.drop_column("category")
        batch_op.drop_column("labelled_at")
        batch_op.drop_column("label")
