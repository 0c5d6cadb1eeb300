"""documents found by their Binary id through an index (ITI-68)

ITI-68 looked a document up by the end of its blob key (``LIKE '%/<id>'``), which no index
serves: a scan of every document entry. The Binary id gets its own indexed column.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_entries") as batch:
        batch.add_column(sa.Column("blob_id", sa.String(length=64), nullable=True))
    # Every blob key is "<folder>/<id>" (one slash): the id is what follows the last slash.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE document_entries SET blob_id = regexp_replace(blob_key, '^.*/', '')")
    else:
        op.execute(
            "UPDATE document_entries SET blob_id = substr(blob_key, instr(blob_key, '/') + 1)"
        )
    with op.batch_alter_table("document_entries") as batch:
        batch.alter_column("blob_id", existing_type=sa.String(length=64), nullable=False)
        batch.create_index("ix_document_entries_blob_id", ["blob_id", "current"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_entries") as batch:
        batch.drop_index("ix_document_entries_blob_id")
        batch.drop_column("blob_id")
