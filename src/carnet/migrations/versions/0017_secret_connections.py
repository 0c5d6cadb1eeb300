"""audit rows say whether they were recorded in a secret connection

A professional may open a minor's record in a secret connection ("connexion secrète",
domain.md §1.5: a minor's confidential care). Its accesses are kept out of what the minor's
legal representatives read of the history, so each row says whether it was recorded in one.
Existing rows were not.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(
            sa.Column("secret", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("secret")
