"""Directory rows."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, CreatedMixin, IdMixin


class StructureKind(enum.StrEnum):
    HOSPITAL = "hospital"
    PRACTICE = "practice"
    LABORATORY = "laboratory"
    PHARMACY = "pharmacy"
    RADIOLOGY = "radiology"
    SAMU = "samu"
    INSURER = "insurer"  # excluded
    EMPLOYER = "employer"  # excluded
    BANK = "bank"  # excluded
    OCCUPATIONAL_HEALTH = "occupational_health"  # excluded
    OTHER = "other"


class Role(enum.StrEnum):
    """Roles that change what access allows (domain.md §1.3)."""

    EMERGENCY_PHYSICIAN = "emergency_physician"
    SAMU_REGULATOR = "samu_regulator"
    OCCUPATIONAL_PHYSICIAN = "occupational_physician"  # excluded


class Structure(IdMixin, CreatedMixin, Base):
    __tablename__ = "structures"

    struct_idnat: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    finess: Mapped[str | None] = mapped_column(String(9))
    siret: Mapped[str | None] = mapped_column(String(14))
    facility_type_code: Mapped[str | None] = mapped_column(String(10))  # JDV_J02
    city: Mapped[str | None] = mapped_column(String(100))


class Professional(IdMixin, CreatedMixin, Base):
    __tablename__ = "professionals"

    ps_idnat: Mapped[str] = mapped_column(String(40), unique=True)
    rpps: Mapped[str | None] = mapped_column(String(11), unique=True)
    adeli: Mapped[str | None] = mapped_column(String(9))
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(20))  # "Dr"
    profession_code: Mapped[str] = mapped_column(String(8))  # TRE_G15
    specialty_code: Mapped[str | None] = mapped_column(String(16))  # TRE_R38 (SM54…)
    roles: Mapped[str] = mapped_column(String(200), default="")  # space-separated Role values
    structure_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("structures.id"))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())

    @property
    def display_name(self) -> str:
        prefix = f"{self.title} " if self.title else ""
        return f"{prefix}{self.given_name} {self.family_name}"
