"""each document's content sealed under its own key, wrapped by the patient's data key

A content used to be sealed under the patient's data key, so it could only be sealed inside
the transaction that finds the patient; on SQLite that transaction holds the single writer,
and so did the content's two ``fsync``s. A content key of its own lets the content be sealed
and stored before the transaction, which then only wraps the key. Existing rows keep NULL:
their contents stay sealed under the data key, and are read that way.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_entries") as batch:
        batch.add_column(sa.Column("content_key", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # The contents stored since the upgrade can no longer be opened after this.
    with op.batch_alter_table("document_entries") as batch:
        batch.drop_column("content_key")
