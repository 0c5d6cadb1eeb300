"""One row per (patient, professional): the current state of their relation."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, CreatedMixin, IdMixin


class AuthorizationStatus(enum.StrEnum):
    ACTIVE = "active"  # DMP VALIDE / ACTIVE
    REVOKED = "revoked"  # withdrawn, or never granted after an unblock
    BLOCKED = "blocked"  # DMP INTERDITE: refused even with consent


class GrantSource(enum.StrEnum):
    PATIENT = "patient"
    PROFESSIONAL_DECLARATION = "professional_declaration"  # TD0.3, explicit action
    REPRESENTATIVE = "representative"


class Authorization(IdMixin, CreatedMixin, Base):
    __tablename__ = "authorizations"
    __table_args__ = (
        UniqueConstraint("patient_id", "professional_id", name="patient_professional"),
        Index("ix_authorizations_professional", "professional_id"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    professional_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("professionals.id"))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    treating_doctor: Mapped[bool] = mapped_column(default=False)
    granted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)
    # Declared in a secret connection to a minor's record (domain.md §1.5): not listed to her
    # legal representatives, until a normal declaration or a decision of theirs shows it
    hidden_from_representatives: Mapped[bool] = mapped_column(default=False, server_default=false())
