"""messaging

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa
import carnet.db


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _patient_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["patient_id"],
        ["patients.id"],
        name=op.f(f"fk_{table}_patient_id_patients"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "message_threads",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("started_by_ref", sa.String(length=64), nullable=False),
        sa.Column("started_by_name", sa.String(length=200), nullable=False),
        sa.Column("started_at", carnet.db.UtcDateTime(), nullable=False),
        sa.Column("last_message_at", carnet.db.UtcDateTime(), nullable=False),
        sa.Column("hidden_from_representatives", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _patient_fk("message_threads"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_threads")),
    )
    with op.batch_alter_table("message_threads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_threads_patient_last", ["patient_id", "last_message_at"], unique=False
        )

    op.create_table(
        "message_participants",
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("professional_id", sa.Uuid(), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("added_at", carnet.db.UtcDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _patient_fk("message_participants"),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["message_threads.id"],
            name=op.f("fk_message_participants_thread_id_message_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_participants")),
        sa.UniqueConstraint("thread_id", "ref", name="thread_ref"),
    )
    with op.batch_alter_table("message_participants", schema=None) as batch_op:
        batch_op.create_index("ix_message_participants_ref", ["ref", "patient_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("sender_kind", sa.String(length=16), nullable=False),
        sa.Column("sender_ref", sa.String(length=64), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", carnet.db.UtcDateTime(), nullable=False),
        sa.Column("in_response_to_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _patient_fk("messages"),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["message_threads.id"],
            name=op.f("fk_messages_thread_id_message_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_thread_sent", ["thread_id", "sent_at"], unique=False)
        batch_op.create_index("ix_messages_patient_sent", ["patient_id", "sent_at"], unique=False)

    op.create_table(
        "message_reads",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("reader_ref", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", carnet.db.UtcDateTime(), nullable=False),
        _patient_fk("message_reads"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_reads_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "reader_ref", name=op.f("pk_message_reads")),
    )

    op.create_table(
        "message_attachments",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blob_key", sa.String(length=120), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _patient_fk("message_attachments"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_attachments_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attachments")),
    )
    with op.batch_alter_table("message_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_message_attachments_message", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_table("message_attachments")
    op.drop_table("message_reads")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_patient_sent")
        batch_op.drop_index("ix_messages_thread_sent")
    op.drop_table("messages")
    op.drop_table("message_participants")
    op.drop_table("message_threads")
