"""Appointments (FHIR Appointment) of a patient, and the link to their pending reminder.

Only what an agenda needs is kept: when, where, with whom, a short description, who added it
and its status. Nothing is deleted by ordinary actions: a cancelled appointment stays, marked
``cancelled``."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, IdMixin

# The portal shows and reads times in France's legal time; the database keeps UTC.
LOCAL_TZ = ZoneInfo("Europe/Paris")


class AppointmentStatus(enum.StrEnum):
    """The FHIR R4 Appointment statuses (required binding)."""

    PROPOSED = "proposed"
    PENDING = "pending"
    BOOKED = "booked"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    NOSHOW = "noshow"
    ENTERED_IN_ERROR = "entered-in-error"
    CHECKED_IN = "checked-in"
    WAITLIST = "waitlist"


STATUSES = frozenset(s.value for s in AppointmentStatus)
# Statuses that end an appointment's life: it can no longer be changed.
FINAL_STATUSES = frozenset({"cancelled", "entered-in-error"})
# Statuses for which a reminder is worth sending.
REMINDED_STATUSES = frozenset({"booked", "pending", "proposed"})


class SourceKind(enum.StrEnum):
    """Who added the appointment (shown to the patient, kept in the FHIR resource)."""

    PATIENT = "patient"  # the holder, in the portal or with Carnet's own app
    REPRESENTATIVE = "representative"  # a legal representative acting for a minor
    APP = "app"  # a connected app acting for the patient
    PROFESSIONAL = "professional"  # a professional in the portal
    SOFTWARE = "software"  # a professional's software through the FHIR API


PATIENT_SIDE = frozenset({SourceKind.PATIENT, SourceKind.REPRESENTATIVE, SourceKind.APP})


class Appointment(IdMixin, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_patient_start", "patient_id", "start"),
        Index("ix_appointments_patient_created", "patient_id", "created_at"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    start: Mapped[datetime]
    end: Mapped[datetime]
    description: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    # The professional seen, if any: PS_IdNat when known, and a name to show.
    practitioner_ref: Mapped[str | None] = mapped_column(String(64))
    practitioner_name: Mapped[str | None] = mapped_column(String(200))
    structure_name: Mapped[str | None] = mapped_column(String(200))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(64))  # PS_IdNat, account or client id
    source_name: Mapped[str | None] = mapped_column(String(200))
    # TRE_A07 INVISIBLE_REPRESENTANTS_LEGAUX: a minor's secret care stays secret from the parents
    hidden_from_representatives: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    # The pending outbox reminder (no foreign key: the outbox is purged on its own schedule).
    reminder_id: Mapped[uuid.UUID | None]

    @property
    def added_by_patient_side(self) -> bool:
        return self.source_kind in PATIENT_SIDE
