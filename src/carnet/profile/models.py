"""Profile rows: one per FHIR resource (stable id), with its searchable fields as columns and
the resource itself pre-serialised; earlier versions are kept in ``profile_versions``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, IdMixin

RESOURCE_TYPES = (
    "AllergyIntolerance",
    "MedicationStatement",
    "MedicationRequest",
    "Condition",
    "Immunization",
    "Observation",
    "RelatedPerson",
)


class ProfileEntry(IdMixin, Base):
    __tablename__ = "profile_entries"
    __table_args__ = (
        Index("ix_profile_entries_patient_type", "patient_id", "resource_type", "effective"),
        Index("ix_profile_entries_patient_code", "patient_id", "code"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    resource_type: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(
        String(32)
    )  # active, inactive, completed, entered-in-error…
    code_system: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(64))
    display: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(64))
    substances: Mapped[str | None] = mapped_column(String(500))  # normalised ANSM names, "|"-joined
    effective: Mapped[datetime | None]
    value: Mapped[str | None] = mapped_column(String(120))  # a readable value (Observation)
    source_kind: Mapped[str] = mapped_column(String(16))  # patient | professional | app
    source_ref: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resource: Mapped[str] = mapped_column(Text)


class ProfileVersion(IdMixin, Base):
    """Earlier versions of a profile entry (what it said, who changed it, when)."""

    __tablename__ = "profile_versions"
    __table_args__ = (Index("ix_profile_versions_entry", "entry_id", "version"),)

    entry_id: Mapped[uuid.UUID]
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    version: Mapped[int]
    resource: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime]
    replaced_by: Mapped[str] = mapped_column(String(64))
