"""agenda

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa
import carnet.db


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("start", carnet.db.UtcDateTime(), nullable=False),
        sa.Column("end", carnet.db.UtcDateTime(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("practitioner_ref", sa.String(length=64), nullable=True),
        sa.Column("practitioner_name", sa.String(length=200), nullable=True),
        sa.Column("structure_name", sa.String(length=200), nullable=True),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", carnet.db.UtcDateTime(), nullable=False),
        sa.Column("updated_at", carnet.db.UtcDateTime(), nullable=False),
        sa.Column("cancelled_at", carnet.db.UtcDateTime(), nullable=True),
        sa.Column("reminder_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_appointments_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointments_patient_start", ["patient_id", "start"], unique=False
        )
        batch_op.create_index(
            "ix_appointments_patient_created", ["patient_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_patient_created")
        batch_op.drop_index("ix_appointments_patient_start")
    op.drop_table("appointments")
