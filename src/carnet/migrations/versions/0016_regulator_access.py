"""a portal session's urgent access says its mode: bris de glace or SAMU regulation

A professional's portal session held one urgent access, always in emergency mode (bris de
glace). A SAMU regulator opens a record in regulator mode instead (domain.md §1.3: no reason
required, refused if the patient opposed regulator access). Existing rows are emergencies.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("emergency_mode", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("emergency_mode")
