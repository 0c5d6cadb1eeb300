"""a patient's documents read newest first from one index, id included

Searches order a patient's current documents by ``created DESC, id DESC`` (the id makes the
order, and so the pages, stable). The index stopped at ``created``: the database read every
current document of the patient in the date range and sorted them before taking a page, a cost
that grew with the record (6 ms per duplicate-exam check for a patient with 3,700 documents,
against 0.01 ms when the index gives the whole order). The id joins the index.

Revision ID: 0013
Revises: 0012
"""

from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NAME = "ix_document_entries_patient_current_created"


def upgrade() -> None:
    op.drop_index(NAME, table_name="document_entries")
    op.create_index(NAME, "document_entries", ["patient_id", "current", "created", "id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="document_entries")
    op.create_index(NAME, "document_entries", ["patient_id", "current", "created"])
