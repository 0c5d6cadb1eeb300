"""message attachments found by their content's key

``carnet documents gc`` walks the blob store a batch of keys at a time and asks which of them
rows still refer to; documents had an index on ``blob_key``, message attachments none (each
batch would have read the whole table).

Revision ID: 0015
Revises: 0014
"""

from alembic import op


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

NAME = "ix_message_attachments_blob"


def upgrade() -> None:
    op.create_index(NAME, "message_attachments", ["blob_key"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="message_attachments")
