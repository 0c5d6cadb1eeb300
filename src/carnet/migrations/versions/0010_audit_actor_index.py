"""audit entries by actor and time (a professional's recent patients)

Revision ID: 0010
Revises: 0009
"""

from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_entries_actor_time", "audit_entries", ["actor_ref", "recorded_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entries_actor_time", table_name="audit_entries")
