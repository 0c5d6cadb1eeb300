"""professional sessions

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa
import carnet.db


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A professional's emergency access (bris de glace) lives on their portal session.
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emergency_patient_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("emergency_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("emergency_until", carnet.db.UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_column("emergency_until")
        batch_op.drop_column("emergency_reason")
        batch_op.drop_column("emergency_patient_id")
