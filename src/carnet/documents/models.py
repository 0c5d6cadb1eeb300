"""Document rows. One ``DocumentEntry`` per metadata version (the XDS entryUUID, FHIR
DocumentReference.id); ``logical_id`` is stable across versions; only one version is current."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, IdMixin

FHIR_BASE = "__FHIR_BASE__"  # placeholder in stored JSON, replaced by the server's base URL


class DocumentEntry(IdMixin, Base):
    __tablename__ = "document_entries"
    __table_args__ = (
        UniqueConstraint("logical_id", "version", name="logical_version"),
        Index(
            "ix_document_entries_patient_current_created", "patient_id", "current", "created", "id"
        ),
        Index("ix_document_entries_patient_recorded", "patient_id", "recorded_at"),
        Index("ix_document_entries_logical", "logical_id", "current"),
        Index("ix_document_entries_blob", "blob_key"),
        Index("ix_document_entries_blob_id", "blob_id", "current"),
        Index("ix_document_entries_patient_unique", "patient_id", "unique_id"),
    )

    logical_id: Mapped[uuid.UUID]
    version: Mapped[int]
    current: Mapped[bool]
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(20))  # current | superseded | entered-in-error
    archived: Mapped[bool] = mapped_column(default=False)
    unique_id: Mapped[str] = mapped_column(String(200))  # masterIdentifier (producer's uniqueId)
    type_system: Mapped[str] = mapped_column(String(120))
    type_code: Mapped[str] = mapped_column(String(40))
    class_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(24))  # portal grouping
    format_code: Mapped[str | None] = mapped_column(String(120))
    facility_type: Mapped[str | None] = mapped_column(String(20))
    practice_setting: Mapped[str | None] = mapped_column(String(40))
    masked_ps: Mapped[bool] = mapped_column(default=False)  # MASQUE_PS
    invisible_patient: Mapped[bool] = mapped_column(default=False)  # INVISIBLE_PATIENT
    invisible_representatives: Mapped[bool] = mapped_column(default=False)
    patient_authored: Mapped[bool] = mapped_column(default=False)  # class 90
    author_kind: Mapped[str] = mapped_column(String(16))  # professional | patient | device
    author_ref: Mapped[str] = mapped_column(String(64))  # PS_IdNat, or patient:<uuid>
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_profession: Mapped[str | None] = mapped_column(String(8))
    created: Mapped[datetime]  # creationTime (DocumentReference.date)
    service_start: Mapped[datetime | None]
    service_end: Mapped[datetime | None]
    title: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    sha1: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(120))
    blob_id: Mapped[str] = mapped_column(String(64))  # ITI-68's Binary id: the key's last part
    replaces_id: Mapped[uuid.UUID | None]  # the entry this document replaced
    recorded_at: Mapped[datetime]  # meta.lastUpdated of this version
    recorded_by: Mapped[str] = mapped_column(String(64))  # who made this version
    resource: Mapped[str] = mapped_column(Text)  # the DocumentReference JSON, pre-serialised
    # The content's own key, wrapped by the patient's data key (envelope.wrap_content_key);
    # None: a content sealed under the data key directly (stored before migration 0014).
    content_key: Mapped[bytes | None] = mapped_column(LargeBinary)


class Submission(IdMixin, Base):
    """An ITI-65 SubmissionSet (the DMP's "lot de soumission")."""

    __tablename__ = "document_submissions"
    __table_args__ = (Index("ix_document_submissions_patient", "patient_id", "submitted_at"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    unique_id: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime]
    submitted_by: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    entry_count: Mapped[int]


class PatientKey(Base):
    """The patient's data key, wrapped by the master key; destroying it shreds every content."""

    __tablename__ = "document_keys"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
