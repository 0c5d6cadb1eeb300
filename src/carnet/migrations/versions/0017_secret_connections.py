"""secret connections: audit rows say whether they were recorded in one; a portal session holds one

A professional may open a minor's record in a secret connection ("connexion secrète",
domain.md §1.5: a minor's confidential care). Its accesses are kept out of what the minor's
legal representatives read of the history, so each row says whether it was recorded in one
(existing rows were not). A professional's portal session holds its secret connection to one
record (none before). An authorization declared in one is not listed to the representatives
(none was).

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
        # A plain default (not false()): SQLite then adds the column in place, where a SQL
        # expression would make Alembic copy the whole trail into a new table.
        batch.add_column(sa.Column("secret", sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("secret_patient_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("authorizations") as batch:
        batch.add_column(
            sa.Column(
                "hidden_from_representatives", sa.Boolean(), nullable=False, server_default="0"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("authorizations") as batch:
        batch.drop_column("hidden_from_representatives")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("secret_patient_id")
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("secret")
