"""Record state and activation codes."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, CreatedMixin, IdMixin


class RecordStatus(enum.StrEnum):
    PENDING = "pending"  # created by the opt-out route, opposition window still open
    OPPOSED = "opposed"  # the person opposed creation: no record exists
    OPEN = "open"  # exists; professionals may feed it and read it with consent
    CLOSED = "closed"  # closed by the patient: read-only, kept for the retention period


class Channel(enum.StrEnum):
    ONLINE = "online"  # by the patient, with the code from the insurer's letter
    INSURER_COUNTER = "insurer_counter"
    PHARMACY = "pharmacy"
    PROFESSIONAL = "professional"
    ESTABLISHMENT = "establishment"
    OPT_OUT = "opt_out"  # automatic creation, 6-week opposition window


class ClosureReason(enum.StrEnum):
    PATIENT_REQUEST = "FERMETURE_DEMANDE_PATIENT"
    DEATH = "FERMETURE_DECES"
    OTHER = "FERMETURE_AUTRE"


class Record(CreatedMixin, Base):
    __tablename__ = "records"
    __table_args__ = (Index("ix_records_status_retention", "status", "retention_until"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(24))
    created_by: Mapped[str | None] = mapped_column(String(120))  # actor reference, not a name
    opens_at: Mapped[datetime | None]  # end of the opt-out opposition window
    opposed_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]  # the patient activated their online access
    emergency_access_opposed: Mapped[bool] = mapped_column(default=False)
    regulator_access_opposed: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None]
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    closure_comment: Mapped[str | None] = mapped_column(String(500))
    deletion_requested: Mapped[bool] = mapped_column(default=False)
    retention_until: Mapped[datetime | None]
    reactivated_at: Mapped[datetime | None]

    def effective_status(self, at: datetime) -> RecordStatus:
        return effective_status(self.status, self.opens_at, at)


def effective_status(status_value: str, opens_at: datetime | None, at: datetime) -> RecordStatus:
    """A pending record whose opposition window has passed is open."""
    status = RecordStatus(status_value)
    if status is RecordStatus.PENDING and opens_at is not None and opens_at <= at:
        return RecordStatus.OPEN
    return status


@dataclass(frozen=True)
class RecordState:
    """What access needs of a record, read as plain columns (the hot paths' one query)."""

    status: str
    opens_at: datetime | None
    emergency_access_opposed: bool
    regulator_access_opposed: bool

    def effective_status(self, at: datetime) -> RecordStatus:
        return effective_status(self.status, self.opens_at, at)


class ActivationCode(IdMixin, CreatedMixin, Base):
    """A one-time code sent by the insurer (letter, e-mail, SMS); only its keyed hash is kept."""

    __tablename__ = "activation_codes"
    __table_args__ = (Index("ix_activation_codes_patient", "patient_id"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    delivery: Mapped[str] = mapped_column(String(16))  # letter, email, sms
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
