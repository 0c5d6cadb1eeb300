"""indexes for two collectors: attachments by their content's key, used assertions by expiry

``carnet documents gc`` walks the blob store a batch of keys at a time and asks which of them
rows still refer to; documents had an index on ``blob_key``, message attachments none (each
batch would have read the whole table). Each token request deletes the expired assertion ids
(replay protection): without an index on ``expires_at``, a scan of them all.

Revision ID: 0015
Revises: 0014
"""

from alembic import op


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_message_attachments_blob", "message_attachments", ["blob_key"])
    op.create_index("ix_used_assertions_expires", "used_assertions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_used_assertions_expires", table_name="used_assertions")
    op.drop_index("ix_message_attachments_blob", table_name="message_attachments")
