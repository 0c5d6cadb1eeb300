"""Patient identity rows. ``nir`` is the INS matricule; never log it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, CreatedMixin, IdMixin


class Patient(IdMixin, CreatedMixin, Base):
    __tablename__ = "patients"

    nir: Mapped[str] = mapped_column(String(15), unique=True)
    ins_oid: Mapped[str] = mapped_column(String(40))
    birth_name: Mapped[str] = mapped_column(String(100))
    birth_given_names: Mapped[str] = mapped_column(String(200))  # space-separated, in order
    used_name: Mapped[str | None] = mapped_column(String(100))
    used_given_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    birth_place_code: Mapped[str | None] = mapped_column(String(5))
    vitale_serial: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))

    @property
    def given_name(self) -> str:
        return self.used_given_name or self.birth_given_names.split(" ")[0]

    @property
    def family_name(self) -> str:
        return self.used_name or self.birth_name

    @property
    def display_name(self) -> str:
        """For people to read: identity traits are stored in capitals, as in the INS."""
        name = f"{self.given_name} {self.family_name}"
        return name.title() if name.isupper() else name

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on ``day``."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


class LegalRepresentative(IdMixin, CreatedMixin, Base):
    """A person (who is a patient of Carnet too) acting for a minor patient."""

    __tablename__ = "legal_representatives"
    __table_args__ = (
        UniqueConstraint("patient_id", "representative_id", name="patient_representative"),
        Index("ix_legal_representatives_representative", "representative_id"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    representative_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE")
    )
    relation_code: Mapped[str] = mapped_column(String(10))  # HL7 RoleCode: MTH, FTH, …
    ended_at: Mapped[datetime | None]
